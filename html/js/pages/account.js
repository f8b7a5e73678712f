// SPDX-License-Identifier: MIT
// account.js: /console/account — 账号设置: the account, 修改密码 (signs out the
// other sessions) and 注销账号 (after a confirm; the server's last_admin
// message names the orgs that need another Org Admin first).

import { el, fill } from '../dom.js';
import { t, tx } from '../i18n.js';
import { api } from '../api.js';
import { consoleApp, publicApp } from '../shell.js';
import { passwordPolicy } from '../authforms.js';
import { alertBox, button, busy, card, dialog, field, pageHeader, showError, timeEl } from '../ui.js';

function profileCard(me) {
  return card({ title: t('account.profile'), attrs: { id: 'profile' } },
    el('dl', { class: 'facts' },
      el('dt', null, t('account.email')), el('dd', { id: 'account-email' }, me.user.email),
      el('dt', null, t('account.since')), el('dd', null, timeEl(me.user.created_at))));
}

/* The account's e-mail as a hidden username, so password managers know whose password it is. */
function usernameFor(me) {
  return el('input', { type: 'email', name: 'username', autocomplete: 'username', value: me.user.email,
    hidden: true, readonly: true, tabindex: '-1' });
}

function passwordCard(me) {
  const current = field({ label: t('account.current'), name: 'current_password', type: 'password',
    autocomplete: 'current-password' });
  const next = field({ label: t('account.new'), name: 'new_password', type: 'password', autocomplete: 'new-password' });
  const repeat = field({ label: t('account.repeat'), name: 'repeat', type: 'password', autocomplete: 'new-password' });
  const policy = passwordPolicy(next.input, me.user.email);
  next.node.appendChild(policy.node);
  const slot = el('div', { class: 'form-alert', id: 'password-result' });
  const submit = button(t('common.save'), { kind: 'primary', type: 'submit', attrs: { id: 'password-submit' } });
  const form = el('form', { class: 'stack-form', id: 'password-form', novalidate: true },
    usernameFor(me),
    current.node, next.node, repeat.node, slot, el('div', null, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    slot.replaceChildren();
    for (const f of [current, next, repeat]) {
      if (f.input.value === '') {
        f.setError(t('field.required'));
        f.input.focus();
        return;
      }
    }
    if (!policy.ok()) {
      next.setError(t('policy.unmet'));
      next.input.focus();
      return;
    }
    if (next.input.value !== repeat.input.value) {
      repeat.setError(t('account.mismatch'));
      repeat.input.focus();
      return;
    }
    try {
      await busy(submit, () => api.post('/api/auth/password',
        { current_password: current.input.value, new_password: next.input.value }));
      for (const f of [current, next, repeat]) f.input.value = '';
      policy.update();
      fill(slot, alertBox('success', t('account.passwordChanged')));
    } catch (err) {
      if (!err.field && err.code === 'wrong_password') err.field = 'current_password';
      if (!err.field && err.code === 'weak_password') err.field = 'new_password';
      showError(err, { current_password: current, new_password: next }, slot);
    }
  });
  return card({ title: t('account.password'), attrs: { id: 'change-password' } },
    el('p', { class: 'muted' }, t('account.passwordHint')), form);
}

function closed() {
  publicApp({
    title: 'account.closed',
    render(main) {
      main.append(el('div', { class: 'auth-card card', id: 'account-closed' },
        el('h1', null, t('account.closed')),
        el('p', { class: 'lead' }, t('account.closedBody')),
        el('div', { class: 'button-row' }, el('a', { class: 'btn primary', href: '/register' }, t('register.title')))));
    },
  });
}

function closeCard(ctx) {
  const { me } = ctx;
  const password = field({ label: t('field.password'), name: 'password', type: 'password',
    autocomplete: 'current-password' });
  const slot = el('div', { class: 'form-alert', id: 'close-result' });
  const submit = button(t('account.closeSubmit'), { kind: 'danger', type: 'submit', attrs: { id: 'close-submit' } });
  const form = el('form', { class: 'stack-form', id: 'close-form', novalidate: true },
    usernameFor(me),
    password.node, slot, el('div', null, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    slot.replaceChildren();
    if (password.input.value === '') {
      password.setError(t('field.required'));
      password.input.focus();
      return;
    }
    const ok = await dialog({
      title: t('account.closeConfirmTitle'),
      body: el('p', null, tx('account.closeConfirmBody', { email: el('strong', null, me.user.email) })),
      confirmText: t('account.closeSubmit'),
      danger: true,
    });
    if (!ok) return;
    try {
      await busy(submit, () => api.post('/api/auth/close', { password: password.input.value }));
      ctx.detach();
      closed();
    } catch (err) {
      if (!err.field && err.code === 'wrong_password') err.field = 'password';
      showError(err, { password }, slot);
    }
  });
  return card({ title: t('account.close'), cls: 'danger-zone', attrs: { id: 'close-account' } },
    el('p', { class: 'muted' }, t('account.closeHint')), form);
}

async function render(main, ctx) {
  fill(main,
    pageHeader(t('account.title')),
    profileCard(ctx.me),
    passwordCard(ctx.me),
    closeCard(ctx));
}

consoleApp({ page: null, title: 'account.title', render });
