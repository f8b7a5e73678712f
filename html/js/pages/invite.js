// SPDX-License-Identifier: MIT
// invite.js: /invite.html?id=… — the link an Org Admin sends. Signed out: say
// what it is and offer 登录 / 注册 that come back here. Signed in: the org and
// role with 接受邀请 / 拒绝, or why the invitation cannot be used.

import { el, fill, icon } from '../dom.js';
import { t, tx } from '../i18n.js';
import { api, ApiError, currentUser, here, logout } from '../api.js';
import { publicApp } from '../shell.js';
import { alertBox, button, busy, errorText, roleTag } from '../ui.js';

const id = new URLSearchParams(location.search).get('id') || '';
const back = encodeURIComponent(here());

function inviteCard(...body) {
  return el('div', { class: 'auth-card card invite-card', id: 'invite' },
    el('div', { class: 'invite-icon' }, icon('mail')),
    el('h1', { class: 'invite-title' }, t('invite.title')),
    body);
}

function signedOut(main) {
  main.append(inviteCard(
    el('p', { class: 'lead', id: 'invite-message' }, t('invite.signedOut')),
    el('div', { class: 'button-row' },
      el('a', { class: 'btn primary', href: `/login?next=${back}`, id: 'invite-login' }, t('login.title')),
      el('a', { class: 'btn', href: `/register?next=${back}`, id: 'invite-register' }, t('register.title')))));
}

function problem(main, me, err) {
  const parts = [alertBox('error', el('span', { id: 'invite-error', dataset: { code: err.code || '' } },
    err.code === 'not_found' ? t('invite.missing') : errorText(err)))];
  if (err.code === 'invitation_other_email') {
    parts.push(el('p', { class: 'muted' }, t('invite.signedInAs', { email: me.user.email })));
    const sw = button(t('invite.switch'), { kind: 'primary', attrs: { id: 'invite-switch' } });
    sw.addEventListener('click', () => busy(sw, async () => {
      await logout();
      location.assign(`/login?next=${back}`);
    }));
    parts.push(el('div', { class: 'button-row' }, sw));
  } else {
    if (err.code === 'invitation_invalid') parts.push(el('p', { class: 'muted' }, t('invite.invalidHint')));
    parts.push(el('div', { class: 'button-row' },
      el('a', { class: 'btn', href: '/console/orgs' }, t('common.backHome'))));
  }
  main.append(inviteCard(parts));
}

// The outcome once answered, so a language switch re-renders it instead of asking again.
let outcome = null;

function done(main, key, org) {
  outcome = { key, org };
  const orgId = org ? org.id : null;
  main.append(inviteCard(
    alertBox('success', el('span', { id: 'invite-done' }, t(key, { org: org ? org.name : '' }))),
    el('div', { class: 'button-row' },
      el('a', { class: 'btn primary', id: 'invite-enter',
        href: orgId ? `/console/orgs?org=${encodeURIComponent(orgId)}` : '/console/orgs' }, t('invite.enter')))));
}

function offer(main, me, inv) {
  const slot = el('div', { class: 'form-alert' });
  const accept = button(t('invite.accept'), { kind: 'primary', attrs: { id: 'invite-accept' } });
  const decline = button(t('invite.decline'), { attrs: { id: 'invite-decline' } });
  const path = `/api/invitations/${encodeURIComponent(id)}`;
  accept.addEventListener('click', async () => {
    slot.replaceChildren();
    try {
      const answer = await busy(accept, () => api.post(`${path}/accept`, {}));
      fill(main);
      done(main, 'invite.accepted', answer.org);
    } catch (err) {
      fill(slot, alertBox('error', errorText(err)));
    }
  });
  decline.addEventListener('click', async () => {
    slot.replaceChildren();
    try {
      await busy(decline, () => api.post(`${path}/decline`, {}));
      fill(main);
      done(main, 'invite.declined', null);
    } catch (err) {
      fill(slot, alertBox('error', errorText(err)));
    }
  });
  main.append(inviteCard(
    el('p', { class: 'lead', id: 'invite-message' },
      tx('invite.body', { org: el('strong', { id: 'invite-org' }, inv.org_name), role: roleTag(inv.role) })),
    el('dl', { class: 'facts' },
      el('dt', null, t('invite.orgId')), el('dd', { class: 'mono' }, inv.org_id)),
    el('p', { class: 'muted' }, t('invite.signedInAs', { email: me.user.email })),
    slot,
    el('div', { class: 'button-row' }, accept, decline)));
}

async function start() {
  const me = await currentUser().catch(() => null);
  publicApp({
    title: 'invite.title',
    async render(main) {
      if (outcome) {
        done(main, outcome.key, outcome.org);
        return;
      }
      if (!id) {
        problem(main, me, new ApiError(404, 'not_found', t('invite.missing')));
        return;
      }
      if (!me) {
        signedOut(main);
        return;
      }
      try {
        const answer = await api.get(`/api/invitations/${encodeURIComponent(id)}`);
        offer(main, me, answer.invitation);
      } catch (err) {
        problem(main, me, err);
      }
    },
  });
}

start();
