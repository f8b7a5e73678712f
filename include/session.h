/* SPDX-License-Identifier: MIT */
/*
 * session.h: console sessions. A session id is 32 random bytes, sent to the
 * browser base64url-encoded in the HttpOnly cookie "mpb_session" and stored
 * in MySQL only as its SHA-256. The CSRF token is derived from the id with
 * a keyed BLAKE2b, so it needs no storage and dies with the session.
 *
 * Sessions end on logout, on expiry, when the user changes the password
 * (all but the current one), and when the account is closed (all, in the
 * closing transaction). Rows are deleted a day after they expire, a
 * hundred at a time, whenever a session is created (session_purge). A
 * session row carries its user's e-mail and creation time (neither
 * changes), so looking one up is a single primary-key read.
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
 * Creates a session for user_id lasting ttl seconds and fills r->user (csrf
 * included); the cookie waits in r->user.cookie for session_set_cookie().
 * Nothing leaves the database, so it may run inside a transaction that can
 * be retried (db.h). Returns ERR_OK, ERR_UNAUTHORIZED (the account was
 * closed meanwhile), ERR_DB or ERR_NOMEM.
 */
int session_insert(struct request *r, long long user_id, const char *email,
    enum session_kind kind, long ttl);

/*
 * Sets the cookie of the session session_insert() made. Call it only once
 * that session is committed. ERR_OK, ERR_INTERNAL or ERR_NOMEM.
 */
int session_set_cookie(struct request *r);

/*
 * session_insert(), session_purge() and session_set_cookie(), for a caller
 * outside any transaction (sign-in, 免登).
 */
int session_create(struct request *r, long long user_id, const char *email,
    enum session_kind kind, long ttl);

/*
 * Deletes at most 100 sessions that expired more than a day ago (bounded,
 * so no request pays for a backlog); run outside a transaction whenever a
 * session is created. Failures are ignored: the next session tries again.
 */
void session_purge(struct request *r);

/* Revokes r's current session and clears the cookie. */
int session_revoke_current(struct request *r);

/* Revokes every session of user_id except r's current one (NULL: all). */
int session_revoke_others(struct request *r, long long user_id, const char *keep_hash);

#endif
