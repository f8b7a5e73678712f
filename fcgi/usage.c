/* SPDX-License-Identifier: MIT */
/*
 * usage.c: taking usage records in, each validated, priced exactly and
 * stored once under its idempotency id.
 */
#include "usage.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "fields.h"
#include "jsonw.h"
#include "meter.h"
#include "orgs.h"
#include "request.h"
#include "text.h"
#include "worker.h"
#include "banned.h"

#define USAGE_RECORDS_MAX 1000
#define USAGE_QUANTITY_MAX 1000000000LL		/* units */
#define USAGE_FUTURE_SECONDS 300

struct usage {
	const char *id;
	const char *org_id;
	const char *cloud;
	const char *region;
	const char *dimension;
	long long quantity_micros;
	long long start_us, end_us;
	long long hour;
	char start[64], end[64];
	char fingerprint[TEXT_SHA256_HEX];
	const char *price;	/* set while the batch is stored */
	bool closed, closed_known;
};

struct usage_verdict {
	const char *status;	/* accepted, duplicate, rejected */
	const char *code;
	const char *field;
	const char *message;
};

/* "2026-11-22T05:00:00[.ffffff]Z" as epoch microseconds; false if malformed. */
static bool
usage_time(const char *s, long long *us)
{
	struct tm tm;
	long long frac = 0;
	int digits = 0;
	const char *p;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return false;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p) && digits < 6; p++, digits++)
			frac = frac * 10 + (*p - '0');
		if (digits == 0 || isdigit((unsigned char)*p))
			return false;
		for (; digits < 6; digits++)
			frac *= 10;
	}
	if (strcmp(p, "Z") != 0)
		return false;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*us = (long long)t * 1000000 + frac;
	return true;
}

static void
usage_mysql_time(long long us, char *out, size_t size)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	/* strftime keeps the compiler's format checks quiet about ranges */
	n = strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
	if (n > 0 && n + 8 <= size)
		snprintf(out + n, size - n, ".%06u", (unsigned)(us % 1000000));
}

/* A quantity as micro-units: a JSON integer, or a decimal string. */
static bool
usage_quantity(struct json_object *v, long long *micros)
{
	const char *s;
	long long whole;

	if (json_object_is_type(v, json_type_int)) {
		whole = json_object_get_int64(v);
		if (whole < 0 || whole > USAGE_QUANTITY_MAX)
			return false;
		*micros = whole * 1000000;
		return true;
	}
	if (!json_object_is_type(v, json_type_string))
		return false;	/* a double is refused: money never goes through floating point */
	s = json_object_get_string(v);
	return strlen(s) == (size_t)json_object_get_string_len(v) &&	/* no \u0000 */
	    text_decimal_micros(s, USAGE_QUANTITY_MAX, micros);
}

static bool
usage_reject(struct usage_verdict *v, const char *code, const char *field, const char *message)
{
	v->status = "rejected";
	v->code = code;
	v->field = field;
	v->message = message;
	return false;
}

/* Reads and checks one record; false with *v filled when it is refused. */
static bool
usage_parse(struct request *r, struct json_object *record, struct usage *u, struct usage_verdict *v)
{
	const struct config *cfg = r->cfg;
	long long now_us = (long long)time(NULL) * 1000000;
	struct json_object *q;
	char *text;

	if (!json_object_is_type(record, json_type_object))
		return usage_reject(v, "invalid_record", NULL, "a record must be an object");
	u->id = jr_str(record, "id");
	if (u->id == NULL || !text_chars(u->id, 128, "._:-"))
		return usage_reject(v, "invalid_record", "id", "id must be 1-128 of A-Z a-z 0-9 . _ : -");
	u->org_id = jr_str(record, "org_id");
	if (u->org_id == NULL || !orgs_valid_id(u->org_id))
		return usage_reject(v, "invalid_record", "org_id", "org_id must be an organization id");
	u->cloud = jr_str(record, "cloud");
	if (u->cloud == NULL || !text_lower_chars(u->cloud, 32, "-"))
		return usage_reject(v, "invalid_record", "cloud", "cloud must be 1-32 of a-z 0-9 -");
	u->region = jr_str(record, "region");
	if (u->region == NULL || !text_lower_chars(u->region, 64, "-"))
		return usage_reject(v, "invalid_record", "region", "region must be 1-64 of a-z 0-9 -");
	u->dimension = jr_str(record, "dimension");
	if (u->dimension == NULL || !text_lower_chars(u->dimension, 64, "_.-"))
		return usage_reject(v, "invalid_record", "dimension", "dimension must be 1-64 of a-z 0-9 _ . -");
	if (!json_object_object_get_ex(record, "quantity", &q) || !usage_quantity(q, &u->quantity_micros))
		return usage_reject(v, "invalid_record", "quantity",
		    "quantity must be an integer or a decimal string with at most 6 decimals, 0 to 1e9");
	if (jr_str(record, "start") == NULL || !usage_time(jr_str(record, "start"), &u->start_us))
		return usage_reject(v, "invalid_record", "start", "start must be UTC RFC 3339");
	if (jr_str(record, "end") == NULL || !usage_time(jr_str(record, "end"), &u->end_us))
		return usage_reject(v, "invalid_record", "end", "end must be UTC RFC 3339");
	if (json_object_object_length(record) != 8)
		return usage_reject(v, "invalid_record", NULL, "a record has exactly the eight documented fields");
	if (u->end_us <= u->start_us)
		return usage_reject(v, "invalid_record", "end", "end must be after start");
	u->hour = meter_hour_of((time_t)(u->start_us / 1000000));
	if (meter_hour_of((time_t)((u->end_us - 1) / 1000000)) != u->hour)
		return usage_reject(v, "not_in_one_hour", NULL, "a record must lie within one UTC hour");
	if (u->end_us > now_us + (long long)USAGE_FUTURE_SECONDS * 1000000)
		return usage_reject(v, "in_future", "end", "the record ends in the future");
	if (u->hour < meter_hour_of(time(NULL)) - cfg->metering_lookback_hours * METER_HOUR)
		return usage_reject(v, "too_old", "start", "the record is older than metering.lookback_hours");
	usage_mysql_time(u->start_us, u->start, sizeof(u->start));
	usage_mysql_time(u->end_us, u->end, sizeof(u->end));
	text = pool_printf(r->pool, "%s|%s|%s|%s|%lld|%lld|%lld", u->org_id, u->cloud, u->region, u->dimension,
	    u->quantity_micros, u->start_us, u->end_us);
	if (text == NULL)
		return usage_reject(v, "internal", NULL, "out of memory");
	text_sha256_hex(u->fingerprint, text, strlen(text));
	return true;
}

/* One batch being stored: its records, their verdicts, and what the
 * transaction learned once for all of them. */
struct usage_batch {
	struct request *r;
	struct usage *u;
	struct usage_verdict *v;
	bool *valid;
	size_t n;
};

/* Judges an id stored before: the same content (duplicate) or a conflict. */
static int
usage_seen(struct usage_batch *b, size_t i)
{
	struct request *r = b->r;
	struct db_result res;
	int rc;

	rc = db_run(&r->worker->db, r->pool, STMT_USAGE_FINGERPRINT, &res, DB_ARGS(DB_TEXT(b->u[i].id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 1 && strcmp(db_text(&res, 0, 0), b->u[i].fingerprint) == 0) {
		b->v[i].status = "duplicate";
		b->v[i].code = NULL;
	} else if (res.nrows == 1) {
		usage_reject(&b->v[i], "conflict", "id", "this id was sent before with other content");
	}
	return ERR_OK;
}

static int
usage_compare_org(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Locks the batch's orgs in sorted order (so concurrent batches cannot
 * deadlock, and the builder cannot close an hour under us) and marks the
 * records of orgs that do not exist.
 */
static int
usage_lock_orgs(struct usage_batch *b)
{
	struct request *r = b->r;
	const char **orgs, *last = NULL;
	struct db_result res;
	size_t i, j, n = 0;
	int rc = ERR_OK;

	orgs = pool_alloc(r->pool, (b->n + 1) * sizeof(*orgs));
	if (orgs == NULL)
		return ERR_NOMEM;
	for (i = 0; i < b->n; i++)
		if (b->valid[i])
			orgs[n++] = b->u[i].org_id;
	qsort(orgs, n, sizeof(*orgs), usage_compare_org);
	for (i = 0; i < n && rc == ERR_OK; i++) {
		if (last != NULL && strcmp(last, orgs[i]) == 0)
			continue;
		last = orgs[i];
		rc = db_run(&r->worker->db, r->pool, STMT_ORG_LOCK, &res, DB_ARGS(DB_TEXT(orgs[i])));
		for (j = 0; rc == ERR_OK && res.nrows == 0 && j < b->n; j++)
			if (b->valid[j] && strcmp(b->u[j].org_id, orgs[i]) == 0)
				usage_reject(&b->v[j], "unknown_org", "org_id", "no such organization");
	}
	return rc;
}

/* The price of dimension (micro-currency per unit), looked up once a batch; NULL if none. */
static int
usage_price(struct usage_batch *b, size_t i, const char **price)
{
	struct db_result res;
	size_t j;
	int rc;

	for (j = 0; j < i; j++)
		if (b->valid[j] && b->u[j].price != NULL && strcmp(b->u[j].dimension, b->u[i].dimension) == 0) {
			*price = b->u[i].price = b->u[j].price;
			return ERR_OK;
		}
	rc = db_run(&b->r->worker->db, b->r->pool, STMT_PRICE_GET, &res, DB_ARGS(DB_TEXT(b->u[i].dimension)));
	*price = b->u[i].price = rc == ERR_OK && res.nrows == 1 ? db_text(&res, 0, 0) : NULL;
	return rc;
}

/* Whether the org-hour of record i is closed, looked up once a batch. */
static int
usage_closed(struct usage_batch *b, size_t i, bool *closed)
{
	struct db_result res;
	size_t j;
	int rc;

	for (j = 0; j < i; j++)
		if (b->valid[j] && b->u[j].closed_known && b->u[j].hour == b->u[i].hour &&
		    strcmp(b->u[j].org_id, b->u[i].org_id) == 0) {
			*closed = b->u[i].closed = b->u[j].closed;
			b->u[i].closed_known = true;
			return ERR_OK;
		}
	rc = db_run(&b->r->worker->db, b->r->pool, STMT_ORG_HOUR_EXISTS, &res,
	    DB_ARGS(DB_TEXT(b->u[i].org_id), DB_INT(b->u[i].hour)));
	*closed = b->u[i].closed = rc == ERR_OK && res.nrows > 0;
	b->u[i].closed_known = rc == ERR_OK;
	return rc;
}

static int
usage_store_tx(void *arg)
{
	struct usage_batch *b = arg;
	struct request *r = b->r;
	const char *price;
	bool closed;
	size_t i;
	int rc;

	for (i = 0; i < b->n; i++) {
		b->u[i].price = NULL;
		b->u[i].closed_known = false;
		if (b->valid[i])
			memset(&b->v[i], 0, sizeof(b->v[i]));	/* a deadlock reruns the batch */
	}
	rc = usage_lock_orgs(b);
	for (i = 0; rc == ERR_OK && i < b->n; i++) {
		if (!b->valid[i] || b->v[i].status != NULL)
			continue;
		rc = usage_closed(b, i, &closed);
		if (rc != ERR_OK)
			break;
		if (closed) {
			/* A record sent again is a duplicate even once its hour has closed. */
			usage_reject(&b->v[i], "hour_closed", "start", "this hour of the organization was already billed");
			rc = usage_seen(b, i);
			continue;
		}
		rc = usage_price(b, i, &price);
		if (rc != ERR_OK)
			break;
		if (price == NULL) {
			usage_reject(&b->v[i], "unknown_dimension", "dimension", "no price for this dimension");
			continue;
		}
		rc = db_run(&r->worker->db, r->pool, STMT_USAGE_INSERT, NULL, DB_ARGS(DB_TEXT(b->u[i].id),
		    DB_TEXT(b->u[i].org_id), DB_TEXT(b->u[i].cloud), DB_TEXT(b->u[i].region), DB_TEXT(b->u[i].dimension),
		    DB_INT(b->u[i].quantity_micros), DB_TEXT(b->u[i].start), DB_TEXT(b->u[i].end),
		    DB_INT(b->u[i].hour), DB_INT(b->u[i].quantity_micros), DB_TEXT(price), DB_TEXT(b->u[i].fingerprint)));
		if (rc == ERR_OK)
			b->v[i].status = "accepted";
		else if (rc == ERR_DB_DUPLICATE)
			rc = usage_seen(b, i);	/* sent before, or twice in this batch */
	}
	return rc;
}

/* POST /internal/usage: see usage.h. */
static int
usage_ingest(struct request *r)
{
	struct json_object *records = field_json(r, "records"), *root, *results, *item, *err;
	struct usage_batch b = { .r = r, .n = json_object_array_length(records) };
	long long counts[3] = { 0, 0, 0 };
	size_t i;
	int rc;

	b.u = pool_alloc(r->pool, b.n * sizeof(*b.u));
	b.v = pool_alloc(r->pool, b.n * sizeof(*b.v));
	b.valid = pool_alloc(r->pool, b.n * sizeof(*b.valid));
	if (b.u == NULL || b.v == NULL || b.valid == NULL)
		return ERR_NOMEM;
	for (i = 0; i < b.n; i++)
		b.valid[i] = usage_parse(r, json_object_array_get_idx(records, i), &b.u[i], &b.v[i]);
	/* One transaction for the batch: the control plane resends it whole if it fails. */
	rc = db_transaction(&r->worker->db, usage_store_tx, &b);
	if (rc != ERR_OK)
		return rc;
	results = json_object_new_array();
	for (i = 0; i < b.n; i++) {
		counts[strcmp(b.v[i].status, "accepted") == 0 ? 0 : strcmp(b.v[i].status, "duplicate") == 0 ? 1 : 2]++;
		item = json_object_new_object();
		jw_str(item, "id", b.u[i].id);
		jw_str(item, "status", b.v[i].status);
		if (b.v[i].code != NULL) {
			err = json_object_new_object();
			jw_str(err, "code", b.v[i].code);
			jw_str(err, "message", b.v[i].message);
			if (b.v[i].field != NULL)
				jw_str(err, "field", b.v[i].field);
			jw_add(item, "error", err);
		}
		json_object_array_add(results, item);
	}
	root = json_object_new_object();
	jw_int(root, "accepted", counts[0]);
	jw_int(root, "duplicates", counts[1]);
	jw_int(root, "rejected", counts[2]);
	jw_add(root, "results", results);
	return reply_json(r, 200, root);
}

static const struct field usage_fields[] = {
	{ "records", FIELD_ARRAY, 1, USAGE_RECORDS_MAX, FIELD_REQUIRED, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct route usage_routes[] = {
	{ "usage_ingest", METHOD_POST, "/internal/usage", usage_ingest, AUTH_SERVICE, BODY_JSON, REPLY_JSON,
	  usage_fields },
};

ROUTE_TABLE(usage, usage_routes);
