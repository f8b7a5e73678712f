/* SPDX-License-Identifier: MIT */
/*
 * notify.c: applying AWS Marketplace notifications once each, in any
 * arrival order, to subscriptions, bindings and the orgs they pay for.
 */
#include "notify.h"

#include <string.h>

#include <json-c/json.h>

#include "awsapi.h"
#include "binding.h"
#include "config.h"
#include "db.h"
#include "error.h"
#include "events.h"
#include "jsonw.h"
#include "log.h"
#include "sns.h"
#include "subscriptions.h"
#include "text.h"
#include "worker.h"
#include "banned.h"

#define NOTIFY_REJECT_EXCERPT 2048		/* of a message refused before it was trusted */
#define NOTIFY_GIVE_UP_MAX (256 * 1024)		/* of a queued message given up (SQS's own cap) */
#define NOTIFY_ENTITLEMENT_PAGES 100

/* One notification being handled. Strings live in the worker's pool. */
struct notify {
	struct worker *w;
	const struct config_aws *listing;
	const char *partition;
	const char *via;
	const char *body;
	size_t len;
	struct sns_message m;
	const char *time;		/* m.timestamp as a MySQL DATETIME(6) */
	const char *action;
	const char *customer;
	long long inbox_id;
	const char *state;		/* what becomes of the inbox row */
	long long subscription_id;
	const char *note;
	bool refetch;			/* replay: a failed entitlement update, fetched again */
};

/*
 * The first bytes (at most max) of body[0..len) as text MySQL takes: a
 * byte that does not start a well-formed UTF-8 character, or a NUL,
 * becomes '?', and a character is never cut. In pool; NULL when out of
 * memory.
 */
static const char *
notify_excerpt(struct pool *pool, const char *body, size_t len, size_t max)
{
	size_t i = 0, o = 0, n;
	char *out = pool_alloc(pool, (len < max ? len : max) + 1);
	unsigned char c;

	if (out == NULL)
		return NULL;
	while (i < len && o < max) {
		c = (unsigned char)body[i];
		n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (n > 1 && (i + n > len || !text_utf8_wellformed(body + i, n)))
			n = 0;
		if (n == 0 || c == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		if (o + n > max)
			break;
		memcpy(out + o, body + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

/*
 * Records body (of len bytes) in inbox_rejected with why, keeping at most
 * max bytes of it. Returns db_run's result.
 */
static int
notify_record_rejected(struct worker *w, const char *partition, const char *via, const char *body,
    size_t len, size_t max, const char *why)
{
	const char *excerpt = notify_excerpt(&w->pool, body, len, max);

	if (excerpt == NULL)
		return ERR_NOMEM;
	return db_run(&w->db, &w->pool, STMT_INBOX_REJECT, NULL, DB_ARGS(DB_TEXT(partition), DB_TEXT(via),
	    DB_TEXT(why), DB_TEXT(excerpt), DB_INT((long long)len)));
}

/*
 * Refuses a message that cannot be trusted: logged, and its first
 * NOTIFY_REJECT_EXCERPT bytes recorded with the reason (anyone can post
 * here, so what is kept per message stays small; mpbind-meterd prunes the
 * rows after sns.rejected_days).
 */
static int
notify_reject(struct notify *n, const char *why)
{
	log_warnx("notify: %s message rejected: %s", n->partition, why);
	notify_record_rejected(n->w, n->partition, n->via, n->body, n->len, NOTIFY_REJECT_EXCERPT, why);
	return ERR_SNS_REJECTED;
}

int
notify_give_up(struct worker *w, const char *partition, const char *body, size_t len, const char *via,
    const char *why)
{
	log_warnx("notify: %s message given up: %s", partition, why);
	return notify_record_rejected(w, partition, via, body, len, NOTIFY_GIVE_UP_MAX, why);
}

/* Claims the message id; ERR_DB_DUPLICATE when it was handled already. */
static int
notify_claim(struct notify *n)
{
	struct db_result res;
	int rc;

	rc = db_run(&n->w->db, &n->w->pool, STMT_INBOX_CLAIM, &res, DB_ARGS(DB_TEXT(n->partition),
	    DB_TEXT(n->m.message_id), DB_TEXT(n->via), DB_TEXT(n->m.type), DB_TEXT_OR_NULL(n->action),
	    DB_TEXT_OR_NULL(n->customer), DB_TEXT(n->time), DB_TEXT(n->body)));
	if (rc == ERR_OK)
		n->inbox_id = (long long)res.insert_id;
	return rc;
}

static int
notify_settle(struct notify *n, long long inbox_id)
{
	return db_run(&n->w->db, &n->w->pool, STMT_INBOX_SET_STATE, NULL, DB_ARGS(DB_TEXT(n->state),
	    n->subscription_id > 0 ? DB_INT(n->subscription_id) : DB_NULL, DB_TEXT_OR_NULL(n->note),
	    DB_TEXT(n->state), DB_INT(inbox_id)));
}

/*
 * The org a subscription's events belong to: the one it was last bound to,
 * also when that binding has ended (replaced by another at the hour, or
 * unbound), so its end still shows on that org's 事件. NULL when it was
 * never bound.
 */
static const char *
notify_bound_org(struct worker *w, long long subscription_id)
{
	struct db_result res;

	if (db_run(&w->db, &w->pool, STMT_ORG_OF_SUB_LAST, &res, DB_ARGS(DB_INT(subscription_id))) != ERR_OK ||
	    res.nrows != 1)
		return NULL;
	return db_text(&res, 0, 0);
}

/*
 * Ends what is left of sub's bindings: a running one ends now into the
 * grace window; one already replaced at the next hour ends now and its
 * successor starts now, so every hour still has exactly one payer (an
 * event, binding.switched, says so on the org's 事件).
 */
static int
notify_end_bindings(struct worker *w, const struct subscription *sub, const char *reason)
{
	struct db_result orgs, res, now;
	size_t i, j;
	int rc;

	/* Lock order (db.h): the subscription (locked by the caller), the orgs, then the bindings. */
	rc = db_run(&w->db, &w->pool, STMT_BINDINGS_OPEN_OF_SUB_ORGS, &orgs, DB_ARGS(DB_INT(sub->id)));
	for (i = 0; rc == ERR_OK && i < orgs.nrows; i++)
		rc = db_run(&w->db, &w->pool, STMT_ORG_LOCK, NULL, DB_ARGS(DB_TEXT(db_text(&orgs, i, 0))));
	if (rc == ERR_OK)
		rc = db_run(&w->db, &w->pool, STMT_BINDINGS_OPEN_OF_SUB_LOCK, &res, DB_ARGS(DB_INT(sub->id)));
	/* A binding to an org read too late to be locked first: run the transaction again. */
	for (i = 0; rc == ERR_OK && i < res.nrows; i++) {
		for (j = 0; j < orgs.nrows && strcmp(db_text(&orgs, j, 0), db_text(&res, i, 1)) != 0; j++)
			;
		if (j == orgs.nrows)
			rc = ERR_DB_DEADLOCK;
	}
	if (rc == ERR_OK)
		rc = db_run(&w->db, &w->pool, STMT_NOW, &now, DB_NOARGS);
	for (i = 0; rc == ERR_OK && i < res.nrows; i++) {
		const char *org_id = db_text(&res, i, 1), *at = db_text(&now, 0, 0);

		if (db_int(&res, i, 2) == 1) {
			rc = binding_end(&w->db, &w->pool, db_int(&res, i, 0), org_id, reason,
			    w->app->cfg.grace_seconds, sub->marketplace, 0, sub->marketplace, sub->account_id);
			continue;
		}
		/* One instant for both, so no moment is left without a payer. */
		rc = db_run(&w->db, &w->pool, STMT_BINDING_END_NOW, NULL,
		    DB_ARGS(DB_TEXT(at), DB_INT(db_int(&res, i, 0)), DB_TEXT(at)));
		if (rc == ERR_OK)
			rc = db_run(&w->db, &w->pool, STMT_BINDING_START_NOW, NULL,
			    DB_ARGS(DB_TEXT(at), DB_TEXT(org_id), DB_TEXT(at)));
		if (rc == ERR_OK)
			rc = events_record(&w->db, &w->pool, org_id, 0, sub->marketplace, "binding.switched",
			    "reason", reason, "marketplace", sub->marketplace, "account_id", sub->account_id,
			    "at", at, NULL);
	}
	return rc;
}

/*
 * Applies action (of a message sent at time) to the locked subscription.
 * Sets *applied to false when the message is older than the last applied
 * one or the subscription has ended.
 */
static int
notify_transition(struct worker *w, struct subscription *sub, const char *action, const char *time,
    bool *applied)
{
	const char *status = NULL, *event = NULL, *org;
	int rc = ERR_OK;

	*applied = false;
	if ((sub->notified_at != NULL && strcmp(time, sub->notified_at) < 0) ||
	    strcmp(sub->status, "ended") == 0)
		return ERR_OK;
	org = notify_bound_org(w, sub->id);
	if (strcmp(action, "subscribe-success") == 0) {
		status = "active";
		event = "subscription.active";
	} else if (strcmp(action, "subscribe-fail") == 0) {
		status = "failed";
		event = "subscription.failed";
		rc = notify_end_bindings(w, sub, "subscribe_failed");
	} else if (strcmp(action, "unsubscribe-pending") == 0) {
		status = "unsubscribe_pending";
		event = "subscription.cancelling";
		/* About an hour is left to send the final usage: ask for it now. */
		rc = db_run(&w->db, &w->pool, STMT_SUB_REQUEST_FLUSH, NULL, DB_ARGS(DB_INT(sub->id)));
	} else if (strcmp(action, "unsubscribe-success") == 0) {
		status = "ended";
		event = "subscription.ended";
		rc = notify_end_bindings(w, sub, "unsubscribed");
	} else {
		return ERR_INTERNAL;
	}
	if (rc == ERR_OK)
		rc = subscriptions_set_status(&w->db, &w->pool, sub->id, status);
	if (rc == ERR_OK)
		rc = db_run(&w->db, &w->pool, STMT_SUB_NOTIFIED, NULL, DB_ARGS(DB_TEXT(time), DB_INT(sub->id)));
	if (rc == ERR_OK)
		rc = events_record(&w->db, &w->pool, org, 0, sub->marketplace, event,
		    "marketplace", sub->marketplace, "account_id", sub->account_id,
		    "customer", sub->customer_identifier, "subscription", pool_printf(&w->pool, "%lld", sub->id),
		    NULL);
	if (rc == ERR_OK) {
		sub->status = status;
		sub->notified_at = time;
		*applied = true;
	}
	return rc;
}

/* True when status is one of the |-separated names in set. */
static bool
notify_status_in(const char *status, const char *set)
{
	size_t n = strlen(status);
	const char *p = set;

	for (; *p != '\0'; p += strcspn(p, "|"), p += *p == '|') {
		if (strncmp(p, status, n) == 0 && (p[n] == '|' || p[n] == '\0'))
			return true;
	}
	return false;
}

/*
 * Chooses the subscription a lifecycle message is about, or 0 when it is
 * about one not registered yet. One buyer account may hold several
 * agreements under one customer identifier, so the newest candidate in
 * the best-fitting status wins:
 *   subscribe-*    waiting (pending, unsubscribe_pending), then settled
 *                  (active, failed); with only ended ones it is about a
 *                  new agreement whose landing has not come yet;
 *   unsubscribe-*  live (pending, active, unsubscribe_pending), then any:
 *                  an ended one makes the message stale, never unmatched,
 *                  so it cannot touch a later agreement.
 * A message older than the last one applied to an ended subscription of
 * the customer belongs to that ended agreement: it never matches a live
 * row (a resubscription's fresh one), and the next landing drops it.
 */
static int
notify_find_subscription(struct notify *n, long long *id)
{
	static const char *const subscribe[] = { "pending|unsubscribe_pending", "active|failed", NULL };
	static const char *const unsubscribe[] = { "pending|active|unsubscribe_pending",
		"pending|active|unsubscribe_pending|failed|ended", NULL };
	const char *const *order = strncmp(n->action, "subscribe-", 10) == 0 ? subscribe : unsubscribe;
	const char *status, *ended_at = NULL;
	struct db_result res;
	bool old;
	size_t i;
	int rc;

	*id = 0;
	rc = db_run(&n->w->db, &n->w->pool, STMT_SUB_BY_CUSTOMER_LOCK, &res,
	    DB_ARGS(DB_TEXT(n->partition), DB_TEXT(n->customer)));
	if (rc != ERR_OK)
		return rc;
	for (i = 0; i < res.nrows; i++)
		if (strcmp(db_text(&res, i, 1), "ended") == 0 && db_text(&res, i, 2) != NULL &&
		    (ended_at == NULL || strcmp(db_text(&res, i, 2), ended_at) > 0))
			ended_at = db_text(&res, i, 2);
	old = ended_at != NULL && strcmp(n->time, ended_at) < 0;
	for (; *order != NULL && *id == 0; order++)
		for (i = 0; i < res.nrows && *id == 0; i++) {
			status = db_text(&res, i, 1);
			if (old && strcmp(status, "ended") != 0)
				continue;
			if (notify_status_in(status, *order))
				*id = db_int(&res, i, 0);
		}
	return ERR_OK;
}

/*
 * Applies lifecycle message n to subscription n->subscription_id (locked
 * here) and settles inbox row n->inbox_id: applied with applied_note, or
 * stale (older than what was applied, or the subscription has ended) with
 * stale_note.
 */
static int
notify_apply(struct notify *n, const char *applied_note, const char *stale_note)
{
	struct subscription sub;
	bool applied;
	int rc;

	rc = subscriptions_lock(&n->w->db, &n->w->pool, n->subscription_id, &sub);
	if (rc == ERR_OK)
		rc = notify_transition(n->w, &sub, n->action, n->time, &applied);
	if (rc != ERR_OK)
		return rc;
	n->state = applied ? "applied" : "stale";
	n->note = applied ? applied_note : stale_note;
	return notify_settle(n, n->inbox_id);
}

static int
notify_lifecycle_tx(void *arg)
{
	struct notify *n = arg;
	int rc;

	rc = notify_claim(n);
	if (rc != ERR_OK)
		return rc;
	rc = notify_find_subscription(n, &n->subscription_id);
	if (rc != ERR_OK)
		return rc;
	if (n->subscription_id == 0) {
		n->state = "unmatched";
		n->note = "no subscription for this customer yet";
		return notify_settle(n, n->inbox_id);
	}
	return notify_apply(n, NULL, "older than the last message applied, or the subscription has ended");
}

int
notify_apply_unmatched(struct worker *w, struct subscription *sub)
{
	struct notify n = { .w = w, .partition = sub->marketplace, .subscription_id = sub->id };
	struct db_result res, ended;
	const char *ended_at, *time;
	bool applied;
	size_t i;
	int rc;

	if (sub->customer_identifier == NULL)
		return ERR_OK;
	rc = db_run(&w->db, &w->pool, STMT_SUB_CUSTOMER_ENDED_AT, &ended,
	    DB_ARGS(DB_TEXT(sub->marketplace), DB_TEXT(sub->customer_identifier)));
	if (rc != ERR_OK)
		return rc;
	ended_at = db_text(&ended, 0, 0);
	rc = db_run(&w->db, &w->pool, STMT_INBOX_UNMATCHED_LOCK, &res,
	    DB_ARGS(DB_TEXT(sub->marketplace), DB_TEXT(sub->customer_identifier)));
	for (i = 0; rc == ERR_OK && i < res.nrows; i++) {
		time = db_text(&res, i, 2);
		if (ended_at != NULL && strcmp(time, ended_at) < 0) {
			/* About an earlier agreement of this customer, which has ended. */
			n.state = "stale";
			n.note = "older than the end of an earlier subscription of this customer";
		} else {
			rc = notify_transition(w, sub, db_text(&res, i, 1), time, &applied);
			n.state = applied ? "applied" : "stale";
			n.note = "applied when the subscription registered";
		}
		if (rc == ERR_OK)
			rc = notify_settle(&n, db_int(&res, i, 0));
	}
	return rc;
}

/*
 * Collects every page of GetEntitlements for n's customer into *list
 * (owned). ERR_OK; ERR_UPSTREAM with n->note when AWS refused in a way
 * retrying does not cure (InvalidParameterException, AccessDenied..., a
 * malformed answer, endless paging); ERR_UNAVAILABLE when throttled or
 * failing still, or unreachable; ERR_NOMEM.
 */
static int
notify_fetch_entitlements(struct notify *n, struct json_object **list)
{
	struct json_object *body, *filter, *values, *page, *token;
	struct awsapi_reply reply;
	struct awsapi_call call;
	const char *next = NULL;
	int pages, rc = ERR_OK;
	size_t i;

	*list = json_object_new_array();
	for (pages = 0; pages < NOTIFY_ENTITLEMENT_PAGES; pages++) {
		body = json_object_new_object();
		filter = json_object_new_object();
		values = json_object_new_array();
		json_object_array_add(values, json_object_new_string(n->customer));
		json_object_object_add(filter, "CUSTOMER_IDENTIFIER", values);
		json_object_object_add(body, "ProductCode", json_object_new_string(n->listing->product_code));
		json_object_object_add(body, "Filter", filter);
		json_object_object_add(body, "MaxResults", json_object_new_int(25));
		if (next != NULL)
			json_object_object_add(body, "NextToken", json_object_new_string(next));
		call = (struct awsapi_call){ n->listing, n->listing->entitlement_url, "aws-marketplace",
		    "AWSMPEntitlementService.GetEntitlements", "1.1", body, n->w->app->cfg.http_retries, 0, NULL };
		rc = awsapi_perform(&n->w->http, &n->w->pool, &call, &reply);
		json_object_put(body);
		if (rc == ERR_UPSTREAM)
			n->note = pool_printf(&n->w->pool, "GetEntitlements: %s",
			    reply.error_type != NULL ? reply.error_type : "error");
		if (rc != ERR_OK) {
			awsapi_reply_release(&reply);
			return rc;
		}
		/* An empty page may still carry a NextToken: keep going. */
		if (json_object_object_get_ex(reply.json, "Entitlements", &page) &&
		    json_object_is_type(page, json_type_array))
			for (i = 0; i < json_object_array_length(page); i++)
				json_object_array_add(*list, json_object_get(json_object_array_get_idx(page, i)));
		next = NULL;
		if (json_object_object_get_ex(reply.json, "NextToken", &token) &&
		    json_object_is_type(token, json_type_string) && json_object_get_string_len(token) > 0)
			next = pool_strdup(&n->w->pool, json_object_get_string(token));
		awsapi_reply_release(&reply);
		if (next == NULL)
			return ERR_OK;
	}
	log_warnx("notify: GetEntitlements still paging after %d pages", NOTIFY_ENTITLEMENT_PAGES);
	n->note = "GetEntitlements still paging after 100 pages";
	return ERR_UPSTREAM;
}

struct notify_entitlements_tx {
	struct notify *n;
	struct json_object *list;	/* borrowed */
};

/*
 * Stores what GetEntitlements said (tx->list) for n's customer over what
 * was kept before, settles inbox row n->inbox_id applied (its note the
 * count, then how: NULL, or "replayed by an operator") and records the
 * event on the org the customer's subscription is bound to.
 */
static int
notify_entitlements_apply(struct notify_entitlements_tx *tx, const char *how)
{
	struct notify *n = tx->n;
	struct json_object *e, *dim, *value, *expires;
	struct db_result org;
	size_t i, count = json_object_array_length(tx->list);
	int rc;

	rc = db_run(&n->w->db, &n->w->pool, STMT_ENTITLEMENTS_CLEAR, NULL,
	    DB_ARGS(DB_TEXT(n->partition), DB_TEXT(n->customer)));
	for (i = 0; rc == ERR_OK && i < count; i++) {
		e = json_object_array_get_idx(tx->list, i);
		if (!json_object_object_get_ex(e, "Dimension", &dim) || !json_object_is_type(dim, json_type_string) ||
		    !json_object_object_get_ex(e, "Value", &value))
			continue;
		rc = db_run(&n->w->db, &n->w->pool, STMT_ENTITLEMENT_PUT, NULL, DB_ARGS(DB_TEXT(n->partition),
		    DB_TEXT(n->customer), DB_TEXT(json_object_get_string(dim)),
		    DB_TEXT(json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN)),
		    json_object_object_get_ex(e, "ExpirationDate", &expires) ?
		    DB_INT(json_object_get_int64(expires)) : DB_NULL));
	}
	if (rc != ERR_OK)
		return rc;
	n->state = "applied";
	n->note = how != NULL ? pool_printf(&n->w->pool, "%zu entitlements, %s", count, how)
	    : pool_printf(&n->w->pool, "%zu entitlements", count);
	rc = notify_settle(n, n->inbox_id);
	if (rc == ERR_OK)
		rc = db_run(&n->w->db, &n->w->pool, STMT_ORG_OF_CUSTOMER_LAST, &org,
		    DB_ARGS(DB_TEXT(n->partition), DB_TEXT(n->customer)));
	if (rc == ERR_OK)
		rc = events_record(&n->w->db, &n->w->pool, org.nrows == 1 ? db_text(&org, 0, 0) : NULL, 0,
		    n->partition, "entitlements.updated", "marketplace", n->partition, "customer", n->customer,
		    "count", pool_printf(&n->w->pool, "%zu", count), NULL);
	return rc;
}

static int
notify_entitlements_tx(void *arg)
{
	struct notify_entitlements_tx *tx = arg;
	int rc = notify_claim(tx->n);

	return rc != ERR_OK ? rc : notify_entitlements_apply(tx, NULL);
}

/* Records a verified message that needs no change (state ignored, confirmed or failed). */
static int
notify_record_tx(void *arg)
{
	struct notify *n = arg;
	int rc = notify_claim(n);

	return rc != ERR_OK ? rc : notify_settle(n, n->inbox_id);
}

static bool
notify_lifecycle_action(const char *action)
{
	return strcmp(action, "subscribe-success") == 0 || strcmp(action, "subscribe-fail") == 0 ||
	    strcmp(action, "unsubscribe-pending") == 0 || strcmp(action, "unsubscribe-success") == 0;
}

/* Reads the Notification's Message: action, customer, product. */
static void
notify_read_message(struct notify *n)
{
	struct json_object *msg = json_tokener_parse(n->m.message), *v;
	const char *product = NULL, *cid;

	n->state = "ignored";
	if (msg == NULL || !json_object_is_type(msg, json_type_object)) {
		n->note = "Message is not a JSON object";
		json_object_put(msg);
		return;
	}
	if (json_object_object_get_ex(msg, "action", &v) && json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) <= 64)
		n->action = pool_strdup(&n->w->pool, json_object_get_string(v));
	cid = awsapi_customer_id(&n->w->pool, jr_str(msg, "customer-identifier"));
	if (cid != NULL && cid[0] != '\0' && strlen(cid) <= 255)
		n->customer = cid;
	product = jr_str(msg, "product-code");
	if (n->action == NULL || n->customer == NULL || product == NULL)
		n->note = "Message lacks action, customer-identifier or product-code";
	else if (strcmp(product, n->listing->product_code) != 0)
		n->note = "another product";
	else if (strcmp(n->action, "entitlement-updated") == 0 || notify_lifecycle_action(n->action))
		n->state = NULL;	/* to be applied */
	else
		n->note = "unknown action";
	json_object_put(msg);
}

int
notify_handle(struct worker *w, const char *partition, const char *body, size_t len, const char *via)
{
	const struct config_aws *listing = config_aws_listing(&w->app->cfg, partition);
	struct notify n = { .w = w, .partition = partition, .via = via, .body = body, .len = len };
	struct notify_entitlements_tx etx = { .n = &n };
	struct db_result seen;
	const char *why;
	int rc;

	if (listing == NULL || !listing->enabled)
		return ERR_NOT_FOUND;
	n.listing = listing;
	rc = sns_parse(&w->pool, body, len, &n.m, &why);
	if (rc == ERR_SNS_REJECTED)
		return notify_reject(&n, why);
	if (rc != ERR_OK)
		return rc;
	n.time = sns_mysql_time(&w->pool, n.m.timestamp);
	if (n.time == NULL)
		return ERR_NOMEM;	/* sns_parse checked its shape */
	/* Nothing is looked up for a message before it is verified. */
	rc = sns_verify(w, listing, &n.m, &why);
	if (rc == ERR_SNS_REJECTED)
		return notify_reject(&n, why);
	if (rc != ERR_OK)
		return rc;
	rc = db_run(&w->db, &w->pool, STMT_INBOX_GET, &seen, DB_ARGS(DB_TEXT(partition), DB_TEXT(n.m.message_id)));
	if (rc != ERR_OK)
		return rc;
	if (seen.nrows > 0)
		return ERR_OK;	/* delivered again: handled already */
	if (strcmp(n.m.type, "SubscriptionConfirmation") == 0) {
		rc = sns_confirm(w, listing, &n.m, &why);
		if (rc == ERR_SNS_REJECTED)
			return notify_reject(&n, why);
		if (rc != ERR_OK && rc != ERR_UPSTREAM)
			return rc;
		/* A 4xx from SNS (an expired token) is recorded, not retried. */
		n.state = rc == ERR_OK ? "confirmed" : "failed";
		n.note = rc == ERR_OK ? NULL : why;
		rc = db_transaction(&w->db, notify_record_tx, &n);
	} else if (strcmp(n.m.type, "UnsubscribeConfirmation") == 0) {
		/* Our subscription was deleted. Its SubscribeURL would subscribe us
		 * again: that is an operator's decision, so it is only recorded. */
		n.state = "ignored";
		n.note = "unsubscribe confirmation";
		rc = db_transaction(&w->db, notify_record_tx, &n);
	} else {
		notify_read_message(&n);
		if (n.state != NULL) {
			rc = db_transaction(&w->db, notify_record_tx, &n);
		} else if (strcmp(n.action, "entitlement-updated") == 0) {
			rc = notify_fetch_entitlements(&n, &etx.list);
			if (rc == ERR_OK) {
				rc = db_transaction(&w->db, notify_entitlements_tx, &etx);
			} else if (rc == ERR_UPSTREAM) {
				/* Retrying cannot cure it: recorded and answered, not retried. */
				n.state = "failed";
				rc = db_transaction(&w->db, notify_record_tx, &n);
			}
			json_object_put(etx.list);
		} else {
			rc = db_transaction(&w->db, notify_lifecycle_tx, &n);
		}
	}
	if (rc == ERR_DB_DUPLICATE)
		return ERR_OK;	/* a concurrent delivery claimed it first */
	if (rc == ERR_OK && n.state != NULL && strcmp(n.state, "failed") == 0)
		log_warnx("notify: %s %s failed for good: %s", partition, n.m.type, n.note != NULL ? n.note : "-");
	else if (rc == ERR_OK)
		log_info("notify: %s %s %s via %s: %s", partition, n.m.type,
		    n.action != NULL ? n.action : "-", via, n.state);
	return rc;
}

/* ----- an operator's replay ------------------------------------------------------------- */

/*
 * Locks inbox row n->inbox_id and reads it into n: partition, action,
 * customer, time, state. ERR_NOT_FOUND; ERR_CONFLICT when it names no
 * customer, or its state is not want (any, when want is NULL).
 */
static int
notify_replay_load(struct notify *n, const char *want)
{
	struct db_result res;
	int rc;

	rc = db_run(&n->w->db, &n->w->pool, STMT_INBOX_LOCK, &res, DB_ARGS(DB_INT(n->inbox_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 0)
		return ERR_NOT_FOUND;
	n->partition = db_text(&res, 0, 0);
	n->action = db_text(&res, 0, 1);
	n->customer = db_text(&res, 0, 2);
	n->time = db_text(&res, 0, 3);
	n->state = db_text(&res, 0, 4);
	if (n->action == NULL || n->customer == NULL)
		return ERR_CONFLICT;
	return want == NULL || strcmp(n->state, want) == 0 ? ERR_OK : ERR_CONFLICT;
}

/*
 * Applies an unmatched lifecycle message whose subscription is known by
 * now; marks a failed entitlement update to be fetched again (outside
 * the transaction: no row stays locked over a call to AWS).
 */
static int
notify_replay_tx(void *arg)
{
	struct notify *n = arg;
	int rc;

	rc = notify_replay_load(n, NULL);
	if (rc != ERR_OK)
		return rc;
	if (strcmp(n->state, "failed") == 0 && strcmp(n->action, "entitlement-updated") == 0) {
		n->refetch = true;
		return ERR_OK;
	}
	if (strcmp(n->state, "unmatched") != 0)
		return ERR_CONFLICT;
	rc = notify_find_subscription(n, &n->subscription_id);
	if (rc != ERR_OK || n->subscription_id == 0)
		return rc;
	return notify_apply(n, "replayed by an operator", "replayed by an operator");
}

/* Stores the entitlements fetched again, if the row is still failed (one replay wins). */
static int
notify_replay_entitlements_tx(void *arg)
{
	struct notify_entitlements_tx *tx = arg;
	int rc = notify_replay_load(tx->n, "failed");

	return rc != ERR_OK ? rc : notify_entitlements_apply(tx, "replayed by an operator");
}

int
notify_replay(struct worker *w, long long inbox_id, const char **state, const char **note)
{
	struct notify n = { .w = w, .inbox_id = inbox_id, .via = "replay" };
	struct notify_entitlements_tx etx = { .n = &n };
	int rc;

	rc = db_transaction(&w->db, notify_replay_tx, &n);
	if (rc == ERR_OK && n.refetch) {
		n.listing = config_aws_listing(&w->app->cfg, n.partition);
		if (n.listing == NULL || !n.listing->enabled) {
			n.note = "its listing is not enabled";
			rc = ERR_NOT_FOUND;
		} else {
			rc = notify_fetch_entitlements(&n, &etx.list);
		}
		if (rc == ERR_OK)
			rc = db_transaction(&w->db, notify_replay_entitlements_tx, &etx);
		json_object_put(etx.list);
	}
	*state = n.state;
	*note = n.note;
	return rc;
}
