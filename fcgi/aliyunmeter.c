/* SPDX-License-Identifier: MIT */
/*
 * aliyunmeter.c: PushMeteringData: leasing ledger rows, grouping them into
 * requests (one product, whole instances, at most 100 records), signing
 * (acs3.c), sending (http.c) and settling each row with the answer. It
 * never sends a row twice: whatever may have landed ends unknown.
 */
#include "aliyunmeter.h"

#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "acs3.h"
#include "config.h"
#include "db.h"
#include "error.h"
#include "http.h"
#include "jsonw.h"
#include "ledger.h"
#include "log.h"
#include "pool.h"
#include "worker.h"
#include "banned.h"

#define ALIYUN_METER_MARKETPLACE "aliyun"
#define ALIYUN_METER_ACTION "PushMeteringData"
#define ALIYUN_METER_VERSION "2015-11-01"
#define ALIYUN_METER_HOUR 3600
#define ALIYUN_METER_DEADLINE (3600 + 59 * 60)	/* an hour's data must arrive before its start + 1:59 */
#define ALIYUN_METER_MARGIN 60			/* ... and we want it there a minute early */
#define ALIYUN_METER_FUTURE 300			/* EndTime may be at most this far ahead of now */
#define ALIYUN_METER_LEASES_PER_PASS 20
#define ALIYUN_METER_RESPONSE_MAX (64 * 1024)
#define ALIYUN_METER_CODE_MAX 64
#define ALIYUN_METER_ID_MAX 128
#define ALIYUN_METER_LEASE_SLACK_MS 1000	/* an answer must be recorded this long before the lease ends */
#define ALIYUN_METER_CALL_MIN_MS 500		/* not worth starting a push with less time than this */

/* One request: indexes into the lease's rows. */
struct aliyun_meter_batch {
	size_t idx[ALIYUN_METER_RECORDS];
	size_t n;
	size_t instances;
};

static const char *const aliyun_meter_verdict_names[] = {
	[ALIYUN_METER_ACCEPT] = "accepted",
	[ALIYUN_METER_RETRY] = "retry",
	[ALIYUN_METER_REJECT] = "rejected",
	[ALIYUN_METER_SPLIT] = "refused whole, split",
	[ALIYUN_METER_UNKNOWN] = "unknown",
	[ALIYUN_METER_HOLD] = "held: our credentials or configuration were refused",
};

/* Refusals of our credentials, signature, permissions or endpoint: prefixes of Alibaba Cloud's codes. */
static const char *const aliyun_meter_config_codes[] = {
	"SignatureDoesNotMatch", "IncompleteSignature", "InvalidSignature", "UnsupportedSignature",
	"InvalidAccessKeyId", "InvalidSecurityToken", "MissingSecurityToken", "InvalidTimeStamp", "Forbidden",
	"Permission.Denied", "NoPermission", "InvalidAction", "InvalidVersion", NULL
};

/* ---------------------------------------------------------------- answers */

static bool
aliyun_meter_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A marketplace string kept for the ledger: at most max bytes of [A-Za-z0-9._-], others '_'. */
static const char *
aliyun_meter_clean(struct pool *pool, const char *s, size_t max)
{
	char *out = pool_strndup(pool, s, strnlen(s, max));
	size_t i;

	for (i = 0; out != NULL && out[i] != '\0'; i++)
		if (!((out[i] >= 'A' && out[i] <= 'Z') || (out[i] >= 'a' && out[i] <= 'z') ||
		    (out[i] >= '0' && out[i] <= '9') || out[i] == '.' || out[i] == '_' || out[i] == '-'))
			out[i] = '_';
	return out;
}

/* Success: true (or "true", as some gateways write it). */
static bool
aliyun_meter_success(struct json_object *obj)
{
	struct json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, "Success", &v))
		return false;
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	return json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), "true") == 0;
}

static enum aliyun_meter_verdict
aliyun_meter_code_verdict(const char *code, long status, bool several_instances)
{
	size_t i;

	if (strcmp(code, "Service.Flow.Control") == 0 || aliyun_meter_prefix(code, "Throttling") ||
	    strcmp(code, "InternalError") == 0 || strcmp(code, "ServiceUnavailable") == 0 ||
	    strcmp(code, "SignatureNonceUsed") == 0 || status >= 500 || status == 429)
		return ALIYUN_METER_RETRY;
	for (i = 0; aliyun_meter_config_codes[i] != NULL; i++)
		if (aliyun_meter_prefix(code, aliyun_meter_config_codes[i]))
			return ALIYUN_METER_HOLD;
	if (aliyun_meter_prefix(code, "Invalid.Parameter") || strcmp(code, "Metering.Data.Exceeded") == 0)
		return several_instances ? ALIYUN_METER_SPLIT : ALIYUN_METER_REJECT;
	if (status == 401 || status == 403)
		return ALIYUN_METER_HOLD;
	return ALIYUN_METER_REJECT;
}

/*
 * A refusal without a Code, by its status: 502 and 504 are a gateway that
 * lost the service's answer, which may have billed (UNKNOWN); other 5xx,
 * 429 and 408 were not processed (RETRY); 413, 414 and 431 are too big
 * (fewer records); any other came from before 云市场's metering (a
 * gateway, a proxy, a wrong market_url): nothing was billed and it is
 * ours to fix (HOLD).
 */
static enum aliyun_meter_verdict
aliyun_meter_status_verdict(long status, bool several_instances)
{
	if (status == 502 || status == 504)
		return ALIYUN_METER_UNKNOWN;
	if (status >= 500 || status == 429 || status == 408)
		return ALIYUN_METER_RETRY;
	if (status == 413 || status == 414 || status == 431)
		return several_instances ? ALIYUN_METER_SPLIT : ALIYUN_METER_REJECT;
	return ALIYUN_METER_HOLD;
}

int
aliyun_meter_judge(struct pool *pool, int http_rc, const struct http_reply *reply,
    bool several_instances, struct aliyun_meter_outcome *out)
{
	struct json_object *json = NULL;
	const char *code, *request_id;
	long status = reply->status;

	out->record_id = NULL;
	if (http_rc != ERR_OK) {
		/* Nothing arrived: before the request left, a resend is harmless. */
		out->verdict = reply->sent ? ALIYUN_METER_UNKNOWN : ALIYUN_METER_RETRY;
		out->code = !reply->sent ? "not_sent" : reply->timed_out ? "timeout_after_send" :
		    "connection_lost_after_send";
		return ERR_OK;
	}
	if (reply->body.len > 0)
		json = json_tokener_parse(buf_cstr(&reply->body));
	if (json != NULL && !json_object_is_type(json, json_type_object)) {
		json_object_put(json);
		json = NULL;
	}
	code = jr_str(json, "Code");
	if (status >= 200 && status < 300 && aliyun_meter_success(json)) {
		out->verdict = ALIYUN_METER_ACCEPT;
		out->code = "Success";
		request_id = jr_str(json, "RequestId");
		if (request_id != NULL && request_id[0] != '\0')
			out->record_id = aliyun_meter_clean(pool, request_id, ALIYUN_METER_ID_MAX);
	} else if (code != NULL && code[0] != '\0') {
		out->verdict = aliyun_meter_code_verdict(code, status, several_instances);
		out->code = aliyun_meter_clean(pool, code, ALIYUN_METER_CODE_MAX);
	} else if (status >= 200 && status < 300) {
		out->verdict = ALIYUN_METER_UNKNOWN;
		out->code = "malformed_answer";
	} else {
		out->verdict = aliyun_meter_status_verdict(status, several_instances);
		out->code = pool_printf(pool, "http_%ld", status);
	}
	if (json != NULL)
		json_object_put(json);
	return out->code != NULL ? ERR_OK : ERR_NOMEM;
}

/* ---------------------------------------------------------------- sending */

/* Settles one row as outcome says; ERR_OK or a db error. */
static int
aliyun_meter_settle(struct worker *w, const struct ledger_row *row, const struct aliyun_meter_outcome *o)
{
	switch (o->verdict) {
	case ALIYUN_METER_ACCEPT:
		return ledger_accept(w, row, o->record_id);
	case ALIYUN_METER_RETRY:
		return ledger_retry(w, row, o->code, false);
	case ALIYUN_METER_SPLIT:
		return ledger_retry(w, row, o->code, true);
	case ALIYUN_METER_UNKNOWN:
		return ledger_unknown(w, row, o->code);
	case ALIYUN_METER_HOLD:
		return ledger_hold(w, row, o->code);
	case ALIYUN_METER_REJECT:
		break;
	}
	return ledger_reject(w, row, o->code);
}

/* Settles every row of batch alike; the first error, after trying them all. */
static int
aliyun_meter_settle_batch(struct worker *w, const struct ledger_row *rows, const struct aliyun_meter_batch *b,
    const struct aliyun_meter_outcome *o)
{
	size_t i;
	int rc = ERR_OK, one;

	for (i = 0; i < b->n; i++) {
		one = aliyun_meter_settle(w, &rows[b->idx[i]], o);
		if (one != ERR_OK) {
			log_warnx("aliyun: settling ledger row %lld as %s failed: %s", rows[b->idx[i]].id,
			    aliyun_meter_verdict_names[o->verdict], error_code(one));
			if (rc == ERR_OK)
				rc = one;
		}
	}
	return rc;
}

/* One record of the Metering array; NULL when out of memory. */
static struct json_object *
aliyun_meter_record(struct worker *w, const struct ledger_row *row)
{
	const char *assit = w->app->cfg.aliyun.metering_assit;
	const char *start = pool_printf(&w->pool, "%lld", row->hour);
	const char *end = pool_printf(&w->pool, "%lld", row->hour + ALIYUN_METER_HOUR);
	const char *value = pool_printf(&w->pool, "%lld", row->quantity);
	struct json_object *record = json_object_new_object(), *entities = json_object_new_array();
	struct json_object *entity = json_object_new_object();
	struct json_object *leaves[] = {
		json_object_new_string(row->instance_id),
		start != NULL ? json_object_new_string(start) : NULL,
		end != NULL ? json_object_new_string(end) : NULL,
		json_object_new_string(row->dimension),
		value != NULL ? json_object_new_string(value) : NULL,
		assit[0] != '\0' ? json_object_new_string(assit) : NULL,
	};
	size_t i, nleaves = sizeof(leaves) / sizeof(leaves[0]) - (assit[0] == '\0');
	bool complete = record != NULL && entities != NULL && entity != NULL;

	for (i = 0; i < nleaves; i++)
		complete = complete && leaves[i] != NULL;
	if (!complete) {
		for (i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
			json_object_put(leaves[i]);
		json_object_put(entity);
		json_object_put(entities);
		json_object_put(record);
		return NULL;
	}
	/* From here each add takes ownership of what it is given. */
	json_object_object_add(record, "InstanceId", leaves[0]);
	json_object_object_add(record, "StartTime", leaves[1]);
	json_object_object_add(record, "EndTime", leaves[2]);
	json_object_object_add(entity, "Key", leaves[3]);
	json_object_object_add(entity, "Value", leaves[4]);
	if (leaves[5] != NULL)
		json_object_object_add(entity, "meteringAssit", leaves[5]);
	json_object_array_add(entities, entity);
	json_object_object_add(record, "Entities", entities);
	return record;
}

/* The Metering parameter for batch: a JSON array string in the pool, or NULL. */
static const char *
aliyun_meter_metering(struct worker *w, const struct ledger_row *rows, const struct aliyun_meter_batch *b)
{
	struct json_object *records = json_object_new_array(), *record;
	const char *text = NULL;
	size_t i;

	if (records == NULL)
		return NULL;
	for (i = 0; i < b->n; i++) {
		record = aliyun_meter_record(w, &rows[b->idx[i]]);
		if (record == NULL || json_object_array_add(records, record) != 0) {
			json_object_put(record);
			json_object_put(records);
			return NULL;
		}
	}
	text = json_object_to_json_string_ext(records, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	text = text != NULL ? pool_strdup(&w->pool, text) : NULL;
	json_object_put(records);	/* text was its buffer: copied first */
	return text;
}

/* Marks each instance of batch as just pushed to (the 60 s rule counts from the answer). */
static int
aliyun_meter_stamp(struct worker *w, const struct ledger_row *rows, const struct aliyun_meter_batch *b)
{
	size_t i, j;
	int rc = ERR_OK;

	for (i = 0; i < b->n && rc == ERR_OK; i++) {
		for (j = 0; j < i && rows[b->idx[j]].subscription_id != rows[b->idx[i]].subscription_id; j++)
			continue;
		if (j == i)
			rc = db_run(&w->db, &w->pool, STMT_SUB_METERED, NULL,
			    DB_ARGS(DB_INT(rows[b->idx[i]].subscription_id)));
	}
	return rc;
}

/*
 * One PushMeteringData for batch and the settling of its rows. The call
 * ends before the rows' lease does (lease_end, ledger_clock_ms()), so that
 * another meterd never finds them "sent" past their lease while the answer
 * is still coming; without time for a call, nothing is sent. When our
 * credentials or configuration were refused (HOLD), *refusal is set to
 * the code (in the pool) and a warning logged.
 */
static int
aliyun_meter_push(struct worker *w, const struct ledger_row *rows, const struct aliyun_meter_batch *b,
    long long lease_end, const char **refusal)
{
	const struct config_aliyun *cfg = &w->app->cfg.aliyun;
	struct aliyun_meter_outcome outcome = { ALIYUN_METER_RETRY, "internal", NULL };
	const char *headers[ACS3_HEADERS + 3];
	char nonce[ACS3_NONCE_LEN + 1];
	struct acs3_param param;
	struct acs3_request req;
	struct acs3_signed sig;
	struct http_call call;
	struct http_reply reply;
	long long timeout_ms = lease_end - ALIYUN_METER_LEASE_SLACK_MS - ledger_clock_ms();
	size_t i;
	int rc, http_rc, settle_rc;

	if (timeout_ms < ALIYUN_METER_CALL_MIN_MS) {
		outcome.code = "lease_ran_out";
		rc = ERR_OK;
		goto out_unsent;
	}
	if (timeout_ms > w->app->cfg.http_timeout * 1000L)
		timeout_ms = w->app->cfg.http_timeout * 1000L;
	param.name = "Metering";
	param.value = aliyun_meter_metering(w, rows, b);
	if (param.value == NULL) {
		rc = ERR_NOMEM;
		goto out_unsent;
	}
	acs3_nonce(nonce);
	req = (struct acs3_request){ .method = "POST", .endpoint = cfg->market_url, .action = ALIYUN_METER_ACTION,
	    .version = ALIYUN_METER_VERSION, .query = &param, .nquery = 1, .body = "", .body_len = 0,
	    .date = time(NULL), .nonce = nonce, .access_key_id = cfg->access_key_id,
	    .access_key_secret = cfg->access_key_secret };
	rc = acs3_sign(&w->pool, &req, &sig);
	if (rc != ERR_OK)
		goto out_unsent;
	for (i = 0; i < ACS3_HEADERS; i++)
		headers[i] = sig.headers[i];
	headers[i++] = "Accept: application/json";
	headers[i++] = "Content-Type:";	/* no body: no form content type from libcurl */
	headers[i] = NULL;
	memset(&call, 0, sizeof(call));
	call.method = "POST";
	call.url = sig.url;
	call.body = "";
	call.body_len = 0;
	call.headers = headers;
	call.timeout_ms = (long)timeout_ms;
	call.max_response = ALIYUN_METER_RESPONSE_MAX;
	call.not_idempotent = true;
	http_rc = http_perform(&w->http, &call, &reply);
	rc = aliyun_meter_judge(&w->pool, http_rc, &reply, b->instances > 1, &outcome);
	if (rc != ERR_OK) {
		/* Out of memory judging the answer: it may have been billed. */
		outcome.verdict = ALIYUN_METER_UNKNOWN;
		outcome.code = "internal";
	}
	log_info("aliyun: %s of %zu records for %zu instances: %s %s (HTTP %ld)", ALIYUN_METER_ACTION, b->n,
	    b->instances, aliyun_meter_verdict_names[outcome.verdict], outcome.code, reply.status);
	if (outcome.verdict == ALIYUN_METER_HOLD) {
		*refusal = outcome.code;
		log_warnx("aliyun: %s refused our credentials or configuration: %s (HTTP %ld); the ledger is held "
		    "and pushed once aliyun.access_key_id, access_key_secret and market_url are right and the account "
		    "may call it", ALIYUN_METER_ACTION, outcome.code, reply.status);
	}
	if (reply.sent) {
		settle_rc = aliyun_meter_stamp(w, rows, b);
		if (settle_rc != ERR_OK)
			log_warnx("aliyun: stamping instances as metered failed: %s", error_code(settle_rc));
	}
	http_reply_release(&reply);
	settle_rc = aliyun_meter_settle_batch(w, rows, b, &outcome);
	return rc != ERR_OK ? rc : settle_rc;

out_unsent:
	/* Nothing left the process: the rows may go again. */
	log_warnx("aliyun: %s of %zu records not sent: %s", ALIYUN_METER_ACTION, b->n,
	    rc != ERR_OK ? error_code(rc) : outcome.code);
	settle_rc = aliyun_meter_settle_batch(w, rows, b, &outcome);
	return rc != ERR_OK ? rc : settle_rc;
}

/* ---------------------------------------------------------------- a lease */

static bool
aliyun_meter_same_product(const struct ledger_row *a, const struct ledger_row *b)
{
	return strcmp(a->product_code != NULL ? a->product_code : "",
	    b->product_code != NULL ? b->product_code : "") == 0;
}

/*
 * Settles what must not be sent, then sends the rest of rows[0..n): an
 * instance whose rows were refused whole before (solo) alone, the others
 * together per product. An instance's rows always travel together. After
 * a refusal of our credentials or configuration (*refusal set), the rest
 * is held unsent.
 */
static int
aliyun_meter_lease_send(struct worker *w, const struct ledger_row *rows, size_t n, long long lease_end,
    const char **refusal)
{
	struct aliyun_meter_outcome hold;
	struct aliyun_meter_batch b;
	bool unsent[ALIYUN_METER_RECORDS], solo[ALIYUN_METER_RECORDS];
	time_t now = time(NULL);
	size_t i, j, k, first;
	int rc = ERR_OK, one;

	for (i = 0; i < n; i++) {
		unsent[i] = false;
		hold.record_id = NULL;
		if (rows[i].instance_id == NULL || rows[i].instance_id[0] == '\0') {
			hold.verdict = ALIYUN_METER_REJECT;
			hold.code = "no_instance";
		} else if (now >= rows[i].hour + ALIYUN_METER_DEADLINE - ALIYUN_METER_MARGIN) {
			/* 云市场 would refuse the whole request for it */
			hold.verdict = ALIYUN_METER_REJECT;
			hold.code = "late";
		} else if (rows[i].hour + ALIYUN_METER_HOUR > now + ALIYUN_METER_FUTURE) {
			hold.verdict = ALIYUN_METER_RETRY;
			hold.code = "hour_not_over";
		} else {
			unsent[i] = true;
			continue;
		}
		log_info("aliyun: ledger row %lld not sent: %s", rows[i].id, hold.code);
		one = aliyun_meter_settle(w, &rows[i], &hold);
		if (one != ERR_OK && rc == ERR_OK)
			rc = one;
	}
	for (i = 0; i < n; i++)
		for (solo[i] = false, j = 0; j < n && !solo[i]; j++)
			solo[i] = rows[j].subscription_id == rows[i].subscription_id && rows[j].solo;
	for (first = 0; first < n; first++) {
		if (!unsent[first])
			continue;
		b.n = 0;
		b.instances = 0;
		for (i = first; i < n; i++) {
			if (!unsent[i] || (solo[first] ? rows[i].subscription_id != rows[first].subscription_id :
			    solo[i] || !aliyun_meter_same_product(&rows[i], &rows[first])))
				continue;
			for (k = 0; k < b.n && rows[b.idx[k]].subscription_id != rows[i].subscription_id; k++)
				continue;
			if (k == b.n)
				b.instances++;
			b.idx[b.n++] = i;
			unsent[i] = false;
		}
		if (*refusal != NULL) {
			hold = (struct aliyun_meter_outcome){ ALIYUN_METER_HOLD, *refusal, NULL };
			one = aliyun_meter_settle_batch(w, rows, &b, &hold);
		} else {
			one = aliyun_meter_push(w, rows, &b, lease_end, refusal);
		}
		if (one != ERR_OK && rc == ERR_OK)
			rc = one;
	}
	return rc;
}

int
aliyun_meter_send(struct worker *w)
{
	const struct config_aliyun *cfg = &w->app->cfg.aliyun;
	struct ledger_row rows[ALIYUN_METER_RECORDS];
	const char *refusal = NULL;
	size_t n, leases;
	int rc;

	if (!cfg->enabled)
		return ERR_OK;
	/* A push that died mid-way may have billed: never resend it. */
	rc = ledger_recover(w, ALIYUN_METER_MARKETPLACE, false);
	for (leases = 0; rc == ERR_OK && refusal == NULL && leases < ALIYUN_METER_LEASES_PER_PASS; leases++) {
		pool_reset(&w->pool);
		rc = ledger_lease(w, ALIYUN_METER_MARKETPLACE, cfg->metering_interval, rows, ALIYUN_METER_RECORDS, &n);
		if (rc != ERR_OK || n == 0)
			break;
		rc = aliyun_meter_lease_send(w, rows, n, rows[0].lease_end, &refusal);
	}
	return rc;
}
