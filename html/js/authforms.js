// SPDX-License-Identifier: MIT
// authforms.js: the sign-in form (企业邮箱, 密码, 登录; 没有账号? 注册) and the
// registration form with the password policy shown before submitting. The
// login and register pages use them, and so can the binding wizard's step 1:
// each takes onSuccess(answer) and the links to the other form.

import { el, fill } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { field, button, busy, showError } from './ui.js';

/* Remembers what was typed, so a language switch (which re-renders) keeps it. */
const typed = { email: '', password: '' };

function keep(f, key) {
  f.input.value = typed[key];
  f.input.addEventListener('input', () => { typed[key] = f.input.value; });
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/* Client-side checks before a request; true when every field passed. */
function checkRequired(fields) {
  let ok = true;
  for (const f of fields) {
    if (f.input.value === '') {
      f.setError(t('field.required'));
      if (ok) f.input.focus();
      ok = false;
    }
  }
  return ok;
}

function checkEmail(f) {
  if (!EMAIL_RE.test(f.input.value.trim())) {
    f.setError(t('field.emailInvalid'));
    f.input.focus();
    return false;
  }
  return true;
}

function utf8Length(s) {
  return new TextEncoder().encode(s).length;
}

/*
 * The server's password policy (auth_password_ok): 10 to 128 bytes, a letter (or any non-ASCII
 * character) and a digit, and not the part of the e-mail before @ when that has 4 or more
 * characters. Returns { length, mix, email } booleans.
 */
export function passwordRules(password, email) {
  const local = (email || '').split('@')[0] || '';
  const n = utf8Length(password);
  return {
    length: n >= 10 && n <= 128,
    mix: /[A-Za-z\u0080-\uffff]/.test(password) && /[0-9]/.test(password),
    email: !(email && email.includes('@') && utf8Length(local) >= 4 && utf8Length(local) < 65 &&
      password.toLowerCase().includes(local.toLowerCase())),
  };
}

/* The policy as a live checklist under a password field; email is the e-mail input (or a string). */
export function passwordPolicy(passwordInput, email) {
  const items = {
    length: el('li', { dataset: { rule: 'length' } }, t('policy.length')),
    mix: el('li', { dataset: { rule: 'mix' } }, t('policy.mix')),
    email: el('li', { dataset: { rule: 'email' } }, t('policy.email')),
  };
  const node = el('div', { class: 'policy', id: 'password-policy' },
    el('p', { class: 'policy-title' }, t('policy.title')),
    el('ul', { class: 'policy-list' }, Object.values(items)));
  const emailValue = () => (typeof email === 'string' ? email : email.value.trim());
  function update() {
    const pw = passwordInput.value;
    const rules = passwordRules(pw, emailValue());
    for (const [k, li] of Object.entries(items)) {
      li.classList.toggle('ok', pw !== '' && rules[k]);
      li.classList.toggle('bad', pw !== '' && !rules[k]);
    }
  }
  passwordInput.addEventListener('input', update);
  if (typeof email !== 'string') email.addEventListener('input', update);
  update();
  return { node, update, ok: () => Object.values(passwordRules(passwordInput.value, emailValue())).every(Boolean) };
}

function switchLine(question, linkText, href, id) {
  return el('p', { class: 'auth-switch' }, question, ' ', el('a', { href, id }, linkText));
}

/*
 * The sign-in form. opts: onSuccess(answer) (answer = {user, csrf}), registerHref.
 * Errors from the server (邮箱或密码错误, too many attempts) are shown in the form.
 */
export function loginForm({ onSuccess, registerHref }) {
  const email = field({ label: t('field.email'), name: 'email', type: 'email', autocomplete: 'username',
    placeholder: t('field.emailPlaceholder') });
  const password = field({ label: t('field.password'), name: 'password', type: 'password',
    autocomplete: 'current-password' });
  keep(email, 'email');
  keep(password, 'password');
  const slot = el('div', { class: 'form-alert', id: 'form-alert' });
  const submit = button(t('login.submit'), { kind: 'primary', type: 'submit', attrs: { id: 'login-submit', class: 'btn primary block' } });
  const form = el('form', { class: 'auth-form', id: 'login-form', novalidate: true },
    slot, email.node, password.node, submit,
    switchLine(t('login.noAccount'), t('login.toRegister'), registerHref, 'to-register'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    slot.replaceChildren();
    if (!checkRequired([email, password]) || !checkEmail(email)) return;
    try {
      const answer = await busy(submit, () => api.post('/api/auth/login',
        { email: email.input.value.trim(), password: password.input.value }, { auth401: 'throw' }));
      typed.password = '';
      await onSuccess(answer);
    } catch (err) {
      showError(err, { email, password }, slot);
    }
  });
  return { node: form, focus: () => (email.input.value ? password.input : email.input).focus() };
}

/* The registration form. opts: onSuccess(answer), loginHref. */
export function registerForm({ onSuccess, loginHref }) {
  const email = field({ label: t('field.email'), name: 'email', type: 'email', autocomplete: 'username',
    placeholder: t('field.emailPlaceholder') });
  const password = field({ label: t('field.password'), name: 'password', type: 'password',
    autocomplete: 'new-password' });
  keep(email, 'email');
  keep(password, 'password');
  const policy = passwordPolicy(password.input, email.input);
  password.node.appendChild(policy.node);
  const slot = el('div', { class: 'form-alert', id: 'form-alert' });
  const submit = button(t('register.submit'), { kind: 'primary', type: 'submit', attrs: { id: 'register-submit', class: 'btn primary block' } });
  const form = el('form', { class: 'auth-form', id: 'register-form', novalidate: true },
    slot, email.node, password.node, submit,
    switchLine(t('register.haveAccount'), t('register.toLogin'), loginHref, 'to-login'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    slot.replaceChildren();
    if (!checkRequired([email, password]) || !checkEmail(email)) return;
    if (!policy.ok()) {
      password.setError(t('policy.unmet'));
      password.input.focus();
      return;
    }
    try {
      const answer = await busy(submit, () => api.post('/api/auth/register',
        { email: email.input.value.trim(), password: password.input.value }, { auth401: 'throw' }));
      typed.password = '';
      await onSuccess(answer);
    } catch (err) {
      // weak_password and email_taken belong under their fields.
      if (!err.field && err.code === 'weak_password') err.field = 'password';
      if (!err.field && err.code === 'email_taken') err.field = 'email';
      showError(err, { email, password }, slot);
    }
  });
  return { node: form, focus: () => email.input.focus() };
}

/* A heading block for an auth card. */
export function authHead(title, subtitle) {
  return el('div', { class: 'auth-head' }, el('h1', null, title), subtitle ? el('p', null, subtitle) : null);
}

export { fill };
