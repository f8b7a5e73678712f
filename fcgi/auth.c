/* SPDX-License-Identifier: MIT */
/*
 * auth.c: registration, sign-in and its throttling, sign-out, password
 * changes and closing an account.
 */
#include "auth.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "config.h"
#include "db.h"
#include "events.h"
#include "fields.h"
#include "jsonw.h"
#include "orgs.h"
#include "request.h"
#include "session.h"
#include "worker.h"
#include "banned.h"

#define AUTH_HASH_MAX 128

int
auth_init(struct app *app)
{
	unsigned char random[32];
	char password[65];

	randombytes_buf(random, sizeof(random));
	sodium_bin2hex(password, sizeof(password), random, sizeof(random));
	return crypto_pwhash_str(app->dummy_hash, password, strlen(password),
	    (unsigned long long)app->cfg.pwhash_ops, (size_t)app->cfg.pwhash_mem_kib * 1024);
}

bool
auth_password_ok(const char *password, const char *email)
{
	size_t len = strlen(password), local;
	bool letter = false, digit = false;
	const char *at, *p;
	char name[65];

	if (len < 10 || len > 128)
		return false;
	for (p = password; *p != '\0'; p++) {
		if (isalpha((unsigned char)*p) || (unsigned char)*p >= 0x80)
			letter = true;
		if (isdigit((unsigned char)*p))
			digit = true;
	}
	if (!letter || !digit)
		return false;
	at = email != NULL ? strchr(email, '@') : NULL;
	local = at != NULL ? (size_t)(at - email) : 0;
	if (local >= 4 && local < sizeof(name)) {
		memcpy(name, email, local);
		name[local] = '\0';
		if (strcasestr(password, name) != NULL)
			return false;
	}
	return true;
}

static int
auth_hash(struct request *r, const char *password, char *out)
{
	if (crypto_pwhash_str(out, password, strlen(password), (unsigned long long)r->cfg->pwhash_ops,
	    (size_t)r->cfg->pwhash_mem_kib * 1024) != 0)
		return ERR_NOMEM;
	return ERR_OK;
}

static int
auth_reply_user(struct request *r, int status, long long id, const char *email)
{
	struct json_object *root = json_object_new_object(), *user = json_object_new_object();

	jw_int(user, "id", id);
	jw_str(user, "email", email);
	jw_add(root, "user", user);
	jw_str(root, "csrf", r->user.csrf);
	return reply_json(r, status, root);
}

struct auth_register_tx {
	struct request *r;
	const char *hash;
	long long user_id;
};

static int
auth_register_tx(void *arg)
{
	struct auth_register_tx *tx = arg;
	struct request *r = tx->r;
	const char *email = field_str(r, "email");
	struct db_result res;
	int rc;

	rc = db_run(&r->worker->db, r->pool, STMT_USER_INSERT, &res,
	    DB_ARGS(DB_TEXT(email), DB_TEXT(tx->hash)));
	if (rc == ERR_DB_DUPLICATE)
		return ERR_EMAIL_TAKEN;
	if (rc != ERR_OK)
		return rc;
	tx->user_id = (long long)res.insert_id;
	/* The cookie goes out after commit: this may run again (db.h). */
	rc = session_insert(r, tx->user_id, email, SESSION_PASSWORD, r->cfg->session_ttl);
	if (rc != ERR_OK)
		return rc;
	return events_record(&r->worker->db, r->pool, NULL, tx->user_id, "user", "user.registered",
	    "email", email, NULL);
}

/* POST /api/auth/register: see auth.h. */
static int
auth_register(struct request *r)
{
	char hash[AUTH_HASH_MAX];
	struct auth_register_tx tx = { .r = r, .hash = hash };
	int rc;

	if (!auth_password_ok(field_str(r, "password"), field_str(r, "email")))
		return ERR_WEAK_PASSWORD;
	rc = auth_hash(r, field_str(r, "password"), hash);
	if (rc != ERR_OK)
		return rc;
	rc = db_transaction(&r->worker->db, auth_register_tx, &tx);
	sodium_memzero(hash, sizeof(hash));
	if (rc != ERR_OK)
		return rc;
	session_purge(r);
	rc = session_set_cookie(r);
	if (rc != ERR_OK)
		return rc;
	return auth_reply_user(r, 201, tx.user_id, field_str(r, "email"));
}

/* The throttle keys of an account ("e:" + email) and of the client's address ("a:" + ip). */
struct auth_keys {
	const char *account;
	const char *address;
};

static int
auth_keys(struct request *r, const char *email, struct auth_keys *k)
{
	k->account = pool_printf(r->pool, "e:%s", email);
	k->address = pool_printf(r->pool, "a:%s", r->remote_addr);
	return k->account != NULL && k->address != NULL ? ERR_OK : ERR_NOMEM;
}

/* Seconds key stays locked, 0 when it is not. */
static int
auth_throttled(struct request *r, const char *key, long long *wait)
{
	struct db_result res;
	int rc;

	*wait = 0;
	rc = db_run(&r->worker->db, r->pool, STMT_THROTTLE_GET, &res, DB_ARGS(DB_TEXT(key)));
	if (rc == ERR_OK && res.nrows == 1 && db_int(&res, 0, 0) > 0)
		*wait = db_int(&res, 0, 0);
	return rc;
}

/*
 * Before a password is checked: ERR_RATE_LIMITED (with Retry-After) while
 * the account or the address is locked; ERR_OK, ERR_DB otherwise.
 */
static int
auth_throttle_check(struct request *r, const struct auth_keys *k)
{
	long long wait_account, wait_address;
	char seconds[24];
	int rc;

	if ((rc = auth_throttled(r, k->account, &wait_account)) != ERR_OK ||
	    (rc = auth_throttled(r, k->address, &wait_address)) != ERR_OK)
		return rc;
	if (wait_account == 0 && wait_address == 0)
		return ERR_OK;
	snprintf(seconds, sizeof(seconds), "%lld",
	    wait_account > wait_address ? wait_account : wait_address);
	rc = request_add_header(r, "Retry-After", seconds);
	return rc != ERR_OK ? rc : ERR_RATE_LIMITED;
}

/* One more wrong password for the account and the address (errors ignored). */
static void
auth_throttle_fail(struct request *r, const struct auth_keys *k)
{
	struct db *db = &r->worker->db;

	/* Rows that can no longer lock anything go, a few at a time. */
	db_run(db, r->pool, STMT_THROTTLE_PURGE, NULL, DB_NOARGS);
	db_run(db, r->pool, STMT_THROTTLE_FAIL, NULL, DB_ARGS(DB_TEXT(k->account),
	    DB_INT(r->cfg->max_failures_account), DB_INT(r->cfg->max_failures_account)));
	db_run(db, r->pool, STMT_THROTTLE_FAIL, NULL, DB_ARGS(DB_TEXT(k->address),
	    DB_INT(r->cfg->max_failures_address), DB_INT(r->cfg->max_failures_address)));
}

/* The right password clears the account's failures (not the address's). */
static void
auth_throttle_clear(struct request *r, const struct auth_keys *k)
{
	db_run(&r->worker->db, r->pool, STMT_THROTTLE_CLEAR, NULL, DB_ARGS(DB_TEXT(k->account)));
}

/* POST /api/auth/login: see auth.h. */
static int
auth_login(struct request *r)
{
	const char *email = field_str(r, "email"), *password = field_str(r, "password");
	const char *stored;
	long long user_id = 0;
	struct auth_keys keys;
	struct db_result res;
	char hash[AUTH_HASH_MAX];
	bool ok;
	int rc;

	if ((rc = auth_keys(r, email, &keys)) != ERR_OK ||
	    (rc = auth_throttle_check(r, &keys)) != ERR_OK)
		return rc;
	rc = db_run(&r->worker->db, r->pool, STMT_USER_BY_EMAIL, &res, DB_ARGS(DB_TEXT(email)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 1) {
		user_id = db_int(&res, 0, 0);
		stored = db_text(&res, 0, 1);
	} else {
		stored = r->worker->app->dummy_hash;
	}
	ok = crypto_pwhash_str_verify(stored, password, strlen(password)) == 0 && user_id != 0;
	if (!ok) {
		auth_throttle_fail(r, &keys);
		return ERR_INVALID_CREDENTIALS;
	}
	auth_throttle_clear(r, &keys);
	if (crypto_pwhash_str_needs_rehash(stored, (unsigned long long)r->cfg->pwhash_ops,
	    (size_t)r->cfg->pwhash_mem_kib * 1024) != 0 && auth_hash(r, password, hash) == ERR_OK) {
		db_run(&r->worker->db, r->pool, STMT_USER_SET_PASSWORD, NULL,
		    DB_ARGS(DB_TEXT(hash), DB_INT(user_id)));
		sodium_memzero(hash, sizeof(hash));
	}
	rc = session_create(r, user_id, email, SESSION_PASSWORD, r->cfg->session_ttl);
	if (rc != ERR_OK)
		return rc;
	return auth_reply_user(r, 200, user_id, email);
}

/* POST /api/auth/logout: see auth.h. */
static int
auth_logout(struct request *r)
{
	int rc = session_revoke_current(r);

	return rc != ERR_OK ? rc : reply_json(r, 200, json_object_new_object());
}

/* GET /api/auth/me: see auth.h. */
static int
auth_me(struct request *r)
{
	struct json_object *root, *user, *settings;

	root = json_object_new_object();
	user = json_object_new_object();
	settings = json_object_new_object();
	jw_int(user, "id", r->user.user_id);
	jw_str(user, "email", r->user.email);
	jw_str(user, "created_at", r->user.created_at);
	jw_add(root, "user", user);
	jw_str(root, "csrf", r->user.csrf);
	jw_bool(settings, "allow_org_creation", r->cfg->allow_org_creation);
	jw_str(settings, "support_url", r->cfg->support_url[0] != '\0' ? r->cfg->support_url : NULL);
	jw_add(root, "settings", settings);
	return reply_json(r, 200, root);
}

/*
 * Checks password against the signed-in user's hash, throttled like
 * sign-in: a stolen session must not let anyone guess the password, nor
 * run Argon2id at will. ERR_OK, ERR_WRONG_PASSWORD, ERR_RATE_LIMITED,
 * ERR_DB or ERR_NOMEM.
 */
static int
auth_check_password(struct request *r, const char *password)
{
	struct auth_keys keys;
	struct db_result res;
	int rc;

	if ((rc = auth_keys(r, r->user.email, &keys)) != ERR_OK ||
	    (rc = auth_throttle_check(r, &keys)) != ERR_OK)
		return rc;
	rc = db_run(&r->worker->db, r->pool, STMT_USER_BY_EMAIL, &res, DB_ARGS(DB_TEXT(r->user.email)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows != 1 || crypto_pwhash_str_verify(db_text(&res, 0, 1), password, strlen(password)) != 0) {
		auth_throttle_fail(r, &keys);
		return ERR_WRONG_PASSWORD;
	}
	auth_throttle_clear(r, &keys);
	return ERR_OK;
}

struct auth_password_tx {
	struct request *r;
	const char *hash;
};

static int
auth_password_tx(void *arg)
{
	struct auth_password_tx *tx = arg;
	struct request *r = tx->r;
	int rc;

	rc = db_run(&r->worker->db, r->pool, STMT_USER_SET_PASSWORD, NULL,
	    DB_ARGS(DB_TEXT(tx->hash), DB_INT(r->user.user_id)));
	if (rc == ERR_OK)
		rc = session_revoke_others(r, r->user.user_id, r->user.session_hash);
	if (rc == ERR_OK)
		rc = events_by_user(r, NULL, "user.password_changed", NULL);
	return rc;
}

/* POST /api/auth/password: see auth.h. */
static int
auth_password(struct request *r)
{
	char hash[AUTH_HASH_MAX];
	struct auth_password_tx tx = { .r = r, .hash = hash };
	int rc;

	rc = auth_check_password(r, field_str(r, "current_password"));
	if (rc != ERR_OK)
		return rc;
	if (!auth_password_ok(field_str(r, "new_password"), r->user.email))
		return ERR_WEAK_PASSWORD;
	rc = auth_hash(r, field_str(r, "new_password"), hash);
	if (rc == ERR_OK)
		rc = db_transaction(&r->worker->db, auth_password_tx, &tx);
	sodium_memzero(hash, sizeof(hash));
	return rc != ERR_OK ? rc : reply_json(r, 200, json_object_new_object());
}

static int
auth_close_tx(void *arg)
{
	struct request *r = arg;
	struct db_result res, memberships;
	size_t i;
	int rc;

	rc = db_run(&r->worker->db, r->pool, STMT_USER_LOCK, &res, DB_ARGS(DB_INT(r->user.user_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows != 1)
		return ERR_UNAUTHORIZED;
	rc = db_run(&r->worker->db, r->pool, STMT_MEMBER_LOCK_USER, &memberships,
	    DB_ARGS(DB_INT(r->user.user_id)));
	if (rc != ERR_OK)
		return rc;
	for (i = 0; i < memberships.nrows; i++) {
		const char *org_id = db_text(&memberships, i, 0);

		if (strcmp(db_text(&memberships, i, 1), "admin") == 0) {
			rc = orgs_check_admins(&r->worker->db, r->pool, org_id, r->user.user_id);
			if (rc == ERR_LAST_ADMIN) {
				r->error_field = org_id;
				return rc;
			}
			if (rc != ERR_OK)
				return rc;
		}
		rc = db_run(&r->worker->db, r->pool, STMT_MEMBER_DELETE, NULL,
		    DB_ARGS(DB_TEXT(org_id), DB_INT(r->user.user_id)));
		if (rc == ERR_OK)
			rc = events_by_user(r, org_id, "member.left", "email", r->user.email,
			    "reason", "account closed", NULL);
		if (rc != ERR_OK)
			return rc;
	}
	rc = db_run(&r->worker->db, r->pool, STMT_USER_CLOSE, NULL, DB_ARGS(DB_INT(r->user.user_id)));
	if (rc == ERR_OK)
		rc = session_revoke_others(r, r->user.user_id, NULL);
	if (rc == ERR_OK)
		rc = events_by_user(r, NULL, "user.closed", "email", r->user.email, NULL);
	return rc;
}

/* POST /api/auth/close: see auth.h. */
static int
auth_close(struct request *r)
{
	int rc;

	rc = auth_check_password(r, field_str(r, "password"));
	if (rc != ERR_OK)
		return rc;
	rc = db_transaction(&r->worker->db, auth_close_tx, r);
	if (rc == ERR_LAST_ADMIN) {
		struct db_result res;
		const char *names = "";
		size_t i;

		/* Name the orgs, so the user knows where to hand over the role. */
		if (db_run(&r->worker->db, r->pool, STMT_MEMBER_SOLE_ADMIN_ORGS, &res,
		    DB_ARGS(DB_INT(r->user.user_id))) == ERR_OK)
			for (i = 0; names != NULL && i < res.nrows; i++)
				names = pool_printf(r->pool, "%s%s%s (%s)", names, i > 0 ? ", " : "",
				    db_text(&res, i, 1), db_text(&res, i, 0));
		r->error_field = NULL;
		/* Out of memory: the list's message, without the names. */
		if (names != NULL && names[0] != '\0')
			r->error_message = pool_printf(r->pool, r->lang == LANG_EN ?
			    "You are the only Org Admin of %s: make someone else an Org Admin there first." :
			    "您是组织 %s 唯一的组织管理员，请先将其他成员设为组织管理员。", names);
		return rc;
	}
	if (rc != ERR_OK)
		return rc;
	rc = request_set_cookie(r, SESSION_COOKIE, "", 0);
	return rc != ERR_OK ? rc : reply_json(r, 200, json_object_new_object());
}

static const struct field auth_credentials_fields[] = {
	{ "email", FIELD_EMAIL, 3, 254, FIELD_REQUIRED, NULL },
	{ "password", FIELD_PASSWORD, 1, 128, FIELD_REQUIRED, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct field auth_password_fields[] = {
	{ "current_password", FIELD_PASSWORD, 1, 128, FIELD_REQUIRED, NULL },
	{ "new_password", FIELD_PASSWORD, 1, 128, FIELD_REQUIRED, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct field auth_close_fields[] = {
	{ "password", FIELD_PASSWORD, 1, 128, FIELD_REQUIRED, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct route auth_routes[] = {
	{ "auth_register", METHOD_POST, "/api/auth/register", auth_register, AUTH_NONE, BODY_JSON,
	  REPLY_JSON, auth_credentials_fields },
	{ "auth_login", METHOD_POST, "/api/auth/login", auth_login, AUTH_NONE, BODY_JSON, REPLY_JSON,
	  auth_credentials_fields },
	{ "auth_logout", METHOD_POST, "/api/auth/logout", auth_logout, AUTH_SESSION, BODY_JSON,
	  REPLY_JSON, NULL },
	{ "auth_me", METHOD_GET, "/api/auth/me", auth_me, AUTH_SESSION, BODY_NONE, REPLY_JSON, NULL },
	{ "auth_password", METHOD_POST, "/api/auth/password", auth_password, AUTH_SESSION, BODY_JSON,
	  REPLY_JSON, auth_password_fields },
	{ "auth_close", METHOD_POST, "/api/auth/close", auth_close, AUTH_SESSION, BODY_JSON,
	  REPLY_JSON, auth_close_fields },
};

ROUTE_TABLE(auth, auth_routes);
