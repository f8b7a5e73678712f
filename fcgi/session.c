/* SPDX-License-Identifier: MIT */
/*
 * session.c: session ids, their hashes in MySQL, the cookie, and the
 * derived CSRF token.
 */
#include "session.h"

#include <string.h>

#include <sodium.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "request.h"
#include "text.h"
#include "worker.h"
#include "banned.h"

#define SESSION_ID_BYTES 32
#define SESSION_COOKIE_LEN 43		/* base64url of 32 bytes */

static void
session_hash(const unsigned char *id, char hex[TEXT_SHA256_HEX])
{
	text_sha256_hex(hex, id, SESSION_ID_BYTES);
}

static char *
session_csrf(struct request *r, const unsigned char *id)
{
	unsigned char mac[32];
	char *out = pool_alloc(r->pool, text_base64url_len(sizeof(mac)) + 1);

	if (out == NULL)
		return NULL;
	crypto_generichash(mac, sizeof(mac), (const unsigned char *)"mpbind-csrf", 11,
	    id, SESSION_ID_BYTES);
	text_base64url_encode(out, text_base64url_len(sizeof(mac)) + 1, mac, sizeof(mac));
	return out;
}

int
session_authenticate(struct request *r)
{
	unsigned char id[SESSION_ID_BYTES];
	const char *cookie = request_cookie(r, SESSION_COOKIE);
	struct db_result res;
	char hash[TEXT_SHA256_HEX];
	int rc;

	if (cookie == NULL || strlen(cookie) != SESSION_COOKIE_LEN ||
	    text_base64url_decode(id, sizeof(id), cookie, SESSION_COOKIE_LEN) != SESSION_ID_BYTES)
		return ERR_UNAUTHORIZED;
	session_hash(id, hash);
	rc = db_run(&r->worker->db, r->pool, STMT_SESSION_LOOKUP, &res, DB_ARGS(DB_TEXT(hash)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows != 1)
		return ERR_UNAUTHORIZED;
	r->user.user_id = db_int(&res, 0, 0);
	r->user.email = db_text(&res, 0, 1);
	r->user.expires_at = db_int(&res, 0, 2);
	r->user.created_at = db_text(&res, 0, 3);
	r->user.session_hash = pool_strdup(r->pool, hash);
	r->user.csrf = session_csrf(r, id);
	if (r->user.session_hash == NULL || r->user.csrf == NULL)
		return ERR_NOMEM;
	r->signed_in = true;
	return ERR_OK;
}

int
session_insert(struct request *r, long long user_id, const char *email,
    enum session_kind kind, long ttl)
{
	unsigned char id[SESSION_ID_BYTES];
	char cookie[SESSION_COOKIE_LEN + 1], hash[TEXT_SHA256_HEX];
	struct db_result res;
	int rc;

	r->signed_in = false;
	randombytes_buf(id, sizeof(id));
	text_base64url_encode(cookie, sizeof(cookie), id, sizeof(id));
	session_hash(id, hash);
	rc = db_run(&r->worker->db, r->pool, STMT_SESSION_INSERT, &res,
	    DB_ARGS(DB_TEXT(hash), DB_TEXT(kind == SESSION_SSO ? "sso" : "password"), DB_INT(ttl),
	    DB_INT(user_id)));
	if (rc == ERR_OK && res.affected != 1)
		rc = ERR_UNAUTHORIZED;	/* the account was closed meanwhile */
	if (rc != ERR_OK)
		goto out;
	r->user.user_id = user_id;
	r->user.email = pool_strdup(r->pool, email);
	r->user.session_hash = pool_strdup(r->pool, hash);
	r->user.csrf = session_csrf(r, id);
	r->user.cookie = pool_strdup(r->pool, cookie);
	r->user.cookie_ttl = ttl;
	if (r->user.email == NULL || r->user.session_hash == NULL || r->user.csrf == NULL ||
	    r->user.cookie == NULL)
		rc = ERR_NOMEM;
	r->signed_in = rc == ERR_OK;
out:
	sodium_memzero(id, sizeof(id));
	sodium_memzero(cookie, sizeof(cookie));
	return rc;
}

int
session_set_cookie(struct request *r)
{
	if (!r->signed_in || r->user.cookie == NULL)
		return ERR_INTERNAL;
	return request_set_cookie(r, SESSION_COOKIE, r->user.cookie, r->user.cookie_ttl);
}

int
session_create(struct request *r, long long user_id, const char *email,
    enum session_kind kind, long ttl)
{
	int rc;

	rc = session_insert(r, user_id, email, kind, ttl);
	if (rc != ERR_OK)
		return rc;
	session_purge(r);
	return session_set_cookie(r);
}

void
session_purge(struct request *r)
{
	struct db_result res;

	/* A purge that fails is tried again by the next session. */
	if (db_run(&r->worker->db, r->pool, STMT_SESSION_PURGE, &res, DB_NOARGS) == ERR_OK &&
	    res.affected > 0)
		log_debug("session: purged %llu expired sessions", res.affected);
}

int
session_revoke_current(struct request *r)
{
	int rc = ERR_OK;

	if (r->signed_in)
		rc = db_run(&r->worker->db, r->pool, STMT_SESSION_REVOKE, NULL,
		    DB_ARGS(DB_TEXT(r->user.session_hash)));
	if (rc == ERR_OK)
		rc = request_set_cookie(r, SESSION_COOKIE, "", 0);
	r->signed_in = false;
	return rc;
}

int
session_revoke_others(struct request *r, long long user_id, const char *keep_hash)
{
	return db_run(&r->worker->db, r->pool, STMT_SESSION_REVOKE_USER, NULL,
	    DB_ARGS(DB_INT(user_id), DB_TEXT(keep_hash != NULL ? keep_hash : "")));
}
