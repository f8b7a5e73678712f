// SPDX-License-Identifier: MIT
// login.js: /login — 登录 with 企业邮箱 and 密码; honours ?next= (paths on this site only).

import { el } from '../dom.js';
import { t } from '../i18n.js';
import { currentUser, safeNext } from '../api.js';
import { publicApp } from '../shell.js';
import { loginForm, authHead } from '../authforms.js';

const next = safeNext();
const registerHref = `/register?next=${encodeURIComponent(next)}`;

async function start() {
  // Already signed in: straight on.
  if (await currentUser().catch(() => null)) {
    location.replace(next);
    return;
  }
  publicApp({
    title: 'login.title',
    render(main) {
      const form = loginForm({ registerHref, onSuccess: () => location.assign(next) });
      main.append(el('div', { class: 'auth-card card' },
        authHead(t('login.title'), t('login.subtitle')), form.node));
      form.focus();
    },
  });
}

start();
