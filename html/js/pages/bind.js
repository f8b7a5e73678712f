// SPDX-License-Identifier: MIT
// bind.js: /bind — the binding wizard a buyer reaches from a marketplace (AWS
// 设置您的账户, Alibaba 免登): 授权使用 亚马逊云科技 Marketplace 扣费 (or AWS
// Marketplace, or 阿里云 云市场), 1 登录账号 → 2 绑定组织 → 3 完成授权.
// Step 1 signs in (or registers) in place; step 2 lists every org of the user
// with 权限不足 / 已绑定云市场订阅 tags, says what to do when none can be chosen
// and can create an org in place; 确认绑定 posts the choice; step 3 says
// 授权成功 with 进入控制台. A subscription bound already sends a member of its
// org to the billing page and tells anyone else which org holds it.

import { el, fill, icon } from '../dom.js';
import { t, tx, has, lang } from '../i18n.js';
import { api, ApiError, logout } from '../api.js';
import { publicApp } from '../shell.js';
import { loginForm, registerForm } from '../authforms.js';
import { alertBox, busy, button, errorText, field, roleTag, showError, stepper, table, tag } from '../ui.js';

const MARKETS = ['aws-cn', 'aws', 'aliyun'];
// Answers after which this attempt cannot go on: the wizard says so and where to start again.
const PROBLEMS = ['binding_not_found', 'ticket_invalid', 'ticket_expired', 'binding_used', 'subscription_inactive'];
// Confirm answers that mean the list shown is out of date.
const STALE_LIST = ['org_already_bound', 'insufficient_role', 'not_found', 'subscription_already_bound'];
const BINDABLE = ['pending', 'active'];

const state = {
  loaded: false,
  ctx: null, // GET /api/binding
  problem: null, // an ApiError that ends this attempt
  mode: 'login', // step 1 shows 'login' or 'register'
  selected: null, // the chosen org id
  creating: false, // the create-org form is open
  notice: null, // { kind, text } shown once above the step
  done: null, // the confirm answer's binding
  focus: null, // what to focus once drawn
};
let main = null;

function market() {
  const m = (state.done && state.done.marketplace) || (state.ctx && state.ctx.marketplace);
  return MARKETS.includes(m) ? m : null;
}

function titleText() {
  const m = market();
  return m ? t(`bind.title.${m}`) : t('bind.title');
}

async function load() {
  try {
    state.ctx = await api.get('/api/binding', { auth401: 'throw' });
    state.problem = null;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === 0 || err.status >= 500) throw err;
    state.ctx = null;
    state.problem = err;
  }
  const c = state.ctx;
  if (c && !c.bound && !BINDABLE.includes(c.subscription_status)) {
    state.problem = new ApiError(409, 'subscription_inactive', '');
  }
  state.loaded = true;
}

/* A signed-in member of the org that holds this subscription goes to its billing page. */
function redirectIfMember() {
  const c = state.ctx;
  if (!state.problem && c && c.signed_in && c.bound && c.bound.member) {
    location.replace(`/console/billing?org=${encodeURIComponent(c.bound.org_id)}`);
    return true;
  }
  return false;
}

async function reload() {
  await load();
  if (!redirectIfMember()) draw();
}

function subscriptionFacts() {
  const c = state.ctx;
  const m = market();
  if (!c || !m) return null;
  return el('dl', { class: 'facts bind-facts', id: 'bind-subscription' },
    el('dt', null, t('bind.subscription')), el('dd', null, t(`mp.name.${m}`)),
    c.account_id ? [el('dt', null, t(`mp.account.${m}`)),
      el('dd', { class: 'mono', id: 'bind-account' }, c.account_id)] : null);
}

/* The sign-in form, or the registration form, switching between them without leaving /bind. */
function authForm() {
  const register = state.mode === 'register';
  const onSuccess = async () => {
    state.mode = 'login';
    state.selected = null;
    await reload();
  };
  const form = register
    ? registerForm({ loginHref: '/login?next=%2Fbind', onSuccess })
    : loginForm({ registerHref: '/register?next=%2Fbind', onSuccess });
  form.node.querySelector(register ? '#to-login' : '#to-register').addEventListener('click', (ev) => {
    ev.preventDefault();
    state.mode = register ? 'login' : 'register';
    draw();
  });
  state.focus = form.focus;
  return el('div', { class: 'bind-auth' }, form.node);
}

function signInView() {
  return [
    subscriptionFacts(),
    el('p', { class: 'bind-lead', id: 'bind-lead' }, t(state.mode === 'register' ? 'bind.registerLead' : 'bind.loginLead')),
    authForm(),
  ];
}

function switchAccount() {
  const b = button(t('bind.switchAccount'), { kind: 'link', small: true, attrs: { id: 'bind-switch' } });
  b.addEventListener('click', () => busy(b, async () => {
    await logout();
    state.mode = 'login';
    state.selected = null;
    state.creating = false;
    await reload();
  }));
  return b;
}

function whoLine() {
  return el('p', { class: 'bind-who muted' },
    el('span', { id: 'bind-email' }, t('bind.signedInAs', { email: state.ctx.email || '' })), ' ', switchAccount());
}

function createToggle(label, kind = 'link') {
  return button(label, {
    kind,
    small: true,
    attrs: { id: 'bind-create-open' },
    onClick: () => {
      state.creating = true;
      draw();
    },
  });
}

/* 创建组织 in place: the new org is created with the user as Org Admin, then chosen. */
function createForm() {
  const name = field({ label: t('orgs.nameField'), name: 'name', maxlength: 100, hint: t('bind.createHint') });
  const slot = el('div', { class: 'form-alert' });
  const submit = button(t('bind.createOrg'), { kind: 'primary', type: 'submit', attrs: { id: 'bind-create-submit' } });
  const cancel = button(t('common.cancel'), {
    attrs: { id: 'bind-create-cancel' },
    onClick: () => {
      state.creating = false;
      draw();
    },
  });
  const form = el('form', { class: 'bind-create', id: 'bind-create-form', novalidate: true },
    el('h2', { class: 'bind-section-title' }, t('bind.createTitle')),
    slot,
    el('div', { class: 'inline-form' }, name.node, el('div', { class: 'field field-submit' }, submit, cancel)));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    slot.replaceChildren();
    const value = name.input.value.trim();
    if (value === '') {
      name.setError(t('field.required'));
      name.input.focus();
      return;
    }
    try {
      const { org } = await busy(submit, () => api.post('/api/orgs', { name: value }, { auth401: 'throw' }));
      state.creating = false;
      state.selected = org.id;
      state.notice = { kind: 'success', text: t('bind.created', { name: org.name }) };
      await reload();
    } catch (err) {
      showError(err, { name }, slot);
    }
  });
  state.focus = () => name.input.focus();
  return form;
}

/* What to do when no org can be chosen (the seed's troubleshooting section). */
function guidance(orgs) {
  const c = state.ctx;
  const empty = orgs.length === 0;
  const reasons = new Set(orgs.map((o) => o.reason));
  const why = [];
  if (empty) why.push(el('p', { dataset: { why: 'empty' } }, t('bind.empty.why')));
  if (reasons.has('insufficient_role')) why.push(el('p', { dataset: { why: 'role' } }, t('bind.why.role')));
  if (reasons.has('org_bound')) why.push(el('p', { dataset: { why: 'bound' } }, t('bind.why.bound')));
  const remedies = [];
  if (c.allow_org_creation) {
    remedies.push(el('li', { dataset: { remedy: 'create' } }, t('bind.remedy.create'), ' ',
      state.creating ? null : createToggle(t('bind.createOrg'), 'primary')));
  }
  remedies.push(el('li', { dataset: { remedy: 'invite' } }, t('bind.remedy.invite')));
  if (c.support_url) {
    remedies.push(el('li', { dataset: { remedy: 'support' } }, tx('bind.remedy.support', {
      link: el('a', { href: c.support_url, target: '_blank', rel: 'noopener noreferrer', id: 'bind-support' },
        t('bind.remedy.supportLink')),
    })));
  }
  return el('div', { class: 'bind-guidance', id: 'bind-guidance', dataset: { empty: empty ? 'true' : 'false' } },
    alertBox('warning',
      el('p', { class: 'alert-title', id: 'bind-guidance-title' }, t(empty ? 'bind.empty.title' : 'bind.none.title')),
      why,
      el('p', null, t('bind.youCan')),
      el('ol', { class: 'remedy-list' }, remedies)));
}

function reasonTag(org) {
  if (org.reason === 'insufficient_role') return tag(t('tag.noPermission'), 'orange', { dataset: { reason: org.reason } });
  if (org.reason === 'org_bound') return tag(t('tag.boundSubscription'), 'gray', { dataset: { reason: org.reason } });
  if (org.reason === 'current_cancelling') return tag(t('tag.cancelling'), 'blue', { dataset: { reason: org.reason } });
  return null;
}

function orgTable(orgs, onPick) {
  const columns = [{ label: t('bind.col.pick'), cls: 'pick' }, { label: t('orgs.col.name') },
    { label: t('orgs.col.id') }, { label: t('orgs.col.members'), cls: 'num' }, { label: t('orgs.col.role') }];
  const rows = orgs.map((org) => {
    const id = `bind-org-${org.id}`;
    const radio = el('input', {
      type: 'radio',
      name: 'org',
      value: org.id,
      id,
      class: 'pick-radio',
      disabled: !org.eligible,
      checked: org.id === state.selected,
      on: { change: () => onPick(org.id) },
    });
    return {
      attrs: {
        dataset: { orgId: org.id, eligible: org.eligible ? 'true' : 'false' },
        class: [org.eligible ? 'pickable' : 'unavailable', org.id === state.selected && 'selected'],
        on: org.eligible ? { click: (ev) => { if (ev.target !== radio && !ev.target.closest('a')) { radio.checked = true; onPick(org.id); } } } : null,
      },
      cells: [
        radio,
        el('span', { class: 'org-cell' }, el('label', { for: id, class: 'org-name' }, org.name), reasonTag(org)),
        el('span', { class: 'mono' }, org.id),
        String(org.member_count),
        roleTag(org.role),
      ],
    };
  });
  return table(columns, rows, { id: 'bind-orgs' });
}

function pickView() {
  const c = state.ctx;
  const orgs = c.orgs || [];
  const eligible = orgs.filter((o) => o.eligible);
  if (!eligible.some((o) => o.id === state.selected)) state.selected = eligible.length === 1 ? eligible[0].id : null;
  const slot = el('div', { class: 'form-alert', id: 'bind-error' });
  const confirm = button(t('bind.confirm'), { kind: 'primary', disabled: !state.selected, attrs: { id: 'bind-confirm' } });
  const cancellingNote = el('div', { class: 'bind-note' });

  function showCancelling() {
    const org = orgs.find((o) => o.id === state.selected);
    if (org && org.reason === 'current_cancelling') {
      fill(cancellingNote, alertBox('info', el('span', { id: 'bind-cancelling' },
        tx('bind.cancellingHint', { org: el('strong', null, org.name) }))));
    } else {
      cancellingNote.replaceChildren();
    }
  }

  function onPick(id) {
    state.selected = id;
    confirm.disabled = false;
    slot.replaceChildren();
    for (const tr of main.querySelectorAll('#bind-orgs tbody tr')) {
      tr.classList.toggle('selected', tr.dataset.orgId === id);
    }
    showCancelling();
  }

  confirm.addEventListener('click', async () => {
    slot.replaceChildren();
    if (!state.selected) {
      fill(slot, alertBox('error', t('bind.pickFirst')));
      return;
    }
    try {
      const answer = await busy(confirm, () => api.post('/api/binding/confirm', { org_id: state.selected },
        { auth401: 'throw' }));
      state.done = answer.binding;
      draw();
    } catch (err) {
      if (!state.selected) confirm.disabled = true;
      await confirmFailed(err, slot);
    }
  });
  // busy() enables the button when the request ends; keep it off while nothing is chosen.
  if (!state.selected) confirm.disabled = true;
  showCancelling();

  const list = orgs.length > 0 ? el('div', { class: 'bind-table' }, orgTable(orgs, onPick)) : null;
  const none = eligible.length === 0;
  const another = !none && c.allow_org_creation && !state.creating
    ? el('p', { class: 'bind-another' }, createToggle(`+ ${t('bind.createAnother')}`)) : null;
  return [
    subscriptionFacts(),
    whoLine(),
    el('p', { class: 'bind-lead' }, t('bind.pickLead')),
    list,
    none ? guidance(orgs) : null,
    another,
    state.creating && c.allow_org_creation ? createForm() : null,
    cancellingNote,
    slot,
    el('div', { class: 'bind-actions' }, confirm),
  ];
}

async function confirmFailed(err, slot) {
  if (!(err instanceof ApiError)) {
    fill(slot, alertBox('error', errorText(err)));
    return;
  }
  if (PROBLEMS.includes(err.code)) {
    state.problem = err;
    draw();
    return;
  }
  if (err.status === 401 || STALE_LIST.includes(err.code)) {
    // Signed out meanwhile, or the org or subscription changed: show the error over a fresh list.
    const sep = lang() === 'zh' ? '' : ' ';
    state.notice = { kind: 'error', text: err.status === 401 ? errorText(err) : `${errorText(err)}${sep}${t('bind.refreshed')}` };
    await reload();
    return;
  }
  fill(slot, alertBox('error', errorText(err)));
}

function doneView() {
  const b = state.done;
  const m = market() || 'aws-cn';
  return el('div', { class: 'bind-done', id: 'bind-done' },
    el('div', { class: 'done-icon' }, icon('check')),
    el('h2', { class: 'done-title', id: 'bind-success' }, t('bind.success')),
    el('p', { class: 'lead', id: 'bind-done-text' }, tx(`bind.done.${m}`, { org: el('strong', null, b.org_name) })),
    el('div', { class: 'button-row center' },
      el('a', { class: 'btn primary', id: 'bind-enter', href: `/console/billing?org=${encodeURIComponent(b.org_id)}` },
        t('bind.enter'))));
}

function problemView(err) {
  const code = err.code || '';
  const title = has(`bind.problem.${code}`) ? t(`bind.problem.${code}`) : t('bind.problem.other');
  let hint = market() ? t(`bind.problem.restart.${market()}`) : t('bind.problem.restart');
  if (code === 'binding_used') hint = t('bind.problem.used');
  if (code === 'subscription_inactive') hint = t('bind.problem.inactive');
  const actions = [];
  if (code === 'binding_used') {
    actions.push(el('a', { class: 'btn primary', href: '/console/billing', id: 'bind-console' }, t('bind.enter')));
  }
  actions.push(el('a', { class: actions.length ? 'btn' : 'btn primary', href: '/', id: 'bind-home' }, t('bind.home')));
  return el('div', { class: 'bind-problem', id: 'bind-problem', dataset: { code } },
    subscriptionFacts(),
    alertBox(code === 'binding_used' ? 'info' : 'error',
      el('p', { class: 'alert-title', id: 'bind-problem-title' }, title),
      err.message ? el('p', { id: 'bind-problem-message' }, errorText(err)) : null,
      el('p', { id: 'bind-problem-hint' }, hint)),
    el('div', { class: 'button-row' }, actions));
}

function boundView() {
  const c = state.ctx;
  const b = c.bound;
  const parts = [
    subscriptionFacts(),
    alertBox('info',
      el('p', { class: 'alert-title' }, t('bind.bound.title')),
      el('p', { id: 'bind-bound' }, tx('bind.bound.body', {
        org: el('strong', { id: 'bind-bound-org' }, b.org_name),
        id: el('code', { id: 'bind-bound-id' }, b.org_id),
      }))),
  ];
  if (!c.signed_in) {
    state.mode = 'login';
    const form = authForm();
    // Only a member of that org can go on, so a new account is no use here.
    const switchLine = form.querySelector('.auth-switch');
    if (switchLine) switchLine.remove();
    parts.push(el('p', { class: 'bind-lead' }, t('bind.bound.signIn')), form);
  } else {
    parts.push(el('p', { id: 'bind-not-member' }, t('bind.bound.notMember', { email: c.email || '' })),
      el('div', { class: 'button-row' },
        el('a', { class: 'btn primary', href: '/console/orgs', id: 'bind-console' }, t('bind.enter')), switchAccount()));
  }
  parts.push(el('p', { class: 'muted small bind-rebind' }, t('bind.bound.rebind')));
  return parts;
}

function draw() {
  state.focus = null;
  document.title = `${titleText()} · ${t('app.name')}`;
  let step = null;
  let body;
  if (state.done) {
    step = 4; // every step done
    body = doneView();
  } else if (state.problem) {
    body = problemView(state.problem);
  } else if (state.ctx.bound) {
    body = boundView();
  } else if (!state.ctx.signed_in) {
    step = 1;
    body = signInView();
  } else {
    step = 2;
    body = pickView();
  }
  const notice = state.notice ? el('div', { id: 'bind-notice' }, alertBox(state.notice.kind, state.notice.text)) : null;
  state.notice = null;
  fill(main, el('div', {
    class: 'card bind-card',
    id: 'bind',
    dataset: { step: step ? String(Math.min(step, 3)) : 'none', marketplace: market() || '' },
  },
  el('h1', { class: 'bind-title', id: 'bind-title' }, titleText()),
  step ? stepper(step) : null,
  notice,
  body));
  if (state.focus) state.focus();
}

publicApp({
  title: 'bind.title',
  async render(m) {
    main = m;
    if (!state.loaded) {
      await load();
      if (redirectIfMember()) return;
    }
    draw();
  },
});
