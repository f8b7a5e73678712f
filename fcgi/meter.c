/* SPDX-License-Identifier: MIT */
/*
 * meter.c: closing usage hours into org_hours and ledger rows, with exact
 * integer money (DECIMAL in MySQL, unsigned __int128 here).
 */
#include "meter.h"

#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "error.h"
#include "log.h"
#include "marketplace.h"
#include "worker.h"
#include "banned.h"

#define METER_BATCH 500
#define PICO_PER_MICRO 1000000

time_t
meter_hour_of(time_t t)
{
	return t - t % METER_HOUR;
}

bool
meter_parse_pico(const char *s, unsigned __int128 *out)
{
	unsigned __int128 v = 0;
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++, n++) {
		if (*s < '0' || *s > '9' || n >= 38)
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	return true;
}

void
meter_format_pico(unsigned __int128 v, char *out)
{
	char tmp[48];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v > 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

struct meter_hour {
	struct worker *w;
	const char *org_id;
	long long hour;
	bool built;
};

/* Spends the org's free credit on up to want micros; returns what it spent. */
static int
meter_spend_credit(struct meter_hour *mh, unsigned long long want, unsigned long long *spent)
{
	struct worker *w = mh->w;
	struct db_result grants;
	unsigned long long left, take;
	size_t i;
	int rc;

	*spent = 0;
	if (want == 0)
		return ERR_OK;
	rc = db_run(&w->db, &w->pool, STMT_METER_CREDITS_LOCK, &grants,
	    DB_ARGS(DB_TEXT(mh->org_id), DB_INT(mh->hour)));
	for (i = 0; rc == ERR_OK && i < grants.nrows && *spent < want; i++) {
		left = db_int(&grants, i, 1) > 0 ? (unsigned long long)db_int(&grants, i, 1) : 0;
		take = left < want - *spent ? left : want - *spent;
		if (take == 0)
			continue;
		rc = db_run(&w->db, &w->pool, STMT_METER_CREDIT_SPEND, NULL, DB_ARGS(DB_INT(db_int(&grants, i, 0)),
		    DB_INT(mh->hour), DB_TEXT(mh->org_id), DB_INT((long long)take)));
		*spent += take;
	}
	return rc;
}

/* The subscription paying for the hour, or 0 when none. */
static int
meter_payer(struct meter_hour *mh, long long *subscription, const char **marketplace)
{
	struct worker *w = mh->w;
	struct db_result res;
	int rc;

	*subscription = 0;
	rc = db_run(&w->db, &w->pool, STMT_METER_PAYER_AT_START, &res,
	    DB_ARGS(DB_TEXT(mh->org_id), DB_INT(mh->hour), DB_INT(mh->hour)));
	if (rc == ERR_OK && res.nrows == 0)
		rc = db_run(&w->db, &w->pool, STMT_METER_PAYER_WITHIN, &res,
		    DB_ARGS(DB_TEXT(mh->org_id), DB_INT(mh->hour), DB_INT(mh->hour)));
	if (rc != ERR_OK || res.nrows == 0)
		return rc;
	if (strcmp(db_text(&res, 0, 2), "failed") == 0)
		return ERR_OK;	/* a failed subscription is never metered */
	*subscription = db_int(&res, 0, 0);
	*marketplace = db_text(&res, 0, 1);
	return ERR_OK;
}

/* The hour's ledger row for subscription, in the marketplace's unit. */
static int
meter_ledger_row(struct meter_hour *mh, long long subscription, const char *marketplace,
    unsigned __int128 billable)
{
	const struct marketplace *mp = marketplace_find(marketplace);
	const struct config *cfg = &mh->w->app->cfg;
	struct worker *w = mh->w;
	unsigned __int128 carry_in = 0, total, unit;
	char in[48], out[48];
	const char *dimension;
	struct db_result res;
	int rc;

	if (mp == NULL || mp->meter_dimension == NULL || mp->meter_unit_micros == NULL ||
	    mp->meter_unit_micros(cfg) <= 0)
		return ERR_OK;	/* this marketplace is not metered */
	dimension = mp->meter_dimension(cfg);
	rc = db_run(&w->db, &w->pool, STMT_METER_CARRY, &res,
	    DB_ARGS(DB_INT(subscription), DB_TEXT(dimension), DB_INT(mh->hour)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 1 && !meter_parse_pico(db_text(&res, 0, 0), &carry_in))
		return ERR_INTERNAL;
	unit = (unsigned __int128)mp->meter_unit_micros(cfg) * PICO_PER_MICRO;
	total = billable + carry_in;
	meter_format_pico(carry_in, in);
	meter_format_pico(total % unit, out);
	return db_run(&w->db, &w->pool, STMT_METER_LEDGER_INSERT, NULL, DB_ARGS(DB_INT(subscription),
	    DB_TEXT(marketplace), DB_TEXT(dimension), DB_INT(mh->hour), DB_INT((long long)(total / unit)),
	    DB_TEXT(in), DB_TEXT(out)));
}

static int
meter_hour_tx(void *arg)
{
	struct meter_hour *mh = arg;
	struct worker *w = mh->w;
	unsigned __int128 cost, billable;
	unsigned long long credit;
	long long subscription;
	const char *marketplace = NULL;
	char cost_text[48], billable_text[48];
	struct db_result res;
	int rc;

	mh->built = false;
	rc = db_run(&w->db, &w->pool, STMT_ORG_LEASE, &res, DB_ARGS(DB_TEXT(mh->org_id)));
	if (rc != ERR_OK || res.nrows == 0)
		return rc;	/* another meterd is building this org */
	rc = db_run(&w->db, &w->pool, STMT_ORG_HOUR_EXISTS, &res, DB_ARGS(DB_TEXT(mh->org_id), DB_INT(mh->hour)));
	if (rc != ERR_OK || res.nrows > 0)
		return rc;
	rc = db_run(&w->db, &w->pool, STMT_METER_HOUR_COST, &res, DB_ARGS(DB_TEXT(mh->org_id), DB_INT(mh->hour)));
	if (rc != ERR_OK)
		return rc;
	if (!meter_parse_pico(db_text(&res, 0, 0), &cost))
		return ERR_INTERNAL;
	rc = meter_spend_credit(mh, (unsigned long long)(cost / PICO_PER_MICRO), &credit);
	if (rc == ERR_OK)
		rc = meter_payer(mh, &subscription, &marketplace);
	if (rc != ERR_OK)
		return rc;
	billable = cost - (unsigned __int128)credit * PICO_PER_MICRO;
	meter_format_pico(cost, cost_text);
	meter_format_pico(billable, billable_text);
	rc = db_run(&w->db, &w->pool, STMT_METER_ORG_HOUR_INSERT, NULL, DB_ARGS(DB_TEXT(mh->org_id),
	    DB_INT(mh->hour), DB_TEXT(cost_text), DB_INT((long long)credit), DB_TEXT(billable_text),
	    subscription > 0 ? DB_INT(subscription) : DB_NULL));
	if (rc == ERR_OK && subscription > 0)
		rc = meter_ledger_row(mh, subscription, marketplace, billable);
	if (rc == ERR_OK)
		mh->built = true;
	return rc;
}

/* Closes the org-hours a candidate query returned, oldest first. */
static int
meter_close(struct worker *w, struct db_result *candidates, size_t *built)
{
	struct meter_hour mh = { .w = w };
	size_t i;
	int rc = ERR_OK;

	for (i = 0; rc == ERR_OK && i < candidates->nrows; i++) {
		mh.org_id = db_text(candidates, i, 0);
		mh.hour = db_int(candidates, i, 1);
		rc = db_transaction(&w->db, meter_hour_tx, &mh);
		if (rc == ERR_OK && mh.built)
			(*built)++;
	}
	return rc;
}

int
meter_build(struct worker *w)
{
	const struct config *cfg = &w->app->cfg;
	time_t now = time(NULL);
	long long first = meter_hour_of(now) - (long long)cfg->metering_lookback_hours * METER_HOUR;
	long long last = meter_hour_of(now - cfg->metering_settle) - METER_HOUR;
	long long flush_last = meter_hour_of(now) - METER_HOUR;
	struct db_result usage, bound, flush;
	size_t built = 0;
	int rc;

	/* Usage hours and bound hours, closed in hour order so carries chain. */
	rc = db_run(&w->db, &w->pool, STMT_METER_USAGE_HOURS, &usage,
	    DB_ARGS(DB_INT(first), DB_INT(last), DB_INT(METER_BATCH)));
	if (rc == ERR_OK)
		rc = meter_close(w, &usage, &built);
	if (rc == ERR_OK)
		rc = db_run(&w->db, &w->pool, STMT_METER_BOUND_HOURS, &bound,
		    DB_ARGS(DB_INT(first), DB_INT(last), DB_INT(0), DB_INT(METER_BATCH)));
	if (rc == ERR_OK)
		rc = meter_close(w, &bound, &built);
	/* A subscription being cancelled: close its hours now, not after the settle time. */
	if (rc == ERR_OK && flush_last > last)
		rc = db_run(&w->db, &w->pool, STMT_METER_BOUND_HOURS, &flush,
		    DB_ARGS(DB_INT(first), DB_INT(flush_last), DB_INT(1), DB_INT(METER_BATCH)));
	if (rc == ERR_OK && flush_last > last)
		rc = meter_close(w, &flush, &built);
	if (built > 0)
		log_info("meter: closed %zu org-hours", built);
	return rc;
}
