// SPDX-License-Identifier: MIT
// events.js: /console/events — 事件 of the current org, newest first, in
// words (创建组织, 邀请, 加入组织, 修改角色, 云市场订阅成功 …; an action without words
// is shown as it is; a reason is a code said in the reader's language), with
// who did it and when (local time). 加载更多 pages on with
// next_before. Plain members get a friendly refusal.

import { el, fill } from '../dom.js';
import { t, tx, has } from '../i18n.js';
import { api, ApiError } from '../api.js';
import { consoleApp } from '../shell.js';
import { alertBox, button, busy, card, emptyState, errorText, noOrgState, pageHeader, roleLabel, table, timeEl } from '../ui.js';

const PAGE = 20;

function actionLabel(action) {
  return has(`action.${action}`) ? t(`action.${action}`) : action;
}

function actorLabel(e) {
  if (e.actor === 'user' || !e.actor) return e.actor_email || '—';
  return has(`actor.${e.actor}`) ? t(`actor.${e.actor}`) : e.actor;
}

function marketLabel(name) {
  return has(`actor.${name}`) ? t(`actor.${name}`) : (name || '—');
}

function reasonLabel(reason) {
  return has(`reason.${reason}`) ? t(`reason.${reason}`) : (reason || '—');
}

/* The words for an event's detail; emails maps user ids to e-mails where known. */
function detailText(e, emails) {
  const d = e.detail || {};
  const who = (id) => emails.get(String(id)) || t('events.user', { id });
  const role = (r) => (r ? roleLabel(r) : '—');
  // An older AWS listing's subscription has no account id: its customer identifier names it.
  const account = d.account_id || d.customer || '—';
  switch (e.action) {
    case 'org.created':
    case 'org.renamed':
      return d.name !== undefined ? t('detail.name', { name: d.name }) : '';
    case 'invitation.created':
      return t('detail.invited', { email: d.email || '', role: role(d.role) });
    case 'invitation.declined':
      return d.email || '';
    case 'invitation.revoked':
      return '';
    case 'member.joined':
      return t('detail.joined', { email: d.email || '', role: role(d.role) });
    case 'member.role_changed':
      return t('detail.roleChanged', { who: who(d.user_id), from: role(d.from), to: role(d.to) });
    case 'member.removed':
      return t('detail.removed', { who: who(d.user_id), role: role(d.role) });
    case 'binding.created':
      return t('detail.binding', { marketplace: marketLabel(d.marketplace), account: d.account_id || '—' });
    case 'binding.replaced':
      return t('detail.binding', { marketplace: marketLabel(d.marketplace), account: d.account_id || '—' });
    case 'binding.ended':
      return t('detail.bindingEnded', {
        marketplace: marketLabel(d.marketplace),
        account: d.account_id || '—',
        reason: reasonLabel(d.reason),
      });
    case 'binding.switched':
      return t('detail.switched', { marketplace: marketLabel(d.marketplace || e.actor), account });
    case 'subscription.active':
    case 'subscription.failed':
    case 'subscription.cancelling':
    case 'subscription.ended':
      return t('detail.binding', { marketplace: marketLabel(d.marketplace || e.actor), account });
    case 'entitlements.updated':
      return t('detail.entitlements', { marketplace: marketLabel(d.marketplace || e.actor), count: d.count || '0' });
    case 'billing.suspended':
      return t('detail.reason', { reason: reasonLabel(d.reason) });
    case 'member.left':
      return d.reason === 'account closed' ? t('detail.accountClosed', { email: d.email || '' }) : (d.email || '');
    default:
      return Object.entries(d).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
  }
}

function row(e, emails) {
  return el('tr', { dataset: { action: e.action, eventId: String(e.id) } },
    el('td', { class: 'nowrap' }, timeEl(e.at, true)),
    el('td', { class: 'actor' }, actorLabel(e)),
    el('td', null, el('span', { class: 'event-action' }, actionLabel(e.action))),
    el('td', { class: 'event-detail' }, detailText(e, emails)));
}

async function render(main, ctx) {
  if (!ctx.org) {
    fill(main, noOrgState());
    return;
  }
  const org = ctx.org;
  const base = `/api/orgs/${encodeURIComponent(org.id)}`;
  const head = pageHeader(t('events.title'), tx('events.subtitle', { org: el('strong', null, org.name) }));
  let first;
  try {
    first = await api.get(`${base}/events?limit=${PAGE}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) {
      fill(main, head, card({ attrs: { id: 'events-forbidden' } },
        emptyState(t('events.forbidden'), t('events.forbiddenHint'))));
      return;
    }
    throw err;
  }
  // Member e-mails, to name the people in role changes and removals (best effort).
  const emails = new Map();
  try {
    const { members } = await api.get(`${base}/members`);
    for (const m of members) emails.set(String(m.user_id), m.email);
  } catch (e) {
    // Without them the detail says "user #id".
  }
  if (ctx.stale()) return;
  if (first.events.length === 0) {
    fill(main, head, card({ attrs: { id: 'events' } }, emptyState(t('events.empty'))));
    return;
  }
  const columns = [{ label: t('events.col.time') }, { label: t('events.col.actor') },
    { label: t('events.col.action') }, { label: t('events.col.detail') }];
  const wrap = table(columns, [], { id: 'events-table' });
  const tbody = wrap.querySelector('tbody');
  const slot = el('div', { class: 'form-alert' });
  const more = button(t('events.more'), { attrs: { id: 'events-more' } });
  const footer = el('div', { class: 'table-foot' }, slot, more);
  let nextBefore = null;
  function add(page) {
    for (const e of page.events) tbody.appendChild(row(e, emails));
    nextBefore = page.next_before;
    more.hidden = nextBefore === null || nextBefore === undefined;
    footer.hidden = more.hidden;
  }
  more.addEventListener('click', async () => {
    slot.replaceChildren();
    try {
      add(await busy(more, () => api.get(`${base}/events?limit=${PAGE}&before=${encodeURIComponent(nextBefore)}`)));
    } catch (err) {
      fill(slot, alertBox('error', errorText(err)));
    }
  });
  add(first);
  fill(main, head, card({ attrs: { id: 'events' }, flush: true }, wrap, footer));
}

consoleApp({ page: 'events', title: 'events.title', render });
