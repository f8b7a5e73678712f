// SPDX-License-Identifier: MIT
// register.js: /register — 注册 with the password policy shown up front; then on to ?next=.

import { el } from '../dom.js';
import { t } from '../i18n.js';
import { currentUser, safeNext } from '../api.js';
import { publicApp } from '../shell.js';
import { registerForm, authHead } from '../authforms.js';

const next = safeNext();
const loginHref = `/login?next=${encodeURIComponent(next)}`;

async function start() {
  if (await currentUser().catch(() => null)) {
    location.replace(next);
    return;
  }
  publicApp({
    title: 'register.title',
    render(main) {
      const form = registerForm({ loginHref, onSuccess: () => location.assign(next) });
      main.append(el('div', { class: 'auth-card card' },
        authHead(t('register.title'), t('register.subtitle')), form.node));
      form.focus();
    },
  });
}

start();
