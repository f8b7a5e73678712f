/* SPDX-License-Identifier: MIT */
/*
 * binding.c: binding attempts, the wizard's context and the confirming
 * transaction that re-checks everything before binding.
 */
#include "binding.h"

#include <string.h>
#include <time.h>

#include <sodium.h>

#include "config.h"
#include "db.h"
#include "events.h"
#include "fields.h"
#include "jsonw.h"
#include "marketplace.h"
#include "orgs.h"
#include "request.h"
#include "subscriptions.h"
#include "text.h"
#include "ticket.h"
#include "worker.h"
#include "banned.h"

#define BINDING_PURPOSE "binding"

int
binding_attempt_create(struct db *db, struct pool *pool, long long subscription_id, long ttl, char *id)
{
	unsigned char raw[BINDING_ATTEMPT_LEN / 2];

	randombytes_buf(raw, sizeof(raw));
	text_hex(id, raw, sizeof(raw));
	return db_run(db, pool, STMT_ATTEMPT_INSERT, NULL,
	    DB_ARGS(DB_TEXT(id), DB_INT(subscription_id), DB_INT(ttl)));
}

int
binding_redirect(struct request *r, const char *attempt_id)
{
	char ticket[TICKET_MAX];
	const char *location;
	int rc;

	rc = ticket_sign(&r->worker->app->keys, BINDING_PURPOSE, attempt_id, time(NULL),
	    r->cfg->ticket_ttl, ticket, NULL);
	if (rc != ERR_OK)
		return rc;
	rc = request_set_cookie(r, BINDING_COOKIE, ticket, r->cfg->ticket_ttl);
	if (rc != ERR_OK)
		return rc;
	location = pool_printf(r->pool, "%s/bind", r->cfg->public_url);
	return location != NULL ? reply_redirect(r, 303, location) : ERR_NOMEM;
}

/* The attempt id in r's ticket cookie, or an error. */
static int
binding_ticket(struct request *r, const char **attempt)
{
	const char *cookie = request_cookie(r, BINDING_COOKIE);
	struct ticket t;
	int rc;

	if (cookie == NULL || cookie[0] == '\0')
		return ERR_BINDING_NOT_FOUND;
	rc = ticket_verify(&r->worker->app->keys, BINDING_PURPOSE, cookie, time(NULL), &t, NULL);
	if (rc != ERR_OK)
		return rc;
	if (strlen(t.data) != BINDING_ATTEMPT_LEN)
		return ERR_TICKET_INVALID;
	*attempt = pool_strdup(r->pool, t.data);
	return *attempt != NULL ? ERR_OK : ERR_NOMEM;
}

/* Reads attempt id (locked or not): its subscription, or an error. */
static int
binding_attempt_check(struct request *r, const char *attempt, bool lock, long long *subscription_id,
    const char **expires)
{
	struct db_result res;
	int rc;

	rc = db_run(&r->worker->db, r->pool, lock ? STMT_ATTEMPT_LOCK : STMT_ATTEMPT_GET, &res,
	    DB_ARGS(DB_TEXT(attempt)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 0)
		return ERR_BINDING_NOT_FOUND;
	if (db_int(&res, 0, 1) == 1)
		return ERR_BINDING_USED;
	if (db_int(&res, 0, 2) == 1)
		return ERR_TICKET_EXPIRED;
	*subscription_id = db_int(&res, 0, 0);
	if (expires != NULL)
		*expires = db_text(&res, 0, 3);
	return ERR_OK;
}

/* The signed-in user's orgs with what the wizard shows about each. */
static int
binding_org_choices(struct request *r, struct json_object *root)
{
	struct json_object *list, *o;
	struct db_result res;
	enum org_role role;
	const char *bound, *reason;
	bool cancelling, eligible;
	size_t i;
	int rc;

	rc = db_run(&r->worker->db, r->pool, STMT_BINDING_ORG_CHOICES, &res, DB_ARGS(DB_INT(r->user.user_id)));
	if (rc != ERR_OK)
		return rc;
	list = json_object_new_array();
	for (i = 0; i < res.nrows; i++) {
		role = orgs_role_parse(db_text(&res, i, 3));
		bound = db_text(&res, i, 4);
		/* An org whose subscription is being cancelled may bind its successor. */
		cancelling = bound != NULL && strcmp(bound, "unsubscribe_pending") == 0;
		eligible = orgs_role_can_bill(role) && (bound == NULL || cancelling);
		reason = !orgs_role_can_bill(role) ? "insufficient_role" :
		    cancelling ? "current_cancelling" : bound != NULL ? "org_bound" : NULL;
		o = json_object_new_object();
		jw_str(o, "id", db_text(&res, i, 0));
		jw_str(o, "name", db_text(&res, i, 1));
		jw_int(o, "member_count", db_int(&res, i, 2));
		jw_str(o, "role", orgs_role_name(role));
		jw_bool(o, "eligible", eligible);
		jw_str(o, "reason", reason);
		json_object_array_add(list, o);
	}
	jw_add(root, "orgs", list);
	return ERR_OK;
}

/* GET /api/binding: see binding.h. */
static int
binding_context(struct request *r)
{
	const struct marketplace *mp;
	struct json_object *root, *bound;
	struct db_result sub, held, member;
	const char *attempt, *expires;
	long long subscription_id;
	int rc;

	rc = binding_ticket(r, &attempt);
	if (rc == ERR_OK)
		rc = binding_attempt_check(r, attempt, false, &subscription_id, &expires);
	if (rc == ERR_OK)
		rc = db_run(&r->worker->db, r->pool, STMT_SUB_GET, &sub, DB_ARGS(DB_INT(subscription_id)));
	if (rc == ERR_OK)
		rc = db_run(&r->worker->db, r->pool, STMT_BINDING_OF_SUB, &held, DB_ARGS(DB_INT(subscription_id)));
	if (rc != ERR_OK)
		return rc;
	if (sub.nrows != 1)
		return ERR_BINDING_NOT_FOUND;
	mp = marketplace_find(db_text(&sub, 0, 0));
	root = json_object_new_object();
	jw_str(root, "marketplace", db_text(&sub, 0, 0));
	jw_str(root, "listing_url", mp != NULL && mp->listing_url(r->cfg)[0] != '\0' ? mp->listing_url(r->cfg) : NULL);
	jw_str(root, "account_id", db_text(&sub, 0, 1));
	jw_str(root, "customer_identifier", db_text(&sub, 0, 3));
	jw_str(root, "subscription_status", db_text(&sub, 0, 2));
	jw_str(root, "expires_at", expires);
	jw_bool(root, "signed_in", r->signed_in);
	jw_str(root, "email", r->signed_in ? r->user.email : NULL);
	jw_bool(root, "allow_org_creation", r->cfg->allow_org_creation);
	jw_str(root, "support_url", r->cfg->support_url[0] != '\0' ? r->cfg->support_url : NULL);
	if (held.nrows == 1) {
		bound = json_object_new_object();
		jw_str(bound, "org_id", db_text(&held, 0, 0));
		jw_str(bound, "org_name", db_text(&held, 0, 1));
		member.nrows = 0;
		if (r->signed_in && db_run(&r->worker->db, r->pool, STMT_ORG_ROLE, &member,
		    DB_ARGS(DB_TEXT(db_text(&held, 0, 0)), DB_INT(r->user.user_id))) != ERR_OK)
			member.nrows = 0;
		jw_bool(bound, "member", member.nrows == 1);
		jw_add(root, "bound", bound);
	} else {
		jw_add(root, "bound", NULL);
	}
	if (r->signed_in && (rc = binding_org_choices(r, root)) != ERR_OK) {
		json_object_put(root);
		return rc;
	}
	if (!r->signed_in)
		jw_add(root, "orgs", NULL);
	return reply_json(r, 200, root);
}

/*
 * The unique keys caught a binding the locks did not: which one. The
 * other binding is committed (or ours to see) by now, so a plain read of
 * the subscription's active binding tells whether it was the subscription
 * or else the org that got bound meanwhile.
 */
static int
binding_conflict(struct db *db, struct pool *pool, long long subscription_id)
{
	struct db_result res;
	int rc;

	rc = db_run(db, pool, STMT_BINDING_OF_SUB, &res, DB_ARGS(DB_INT(subscription_id)));
	if (rc != ERR_OK)
		return rc;
	return res.nrows > 0 ? ERR_SUBSCRIPTION_BOUND : ERR_ORG_BOUND;
}

int
binding_create(struct db *db, struct pool *pool, const char *org_id, long long subscription_id,
    long long user_id, const char *marketplace, const char *account_id, long long *binding_id)
{
	struct db_result current, held, res;
	const char *starts = NULL;
	int rc;

	rc = db_run(db, pool, STMT_BINDING_OF_ORG_LOCK, &current, DB_ARGS(DB_TEXT(org_id)));
	if (rc != ERR_OK)
		return rc;
	held.nrows = 0;
	/* The current subscription is only read: locking it now would break the lock order. */
	if (current.nrows > 0 && (rc = db_run(db, pool, STMT_SUB_GET, &held,
	    DB_ARGS(DB_INT(db_int(&current, 0, 1))))) != ERR_OK)
		return rc;
	if (current.nrows > 0 && (held.nrows == 0 ||
	    strcmp(db_text(&held, 0, 2), "unsubscribe_pending") != 0))
		return ERR_ORG_BOUND;
	rc = db_run(db, pool, STMT_BINDING_OF_SUB_LOCK, &res, DB_ARGS(DB_INT(subscription_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows > 0)
		return ERR_SUBSCRIPTION_BOUND;
	if (current.nrows > 0) {
		/*
		 * Switching the paying account: the current subscription is being
		 * cancelled. It keeps paying until the next hour, the new one from
		 * then on, so every usage hour has exactly one payer.
		 */
		rc = db_run(db, pool, STMT_NEXT_HOUR, &res, DB_NOARGS);
		if (rc != ERR_OK)
			return rc;
		starts = db_text(&res, 0, 0);
		rc = db_run(db, pool, STMT_BINDING_END_AT, NULL,
		    DB_ARGS(DB_TEXT(starts), DB_INT(db_int(&current, 0, 0))));
		if (rc == ERR_OK)
			rc = events_record(db, pool, org_id, user_id, user_id > 0 ? "user" : marketplace,
			    "binding.replaced", "marketplace", db_text(&held, 0, 0),
			    "account_id", db_text(&held, 0, 1), "until", starts, NULL);
		if (rc != ERR_OK)
			return rc;
	}
	rc = db_run(db, pool, STMT_BINDING_INSERT, &res, DB_ARGS(DB_TEXT(org_id), DB_INT(subscription_id),
	    user_id > 0 ? DB_INT(user_id) : DB_NULL, DB_TEXT_OR_NULL(starts)));
	if (rc == ERR_DB_DUPLICATE)
		return binding_conflict(db, pool, subscription_id);
	if (rc != ERR_OK)
		return rc;
	*binding_id = (long long)res.insert_id;
	rc = db_run(db, pool, STMT_ORG_BILLING_BOUND, NULL, DB_ARGS(DB_TEXT(org_id)));
	if (rc != ERR_OK)
		return rc;
	return events_record(db, pool, org_id, user_id, user_id > 0 ? "user" : marketplace, "binding.created",
	    "marketplace", marketplace, "account_id", account_id,
	    "subscription", pool_printf(pool, "%lld", subscription_id), "starts_at", starts, NULL);
}

int
binding_end(struct db *db, struct pool *pool, long long binding_id, const char *org_id,
    const char *reason, long grace_seconds, const char *actor, long long actor_user_id,
    const char *marketplace, const char *account_id)
{
	int rc;

	rc = db_run(db, pool, STMT_BINDING_END, NULL, DB_ARGS(DB_TEXT(reason), DB_INT(binding_id)));
	if (rc == ERR_OK)
		rc = db_run(db, pool, STMT_ORG_BILLING_GRACE, NULL, DB_ARGS(DB_INT(grace_seconds), DB_TEXT(org_id)));
	if (rc == ERR_OK)
		rc = events_record(db, pool, org_id, actor_user_id, actor, "binding.ended", "reason", reason,
		    "marketplace", marketplace, "account_id", account_id, NULL);
	return rc;
}

int
binding_unbind_lock(struct db *db, struct pool *pool, const char *org_id, struct subscription *sub)
{
	struct db_result res;
	int rc;

	memset(sub, 0, sizeof(*sub));
	/* Which subscription to lock first: read, then checked under the locks. */
	rc = db_run(db, pool, STMT_BINDING_SUB_OF_ORG, &res, DB_ARGS(DB_TEXT(org_id)));
	if (rc == ERR_OK && res.nrows == 1)
		rc = subscriptions_lock(db, pool, db_int(&res, 0, 0), sub);
	if (rc == ERR_OK)
		rc = db_run(db, pool, STMT_ORG_LOCK, &res, DB_ARGS(DB_TEXT(org_id)));
	if (rc != ERR_OK)
		return rc;
	return res.nrows == 1 ? ERR_OK : ERR_NOT_FOUND;
}

int
binding_unbind_end(struct db *db, struct pool *pool, const char *org_id, const struct subscription *sub,
    const char *reason, long grace_seconds, const char *actor, long long actor_user_id)
{
	struct db_result res;
	int rc;

	rc = db_run(db, pool, STMT_BINDING_OF_ORG_LOCK, &res, DB_ARGS(DB_TEXT(org_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 0)
		return ERR_NOT_BOUND;
	/*
	 * Bound to another subscription since binding_unbind_lock read it:
	 * its lock would come after the org's. Run the transaction again.
	 */
	if (db_int(&res, 0, 1) != sub->id)
		return ERR_DB_DEADLOCK;
	return binding_end(db, pool, db_int(&res, 0, 0), org_id, reason, grace_seconds, actor,
	    actor_user_id, sub->marketplace, sub->account_id);
}

struct binding_confirm_tx {
	struct request *r;
	const char *attempt;
	struct subscription sub;
	const char *org_name;
};

static int
binding_confirm_tx(void *arg)
{
	struct binding_confirm_tx *tx = arg;
	struct request *r = tx->r;
	const char *org_id = field_str(r, "org_id");
	long long subscription_id, binding_id;
	struct db_result res;
	enum org_role role;
	int rc;

	/* Lock order (db.h): attempt, subscription, org, membership, bindings. */
	rc = binding_attempt_check(r, tx->attempt, true, &subscription_id, NULL);
	if (rc != ERR_OK)
		return rc;
	rc = subscriptions_lock(&r->worker->db, r->pool, subscription_id, &tx->sub);
	if (rc != ERR_OK)
		return rc;
	if (!subscriptions_bindable(tx->sub.status))
		return ERR_SUBSCRIPTION_INACTIVE;
	if (!orgs_valid_id(org_id))
		return ERR_NOT_FOUND;
	rc = db_run(&r->worker->db, r->pool, STMT_ORG_LOCK, &res, DB_ARGS(DB_TEXT(org_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows != 1)
		return ERR_NOT_FOUND;
	tx->org_name = db_text(&res, 0, 0);
	rc = orgs_role(r, org_id, true, &role);
	if (rc != ERR_OK)
		return rc;
	if (!orgs_role_can_bill(role))
		return ERR_INSUFFICIENT_ROLE;
	rc = binding_create(&r->worker->db, r->pool, org_id, subscription_id, r->user.user_id,
	    tx->sub.marketplace, tx->sub.account_id, &binding_id);
	if (rc != ERR_OK)
		return rc;
	return db_run(&r->worker->db, r->pool, STMT_ATTEMPT_USE, NULL,
	    DB_ARGS(DB_INT(r->user.user_id), DB_INT(binding_id), DB_TEXT(tx->attempt)));
}

/* POST /api/binding/confirm: see binding.h. */
static int
binding_confirm(struct request *r)
{
	struct binding_confirm_tx tx = { .r = r };
	struct json_object *root, *b;
	int rc;

	rc = binding_ticket(r, &tx.attempt);
	if (rc != ERR_OK)
		return rc;
	rc = db_transaction(&r->worker->db, binding_confirm_tx, &tx);
	if (rc != ERR_OK)
		return rc;
	rc = request_set_cookie(r, BINDING_COOKIE, "", 0);
	if (rc != ERR_OK)
		return rc;
	root = json_object_new_object();
	b = json_object_new_object();
	jw_str(b, "org_id", field_str(r, "org_id"));
	jw_str(b, "org_name", tx.org_name);
	jw_str(b, "marketplace", tx.sub.marketplace);
	jw_str(b, "account_id", tx.sub.account_id);
	jw_str(b, "customer_identifier", tx.sub.customer_identifier);
	jw_add(root, "binding", b);
	return reply_json(r, 200, root);
}

static const struct field binding_confirm_fields[] = {
	{ "org_id", FIELD_ID, 1, 64, FIELD_REQUIRED, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct route binding_routes[] = {
	{ "binding_context", METHOD_GET, "/api/binding", binding_context, AUTH_OPTIONAL, BODY_NONE,
	  REPLY_JSON, NULL },
	{ "binding_confirm", METHOD_POST, "/api/binding/confirm", binding_confirm, AUTH_SESSION,
	  BODY_JSON, REPLY_JSON, binding_confirm_fields },
};

ROUTE_TABLE(binding, binding_routes);
