// SPDX-License-Identifier: MIT
// index.js: / — the console when signed in, else the sign-in page.

import { currentUser } from '../api.js';

currentUser()
  .then((me) => location.replace(me ? '/console/orgs' : '/login'))
  .catch(() => location.replace('/login'));
