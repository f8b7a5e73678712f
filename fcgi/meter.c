/* SPDX-License-Identifier: MIT */
/*
 * meter.c: closing usage hours in two steps: each org-hour into org_hours
 * (its cost, the free credit it used, the subscription that pays), then
 * each subscription-hour into one ledger row summing the org-hours it pays
 * for. Money is exact integers (DECIMAL in MySQL, unsigned __int128 here).
 */
#include "meter.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "error.h"
#include "log.h"
#include "marketplace.h"
#include "worker.h"
#include "banned.h"

#define METER_BATCH 1000
#define METER_HELD_MAX 64
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

/* What became of one org-hour or subscription-hour this pass. */
enum meter_outcome {
	METER_WAIT,		/* locked elsewhere, or an earlier hour comes first: next pass */
	METER_DONE,		/* closed before */
	METER_BUILT		/* closed now */
};

/*
 * Orgs or subscriptions (their ids as text) whose hour failed or waited
 * this pass: their later hours wait for the next pass too, so credit is
 * spent and carries chain in hour order.
 */
struct meter_held {
	const char *key[METER_HELD_MAX];
	size_t n;
};

struct meter_pass {
	struct worker *w;
	long long first;		/* the oldest hour looked at */
	struct meter_held orgs, subscriptions;
	size_t org_hours, subscription_hours, failed;
	int rc;				/* ERR_DB once the connection is lost */
};

static bool
meter_held(const struct meter_held *h, const char *key)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->key[i], key) == 0)
			return true;
	return false;
}

/* Holds key back for the rest of the pass; false when the list is full. */
static bool
meter_hold(struct meter_held *h, const char *key)
{
	if (h->n == METER_HELD_MAX)
		return false;
	h->key[h->n++] = key;
	return true;
}

/*
 * Notes what happened to one hour of key: counts it, or logs the error
 * and holds key back. False when the pass must stop: the database is
 * gone, or too many keys are held.
 */
static bool
meter_note(struct meter_pass *p, struct meter_held *held, size_t *built, const char *what, const char *key,
    long long hour, enum meter_outcome outcome, int rc)
{
	time_t t = (time_t)hour;
	char when[32];
	struct tm tm;

	if (rc == ERR_OK && outcome == METER_BUILT)
		(*built)++;
	if (rc == ERR_OK && outcome != METER_WAIT)
		return true;
	if (rc != ERR_OK) {
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:00Z", &tm);
		log_warnx("meter: %s \"%s\" hour %s not closed: %s", what, key, when, error_code(rc));
		p->failed++;
	}
	if (rc == ERR_DB)
		p->rc = rc;
	return rc != ERR_DB && meter_hold(held, key);
}

/* ----- org-hours ----------------------------------------------------------------- */

struct meter_org_hour {
	struct worker *w;
	const char *org_id;
	long long hour;
	enum meter_outcome outcome;
};

/* Spends the org's free credit on up to want micros; returns what it spent. */
static int
meter_spend_credit(struct meter_org_hour *oh, unsigned long long want, unsigned long long *spent)
{
	struct worker *w = oh->w;
	struct db_result grants;
	unsigned long long left, take;
	size_t i;
	int rc;

	*spent = 0;
	if (want == 0)
		return ERR_OK;
	rc = db_run(&w->db, &w->pool, STMT_METER_CREDITS_LOCK, &grants,
	    DB_ARGS(DB_TEXT(oh->org_id), DB_INT(oh->hour)));
	for (i = 0; rc == ERR_OK && i < grants.nrows && *spent < want; i++) {
		left = db_int(&grants, i, 1) > 0 ? (unsigned long long)db_int(&grants, i, 1) : 0;
		take = left < want - *spent ? left : want - *spent;
		if (take == 0)
			continue;
		rc = db_run(&w->db, &w->pool, STMT_METER_CREDIT_SPEND, NULL, DB_ARGS(DB_INT(db_int(&grants, i, 0)),
		    DB_INT(oh->hour), DB_TEXT(oh->org_id), DB_INT((long long)take)));
		*spent += take;
	}
	return rc;
}

/* The subscription paying for the org-hour (the rule in meter.h), or 0 when none. */
static int
meter_payer(struct meter_org_hour *oh, long long *subscription)
{
	struct worker *w = oh->w;
	struct db_result start, within, *payer = &start;
	int rc;

	*subscription = 0;
	rc = db_run(&w->db, &w->pool, STMT_METER_PAYER_AT_START, &start,
	    DB_ARGS(DB_INT(oh->hour), DB_TEXT(oh->org_id), DB_INT(oh->hour), DB_INT(oh->hour)));
	/* None in force at the start, or it gave way because its subscription ended. */
	if (rc == ERR_OK && (start.nrows == 0 || db_int(&start, 0, 2) == 1)) {
		rc = db_run(&w->db, &w->pool, STMT_METER_PAYER_WITHIN, &within,
		    DB_ARGS(DB_TEXT(oh->org_id), DB_INT(oh->hour), DB_INT(oh->hour)));
		if (rc == ERR_OK && within.nrows > 0)
			payer = &within;
	}
	if (rc != ERR_OK || payer->nrows == 0)
		return rc;
	if (strcmp(db_text(payer, 0, 1), "failed") == 0)
		return ERR_OK;	/* a failed subscription is never metered */
	*subscription = db_int(payer, 0, 0);
	return ERR_OK;
}

static int
meter_org_hour_tx(void *arg)
{
	struct meter_org_hour *oh = arg;
	struct worker *w = oh->w;
	unsigned __int128 cost, billable;
	unsigned long long credit;
	long long subscription;
	char cost_text[48], billable_text[48];
	struct db_result res;
	int rc;

	oh->outcome = METER_WAIT;
	rc = db_run(&w->db, &w->pool, STMT_ORG_LEASE, &res, DB_ARGS(DB_TEXT(oh->org_id)));
	if (rc != ERR_OK || res.nrows == 0)
		return rc;	/* another process holds this org */
	rc = db_run(&w->db, &w->pool, STMT_ORG_HOUR_EXISTS, &res, DB_ARGS(DB_TEXT(oh->org_id), DB_INT(oh->hour)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows > 0) {
		oh->outcome = METER_DONE;
		return ERR_OK;
	}
	rc = db_run(&w->db, &w->pool, STMT_METER_HOUR_COST, &res, DB_ARGS(DB_TEXT(oh->org_id), DB_INT(oh->hour)));
	if (rc != ERR_OK)
		return rc;
	if (!meter_parse_pico(db_text(&res, 0, 0), &cost))
		return ERR_INTERNAL;
	rc = meter_spend_credit(oh, (unsigned long long)(cost / PICO_PER_MICRO), &credit);
	if (rc == ERR_OK)
		rc = meter_payer(oh, &subscription);
	if (rc != ERR_OK)
		return rc;
	billable = cost - (unsigned __int128)credit * PICO_PER_MICRO;
	meter_format_pico(cost, cost_text);
	meter_format_pico(billable, billable_text);
	rc = db_run(&w->db, &w->pool, STMT_METER_ORG_HOUR_INSERT, NULL, DB_ARGS(DB_TEXT(oh->org_id),
	    DB_INT(oh->hour), DB_TEXT(cost_text), DB_INT((long long)credit), DB_TEXT(billable_text),
	    subscription > 0 ? DB_INT(subscription) : DB_NULL));
	if (rc == ERR_OK)
		oh->outcome = METER_BUILT;
	return rc;
}

/* Closes the org-hours a candidate query returned (org, hour), oldest first. */
static void
meter_close_org_hours(struct meter_pass *p, const struct db_result *candidates)
{
	struct meter_org_hour oh = { .w = p->w };
	size_t i;
	int rc;

	for (i = 0; i < candidates->nrows; i++) {
		oh.org_id = db_text(candidates, i, 0);
		oh.hour = db_int(candidates, i, 1);
		if (meter_held(&p->orgs, oh.org_id))
			continue;
		rc = db_transaction(&p->w->db, meter_org_hour_tx, &oh);
		if (!meter_note(p, &p->orgs, &p->org_hours, "org", oh.org_id, oh.hour, oh.outcome, rc))
			break;
	}
}

/* ----- subscription-hours --------------------------------------------------------- */

struct meter_subscription_hour {
	struct worker *w;
	long long subscription;
	const char *marketplace;
	long long hour, first;
	enum meter_outcome outcome;
};

/*
 * The subscription-hour's ledger row: the billable money of every org-hour
 * it pays for, plus what its previous hour left below one unit, in the
 * marketplace's unit.
 */
static int
meter_subscription_hour_tx(void *arg)
{
	struct meter_subscription_hour *sh = arg;
	const struct marketplace *mp = marketplace_find(sh->marketplace);
	const struct config *cfg = &sh->w->app->cfg;
	struct worker *w = sh->w;
	unsigned __int128 billable, carry_in = 0, total, unit;
	char in[48], out[48];
	const char *dimension;
	struct db_result res;
	int rc;

	sh->outcome = METER_WAIT;
	if (mp == NULL || mp->meter_dimension == NULL || mp->meter_unit_micros == NULL ||
	    mp->meter_unit_micros(cfg) <= 0)
		return ERR_INTERNAL;	/* a marketplace that is not metered */
	/* The subscription's lock guards its carry chain. */
	rc = db_run(&w->db, &w->pool, STMT_METER_SUB_LEASE, &res, DB_ARGS(DB_INT(sh->subscription)));
	if (rc != ERR_OK || res.nrows == 0)
		return rc;	/* another process holds this subscription */
	rc = db_run(&w->db, &w->pool, STMT_METER_LEDGER_EXISTS, &res,
	    DB_ARGS(DB_INT(sh->subscription), DB_INT(sh->hour)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows > 0) {
		sh->outcome = METER_DONE;
		return ERR_OK;
	}
	rc = db_run(&w->db, &w->pool, STMT_METER_SUB_EARLIER_OPEN, &res,
	    DB_ARGS(DB_INT(sh->subscription), DB_INT(sh->first), DB_INT(sh->hour)));
	if (rc != ERR_OK || res.nrows > 0)
		return rc;	/* an earlier hour is not built yet */
	rc = db_run(&w->db, &w->pool, STMT_METER_SUB_HOUR_BILLABLE, &res,
	    DB_ARGS(DB_INT(sh->subscription), DB_INT(sh->hour)));
	if (rc != ERR_OK)
		return rc;
	if (!meter_parse_pico(db_text(&res, 0, 0), &billable))
		return ERR_INTERNAL;
	dimension = mp->meter_dimension(cfg);
	rc = db_run(&w->db, &w->pool, STMT_METER_CARRY, &res,
	    DB_ARGS(DB_INT(sh->subscription), DB_TEXT(dimension), DB_INT(sh->hour)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 1 && !meter_parse_pico(db_text(&res, 0, 0), &carry_in))
		return ERR_INTERNAL;
	unit = (unsigned __int128)mp->meter_unit_micros(cfg) * PICO_PER_MICRO;
	total = billable + carry_in;
	meter_format_pico(carry_in, in);
	meter_format_pico(total % unit, out);
	rc = db_run(&w->db, &w->pool, STMT_METER_LEDGER_INSERT, NULL, DB_ARGS(DB_INT(sh->subscription),
	    DB_TEXT(sh->marketplace), DB_TEXT(dimension), DB_INT(sh->hour), DB_INT((long long)(total / unit)),
	    DB_TEXT(in), DB_TEXT(out)));
	if (rc == ERR_OK)
		sh->outcome = METER_BUILT;
	return rc;
}

/* Builds the subscription-hours a candidate query returned (subscription, marketplace, hour). */
static void
meter_build_subscription_hours(struct meter_pass *p, const struct db_result *candidates)
{
	struct meter_subscription_hour sh = { .w = p->w, .first = p->first };
	const char *key;
	size_t i;
	int rc;

	for (i = 0; i < candidates->nrows; i++) {
		key = db_text(candidates, i, 0);
		sh.subscription = db_int(candidates, i, 0);
		sh.marketplace = db_text(candidates, i, 1);
		sh.hour = db_int(candidates, i, 2);
		if (meter_held(&p->subscriptions, key))
			continue;
		rc = db_transaction(&p->w->db, meter_subscription_hour_tx, &sh);
		if (!meter_note(p, &p->subscriptions, &p->subscription_hours, "subscription", key, sh.hour,
		    sh.outcome, rc))
			break;
	}
}

/* ----- a pass ------------------------------------------------------------------------ */

int
meter_build(struct worker *w)
{
	const struct config *cfg = &w->app->cfg;
	time_t now = time(NULL);
	long long first = meter_hour_of(now) - (long long)cfg->metering_lookback_hours * METER_HOUR;
	long long settled = meter_hour_of(now - cfg->metering_settle) - METER_HOUR;
	long long ended = meter_hour_of(now) - METER_HOUR;
	struct meter_pass p = { .w = w, .first = first };
	struct db_result org_hours, subscription_hours;
	int rc;

	/* Org-hours first, oldest first, so credit is spent in hour order. */
	rc = db_run(&w->db, &w->pool, STMT_METER_ORG_HOURS, &org_hours, DB_ARGS(DB_INT(first), DB_INT(ended),
	    DB_INT(settled), DB_INT(first), DB_INT(settled), DB_INT(METER_BATCH)));
	if (rc == ERR_OK)
		meter_close_org_hours(&p, &org_hours);
	/* Then each subscription-hour whose org-hours have all closed, oldest first. */
	if (rc == ERR_OK && p.rc == ERR_OK)
		rc = db_run(&w->db, &w->pool, STMT_METER_SUB_HOURS, &subscription_hours, DB_ARGS(DB_INT(first),
		    DB_INT(ended), DB_INT(first), DB_INT(ended), DB_INT(METER_BATCH)));
	if (rc == ERR_OK && p.rc == ERR_OK)
		meter_build_subscription_hours(&p, &subscription_hours);
	if (p.org_hours > 0 || p.subscription_hours > 0 || p.failed > 0)
		log_info("meter: closed %zu org-hours and %zu subscription-hours, %zu failed", p.org_hours,
		    p.subscription_hours, p.failed);
	return rc != ERR_OK ? rc : p.rc;
}
