// SPDX-License-Identifier: MIT
// orgs.js: /console/orgs — 组织: the orgs I belong to (组织名称, 组织 ID, 成员人数,
// 我的角色, 创建时间), 创建组织 (or why not), rename for Org Admins, leave,
// and the invitations waiting for me (接受 / 拒绝).

import { el, fill } from '../dom.js';
import { t, tx } from '../i18n.js';
import { api } from '../api.js';
import { consoleApp } from '../shell.js';
import {
  alertBox, button, busy, card, dialog, emptyState, errorText, field, pageHeader, roleLabel, roleTag,
  table, tag, timeEl, toast,
} from '../ui.js';

function nameDialog({ title, value, submitText, send }) {
  const name = field({ label: t('orgs.nameField'), name: 'name', value, maxlength: 100, hint: t('orgs.nameHint') });
  return dialog({
    title,
    body: name.node,
    confirmText: submitText,
    fields: { name },
    onConfirm: async () => {
      const v = name.input.value.trim();
      if (v === '') {
        name.setError(t('field.required'));
        return false;
      }
      await send(v);
      return true;
    },
  });
}

function createOrg(ctx) {
  let created = null;
  return nameDialog({
    title: t('orgs.create'),
    value: '',
    submitText: t('orgs.create'),
    send: async (name) => {
      created = (await api.post('/api/orgs', { name })).org;
    },
  }).then(async (ok) => {
    if (!ok) return;
    toast(t('orgs.created', { name: created.name }));
    await ctx.refresh(created.id);
  });
}

function renameOrg(ctx, org) {
  return nameDialog({
    title: t('orgs.renameTitle'),
    value: org.name,
    submitText: t('common.save'),
    send: (name) => api.patch(`/api/orgs/${encodeURIComponent(org.id)}`, { name }),
  }).then(async (ok) => {
    if (!ok) return;
    toast(t('orgs.renamed'));
    await ctx.refresh();
  });
}

async function leaveOrg(ctx, org) {
  const ok = await dialog({
    title: t('orgs.leaveTitle'),
    body: el('p', null, tx('orgs.leaveBody', { name: el('strong', null, org.name) })),
    confirmText: t('orgs.leave'),
    danger: true,
    onConfirm: () => api.post(`/api/orgs/${encodeURIComponent(org.id)}/leave`, {}),
  });
  if (!ok) return;
  toast(t('orgs.left', { name: org.name }));
  await ctx.refresh();
}

function invitationsCard(ctx, invitations) {
  if (invitations.length === 0) return null;
  const slot = el('div', { class: 'form-alert' });
  const items = invitations.map((inv) => {
    const path = `/api/invitations/${encodeURIComponent(inv.id)}`;
    const accept = button(t('invites.accept'), { kind: 'primary', small: true, attrs: { dataset: { action: 'accept' } } });
    const decline = button(t('invites.decline'), { small: true, attrs: { dataset: { action: 'decline' } } });
    accept.addEventListener('click', async () => {
      slot.replaceChildren();
      try {
        const answer = await busy(accept, () => api.post(`${path}/accept`, {}));
        toast(t('invites.accepted', { name: answer.org.name }));
        await ctx.refresh(answer.org.id);
      } catch (err) {
        fill(slot, alertBox('error', errorText(err)));
      }
    });
    decline.addEventListener('click', async () => {
      slot.replaceChildren();
      try {
        await busy(decline, () => api.post(`${path}/decline`, {}));
        toast(t('invites.declined'));
        await ctx.refresh();
      } catch (err) {
        fill(slot, alertBox('error', errorText(err)));
      }
    });
    return el('li', { class: 'invite-item', dataset: { invitation: inv.id } },
      el('div', { class: 'invite-item-text' },
        el('strong', { class: 'invite-org' }, inv.org_name),
        el('span', { class: 'muted' }, tx('invites.line', { inviter: inv.invited_by, role: roleLabel(inv.role) })),
        el('span', { class: 'muted small' }, tx('invites.expires', { time: timeEl(inv.expires_at) }))),
      el('div', { class: 'invite-item-actions' }, accept, decline));
  });
  return card({ title: t('invites.title'), cls: 'highlight', attrs: { id: 'my-invitations' }, flush: true },
    slot, el('ul', { class: 'invite-list' }, items));
}

function orgsTable(ctx) {
  if (ctx.orgs.length === 0) {
    return emptyState(t('orgs.empty'), t(ctx.allowCreation ? 'orgs.emptyHint' : 'orgs.emptyHintNoCreate'));
  }
  const columns = [
    { label: t('orgs.col.name') }, { label: t('orgs.col.id') }, { label: t('orgs.col.members'), cls: 'num' },
    { label: t('orgs.col.role') }, { label: t('orgs.col.created') }, { label: t('common.actions'), cls: 'actions' },
  ];
  const rows = ctx.orgs.map((org) => {
    const isCurrent = ctx.org && ctx.org.id === org.id;
    const actions = [];
    if (!isCurrent) {
      actions.push(button(t('orgs.switchTo'), { kind: 'link', small: true,
        onClick: () => ctx.setOrg(org.id), attrs: { dataset: { action: 'switch' } } }));
    }
    if (org.role === 'admin') {
      actions.push(button(t('orgs.rename'), { kind: 'link', small: true,
        onClick: () => renameOrg(ctx, org), attrs: { dataset: { action: 'rename' } } }));
    }
    actions.push(button(t('orgs.leave'), { kind: 'link danger', small: true,
      onClick: () => leaveOrg(ctx, org), attrs: { dataset: { action: 'leave' } } }));
    return {
      attrs: { dataset: { orgId: org.id }, class: isCurrent ? 'current' : null },
      cells: [
        el('span', { class: 'org-cell' },
          el('a', { class: 'org-name', href: `/console/members?org=${encodeURIComponent(org.id)}` }, org.name),
          isCurrent ? tag(t('common.current'), 'green') : null),
        el('span', { class: 'mono' }, org.id),
        String(org.member_count),
        roleTag(org.role),
        timeEl(org.created_at),
        el('div', { class: 'row-actions' }, actions),
      ],
    };
  });
  return table(columns, rows, { id: 'orgs-table' });
}

async function render(main, ctx) {
  const { invitations } = await api.get('/api/invitations');
  if (ctx.stale()) return;
  const create = button(t('orgs.create'), {
    kind: 'primary',
    disabled: !ctx.allowCreation,
    onClick: () => createOrg(ctx),
    attrs: { id: 'create-org' },
  });
  const notice = ctx.allowCreation ? null : alertBox('info', el('span', { id: 'creation-off' }, t('orgs.creationOff')),
    ctx.me.settings && ctx.me.settings.support_url
      ? [' ', el('a', { href: ctx.me.settings.support_url, target: '_blank', rel: 'noopener noreferrer', id: 'support-link' },
        t('orgs.support'))]
      : null);
  fill(main,
    pageHeader(t('orgs.title'), t('orgs.subtitle'), create),
    notice,
    invitationsCard(ctx, invitations || []),
    card({ attrs: { id: 'orgs' }, flush: true }, orgsTable(ctx)));
}

consoleApp({ page: 'orgs', title: 'orgs.title', render });
