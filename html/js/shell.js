// SPDX-License-Identifier: MIT
// shell.js: the console chrome — top bar (mpbind, the current-organization
// selector, the 中文 / English switch, the user menu with 账号设置 and
// 退出登录), the left navigation, and the frame the public pages (登录,
// 注册, invitations) share. Pages hand it a render function; it calls it
// again when the language or the current organization changes.

import { el, fill, icon, logo } from './dom.js';
import { t, lang, setLang } from './i18n.js';
import { api, logout, ApiError } from './api.js';
import { alertBox, errorText, spinner } from './ui.js';

/*
 * The left navigation. An entry with enabled: false is shown greyed out and cannot be followed
 * (the feature does not exist yet). org: true adds ?org=<current org> to the link.
 */
export const NAV = [
  { key: 'orgs', label: 'nav.orgs', icon: 'orgs', href: '/console/orgs', enabled: true },
  { key: 'projects', label: 'nav.projects', icon: 'projects', href: null, enabled: false },
  { key: 'billing', label: 'nav.billing', icon: 'billing', href: '/console/billing', enabled: true, org: true },
  { key: 'members', label: 'nav.members', icon: 'members', href: '/console/members', enabled: true, org: true },
  { key: 'events', label: 'nav.events', icon: 'events', href: '/console/events', enabled: true, org: true },
  { key: 'settings', label: 'nav.settings', icon: 'settings', href: null, enabled: false },
];

const ORG_KEY = 'mpbind.org';

function storedOrg() {
  try {
    return localStorage.getItem(ORG_KEY);
  } catch (e) {
    return null;
  }
}

function storeOrg(id) {
  try {
    if (id) localStorage.setItem(ORG_KEY, id);
    else localStorage.removeItem(ORG_KEY);
  } catch (e) {
    // Storage switched off: the ?org= parameter still carries the choice.
  }
}

/* The current org among orgs: ?org= when it is one of them, else the remembered one, else the first. */
function pickOrg(orgs) {
  const wanted = [new URLSearchParams(location.search).get('org'), storedOrg()];
  for (const id of wanted) {
    const org = id && orgs.find((o) => o.id === id);
    if (org) return org;
  }
  return orgs[0] || null;
}

/* The 中文 / English switch. */
export function langSwitch() {
  const make = (code) => el('button', {
    type: 'button',
    class: ['lang-option', lang() === code && 'active'],
    'aria-pressed': lang() === code ? 'true' : 'false',
    lang: code === 'zh' ? 'zh-CN' : 'en',
    dataset: { lang: code },
    on: { click: () => { if (lang() !== code) setLang(code); } },
  }, t(`lang.${code}`));
  return el('div', { class: 'lang-switch', role: 'group', 'aria-label': t('lang.label') }, make('zh'), make('en'));
}

function brand() {
  return el('a', { class: 'brand', href: '/' }, logo(), el('span', { class: 'brand-name' }, t('app.name')));
}

function setTitle(key) {
  document.title = key ? `${t(key)} · ${t('app.name')}` : t('app.name');
}

/* The public frame: a slim header (mpbind, language) and a centred column. render(main) fills it. */
export function publicApp({ title, render }) {
  async function mount() {
    setTitle(title);
    const main = el('main', { class: 'public-main', id: 'main' });
    fill(document.body,
      el('header', { class: 'public-top' }, brand(), langSwitch()),
      main,
      el('footer', { class: 'public-foot' }, t('app.tagline')));
    document.body.className = 'public-page';
    try {
      await render(main);
    } catch (err) {
      fill(main, alertBox('error', errorText(err)));
    }
  }
  window.addEventListener('langchange', mount);
  mount();
}

function userMenu(me) {
  const email = me.user.email;
  const menu = el('div', { class: 'menu', role: 'menu', hidden: true },
    el('div', { class: 'menu-head' }, el('span', { class: 'menu-email' }, email)),
    el('a', { class: 'menu-item', role: 'menuitem', href: '/console/account', dataset: { menu: 'account' } },
      t('user.account')),
    el('button', {
      type: 'button',
      class: 'menu-item',
      role: 'menuitem',
      dataset: { menu: 'logout' },
      on: {
        click: async () => {
          await logout();
          location.assign('/login');
        },
      },
    }, t('user.logout')));
  const toggle = el('button', {
    type: 'button',
    class: 'user-button',
    'aria-haspopup': 'menu',
    'aria-expanded': 'false',
    title: t('user.menu'),
    on: {
      click: (ev) => {
        ev.stopPropagation();
        const open = menu.hidden;
        menu.hidden = !open;
        toggle.setAttribute('aria-expanded', String(open));
      },
    },
  }, el('span', { class: 'avatar', 'aria-hidden': 'true' }, email.slice(0, 1).toUpperCase()),
  el('span', { class: 'user-email' }, email), icon('chevron'));
  closeMenu = (ev) => {
    if (ev && ev.type === 'click' && menu.contains(ev.target)) return;
    menu.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
  };
  return el('div', { class: 'user-menu' }, toggle, menu);
}

// One pair of listeners for the whole page closes whichever user menu is on screen.
let closeMenu = null;
document.addEventListener('click', (ev) => { if (closeMenu) closeMenu(ev); });
document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape' && closeMenu) closeMenu(); });

function orgSelect(state, onChange) {
  const select = el('select', {
    class: 'org-select',
    id: 'org-select',
    'aria-label': t('org.current'),
    disabled: state.orgs.length === 0,
    on: { change: () => onChange(select.value) },
  }, state.orgs.length === 0
    ? el('option', { value: '' }, t('org.none'))
    : state.orgs.map((o) => el('option', { value: o.id, selected: state.org && o.id === state.org.id }, o.name)));
  return el('div', { class: 'org-switch' },
    el('label', { class: 'org-switch-label', for: 'org-select' }, t('org.current')), select);
}

function navLink(item, state, active) {
  const label = [icon(item.icon), el('span', null, t(item.label))];
  if (!item.enabled) {
    return el('a', {
      class: 'nav-item disabled',
      'aria-disabled': 'true',
      title: t('nav.unavailable'),
      dataset: { nav: item.key },
    }, label);
  }
  let href = item.href;
  if (item.org && state.org) href += `?org=${encodeURIComponent(state.org.id)}`;
  return el('a', {
    class: ['nav-item', item.key === active && 'active'],
    href,
    'aria-current': item.key === active ? 'page' : null,
    dataset: { nav: item.key },
  }, label);
}

/*
 * Starts a console page. opts: page (the NAV key to highlight, or null), title (i18n key),
 * render(main, ctx) (async; builds the page into main). ctx: me ({user, csrf, settings}), orgs,
 * allowCreation, org (the current org or null), setOrg(id), refresh(select) (reloads the org list
 * and re-renders, making org select current when given), rerender(), stale() (true once a newer
 * render has started: an old render should stop touching the page), detach() (stops re-rendering
 * on language changes, for a page that replaces the console).
 */
export function consoleApp({ page, title, render }) {
  const state = { me: null, orgs: [], allowCreation: false, org: null };

  async function load() {
    const [me, orgs] = await Promise.all([api.get('/api/auth/me'), api.get('/api/orgs')]);
    state.me = me;
    state.orgs = orgs.orgs || [];
    state.allowCreation = !!orgs.allow_creation;
    state.org = pickOrg(state.orgs);
    if (state.org) storeOrg(state.org.id);
  }

  function setOrg(id) {
    const org = state.orgs.find((o) => o.id === id);
    if (!org) return;
    state.org = org;
    storeOrg(id);
    const url = new URL(location.href);
    url.searchParams.set('org', id);
    history.replaceState(null, '', url.pathname + url.search);
    mount();
  }

  /* Reloads the org list and re-renders; select makes that org the current one. */
  async function refresh(select) {
    if (select) {
      storeOrg(select);
      const url = new URL(location.href);
      url.searchParams.set('org', select);
      history.replaceState(null, '', url.pathname + url.search);
    }
    await load();
    mount();
  }

  let generation = 0;

  async function mount() {
    const mine = ++generation;
    setTitle(title);
    const main = el('main', { class: 'console-main', id: 'main' });
    fill(document.body,
      el('header', { class: 'topbar' },
        brand(),
        orgSelect(state, setOrg),
        el('div', { class: 'topbar-spacer' }),
        langSwitch(),
        userMenu(state.me)),
      el('div', { class: 'layout' },
        el('nav', { class: 'sidenav', 'aria-label': t('nav.label') },
          NAV.map((item) => navLink(item, state, page))),
        main));
    document.body.className = 'console-page';
    const ctx = {
      me: state.me,
      orgs: state.orgs,
      allowCreation: state.allowCreation,
      org: state.org,
      setOrg,
      refresh,
      rerender: mount,
      stale: () => mine !== generation,
      detach: () => window.removeEventListener('langchange', mount),
    };
    fill(main, spinner());
    try {
      await render(main, ctx);
    } catch (err) {
      if (mine === generation) fill(main, alertBox('error', errorText(err)));
    }
  }

  async function start() {
    document.body.className = 'console-page booting';
    fill(document.body, el('div', { class: 'boot' }, spinner()));
    try {
      await load();
    } catch (err) {
      const message = err instanceof ApiError ? errorText(err) : t('error.network');
      fill(document.body, el('main', { class: 'public-main' }, alertBox('error', message)));
      return;
    }
    window.addEventListener('langchange', mount);
    mount();
  }

  start();
}
