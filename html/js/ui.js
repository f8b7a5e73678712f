// SPDX-License-Identifier: MIT
// ui.js: the console's components — buttons, form fields with inline errors,
// alerts, tags, tables, cards, the confirm / form dialog, toasts, times, and
// the three-step stepper (1 登录账号 → 2 绑定组织 → 3 完成授权) that the
// binding wizard uses. Everything is built with dom.el, so text stays text.

import { el, append, fill, icon } from './dom.js';
import { t, lang } from './i18n.js';
import { ApiError } from './api.js';

/* A <button>. kind: 'primary', 'danger', 'ghost', 'link' or '' (default). */
export function button(label, { kind = '', onClick, type = 'button', disabled, small, attrs } = {}) {
  return el('button', {
    type,
    class: ['btn', kind, small && 'small'],
    disabled: !!disabled,
    on: onClick ? { click: onClick } : null,
    ...attrs,
  }, label);
}

/* Runs fn with btn disabled and marked busy; returns fn's result. */
export async function busy(btn, fn) {
  btn.disabled = true;
  btn.classList.add('busy');
  btn.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.classList.remove('busy');
    btn.removeAttribute('aria-busy');
  }
}

let fieldSeq = 0;

/*
 * A labelled input with room for an inline error. Returns { node, input, setError, clear }.
 * opts: label, name, type, value, autocomplete, hint (text or node), placeholder, required,
 * maxlength, minlength, options (for a <select>: [{value, label}]).
 */
export function field(opts) {
  const id = `f-${opts.name}-${++fieldSeq}`;
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  let input;
  if (opts.options) {
    input = el('select', { id, name: opts.name, class: 'input' },
      opts.options.map((o) => el('option', { value: o.value, selected: o.value === opts.value }, o.label)));
  } else {
    input = el('input', {
      id,
      name: opts.name,
      type: opts.type || 'text',
      class: 'input',
      value: opts.value || '',
      autocomplete: opts.autocomplete || 'off',
      placeholder: opts.placeholder,
      required: opts.required,
      maxlength: opts.maxlength,
      minlength: opts.minlength,
      spellcheck: opts.type === 'email' || opts.type === 'password' ? 'false' : null,
    });
  }
  const error = el('p', { class: 'field-error', id: errorId, role: 'alert', hidden: true });
  const hint = opts.hint ? el('div', { class: 'field-hint', id: hintId }, opts.hint) : null;
  input.setAttribute('aria-describedby', hint ? `${hintId} ${errorId}` : errorId);
  const node = el('div', { class: 'field', dataset: { field: opts.name } },
    el('label', { for: id, class: 'field-label' }, opts.label), input, hint, error);
  function setError(message) {
    fill(error, message);
    error.hidden = false;
    node.classList.add('has-error');
    input.setAttribute('aria-invalid', 'true');
  }
  function clear() {
    error.replaceChildren();
    error.hidden = true;
    node.classList.remove('has-error');
    input.removeAttribute('aria-invalid');
  }
  input.addEventListener('input', clear);
  return { node, input, setError, clear };
}

/* An alert box. kind: 'error', 'warning', 'success', 'info'. */
export function alertBox(kind, ...children) {
  return el('div', { class: ['alert', `alert-${kind}`], role: kind === 'error' ? 'alert' : 'status' },
    icon(kind === 'error' || kind === 'warning' ? 'alert' : kind === 'success' ? 'check' : 'info'),
    el('div', { class: 'alert-body' }, children));
}

/*
 * Shows err on a form: inline under the field the server named when the form has it, else in
 * the form's alert slot. fields: { name: field() result }; slot: an element to fill.
 */
export function showError(err, fields, slot) {
  const message = errorText(err);
  const f = err instanceof ApiError && err.field && fields ? fields[err.field] : null;
  if (f) {
    f.setError(message);
    f.input.focus();
    if (slot) slot.replaceChildren();
    return;
  }
  if (slot) fill(slot, alertBox('error', message));
}

/* The words for an error: the server's (already localised) message, plus a retry hint. */
export function errorText(err) {
  if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
  let message = err.message;
  if (err.code === 'rate_limited' && err.retryAfter) {
    message += (lang() === 'zh' ? '' : ' ') + t('login.retryAfter', { seconds: err.retryAfter });
  }
  return message;
}

/* A small label. kind: 'blue', 'green', 'orange', 'gray', 'red'. */
export function tag(text, kind = 'gray', attrs = {}) {
  return el('span', { class: ['tag', `tag-${kind}`], ...attrs }, text);
}

export function roleLabel(role) {
  return ['admin', 'billing', 'member'].includes(role) ? t(`role.${role}`) : String(role);
}

export function roleTag(role) {
  const kind = { admin: 'blue', billing: 'orange', member: 'gray' }[role] || 'gray';
  return tag(roleLabel(role), kind, { dataset: { role } });
}

export const ROLES = ['admin', 'billing', 'member'];

/* A card with an optional title row (title, actions) and a body; flush: no padding (tables). */
export function card({ title, actions, cls, attrs, flush } = {}, ...body) {
  return el('section', { class: ['card', cls], ...attrs },
    title || actions ? el('div', { class: 'card-head' },
      title ? el('h2', { class: 'card-title' }, title) : null,
      actions ? el('div', { class: 'card-actions' }, actions) : null) : null,
    el('div', { class: ['card-body', flush && 'flush'] }, body));
}

/* The page title row of the console. */
export function pageHeader(title, subtitle, actions) {
  return el('div', { class: 'page-head' },
    el('div', { class: 'page-head-text' },
      el('h1', { class: 'page-title' }, title),
      subtitle ? el('p', { class: 'page-subtitle' }, subtitle) : null),
    actions ? el('div', { class: 'page-actions' }, actions) : null);
}

/* A table. columns: [{ label, cls }]; rows: [{ cells: [...], attrs }] or arrays of cells. */
export function table(columns, rows, attrs = {}) {
  return el('div', { class: 'table-wrap' },
    el('table', { class: 'table', ...attrs },
      el('thead', null, el('tr', null, columns.map((c) => el('th', { class: c.cls, scope: 'col' }, c.label)))),
      el('tbody', null, rows.map((row) => {
        const r = Array.isArray(row) ? { cells: row } : row;
        return el('tr', r.attrs || null, r.cells.map((cell, i) => el('td', { class: columns[i].cls }, cell)));
      }))));
}

export function emptyState(title, hint, action) {
  return el('div', { class: 'empty' },
    el('p', { class: 'empty-title' }, title),
    hint ? el('p', { class: 'empty-hint' }, hint) : null,
    action || null);
}

/* What an org page shows to someone with no organization. */
export function noOrgState() {
  return emptyState(t('members.noOrg'), null,
    el('a', { class: 'btn primary', href: '/console/orgs' }, t('members.toOrgs')));
}

export function spinner() {
  return el('div', { class: 'loading', role: 'status' }, el('span', { class: 'spinner' }), t('common.loading'));
}

function pad(n) {
  return String(n).padStart(2, '0');
}

/* An API time (UTC, ISO 8601) in local time: 2026-11-22 13:05 (seconds when asked). */
export function formatTime(iso, seconds = false) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const s = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return seconds ? `${s}:${pad(d.getSeconds())}` : s;
}

export function timeEl(iso, seconds = false) {
  return el('time', { datetime: iso, title: iso }, formatTime(iso, seconds));
}

/*
 * A modal dialog (native <dialog>). opts: title, body (children), confirmText, danger,
 * cancelText, onConfirm (async; throwing shows the error inside the dialog and keeps it open;
 * returning false keeps it open silently). Resolves with true when confirmed, false otherwise.
 */
export function dialog(opts) {
  return new Promise((resolve) => {
    const errorSlot = el('div', { class: 'dialog-error' });
    const confirmBtn = button(opts.confirmText || t('common.confirm'),
      { kind: opts.danger ? 'danger' : 'primary', type: 'submit', attrs: { 'data-action': 'confirm' } });
    const cancelBtn = button(opts.cancelText || t('common.cancel'), { attrs: { 'data-action': 'cancel' } });
    const form = el('form', { method: 'dialog', class: 'dialog-form', novalidate: true },
      el('h2', { class: 'dialog-title' }, opts.title),
      el('div', { class: 'dialog-body' }, opts.body),
      errorSlot,
      el('div', { class: 'dialog-actions' }, cancelBtn, confirmBtn));
    const dlg = el('dialog', { class: 'dialog', 'aria-label': opts.title }, form);
    let result = false;
    cancelBtn.addEventListener('click', () => dlg.close());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      errorSlot.replaceChildren();
      try {
        const ok = opts.onConfirm ? await busy(confirmBtn, opts.onConfirm) : true;
        if (ok === false) return;
        result = true;
        dlg.close();
      } catch (err) {
        if (opts.fields) showError(err, opts.fields, errorSlot);
        else fill(errorSlot, alertBox('error', errorText(err)));
      }
    });
    // Escape must not close the dialog while its request is on its way.
    dlg.addEventListener('cancel', (ev) => { if (confirmBtn.classList.contains('busy')) ev.preventDefault(); });
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(result);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = form.querySelector('input, select');
    (first || (opts.danger ? cancelBtn : confirmBtn)).focus();
  });
}

let toastRegion = null;

/* A short message at the top right that goes away by itself. */
export function toast(message, kind = 'success') {
  if (!toastRegion || !toastRegion.isConnected) {
    toastRegion = el('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(toastRegion);
  }
  const node = el('div', { class: ['toast', `toast-${kind}`] }, icon(kind === 'error' ? 'alert' : 'check'),
    el('span', null, message));
  toastRegion.appendChild(node);
  setTimeout(() => node.classList.add('leaving'), 3500);
  setTimeout(() => node.remove(), 4000);
}

/* The 1 登录账号 → 2 绑定组织 → 3 完成授权 stepper; current is 1, 2 or 3. */
export function stepper(current) {
  const steps = ['step.login', 'step.bind', 'step.done'];
  return el('ol', { class: 'stepper', 'aria-label': steps.map((k) => t(k)).join(' → ') },
    steps.map((key, i) => {
      const n = i + 1;
      const state = n < current ? 'done' : n === current ? 'current' : 'todo';
      return el('li', { class: ['step', state], 'aria-current': n === current ? 'step' : null },
        el('span', { class: 'step-index' }, n < current ? icon('check') : String(n)),
        el('span', { class: 'step-label' }, t(key)));
    }));
}

/* Copies text; falls back to selecting the node's text. */
export async function copyText(text, selectNode) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (e) {
    if (selectNode) {
      const range = document.createRange();
      range.selectNodeContents(selectNode);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
    return false;
  }
}

export { el, append, fill, lang };
