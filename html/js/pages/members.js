// SPDX-License-Identifier: MIT
// members.js: /console/members — 组织用户 of the current org: the members
// (邮箱, 角色, 加入时间); for an Org Admin also 修改角色, 移除, 邀请用户 (showing the
// invitation link to send) and the pending invitations with 撤回. Everyone
// else sees the list read-only.

import { el, fill } from '../dom.js';
import { t, tx } from '../i18n.js';
import { api } from '../api.js';
import { consoleApp } from '../shell.js';
import {
  ROLES, alertBox, button, busy, card, copyText, dialog, field, noOrgState, pageHeader, roleLabel, roleTag,
  showError, table, tag, timeEl, toast,
} from '../ui.js';

function roleOptions() {
  return ROLES.map((r) => ({ value: r, label: roleLabel(r) }));
}

async function render(main, ctx) {
  if (!ctx.org) {
    fill(main, noOrgState());
    return;
  }
  const org = ctx.org;
  const base = `/api/orgs/${encodeURIComponent(org.id)}`;
  const me = ctx.me.user;
  let data = await api.get(`${base}/members`);
  if (ctx.stale()) return;
  const isAdmin = data.my_role === 'admin';

  const membersBody = el('div');
  const invitesBody = el('div');

  async function reload() {
    data = await api.get(`${base}/members`);
    drawMembers();
    drawInvitations();
  }

  async function changeRole(m) {
    const role = field({ label: t('members.col.role'), name: 'role', options: roleOptions(), value: m.role });
    const ok = await dialog({
      title: t('members.changeRoleTitle'),
      body: [el('p', null, tx('members.changeRoleBody', { email: el('strong', null, m.email) })), role.node],
      fields: { role },
      onConfirm: () => api.put(`${base}/members/${encodeURIComponent(m.user_id)}`, { role: role.input.value }),
    });
    if (!ok) return;
    toast(t('members.roleChanged', { email: m.email, role: roleLabel(role.input.value) }));
    if (m.user_id === me.id) {
      await ctx.refresh();
      return;
    }
    await reload();
  }

  async function remove(m) {
    const ok = await dialog({
      title: t('members.removeTitle'),
      body: el('p', null, tx('members.removeBody', { email: el('strong', null, m.email), org: el('strong', null, org.name) })),
      confirmText: t('members.remove'),
      danger: true,
      onConfirm: () => api.del(`${base}/members/${encodeURIComponent(m.user_id)}`),
    });
    if (!ok) return;
    toast(t('members.removed', { email: m.email }));
    if (m.user_id === me.id) {
      await ctx.refresh();
      return;
    }
    await reload();
  }

  async function revoke(inv) {
    const ok = await dialog({
      title: t('members.revokeTitle'),
      body: el('p', null, tx('members.revokeBody', { email: el('strong', null, inv.email) })),
      confirmText: t('members.revoke'),
      danger: true,
      onConfirm: () => api.del(`${base}/invitations/${encodeURIComponent(inv.id)}`),
    });
    if (!ok) return;
    toast(t('members.revoked'));
    await reload();
  }

  function drawMembers() {
    const columns = [{ label: t('members.col.email') }, { label: t('members.col.role') },
      { label: t('members.col.joined') }];
    if (isAdmin) columns.push({ label: t('common.actions'), cls: 'actions' });
    const rows = data.members.map((m) => {
      const cells = [
        el('span', { class: 'member-email' }, el('span', { class: 'email' }, m.email),
          m.user_id === me.id ? tag(t('common.you'), 'green') : null),
        roleTag(m.role),
        timeEl(m.joined_at),
      ];
      if (isAdmin) {
        cells.push(el('div', { class: 'row-actions' },
          button(t('members.changeRole'), { kind: 'link', small: true, onClick: () => changeRole(m),
            attrs: { dataset: { action: 'role' } } }),
          button(t('members.remove'), { kind: 'link danger', small: true, onClick: () => remove(m),
            attrs: { dataset: { action: 'remove' } } })));
      }
      return { attrs: { dataset: { userId: String(m.user_id), email: m.email } }, cells };
    });
    fill(membersBody, table(columns, rows, { id: 'members-table' }));
  }

  function drawInvitations() {
    if (!isAdmin) return;
    const pending = data.invitations || [];
    if (pending.length === 0) {
      fill(invitesBody, el('p', { class: 'muted empty-note', id: 'no-invitations' }, t('members.pendingEmpty')));
      return;
    }
    const columns = [{ label: t('members.col.email') }, { label: t('members.col.role') },
      { label: t('members.col.expires') }, { label: t('common.actions'), cls: 'actions' }];
    const rows = pending.map((inv) => ({
      attrs: { dataset: { invitation: inv.id, email: inv.email } },
      cells: [inv.email, roleTag(inv.role), timeEl(inv.expires_at),
        el('div', { class: 'row-actions' }, button(t('members.revoke'), { kind: 'link danger', small: true,
          onClick: () => revoke(inv), attrs: { dataset: { action: 'revoke' } } }))],
    }));
    fill(invitesBody, table(columns, rows, { id: 'invitations-table' }));
  }

  function inviteForm() {
    const email = field({ label: t('members.col.email'), name: 'email', type: 'email',
      placeholder: t('field.emailPlaceholder') });
    const role = field({ label: t('members.inviteRole'), name: 'role', options: roleOptions(), value: 'member' });
    const slot = el('div', { class: 'form-alert', id: 'invite-result' });
    const submit = button(t('members.inviteSubmit'), { kind: 'primary', type: 'submit', attrs: { id: 'invite-submit' } });
    const form = el('form', { class: 'inline-form', id: 'invite-form', novalidate: true },
      email.node, role.node, el('div', { class: 'field field-submit' }, submit));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      slot.replaceChildren();
      const value = email.input.value.trim();
      if (value === '') {
        email.setError(t('field.required'));
        email.input.focus();
        return;
      }
      try {
        const { invitation } = await busy(submit, () => api.post(`${base}/invitations`,
          { email: value, role: role.input.value }));
        const link = el('code', { class: 'link-box', id: 'invite-link' }, invitation.link);
        const copy = button(t('common.copy'), { small: true });
        copy.addEventListener('click', async () => {
          if (await copyText(invitation.link, link)) copy.textContent = t('common.copied');
        });
        fill(slot, alertBox('success',
          el('p', null, tx('members.inviteCreated', { email: el('strong', null, invitation.email) })),
          el('div', { class: 'link-row' }, link, copy)));
        email.input.value = '';
        await reload();
      } catch (err) {
        showError(err, { email, role }, slot);
      }
    });
    return card({ title: t('members.invite'), attrs: { id: 'invite-card' } },
      el('p', { class: 'muted' }, t('members.inviteHint')), form, slot);
  }

  drawMembers();
  drawInvitations();
  fill(main,
    pageHeader(t('members.title'), tx('members.subtitle', { org: el('strong', null, org.name) })),
    isAdmin ? null : alertBox('info', el('span', { id: 'read-only' }, t('members.readOnly'))),
    isAdmin ? inviteForm() : null,
    card({ title: t('members.title'), attrs: { id: 'members' }, flush: true }, membersBody),
    isAdmin ? card({ title: t('members.pending'), attrs: { id: 'pending' }, flush: true }, invitesBody) : null);
}

consoleApp({ page: 'members', title: 'members.title', render });
