/* SPDX-License-Identifier: MIT */
/*
 * aliyunspi.c: the SPI 云市场 calls for each instance lifecycle change:
 * createInstance makes the subscription, the other actions freeze, restore,
 * upgrade or release it and what it pays for. The token and the parameter
 * list are aliyun.c's; 免登 is aliyunsso.c.
 */
#include "aliyunspi.h"

#include <string.h>

#include <json-c/json.h>

#include "aliyun.h"
#include "binding.h"
#include "config.h"
#include "db.h"
#include "events.h"
#include "form.h"
#include "jsonw.h"
#include "log.h"
#include "request.h"
#include "subscriptions.h"
#include "text.h"
#include "worker.h"
#include "banned.h"

#define ALIYUN_SPI_UID_MAX 32
#define ALIYUN_SPI_SKU_MAX 128

/* ---------------------------------------------------------------- values */

static bool
aliyun_spi_valid_uid(const char *s)
{
	return text_chars(s, ALIYUN_SPI_UID_MAX, "") && strspn(s, "0123456789") == strlen(s);
}

static bool
aliyun_spi_valid_sku(const char *s)
{
	return text_chars(s, ALIYUN_SPI_SKU_MAX, "._:-");
}

static bool
aliyun_spi_valid_bool(const char *s)
{
	return strcmp(s, "true") == 0 || strcmp(s, "false") == 0;
}

static bool
aliyun_spi_valid_time(const char *s)
{
	time_t t;

	return aliyun_parse_time(s, &t);
}

/* t as "YYYY-MM-DD HH:MM:SS" in UTC, for a DATETIME column; NULL if out of memory. */
static const char *
aliyun_spi_utc(struct pool *pool, time_t t)
{
	char *out = pool_alloc(pool, 20);
	struct tm tm;

	if (out == NULL || gmtime_r(&t, &tm) == NULL || strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) != 19)
		return NULL;
	return out;
}

/*
 * The value of name in params into *out (NULL when absent). ERR_FIELD
 * naming it when it is required and missing, or present and not valid.
 */
static int
aliyun_spi_param(struct request *r, const struct kvlist *params, const char *name, bool required,
    bool (*valid)(const char *), const char **out)
{
	*out = kvlist_get(params, name);
	if (*out == NULL ? !required : valid(*out))
		return ERR_OK;
	r->error_field = name;
	return ERR_FIELD;
}

/* ----------------------------------------------------------------- calls */

struct aliyun_spi_call;

struct aliyun_spi_action {
	const char *name;
	/* Runs in the transaction with the subscription and any binding
	 * locked; NULL for createInstance, which makes the subscription. */
	int (*apply)(struct aliyun_spi_call *c);
	bool needs_order;		/* orderId required */
	bool needs_sku;			/* skuId required */
};

/* One SPI call, from its parameters to what it found and changed. */
struct aliyun_spi_call {
	struct request *r;
	const struct aliyun_spi_action *action;
	struct kvlist params;
	const char *instance_id;	/* orderBizId for createInstance */
	const char *ali_uid;
	const char *product_code;
	const char *order_id;
	const char *sku_id;
	const char *expired_on;		/* UTC, or NULL */
	const char *is_refund;
	bool trial;
	char fingerprint[ALIYUN_FINGERPRINT_LEN + 1];	/* createInstance's parameters */

	/* found in the transaction */
	long long subscription_id;
	const char *account_id;		/* aliUid */
	const char *status;
	const char *sku_before;
	const char *fingerprint_before;	/* NULL: created before migration 013 */
	long long binding_id;		/* 0: not bound */
	const char *org_id;		/* NULL: not bound */
	bool replay;			/* applied before: nothing changed */
};

/* An audit event by the marketplace on c's org (NULL when not bound);
 * more name/value pairs follow, ending with NULL. */
#define aliyun_spi_event(c, action, ...) \
	events_record(&(c)->r->worker->db, (c)->r->pool, (c)->org_id, 0, "aliyun", (action), \
	    "instance_id", (c)->instance_id, "account_id", (c)->account_id, __VA_ARGS__)

/* Records c in the SPI log; c->replay tells that a call with the same
 * instanceId, action and orderId was recorded before. */
static int
aliyun_spi_log(struct aliyun_spi_call *c)
{
	int rc;

	rc = db_run(&c->r->worker->db, c->r->pool, STMT_ALIYUN_SPI_LOG, NULL,
	    DB_ARGS(DB_TEXT(c->instance_id), DB_TEXT(c->action->name), DB_TEXT_OR_NULL(c->order_id),
	    DB_INT(c->subscription_id)));
	c->replay = rc == ERR_DB_DUPLICATE;
	return c->replay ? ERR_OK : rc;
}

/* Stores what c says about its subscription; NULL values keep the old
 * ones, and the expiry never moves back. */
static int
aliyun_spi_store(struct aliyun_spi_call *c, const char *instance_id)
{
	return db_run(&c->r->worker->db, c->r->pool, STMT_ALIYUN_SUB_UPDATE, NULL,
	    DB_ARGS(DB_TEXT_OR_NULL(instance_id), DB_TEXT_OR_NULL(c->sku_id), DB_TEXT_OR_NULL(c->order_id),
	    DB_TEXT_OR_NULL(c->expired_on), DB_TEXT_OR_NULL(c->expired_on), DB_INT(c->subscription_id)));
}

static int
aliyun_spi_set_status(struct aliyun_spi_call *c, const char *status)
{
	return subscriptions_set_status(&c->r->worker->db, c->r->pool, c->subscription_id, status);
}

static int
aliyun_spi_org_billing(struct aliyun_spi_call *c, enum stmt_id id)
{
	return db_run(&c->r->worker->db, c->r->pool, id, NULL, DB_ARGS(DB_TEXT(c->org_id)));
}

/* Locks c's subscription by its instanceId and reads it; ERR_ALIYUN_UNKNOWN
 * when there is none. */
static int
aliyun_spi_lock(struct aliyun_spi_call *c)
{
	struct request *r = c->r;
	struct db_result res;
	int rc;

	rc = db_run(&r->worker->db, r->pool, STMT_ALIYUN_SUB_LOCK, &res, DB_ARGS(DB_TEXT(c->instance_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 0)
		return ERR_ALIYUN_UNKNOWN;
	c->subscription_id = db_int(&res, 0, 0);
	c->account_id = db_text(&res, 0, 1);
	c->status = db_text(&res, 0, 2);
	c->sku_before = db_text(&res, 0, 3);
	c->fingerprint_before = db_text(&res, 0, 4);
	return ERR_OK;
}

/* ------------------------------------------------------------ lifecycle */

/* expiredInstance: unpaid bills; the instance and its org freeze, data stays. */
static int
aliyun_spi_expire(struct aliyun_spi_call *c)
{
	int rc;

	if (strcmp(c->status, "active") != 0)
		return ERR_OK;	/* frozen or released already */
	rc = aliyun_spi_set_status(c, "expired");
	if (rc == ERR_OK && c->org_id != NULL)
		rc = aliyun_spi_org_billing(c, STMT_ORG_BILLING_FREEZE);
	return rc == ERR_OK ? aliyun_spi_event(c, "subscription.expired", NULL) : rc;
}

/* renewInstance: the arrears are paid (or the term extended); a frozen
 * instance and its org work again. */
static int
aliyun_spi_renew(struct aliyun_spi_call *c)
{
	bool frozen = strcmp(c->status, "expired") == 0;
	int rc;

	if (strcmp(c->status, "ended") == 0)
		return ERR_SUBSCRIPTION_INACTIVE;
	rc = aliyun_spi_store(c, NULL);
	if (rc == ERR_OK && frozen)
		rc = aliyun_spi_set_status(c, "active");
	if (rc == ERR_OK && frozen && c->org_id != NULL)
		rc = aliyun_spi_org_billing(c, STMT_ORG_BILLING_BOUND);
	return rc == ERR_OK ? aliyun_spi_event(c, "subscription.renewed", "expired_on", c->expired_on,
	    "restored", frozen ? "true" : "false", NULL) : rc;
}

/* upgradeInstance: a new SKU, same expiry. */
static int
aliyun_spi_upgrade(struct aliyun_spi_call *c)
{
	int rc;

	if (strcmp(c->status, "ended") == 0)
		return ERR_SUBSCRIPTION_INACTIVE;
	rc = aliyun_spi_store(c, NULL);
	return rc == ERR_OK ? aliyun_spi_event(c, "subscription.upgraded", "from_sku_id", c->sku_before,
	    "sku_id", c->sku_id, NULL) : rc;
}

/* releaseInstance: the subscription ends, and so does its binding. */
static int
aliyun_spi_release(struct aliyun_spi_call *c)
{
	struct request *r = c->r;
	bool frozen = strcmp(c->status, "expired") == 0;
	int rc;

	if (strcmp(c->status, "ended") == 0)
		return ERR_OK;	/* released before */
	rc = aliyun_spi_set_status(c, "ended");
	if (rc == ERR_OK && c->binding_id > 0)
		rc = binding_end(&r->worker->db, r->pool, c->binding_id, c->org_id, "released",
		    r->cfg->grace_seconds, "aliyun", 0, "aliyun", c->account_id);
	/* A frozen org stays frozen: nobody pays for it, so no service carries on. */
	if (rc == ERR_OK && c->binding_id > 0 && frozen)
		rc = aliyun_spi_org_billing(c, STMT_ORG_BILLING_FREEZE);
	return rc == ERR_OK ? aliyun_spi_event(c, "subscription.released", "is_refund", c->is_refund, NULL) : rc;
}

static const struct aliyun_spi_action aliyun_spi_actions[] = {
	{ "createInstance", NULL, true, false },
	{ "renewInstance", aliyun_spi_renew, true, false },
	{ "upgradeInstance", aliyun_spi_upgrade, true, true },
	{ "expiredInstance", aliyun_spi_expire, false, false },
	{ "releaseInstance", aliyun_spi_release, false, false },
};

/* Finds c's binding, if any, and locks its org and it, in that order. */
static int
aliyun_spi_lock_binding(struct aliyun_spi_call *c)
{
	struct request *r = c->r;
	struct db_result res;
	int rc;

	rc = db_run(&r->worker->db, r->pool, STMT_BINDING_OF_SUB, &res, DB_ARGS(DB_INT(c->subscription_id)));
	if (rc != ERR_OK || res.nrows == 0)
		return rc;
	rc = db_run(&r->worker->db, r->pool, STMT_ORG_LOCK, NULL, DB_ARGS(DB_TEXT(db_text(&res, 0, 0))));
	if (rc == ERR_OK)
		rc = db_run(&r->worker->db, r->pool, STMT_BINDING_OF_SUB_LOCK, &res,
		    DB_ARGS(DB_INT(c->subscription_id)));
	if (rc != ERR_OK || res.nrows == 0)
		return rc;	/* unbound in the meantime */
	c->binding_id = db_int(&res, 0, 0);
	c->org_id = db_text(&res, 0, 1);
	return ERR_OK;
}

static int
aliyun_spi_lifecycle_tx(void *arg)
{
	struct aliyun_spi_call *c = arg;
	int rc;

	c->subscription_id = c->binding_id = 0;
	c->org_id = NULL;
	/* Lock order, as when a binding is confirmed: subscription, org, binding. */
	rc = aliyun_spi_lock(c);
	if (rc == ERR_OK)
		rc = aliyun_spi_log(c);
	if (rc != ERR_OK || c->replay)
		return rc;
	rc = aliyun_spi_lock_binding(c);
	return rc == ERR_OK ? c->action->apply(c) : rc;
}

/*
 * createInstance again for an existing orderBizId: ERR_OK when it carries
 * the parameters of the first one, else ERR_ALIYUN_CONFLICT. A subscription
 * made before its fingerprint was kept (migration 013) is checked on buyer
 * and product, and takes this call's fingerprint.
 */
static int
aliyun_spi_same_create(struct aliyun_spi_call *c, const struct subscription *sub)
{
	struct request *r = c->r;
	int rc;

	rc = aliyun_spi_lock(c);
	if (rc != ERR_OK)
		return rc;
	if (c->fingerprint_before != NULL)
		return strcmp(c->fingerprint_before, c->fingerprint) == 0 ? ERR_OK : ERR_ALIYUN_CONFLICT;
	if (sub->account_id == NULL || strcmp(sub->account_id, c->ali_uid) != 0 || sub->product_code == NULL ||
	    strcmp(sub->product_code, c->product_code) != 0)
		return ERR_ALIYUN_CONFLICT;
	return db_run(&r->worker->db, r->pool, STMT_ALIYUN_SUB_FINGERPRINT, NULL,
	    DB_ARGS(DB_TEXT(c->fingerprint), DB_INT(c->subscription_id)));
}

static int
aliyun_spi_create_tx(void *arg)
{
	struct aliyun_spi_call *c = arg;
	struct request *r = c->r;
	struct subscription_keys k = {
		.marketplace = "aliyun",
		.account_id = c->ali_uid,
		.product_code = c->product_code,
		.instance_id = c->instance_id,
		.free_trial = c->trial,
	};
	struct subscription sub;
	bool created;
	int rc;

	rc = subscriptions_upsert(&r->worker->db, r->pool, &k, "active", &sub, &created);
	if (rc != ERR_OK)
		return rc;
	c->subscription_id = sub.id;
	c->account_id = sub.account_id;
	if (!created) {
		rc = aliyun_spi_same_create(c, &sub);
		c->replay = rc == ERR_OK;
		return rc;
	}
	rc = aliyun_spi_log(c);
	if (rc == ERR_OK)
		rc = aliyun_spi_store(c, c->instance_id);
	if (rc == ERR_OK)
		rc = db_run(&r->worker->db, r->pool, STMT_ALIYUN_SUB_FINGERPRINT, NULL,
		    DB_ARGS(DB_TEXT(c->fingerprint), DB_INT(c->subscription_id)));
	return rc == ERR_OK ? aliyun_spi_event(c, "subscription.created", "sku_id", c->sku_id,
	    "trial", c->trial ? "true" : "false", NULL) : rc;
}

/* ------------------------------------------------------------- requests */

/* Reads and checks an SPI call: parameters, token, action, values. */
static int
aliyun_spi_read(struct request *r, struct aliyun_spi_call *c)
{
	const struct kvlist *p = &c->params;
	const size_t nactions = sizeof(aliyun_spi_actions) / sizeof(aliyun_spi_actions[0]);
	const char *action, *trial = NULL, *expired = NULL;
	time_t t;
	size_t i;
	int rc;

	rc = aliyun_params(r, &c->params);
	if (rc == ERR_OK)
		rc = aliyun_token_check(r, p);
	if (rc != ERR_OK)
		return rc;
	action = kvlist_get(p, "action");
	for (i = 0; action != NULL && i < nactions; i++)
		if (strcmp(aliyun_spi_actions[i].name, action) == 0)
			break;
	if (action == NULL || i == nactions)
		return ERR_ALIYUN_ACTION;
	c->action = &aliyun_spi_actions[i];
	if (c->action->apply == NULL) {
		rc = aliyun_spi_param(r, p, "aliUid", true, aliyun_spi_valid_uid, &c->ali_uid);
		if (rc == ERR_OK)
			rc = aliyun_spi_param(r, p, "orderBizId", true, aliyun_valid_id, &c->instance_id);
		if (rc == ERR_OK)
			rc = aliyun_spi_param(r, p, "productCode", true, aliyun_valid_id, &c->product_code);
	} else {
		rc = aliyun_spi_param(r, p, "instanceId", true, aliyun_valid_id, &c->instance_id);
		if (rc == ERR_OK)
			rc = aliyun_spi_param(r, p, "productCode", false, aliyun_valid_id, &c->product_code);
	}
	if (rc == ERR_OK)
		rc = aliyun_spi_param(r, p, "orderId", c->action->needs_order, aliyun_valid_id, &c->order_id);
	if (rc == ERR_OK)
		rc = aliyun_spi_param(r, p, "skuId", c->action->needs_sku, aliyun_spi_valid_sku, &c->sku_id);
	if (rc == ERR_OK)
		rc = aliyun_spi_param(r, p, "trial", false, aliyun_spi_valid_bool, &trial);
	if (rc == ERR_OK)
		rc = aliyun_spi_param(r, p, "isRefund", false, aliyun_spi_valid_bool, &c->is_refund);
	if (rc == ERR_OK)
		rc = aliyun_spi_param(r, p, "expiredOn", false, aliyun_spi_valid_time, &expired);
	if (rc != ERR_OK)
		return rc;
	if (c->product_code != NULL && strcmp(c->product_code, r->cfg->aliyun.product_code) != 0)
		return ERR_ALIYUN_PRODUCT;
	c->trial = trial != NULL && strcmp(trial, "true") == 0;
	if (expired != NULL && aliyun_parse_time(expired, &t) &&
	    (c->expired_on = aliyun_spi_utc(r->pool, t)) == NULL)
		return ERR_NOMEM;
	return c->action->apply == NULL ? aliyun_fingerprint(r->pool, p, c->fingerprint) : ERR_OK;
}

/* The createInstance answer: the same for every retry of one orderBizId. */
static int
aliyun_spi_create_reply(struct request *r, const struct aliyun_spi_call *c)
{
	const char *front = pool_printf(r->pool, "%s/", r->cfg->public_url);
	const char *auth = pool_printf(r->pool, "%s/marketplace/aliyun/sso", r->cfg->public_url);
	struct json_object *root, *app;

	if (front == NULL || auth == NULL)
		return ERR_NOMEM;
	root = json_object_new_object();
	app = json_object_new_object();
	jw_str(root, "instanceId", c->instance_id);
	jw_str(app, "frontEndUrl", front);
	jw_str(app, "authUrl", auth);
	jw_add(root, "appInfo", app);
	return reply_json(r, 200, root);
}

/* Answers a refused or failed SPI call so that 云市场 sees it failed. */
static int
aliyun_spi_fail(struct request *r, int err)
{
	struct json_object *root, *error;

	if (error_status(err) >= 500)
		log_warnx("aliyun: spi: %s", error_code(err));
	else
		log_info("aliyun: spi refused: %s", error_code(err));
	root = json_object_new_object();
	error = json_object_new_object();
	jw_str(root, "success", "false");
	jw_str(error, "code", error_code(err));
	jw_str(error, "message", r->error_message != NULL ? r->error_message : error_message(err, r->lang));
	if (r->error_field != NULL)
		jw_str(error, "field", r->error_field);
	jw_add(root, "error", error);
	return reply_json(r, error_status(err), root);
}

/* GET|POST /marketplace/aliyun/spi: see aliyunspi.h. */
static int
aliyun_spi(struct request *r)
{
	struct aliyun_spi_call c = { .r = r };
	struct json_object *root;
	int rc;

	if (!r->cfg->aliyun.enabled)
		return aliyun_spi_fail(r, ERR_NOT_FOUND);
	rc = aliyun_spi_read(r, &c);
	if (rc == ERR_OK)
		rc = db_transaction(&r->worker->db,
		    c.action->apply != NULL ? aliyun_spi_lifecycle_tx : aliyun_spi_create_tx, &c);
	if (rc == ERR_ALIYUN_UNKNOWN)
		log_warnx("aliyun: %s for unknown instance \"%s\": refused", c.action->name, c.instance_id);
	if (rc != ERR_OK)
		return aliyun_spi_fail(r, rc);
	log_info("aliyun: %s of \"%s\": %s", c.action->name, c.instance_id,
	    c.replay ? "a replay, nothing changed" : "applied");
	if (c.action->apply == NULL)
		return aliyun_spi_create_reply(r, &c);
	root = json_object_new_object();
	jw_str(root, "success", "true");
	return reply_json(r, 200, root);
}

static const struct route aliyun_spi_routes[] = {
	/* No field list: 云市场 may add parameters, and every one is signed. */
	{ "aliyun_spi", METHOD_GET | METHOD_POST, "/marketplace/aliyun/spi", aliyun_spi, AUTH_NONE,
	  BODY_FORM, REPLY_JSON, NULL },
};

ROUTE_TABLE(aliyun_spi, aliyun_spi_routes);
