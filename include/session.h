/* SPDX-License-Identifier: MIT */
/*
 * session.h: console sessions. A session id is 32 random bytes, sent to the
 * browser base64url-encoded in the HttpOnly cookie "mpb_session" and stored
 * in MySQL only as its SHA-256. The CSRF token is derived from the id with
 * a keyed BLAKE2b, so it needs no storage and dies with the session.
 *
 * Sessions end on logout, on expiry, when the user changes the password
 * (all but the current one), and when the account is closed (all, in the
 * closing transaction). A session row carries its user's e-mail and
 * creation time (neither changes), so looking one up is a single
 * primary-key read.
 */
#ifndef MPBIND_SESSION_H
#define MPBIND_SESSION_H

struct request;

#define SESSION_COOKIE "mpb_session"

enum session_kind { SESSION_PASSWORD, SESSION_SSO };

/*
 * Looks up the session cookie and fills r->user. Returns ERR_OK,
 * ERR_UNAUTHORIZED (no cookie, unknown, expired, revoked or closed
 * account) or ERR_DB.
 */
int session_authenticate(struct request *r);

/*
 * Creates a session for user_id lasting ttl seconds, sets the cookie and
 * fills r->user (csrf included). Runs inside the caller's transaction if
 * there is one. Returns ERR_OK, ERR_DB or ERR_NOMEM.
 */
int session_create(struct request *r, long long user_id, const char *email,
    enum session_kind kind, long ttl);

/* Revokes r's current session and clears the cookie. */
int session_revoke_current(struct request *r);

/* Revokes every session of user_id except r's current one (NULL: all). */
int session_revoke_others(struct request *r, long long user_id, const char *keep_hash);

#endif
