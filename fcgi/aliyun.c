/* SPDX-License-Identifier: MIT */
/*
 * aliyun.c: Alibaba Cloud Marketplace as a marketplace: the MD5 token, the
 * SPI lifecycle actions and the 免登 entry into binding or the console.
 * Metering (PushMeteringData) is in aliyunmeter.c.
 */
#include "aliyun.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "aliyunmeter.h"
#include "binding.h"
#include "config.h"
#include "db.h"
#include "events.h"
#include "form.h"
#include "jsonw.h"
#include "log.h"
#include "page.h"
#include "request.h"
#include "session.h"
#include "subscriptions.h"
#include "text.h"
#include "worker.h"
#include "banned.h"

#define ALIYUN_ID_MAX 64		/* instanceId, orderBizId, orderId, productCode */
#define ALIYUN_UID_MAX 32
#define ALIYUN_SKU_MAX 128
#define ALIYUN_BEIJING (8 * 3600)	/* 云市场 times are UTC+8 */
#define ALIYUN_RETRY_AFTER "30"		/* seconds, while an instance is being activated */

static bool
aliyun_enabled(const struct config *cfg)
{
	return cfg->aliyun.enabled;
}

static const char *
aliyun_listing_url(const struct config *cfg)
{
	return cfg->aliyun.listing_url;
}

static const char *
aliyun_bill_url(const struct config *cfg)
{
	return cfg->aliyun.bill_url;
}

/* Metering (aliyunmeter.c): the PushMeteringData entity Key and the price of one of its units. */
static const char *
aliyun_meter_dimension(const struct config *cfg)
{
	return cfg->aliyun.metering_key;
}

static long
aliyun_meter_unit_micros(const struct config *cfg)
{
	return cfg->aliyun.unit_price_micros;
}

const struct marketplace aliyun_marketplace = {
	"aliyun", { "阿里云 云市场", "Alibaba Cloud Marketplace" },
	aliyun_enabled, aliyun_listing_url, aliyun_bill_url,
	aliyun_meter_dimension, aliyun_meter_unit_micros, aliyun_meter_send,
};

/* ---------------------------------------------------------------- tokens */

static int
aliyun_kv_compare(const void *a, const void *b)
{
	const struct kv *x = *(const struct kv *const *)a, *y = *(const struct kv *const *)b;

	return strcmp(x->name, y->name);
}

int
aliyun_token(struct pool *pool, const struct kvlist *params, const char *key, char *out)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	const struct kv **sorted;
	EVP_MD_CTX *ctx;
	size_t i, n = 0;
	int ok;

	sorted = pool_alloc(pool, (params->count + 1) * sizeof(*sorted));
	if (sorted == NULL)
		return ERR_NOMEM;
	for (i = 0; i < params->count; i++)
		if (strcmp(params->items[i].name, "token") != 0)
			sorted[n++] = &params->items[i];
	qsort(sorted, n, sizeof(*sorted), aliyun_kv_compare);
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return ERR_NOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
	for (i = 0; ok && i < n; i++)
		ok = (i == 0 || EVP_DigestUpdate(ctx, "&", 1)) &&
		    EVP_DigestUpdate(ctx, sorted[i]->name, strlen(sorted[i]->name)) &&
		    EVP_DigestUpdate(ctx, "=", 1) &&
		    EVP_DigestUpdate(ctx, sorted[i]->value, sorted[i]->value_len);
	ok = ok && EVP_DigestUpdate(ctx, "&key=", 5) && EVP_DigestUpdate(ctx, key, strlen(key)) &&
	    EVP_DigestFinal_ex(ctx, digest, &digest_len) && digest_len == ALIYUN_TOKEN_LEN / 2;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return ERR_INTERNAL;
	text_hex(out, digest, digest_len);
	return ERR_OK;
}

/* ERR_OK when params carry a token that matches them, else ERR_ALIYUN_TOKEN. */
static int
aliyun_token_check(struct request *r, const struct kvlist *params)
{
	char expected[ALIYUN_TOKEN_LEN + 1];
	const char *token = kvlist_get(params, "token");
	int rc;

	if (token == NULL)
		return ERR_ALIYUN_TOKEN;
	rc = aliyun_token(r->pool, params, r->cfg->aliyun.isv_key, expected);
	if (rc != ERR_OK)
		return rc;
	return text_equal_ct(token, expected) ? ERR_OK : ERR_ALIYUN_TOKEN;
}

/* ------------------------------------------------------- times and values */

static long long
aliyun_days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static unsigned
aliyun_number(const char *s, size_t n)
{
	unsigned v = 0;

	while (n-- > 0)
		v = v * 10 + (unsigned)(*s++ - '0');
	return v;
}

bool
aliyun_parse_time(const char *s, time_t *out)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	static const unsigned char month_days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned year, month, day, hour, minute, second;
	bool leap;
	size_t i;

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	year = aliyun_number(s, 4);
	month = aliyun_number(s + 5, 2);
	day = aliyun_number(s + 8, 2);
	hour = aliyun_number(s + 11, 2);
	minute = aliyun_number(s + 14, 2);
	second = aliyun_number(s + 17, 2);
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (year < 1970 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] ||
	    (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 59)
		return false;
	*out = (time_t)(aliyun_days_from_civil(year, month, day) * 86400 + hour * 3600 +
	    minute * 60 + second - ALIYUN_BEIJING);
	return true;
}

/* t as "YYYY-MM-DD HH:MM:SS" in UTC, for a DATETIME column; NULL if out of memory. */
static const char *
aliyun_utc(struct pool *pool, time_t t)
{
	char *out = pool_alloc(pool, 20);
	struct tm tm;

	if (out == NULL || gmtime_r(&t, &tm) == NULL || strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) != 19)
		return NULL;
	return out;
}

/* True for 1 to max bytes, each alphanumeric or in extra. */
static bool
aliyun_chars(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr(extra, s[i]) == NULL)
			return false;
	return true;
}

static bool
aliyun_valid_id(const char *s)
{
	return aliyun_chars(s, ALIYUN_ID_MAX, "._-");
}

static bool
aliyun_valid_uid(const char *s)
{
	return aliyun_chars(s, ALIYUN_UID_MAX, "") && strspn(s, "0123456789") == strlen(s);
}

static bool
aliyun_valid_sku(const char *s)
{
	return aliyun_chars(s, ALIYUN_SKU_MAX, "._:-");
}

static bool
aliyun_valid_bool(const char *s)
{
	return strcmp(s, "true") == 0 || strcmp(s, "false") == 0;
}

static bool
aliyun_valid_time(const char *s)
{
	time_t t;

	return aliyun_parse_time(s, &t);
}

/* ------------------------------------------------------------ parameters */

/*
 * Collects r's parameters, the query string and an urlencoded body (both
 * parsed by the router within max_fields and max_field_len), into one
 * list. Returns ERR_OK, ERR_TOO_MANY_FIELDS, ERR_NOMEM, or ERR_FIELD
 * naming a parameter that appears more than once.
 */
static int
aliyun_params(struct request *r, struct kvlist *out)
{
	size_t nquery = r->query_params.count, nbody = r->form.count, i, n;

	if (nquery + nbody > (size_t)r->cfg->max_fields)
		return ERR_TOO_MANY_FIELDS;
	out->count = nquery + nbody;
	out->items = pool_alloc(r->pool, (out->count + 1) * sizeof(*out->items));
	if (out->items == NULL)
		return ERR_NOMEM;
	if (nquery > 0)
		memcpy(out->items, r->query_params.items, nquery * sizeof(*out->items));
	if (nbody > 0)
		memcpy(out->items + nquery, r->form.items, nbody * sizeof(*out->items));
	for (i = 0; i < out->count; i++) {
		if (kvlist_count(out, out->items[i].name) == 1)
			continue;
		/* Echo a client-chosen name only when it is short, printable text. */
		n = strlen(out->items[i].name);
		r->error_field = n <= 64 && text_valid_utf8(out->items[i].name, n) ? out->items[i].name : "?";
		return ERR_FIELD;
	}
	return ERR_OK;
}

/*
 * The value of name in params into *out (NULL when absent). ERR_FIELD
 * naming it when it is required and missing, or present and not valid.
 */
static int
aliyun_param(struct request *r, const struct kvlist *params, const char *name, bool required,
    bool (*valid)(const char *), const char **out)
{
	*out = kvlist_get(params, name);
	if (*out == NULL ? !required : valid(*out))
		return ERR_OK;
	r->error_field = name;
	return ERR_FIELD;
}

/* --------------------------------------------------------------- the SPI */

struct aliyun_call;

struct aliyun_action {
	const char *name;
	/* Runs in the transaction with the subscription and any binding
	 * locked; NULL for createInstance, which makes the subscription. */
	int (*apply)(struct aliyun_call *c);
	bool needs_sku;
};

/* One SPI call, from its parameters to what it found and changed. */
struct aliyun_call {
	struct request *r;
	const struct aliyun_action *action;
	struct kvlist params;
	const char *instance_id;	/* orderBizId for createInstance */
	const char *ali_uid;
	const char *product_code;
	const char *order_id;
	const char *sku_id;
	const char *expired_on;		/* UTC, or NULL */
	const char *is_refund;
	bool trial;

	/* found in the transaction */
	long long subscription_id;	/* 0: an instance we never created */
	const char *account_id;		/* aliUid */
	const char *status;
	const char *sku_before;
	long long binding_id;		/* 0: not bound */
	const char *org_id;		/* NULL: not bound */
	bool replay;			/* applied before: nothing changed */
};

/* An audit event by the marketplace on c's org (NULL when not bound);
 * more name/value pairs follow, ending with NULL. */
#define aliyun_event(c, action, ...) \
	events_record(&(c)->r->worker->db, (c)->r->pool, (c)->org_id, 0, "aliyun", (action), \
	    "instance_id", (c)->instance_id, "account_id", (c)->account_id, __VA_ARGS__)

/* Records c in the SPI log; c->replay tells that a call with the same
 * instanceId, action and orderId was recorded before. */
static int
aliyun_log_call(struct aliyun_call *c)
{
	int rc;

	rc = db_run(&c->r->worker->db, c->r->pool, STMT_ALIYUN_SPI_LOG, NULL,
	    DB_ARGS(DB_TEXT(c->instance_id), DB_TEXT(c->action->name), DB_TEXT_OR_NULL(c->order_id),
	    c->subscription_id > 0 ? DB_INT(c->subscription_id) : DB_NULL));
	c->replay = rc == ERR_DB_DUPLICATE;
	return c->replay ? ERR_OK : rc;
}

/* Stores what c says about its subscription; NULL values keep the old ones. */
static int
aliyun_subscription_update(struct aliyun_call *c, const char *instance_id)
{
	return db_run(&c->r->worker->db, c->r->pool, STMT_ALIYUN_SUB_UPDATE, NULL,
	    DB_ARGS(DB_TEXT_OR_NULL(instance_id), DB_TEXT_OR_NULL(c->sku_id), DB_TEXT_OR_NULL(c->order_id),
	    DB_TEXT_OR_NULL(c->expired_on), DB_INT(c->subscription_id)));
}

static int
aliyun_set_status(struct aliyun_call *c, const char *status)
{
	return subscriptions_set_status(&c->r->worker->db, c->r->pool, c->subscription_id, status);
}

static int
aliyun_org_billing(struct aliyun_call *c, enum stmt_id id)
{
	return db_run(&c->r->worker->db, c->r->pool, id, NULL, DB_ARGS(DB_TEXT(c->org_id)));
}

/* expiredInstance: unpaid bills; the instance and its org freeze, data stays. */
static int
aliyun_expire(struct aliyun_call *c)
{
	int rc;

	if (strcmp(c->status, "active") != 0)
		return ERR_OK;	/* frozen or released already */
	rc = aliyun_set_status(c, "expired");
	if (rc == ERR_OK && c->org_id != NULL)
		rc = aliyun_org_billing(c, STMT_ORG_BILLING_FREEZE);
	return rc == ERR_OK ? aliyun_event(c, "subscription.expired", NULL) : rc;
}

/* renewInstance: the arrears are paid (or the term extended); a frozen
 * instance and its org work again. */
static int
aliyun_renew(struct aliyun_call *c)
{
	bool frozen = strcmp(c->status, "expired") == 0;
	int rc;

	if (strcmp(c->status, "ended") == 0)
		return ERR_SUBSCRIPTION_INACTIVE;
	rc = aliyun_subscription_update(c, NULL);
	if (rc == ERR_OK && frozen)
		rc = aliyun_set_status(c, "active");
	if (rc == ERR_OK && frozen && c->org_id != NULL)
		rc = aliyun_org_billing(c, STMT_ORG_BILLING_BOUND);
	return rc == ERR_OK ? aliyun_event(c, "subscription.renewed", "expired_on", c->expired_on,
	    "restored", frozen ? "true" : "false", NULL) : rc;
}

/* upgradeInstance: a new SKU, same expiry. */
static int
aliyun_upgrade(struct aliyun_call *c)
{
	int rc;

	if (strcmp(c->status, "ended") == 0)
		return ERR_SUBSCRIPTION_INACTIVE;
	rc = aliyun_subscription_update(c, NULL);
	return rc == ERR_OK ? aliyun_event(c, "subscription.upgraded", "from_sku_id", c->sku_before,
	    "sku_id", c->sku_id, NULL) : rc;
}

/* releaseInstance: the subscription ends, and so does its binding. */
static int
aliyun_release(struct aliyun_call *c)
{
	struct request *r = c->r;
	bool frozen = strcmp(c->status, "expired") == 0;
	int rc;

	if (strcmp(c->status, "ended") == 0)
		return ERR_OK;	/* released before */
	rc = aliyun_set_status(c, "ended");
	if (rc == ERR_OK && c->binding_id > 0)
		rc = binding_end(&r->worker->db, r->pool, c->binding_id, c->org_id, "released",
		    r->cfg->grace_seconds, "aliyun", 0, "aliyun", c->account_id);
	/* A frozen org stays frozen: nobody pays for it, so no service carries on. */
	if (rc == ERR_OK && c->binding_id > 0 && frozen)
		rc = aliyun_org_billing(c, STMT_ORG_BILLING_FREEZE);
	return rc == ERR_OK ? aliyun_event(c, "subscription.released", "is_refund", c->is_refund, NULL) : rc;
}

static const struct aliyun_action aliyun_actions[] = {
	{ "createInstance", NULL, false },
	{ "renewInstance", aliyun_renew, false },
	{ "upgradeInstance", aliyun_upgrade, true },
	{ "expiredInstance", aliyun_expire, false },
	{ "releaseInstance", aliyun_release, false },
};

/* Finds c's binding, if any, and locks its org and it, in that order. */
static int
aliyun_lock_binding(struct aliyun_call *c)
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
aliyun_lifecycle_tx(void *arg)
{
	struct aliyun_call *c = arg;
	struct request *r = c->r;
	struct db_result res;
	int rc;

	c->subscription_id = c->binding_id = 0;
	c->org_id = NULL;
	/* Lock order, as when a binding is confirmed: subscription, org, binding. */
	rc = db_run(&r->worker->db, r->pool, STMT_ALIYUN_SUB_LOCK, &res, DB_ARGS(DB_TEXT(c->instance_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 0)
		return aliyun_log_call(c);	/* never created: answered success, see aliyun.h */
	c->subscription_id = db_int(&res, 0, 0);
	c->account_id = db_text(&res, 0, 1);
	c->status = db_text(&res, 0, 2);
	c->sku_before = db_text(&res, 0, 3);
	rc = aliyun_log_call(c);
	if (rc != ERR_OK || c->replay)
		return rc;
	rc = aliyun_lock_binding(c);
	return rc == ERR_OK ? c->action->apply(c) : rc;
}

static int
aliyun_create_tx(void *arg)
{
	struct aliyun_call *c = arg;
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
	if (!created && (strcmp(sub.account_id, c->ali_uid) != 0 || sub.product_code == NULL ||
	    strcmp(sub.product_code, c->product_code) != 0))
		return ERR_ALIYUN_CONFLICT;
	c->subscription_id = sub.id;
	c->account_id = sub.account_id;
	rc = aliyun_log_call(c);
	if (rc != ERR_OK || !created)
		return rc;
	rc = aliyun_subscription_update(c, c->instance_id);
	return rc == ERR_OK ? aliyun_event(c, "subscription.created", "sku_id", c->sku_id,
	    "trial", c->trial ? "true" : "false", NULL) : rc;
}

/* Reads and checks an SPI call: parameters, token, action, values. */
static int
aliyun_spi_read(struct request *r, struct aliyun_call *c)
{
	const struct kvlist *p = &c->params;
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
	for (i = 0; action != NULL && i < sizeof(aliyun_actions) / sizeof(aliyun_actions[0]); i++)
		if (strcmp(aliyun_actions[i].name, action) == 0)
			break;
	if (action == NULL || i == sizeof(aliyun_actions) / sizeof(aliyun_actions[0]))
		return ERR_ALIYUN_ACTION;
	c->action = &aliyun_actions[i];
	if (c->action->apply == NULL) {
		rc = aliyun_param(r, p, "aliUid", true, aliyun_valid_uid, &c->ali_uid);
		if (rc == ERR_OK)
			rc = aliyun_param(r, p, "orderBizId", true, aliyun_valid_id, &c->instance_id);
		if (rc == ERR_OK)
			rc = aliyun_param(r, p, "productCode", true, aliyun_valid_id, &c->product_code);
	} else {
		rc = aliyun_param(r, p, "instanceId", true, aliyun_valid_id, &c->instance_id);
		if (rc == ERR_OK)
			rc = aliyun_param(r, p, "productCode", false, aliyun_valid_id, &c->product_code);
	}
	if (rc == ERR_OK)
		rc = aliyun_param(r, p, "orderId", false, aliyun_valid_id, &c->order_id);
	if (rc == ERR_OK)
		rc = aliyun_param(r, p, "skuId", c->action->needs_sku, aliyun_valid_sku, &c->sku_id);
	if (rc == ERR_OK)
		rc = aliyun_param(r, p, "trial", false, aliyun_valid_bool, &trial);
	if (rc == ERR_OK)
		rc = aliyun_param(r, p, "isRefund", false, aliyun_valid_bool, &c->is_refund);
	if (rc == ERR_OK)
		rc = aliyun_param(r, p, "expiredOn", false, aliyun_valid_time, &expired);
	if (rc != ERR_OK)
		return rc;
	if (c->product_code != NULL && strcmp(c->product_code, r->cfg->aliyun.product_code) != 0)
		return ERR_ALIYUN_PRODUCT;
	c->trial = trial != NULL && strcmp(trial, "true") == 0;
	if (expired != NULL && aliyun_parse_time(expired, &t) &&
	    (c->expired_on = aliyun_utc(r->pool, t)) == NULL)
		return ERR_NOMEM;
	return ERR_OK;
}

/* The createInstance answer: the same for every retry of one orderBizId. */
static int
aliyun_create_reply(struct request *r, const struct aliyun_call *c)
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

/* GET|POST /marketplace/aliyun/spi: see aliyun.h. */
static int
aliyun_spi(struct request *r)
{
	struct aliyun_call c = { .r = r };
	struct json_object *root;
	int rc;

	if (!r->cfg->aliyun.enabled)
		return aliyun_spi_fail(r, ERR_NOT_FOUND);
	rc = aliyun_spi_read(r, &c);
	if (rc == ERR_OK)
		rc = db_transaction(&r->worker->db,
		    c.action->apply != NULL ? aliyun_lifecycle_tx : aliyun_create_tx, &c);
	if (rc != ERR_OK)
		return aliyun_spi_fail(r, rc);
	if (c.subscription_id == 0)
		log_warnx("aliyun: %s for unknown instance \"%s\": answered success", c.action->name,
		    c.instance_id);
	else
		log_info("aliyun: %s of \"%s\": %s", c.action->name, c.instance_id,
		    c.replay ? "a replay, nothing changed" : "applied");
	if (c.action->apply == NULL)
		return aliyun_create_reply(r, &c);
	root = json_object_new_object();
	jw_str(root, "success", "true");
	return reply_json(r, 200, root);
}

/* ------------------------------------------------------------------ 免登 */

struct aliyun_sso_tx {
	struct request *r;
	const char *instance_id;
	const char *token_hash;		/* hex SHA-256 of the link's token */
	long keep;			/* seconds to remember it */
	char attempt[BINDING_ATTEMPT_LEN + 1];
	long long user_id;		/* bound: the user who bound it */
	const char *email;
	const char *org_id;
	const char *org_name;
};

static int
aliyun_sso_tx(void *arg)
{
	struct aliyun_sso_tx *tx = arg;
	struct request *r = tx->r;
	struct db *db = &r->worker->db;
	struct db_result res;
	long long subscription_id;
	const char *status;
	int rc;

	tx->user_id = 0;
	tx->org_id = tx->org_name = NULL;
	rc = db_run(db, r->pool, STMT_ALIYUN_VERIFY_USE, NULL, DB_ARGS(DB_TEXT(tx->token_hash),
	    DB_INT(tx->keep)));
	if (rc == ERR_DB_DUPLICATE)
		return ERR_ALIYUN_LINK_USED;
	if (rc == ERR_OK)
		rc = db_run(db, r->pool, STMT_ALIYUN_SUB_LOCK, &res, DB_ARGS(DB_TEXT(tx->instance_id)));
	if (rc != ERR_OK)
		return rc;
	/* Rolled back: the link stays usable until createInstance arrives. */
	if (res.nrows == 0)
		return ERR_ALIYUN_OPENING;
	subscription_id = db_int(&res, 0, 0);
	status = db_text(&res, 0, 2);
	rc = db_run(db, r->pool, STMT_ALIYUN_SSO_BINDING, &res, DB_ARGS(DB_INT(subscription_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 1) {
		tx->org_id = db_text(&res, 0, 0);
		tx->org_name = db_text(&res, 0, 1);
		if (db_int(&res, 0, 4) != 1)
			return ERR_ALIYUN_USER_GONE;
		tx->user_id = db_int(&res, 0, 2);
		tx->email = db_text(&res, 0, 3);
		return events_record(db, r->pool, tx->org_id, tx->user_id, "aliyun", "session.sso",
		    "instance_id", tx->instance_id, NULL);
	}
	if (!subscriptions_bindable(status))
		return ERR_SUBSCRIPTION_INACTIVE;
	return binding_attempt_create(db, r->pool, subscription_id, r->cfg->ticket_ttl, tx->attempt);
}

static const struct {
	int err;
	struct page_text title;
	struct page_text message;
} aliyun_sso_pages[] = {
	{ ERR_BAD_REQUEST, { "链接不完整", "This link is incomplete" },
	  { "请返回阿里云云市场控制台的“已购买服务列表”，重新单击“免登”。",
	    "Go back to 已购买服务列表 (purchased services) in the Alibaba Cloud Marketplace console and click 免登 again." } },
	{ ERR_ALIYUN_TOKEN, { "链接无效", "This link is not valid" },
	  { "该免登链接未通过校验。请返回阿里云云市场控制台的“已购买服务列表”，重新单击“免登”。",
	    "This 免登 link did not pass verification. Go back to 已购买服务列表 in the Alibaba Cloud Marketplace console and click 免登 again." } },
	{ ERR_ALIYUN_LINK_STALE, { "链接已过期", "This link has expired" },
	  { "免登链接只在生成后的几分钟内有效。请返回阿里云云市场控制台的“已购买服务列表”，重新单击“免登”。",
	    "A 免登 link works only for a few minutes. Go back to 已购买服务列表 in the Alibaba Cloud Marketplace console and click 免登 again." } },
	{ ERR_ALIYUN_LINK_USED, { "链接已使用", "This link was already used" },
	  { "每个免登链接只能使用一次。请返回阿里云云市场控制台的“已购买服务列表”，重新单击“免登”。",
	    "Each 免登 link works once. Go back to 已购买服务列表 in the Alibaba Cloud Marketplace console and click 免登 again." } },
	{ ERR_ALIYUN_OPENING, { "正在开通", "Activation in progress" },
	  { "您的实例仍在开通中，约需要 1 - 5 分钟完成。请稍后再次单击“免登”。",
	    "Your instance is still being activated, which takes about 1 to 5 minutes. Click 免登 again shortly." } },
	{ ERR_SUBSCRIPTION_INACTIVE, { "实例已失效", "This instance is no longer active" },
	  { "该实例已过期或已释放，无法绑定组织。请在阿里云云市场续费或重新开通后再试。",
	    "This instance has expired or was released, so it cannot be bound. Renew it or open a new one on Alibaba Cloud Marketplace." } },
	{ ERR_ALIYUN_USER_GONE, { "请登录", "Please sign in" },
	  { "该实例已为下列组织开通阿里云云市场扣费，但绑定它的用户已无法进入该组织。请使用该组织成员的账号登录。",
	    "This instance pays for the organization below, but the user who bound it can no longer enter it. Sign in with an account that is a member of the organization." } },
};

/* The page for a 免登 link that does not lead in; other errors go to the router. */
static int
aliyun_sso_page(struct request *r, int err, const struct aliyun_sso_tx *tx)
{
	struct page p = { .link_text = { "返回阿里云云市场", "Back to Alibaba Cloud Marketplace" } };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(aliyun_sso_pages) / sizeof(aliyun_sso_pages[0]); i++)
		if (aliyun_sso_pages[i].err == err)
			break;
	if (i == sizeof(aliyun_sso_pages) / sizeof(aliyun_sso_pages[0]))
		return err;
	p.title = aliyun_sso_pages[i].title;
	p.message = aliyun_sso_pages[i].message;
	if (r->cfg->aliyun.listing_url[0] != '\0')
		p.link_href = r->cfg->aliyun.listing_url;
	if (err == ERR_ALIYUN_USER_GONE) {
		p.detail = pool_printf(r->pool, r->lang == LANG_EN ? "Organization: %s (%s)" : "组织：%s（%s）",
		    tx->org_name, tx->org_id);
		if (p.detail == NULL)
			return ERR_NOMEM;
		p.link_href = "/login";
		p.link_text = (struct page_text){ "登录", "Sign in" };
	}
	if (err == ERR_ALIYUN_OPENING && (rc = request_add_header(r, "Retry-After", ALIYUN_RETRY_AFTER)) != ERR_OK)
		return rc;
	return page_render(r, error_status(err), &p);
}

/* Signs the user who bound the instance in for session.sso_ttl and sends
 * the browser to the org's billing overview. */
static int
aliyun_sso_sign_in(struct request *r, const struct aliyun_sso_tx *tx)
{
	const char *location;
	int rc;

	rc = session_create(r, tx->user_id, tx->email, SESSION_SSO, r->cfg->sso_session_ttl);
	if (rc != ERR_OK)
		return rc;
	location = pool_printf(r->pool, "%s/console/billing?org=%s", r->cfg->public_url, tx->org_id);
	return location != NULL ? reply_redirect(r, 303, location) : ERR_NOMEM;
}

/* Hex SHA-256 of token in the pool, or NULL. */
static const char *
aliyun_token_hash(struct pool *pool, const char *token)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char *hex = pool_alloc(pool, 2 * sizeof(digest) + 1);

	if (hex == NULL)
		return NULL;
	crypto_hash_sha256(digest, (const unsigned char *)token, strlen(token));
	text_hex(hex, digest, sizeof(digest));
	return hex;
}

/* GET /marketplace/aliyun/sso: see aliyun.h. */
static int
aliyun_sso(struct request *r)
{
	struct aliyun_sso_tx tx = { .r = r };
	long window = r->cfg->aliyun.verify_window;
	const char *action, *stamp, *token;
	struct kvlist params;
	time_t at, now = time(NULL);
	int rc;

	if (!r->cfg->aliyun.enabled)
		return ERR_NOT_FOUND;
	rc = aliyun_params(r, &params);
	if (rc != ERR_OK)
		return rc == ERR_NOMEM ? rc : aliyun_sso_page(r, ERR_BAD_REQUEST, &tx);
	action = kvlist_get(&params, "action");
	tx.instance_id = kvlist_get(&params, "instanceId");
	stamp = kvlist_get(&params, "timeStamp");
	token = kvlist_get(&params, "token");
	if (action == NULL || strcmp(action, "verify") != 0 || tx.instance_id == NULL ||
	    !aliyun_valid_id(tx.instance_id) || stamp == NULL || token == NULL)
		return aliyun_sso_page(r, ERR_BAD_REQUEST, &tx);
	rc = aliyun_token_check(r, &params);
	if (rc == ERR_OK && !aliyun_parse_time(stamp, &at))
		rc = ERR_BAD_REQUEST;
	if (rc == ERR_OK && (at < now - window || at > now + window))
		rc = ERR_ALIYUN_LINK_STALE;
	if (rc != ERR_OK)
		return aliyun_sso_page(r, rc, &tx);
	/* Kept a window past the link's own end, for clocks that differ between hosts. */
	tx.keep = (long)(at - now) + 2 * window;
	tx.token_hash = aliyun_token_hash(r->pool, token);
	if (tx.token_hash == NULL)
		return ERR_NOMEM;
	/* Best effort: a later visit purges what this one leaves. */
	(void)db_run(&r->worker->db, r->pool, STMT_ALIYUN_VERIFY_PURGE, NULL, DB_NOARGS);
	rc = db_transaction(&r->worker->db, aliyun_sso_tx, &tx);
	if (rc != ERR_OK)
		return aliyun_sso_page(r, rc, &tx);
	if (tx.user_id > 0)
		return aliyun_sso_sign_in(r, &tx);
	return binding_redirect(r, tx.attempt);
}

static const struct route aliyun_routes[] = {
	/* No field list: 云市场 may add parameters, and every one is signed. */
	{ "aliyun_spi", METHOD_GET | METHOD_POST, "/marketplace/aliyun/spi", aliyun_spi, AUTH_NONE,
	  BODY_FORM, REPLY_JSON, NULL },
	{ "aliyun_sso", METHOD_GET, "/marketplace/aliyun/sso", aliyun_sso, AUTH_NONE, BODY_NONE,
	  REPLY_PAGE, NULL },
};

ROUTE_TABLE(aliyun, aliyun_routes);
