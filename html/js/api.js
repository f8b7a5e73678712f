// SPDX-License-Identifier: MIT
// api.js: the one way pages talk to /api. JSON in and out, same-origin
// credentials, the CSRF header on every state-changing request, errors as
// ApiError (status, code, localised message, field). A 401 sends the browser
// to /login?next=<this page> unless the caller handles it.

import { t } from './i18n.js';

let csrfToken = null;

/* An answer other than 2xx. message is already in the user's language (the server localises it
 * from the lang cookie); field names the offending input when the server knows it. */
export class ApiError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.retryAfter = retryAfter || null;
  }
}

export function setCsrf(token) {
  csrfToken = token || null;
}

/* The current path and query, for ?next=. */
export function here() {
  return location.pathname + location.search;
}

export function loginUrl(next) {
  return `/login?next=${encodeURIComponent(next === undefined ? here() : next)}`;
}

/*
 * Sends method path with body (an object, sent as JSON) and resolves with the decoded answer.
 * opts.auth401: 'redirect' (default) goes to the sign-in page on 401 and never resolves;
 * 'throw' rejects with the ApiError like any other status.
 */
export async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET' && method !== 'HEAD') {
    if (csrfToken === null && path !== '/api/auth/login' && path !== '/api/auth/register') {
      await loadCsrf();
    }
    if (csrfToken !== null) headers['X-CSRF-Token'] = csrfToken;
    if (body !== undefined || method === 'POST' || method === 'PUT' || method === 'PATCH') {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body === undefined ? {} : body);
    }
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', t('error.network'));
  }
  let data = null;
  const type = res.headers.get('Content-Type') || '';
  if (type.startsWith('application/json')) {
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
  }
  if (res.ok) {
    if (data && typeof data.csrf === 'string') csrfToken = data.csrf;
    return data || {};
  }
  const err = data && data.error ? data.error : {};
  const error = new ApiError(res.status, err.code || `http_${res.status}`,
    err.message || t('error.unexpected', { status: res.status }), err.field,
    res.headers.get('Retry-After'));
  if (res.status === 401 && (opts.auth401 || 'redirect') === 'redirect') {
    location.assign(loginUrl());
    return new Promise(() => {});
  }
  throw error;
}

async function loadCsrf() {
  const me = await request('GET', '/api/auth/me');
  csrfToken = me.csrf;
}

export const api = {
  get: (path, opts) => request('GET', path, undefined, opts),
  post: (path, body, opts) => request('POST', path, body, opts),
  put: (path, body, opts) => request('PUT', path, body, opts),
  patch: (path, body, opts) => request('PATCH', path, body, opts),
  del: (path, opts) => request('DELETE', path, undefined, opts),
};

/* The signed-in user ({user, csrf, settings}), or null when nobody is signed in. */
export async function currentUser() {
  try {
    return await api.get('/api/auth/me', { auth401: 'throw' });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function logout() {
  try {
    await api.post('/api/auth/logout', {}, { auth401: 'throw' });
  } catch (e) {
    // Already signed out: nothing left to revoke.
  }
  csrfToken = null;
}

/*
 * The ?next= of this page when it is safe to go to: a path on this site ("/…", not "//…" nor
 * "/\…", which browsers read as another host). Anything else gives fallback.
 */
export function safeNext(fallback = '/console/orgs') {
  const next = new URLSearchParams(location.search).get('next');
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  if (/[\u0000-\u001f\u007f]/.test(next)) return fallback;
  try {
    const url = new URL(next, location.origin);
    if (url.origin !== location.origin) return fallback;
    return url.pathname + url.search + url.hash;
  } catch (e) {
    return fallback;
  }
}
