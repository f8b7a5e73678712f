/* SPDX-License-Identifier: MIT */
/*
 * billing.c: what an organization pays and through which channel.
 */
#include "billing.h"

#include <string.h>

#include "binding.h"
#include "config.h"
#include "db.h"
#include "fields.h"
#include "jsonw.h"
#include "marketplace.h"
#include "meter.h"
#include "orgs.h"
#include "request.h"
#include "subscriptions.h"
#include "worker.h"
#include "banned.h"

#define BILLING_HISTORY_MONTHS 24
#define BILLING_CREDIT_GRANTS 20

int
billing_period(time_t t, time_t *start, time_t *next)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return -1;
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	*start = mktime(&tm);
	tm.tm_mon += 1;
	tm.tm_isdst = -1;
	*next = mktime(&tm);
	return *start == (time_t)-1 || *next == (time_t)-1 ? -1 : 0;
}

static const char *
billing_date(struct request *r, time_t t)
{
	struct tm tm;
	char *out = pool_alloc(r->pool, 11);

	if (out == NULL || localtime_r(&t, &tm) == NULL)
		return NULL;
	strftime(out, 11, "%Y-%m-%d", &tm);
	return out;
}

/* Micro-units of a pico amount, rounded down (what is billed is whole micros). */
static long long
billing_micros(const char *pico)
{
	unsigned __int128 v;

	return meter_parse_pico(pico, &v) ? (long long)(v / 1000000) : 0;
}

/*
 * The bill of org for [start, next): amount due (closed hours paid by a
 * marketplace subscription, after free credit), unbilled (closed hours with
 * no marketplace bound, after free credit: billed nowhere and not due),
 * credit spent, and usage of hours not closed yet. NULL on a database error.
 */
static struct json_object *
billing_bill(struct request *r, const char *org_id, time_t start, time_t next, int *rc)
{
	struct json_object *bill;
	struct db_result closed, open;

	*rc = db_run(&r->worker->db, r->pool, STMT_BILL_CLOSED, &closed,
	    DB_ARGS(DB_TEXT(org_id), DB_INT(start), DB_INT(next)));
	if (*rc == ERR_OK)
		*rc = db_run(&r->worker->db, r->pool, STMT_BILL_OPEN, &open,
		    DB_ARGS(DB_TEXT(org_id), DB_INT(start), DB_INT(next)));
	if (*rc != ERR_OK)
		return NULL;
	bill = json_object_new_object();
	jw_str(bill, "currency", r->cfg->currency);
	jw_int(bill, "amount_due_micros", billing_micros(db_text(&closed, 0, 0)));
	jw_int(bill, "unbilled_micros", billing_micros(db_text(&closed, 0, 1)));
	jw_int(bill, "credit_used_micros", db_int(&closed, 0, 2));
	jw_int(bill, "open_usage_micros", billing_micros(db_text(&open, 0, 0)));
	jw_str(bill, "period_start", billing_date(r, start));
	jw_str(bill, "period_end", billing_date(r, next));
	return bill;
}

/*
 * Free credit not expired now: what is left, what was granted, the soonest
 * expiry of credit left, and the grants, soonest expiry first. NULL on a
 * database error.
 */
static struct json_object *
billing_credits(struct request *r, const char *org_id, int *rc)
{
	struct json_object *credits, *grants, *grant;
	struct db_result total, list;
	size_t i;

	*rc = db_run(&r->worker->db, r->pool, STMT_CREDITS_LEFT, &total, DB_ARGS(DB_TEXT(org_id)));
	if (*rc == ERR_OK)
		*rc = db_run(&r->worker->db, r->pool, STMT_CREDIT_GRANTS_OF_ORG, &list,
		    DB_ARGS(DB_TEXT(org_id), DB_INT(BILLING_CREDIT_GRANTS)));
	if (*rc != ERR_OK)
		return NULL;
	credits = json_object_new_object();
	jw_str(credits, "currency", r->cfg->currency);
	jw_int(credits, "remaining_micros", db_int(&total, 0, 0));
	jw_int(credits, "granted_micros", db_int(&total, 0, 1));
	jw_str(credits, "expires_at", db_text(&total, 0, 2));
	grants = json_object_new_array();
	for (i = 0; i < list.nrows; i++) {
		grant = json_object_new_object();
		jw_int(grant, "granted_micros", db_int(&list, i, 0));
		jw_int(grant, "remaining_micros", db_int(&list, i, 1));
		jw_str(grant, "granted_at", db_text(&list, i, 2));
		jw_str(grant, "expires_at", db_text(&list, i, 3));
		json_object_array_add(grants, grant);
	}
	jw_add(credits, "grants", grants);
	return credits;
}

static struct json_object *
billing_payment(struct request *r, const char *org_id, int *rc)
{
	const struct marketplace *mp;
	struct json_object *p;
	struct db_result res;

	*rc = db_run(&r->worker->db, r->pool, STMT_BINDING_OF_ORG, &res, DB_ARGS(DB_TEXT(org_id)));
	if (*rc != ERR_OK || res.nrows == 0)
		return NULL;
	mp = marketplace_find(db_text(&res, 0, 0));
	p = json_object_new_object();
	jw_str(p, "marketplace", db_text(&res, 0, 0));
	jw_str(p, "account_id", db_text(&res, 0, 1));
	jw_str(p, "customer_identifier", db_text(&res, 0, 6));
	jw_str(p, "subscription_status", db_text(&res, 0, 2));
	jw_str(p, "bound_at", db_text(&res, 0, 3));
	jw_str(p, "bound_by", db_text(&res, 0, 4));
	jw_str(p, "starts_at", db_text(&res, 0, 5));
	jw_str(p, "bill_url", mp != NULL && mp->bill_url(r->cfg)[0] != '\0' ? mp->bill_url(r->cfg) : NULL);
	return p;
}

static struct json_object *
billing_listings(struct request *r)
{
	const struct marketplace *mp;
	struct json_object *list = json_object_new_array(), *m;
	size_t i;

	for (i = 0; (mp = marketplace_at(i)) != NULL; i++) {
		if (!mp->enabled(r->cfg) || mp->listing_url(r->cfg)[0] == '\0')
			continue;
		m = json_object_new_object();
		jw_str(m, "id", mp->id);
		jw_str(m, "listing_url", mp->listing_url(r->cfg));
		json_object_array_add(list, m);
	}
	return list;
}

/* GET /api/orgs/{org}/billing: see billing.h. */
static int
billing_overview(struct request *r)
{
	const char *org_id = r->path_param[0];
	struct json_object *root, *org, *bill, *credits = NULL, *payment;
	struct db_result res;
	enum org_role role;
	time_t start, next;
	int rc;

	rc = orgs_role(r, org_id, false, &role);
	if (rc == ERR_OK)
		rc = db_run(&r->worker->db, r->pool, STMT_ORG_BILLING_GET, &res, DB_ARGS(DB_TEXT(org_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows != 1)
		return ERR_NOT_FOUND;
	if (billing_period(time(NULL), &start, &next) != 0)
		return ERR_INTERNAL;
	payment = billing_payment(r, org_id, &rc);
	if (rc != ERR_OK)
		return rc;
	bill = billing_bill(r, org_id, start, next, &rc);
	if (rc == ERR_OK)
		credits = billing_credits(r, org_id, &rc);
	if (rc != ERR_OK) {
		json_object_put(payment);
		json_object_put(bill);
		return rc;
	}
	root = json_object_new_object();
	org = json_object_new_object();
	jw_str(org, "id", org_id);
	jw_str(org, "name", db_text(&res, 0, 0));
	jw_add(root, "org", org);
	jw_str(root, "role", orgs_role_name(role));
	jw_bool(root, "can_manage", orgs_role_can_bill(role));
	jw_str(root, "status", db_text(&res, 0, 1));
	jw_str(root, "grace_deadline", db_text(&res, 0, 2));
	jw_int(root, "grace_seconds_left", db_int(&res, 0, 3));
	jw_int(root, "grace_window_seconds", r->cfg->grace_seconds);
	jw_str(bill, "next_bill_date", billing_date(r, next));
	jw_add(root, "current_bill", bill);
	jw_add(root, "free_credits", credits);
	jw_add(root, "payment", payment);
	jw_add(root, "marketplaces", billing_listings(r));
	return reply_json(r, 200, root);
}

/* GET /api/orgs/{org}/billing/history: see billing.h. */
static int
billing_history(struct request *r)
{
	const char *org_id = r->path_param[0];
	struct json_object *root, *bills, *bill;
	struct db_result res;
	enum org_role role;
	time_t start, next, created, month_start, month_next;
	int rc, n;

	rc = orgs_role(r, org_id, false, &role);
	if (rc == ERR_OK)
		rc = db_run(&r->worker->db, r->pool, STMT_ORG_BILLING_GET, &res, DB_ARGS(DB_TEXT(org_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows != 1 || billing_period(time(NULL), &start, &next) != 0)
		return ERR_NOT_FOUND;
	created = (time_t)db_int(&res, 0, 4);
	root = json_object_new_object();
	bills = json_object_new_array();
	/* Closed months, newest first, back to the one the org was created in. */
	month_next = start;
	for (n = 0; n < BILLING_HISTORY_MONTHS && month_next > created; n++) {
		if (billing_period(month_next - 1, &month_start, &month_next) != 0)
			break;
		bill = billing_bill(r, org_id, month_start, month_next, &rc);
		if (rc != ERR_OK) {
			json_object_put(root);
			json_object_put(bills);
			return rc;
		}
		json_object_array_add(bills, bill);
		month_next = month_start;
	}
	jw_add(root, "bills", bills);
	return reply_json(r, 200, root);
}

struct billing_unbind_tx {
	struct request *r;
	const char *deadline;
};

static int
billing_unbind_tx(void *arg)
{
	struct billing_unbind_tx *tx = arg;
	struct request *r = tx->r;
	const char *org_id = r->path_param[0];
	struct subscription sub;
	struct db_result res;
	enum org_role role;
	int rc;

	/* Lock order (db.h): subscription, org, membership, binding. */
	rc = orgs_valid_id(org_id) ? binding_unbind_lock(&r->worker->db, r->pool, org_id, &sub) : ERR_NOT_FOUND;
	if (rc == ERR_OK)
		rc = orgs_role(r, org_id, true, &role);
	if (rc != ERR_OK)
		return rc;
	if (!orgs_role_can_bill(role))
		return ERR_INSUFFICIENT_ROLE;
	rc = binding_unbind_end(&r->worker->db, r->pool, org_id, &sub, "unbound", r->cfg->grace_seconds,
	    "user", r->user.user_id);
	if (rc == ERR_OK)
		rc = db_run(&r->worker->db, r->pool, STMT_ORG_BILLING_GET, &res, DB_ARGS(DB_TEXT(org_id)));
	if (rc == ERR_OK)
		tx->deadline = db_text(&res, 0, 2);
	return rc;
}

/* POST /api/orgs/{org}/billing/unbind: see billing.h. */
static int
billing_unbind(struct request *r)
{
	struct billing_unbind_tx tx = { .r = r };
	struct json_object *root;
	int rc;

	rc = db_transaction(&r->worker->db, billing_unbind_tx, &tx);
	if (rc != ERR_OK)
		return rc;
	root = json_object_new_object();
	jw_str(root, "status", "grace");
	jw_str(root, "grace_deadline", tx.deadline);
	return reply_json(r, 200, root);
}

/* GET /internal/orgs/{org}/billing-status: see billing.h. */
static int
billing_status(struct request *r)
{
	const char *org_id = r->path_param[0];
	struct json_object *root;
	struct db_result res, bound;
	int rc;

	if (!orgs_valid_id(org_id))
		return ERR_NOT_FOUND;
	rc = db_run(&r->worker->db, r->pool, STMT_ORG_BILLING_GET, &res, DB_ARGS(DB_TEXT(org_id)));
	if (rc == ERR_OK)
		rc = db_run(&r->worker->db, r->pool, STMT_BINDING_OF_ORG, &bound, DB_ARGS(DB_TEXT(org_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows != 1)
		return ERR_NOT_FOUND;
	root = json_object_new_object();
	jw_str(root, "org_id", org_id);
	jw_str(root, "status", db_text(&res, 0, 1));
	jw_str(root, "grace_deadline", db_text(&res, 0, 2));
	jw_str(root, "marketplace", bound.nrows == 1 ? db_text(&bound, 0, 0) : NULL);
	jw_str(root, "account_id", bound.nrows == 1 ? db_text(&bound, 0, 1) : NULL);
	jw_str(root, "customer_identifier", bound.nrows == 1 ? db_text(&bound, 0, 6) : NULL);
	return reply_json(r, 200, root);
}

static const struct route billing_routes[] = {
	{ "billing_overview", METHOD_GET, "/api/orgs/{}/billing", billing_overview, AUTH_SESSION,
	  BODY_NONE, REPLY_JSON, NULL },
	{ "billing_history", METHOD_GET, "/api/orgs/{}/billing/history", billing_history, AUTH_SESSION,
	  BODY_NONE, REPLY_JSON, NULL },
	{ "billing_unbind", METHOD_POST, "/api/orgs/{}/billing/unbind", billing_unbind, AUTH_SESSION,
	  BODY_JSON, REPLY_JSON, NULL },
	{ "billing_status", METHOD_GET, "/internal/orgs/{}/billing-status", billing_status, AUTH_SERVICE,
	  BODY_NONE, REPLY_JSON, NULL },
};

ROUTE_TABLE(billing, billing_routes);
