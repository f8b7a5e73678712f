/* SPDX-License-Identifier: MIT */
/*
 * ledger.c: leasing due ledger rows and settling them with the
 * marketplace's answer.
 */
#include "ledger.h"

#include <time.h>

#include <sodium.h>

#include "config.h"
#include "db.h"
#include "error.h"
#include "log.h"
#include "text.h"
#include "worker.h"
#include "banned.h"

#define LEDGER_TOKEN_BYTES 16	/* a lease token: 32 hex digits */

struct ledger_lease_tx {
	struct worker *w;
	const char *marketplace;
	long min_interval;
	struct ledger_row *rows;
	size_t max;
	size_t *n;
	const char *token;
	long long lease_end;
};

long long
ledger_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs lease statement id for up to tx->max - *tx->n more rows, appending them to tx->rows. */
static int
ledger_lease_some(struct ledger_lease_tx *tx, enum stmt_id id)
{
	struct worker *w = tx->w;
	struct ledger_row *row;
	struct db_result res;
	size_t i;
	int rc;

	rc = db_run(&w->db, &w->pool, id, &res, DB_ARGS(DB_TEXT(tx->marketplace),
	    DB_INT(tx->min_interval), DB_INT(tx->min_interval), DB_INT((long long)(tx->max - *tx->n))));
	for (i = 0; rc == ERR_OK && i < res.nrows; i++) {
		row = &tx->rows[*tx->n + i];
		row->id = db_int(&res, i, 0);
		row->subscription_id = db_int(&res, i, 1);
		row->hour = db_int(&res, i, 2);
		row->quantity = db_int(&res, i, 3);
		row->dimension = db_text(&res, i, 4);
		row->solo = db_int(&res, i, 5) == 1;
		row->attempts = (int)db_int(&res, i, 6) + 1;
		row->flush = db_int(&res, i, 7) == 1;
		row->account_id = db_text(&res, i, 8);
		row->customer_aws_account_id = db_text(&res, i, 9);
		row->license_arn = db_text(&res, i, 10);
		row->customer_identifier = db_text(&res, i, 11);
		row->product_code = db_text(&res, i, 12);
		row->instance_id = db_text(&res, i, 13);
		row->lease = tx->token;
		row->lease_end = tx->lease_end;
		rc = db_run(&w->db, &w->pool, STMT_LEDGER_MARK_SENT, NULL,
		    DB_ARGS(DB_INT(w->app->cfg.metering_lease), DB_TEXT(tx->token), DB_INT(row->id)));
		if (rc == ERR_OK && tx->min_interval > 0)
			rc = db_run(&w->db, &w->pool, STMT_SUB_METERED, NULL, DB_ARGS(DB_INT(row->subscription_id)));
	}
	if (rc == ERR_OK)
		*tx->n += res.nrows;
	return rc;
}

/* Flush requests first, then the rest; each statement locks only the rows it takes. */
static int
ledger_lease_tx(void *arg)
{
	struct ledger_lease_tx *tx = arg;
	int rc;

	*tx->n = 0;
	rc = ledger_lease_some(tx, STMT_LEDGER_DUE_LEASE_FLUSH);
	if (rc == ERR_OK && *tx->n < tx->max)
		rc = ledger_lease_some(tx, STMT_LEDGER_DUE_LEASE);
	if (rc != ERR_OK)
		*tx->n = 0;
	return rc;
}

int
ledger_lease(struct worker *w, const char *marketplace, long min_interval,
    struct ledger_row *rows, size_t max, size_t *n)
{
	struct ledger_lease_tx tx = { w, marketplace, min_interval, rows, max, n, NULL, 0 };
	unsigned char raw[LEDGER_TOKEN_BYTES];
	char *token = pool_alloc(&w->pool, 2 * sizeof(raw) + 1);
	int rc;

	*n = 0;
	if (token == NULL)
		return ERR_NOMEM;
	randombytes_buf(raw, sizeof(raw));
	text_hex(token, raw, sizeof(raw));
	tx.token = token;
	/* taken before the lease begins in the database's clock, so never later than its end */
	tx.lease_end = ledger_clock_ms() + w->app->cfg.metering_lease * 1000LL;
	rc = db_transaction(&w->db, ledger_lease_tx, &tx);
	if (rc != ERR_OK)
		*n = 0;
	return rc;
}

/* Runs one settling statement; a row no longer held under row->lease is left alone and logged. */
static int
ledger_settle(struct worker *w, const struct ledger_row *row, enum stmt_id id, const struct db_param *args,
    size_t nargs)
{
	struct db_result res;
	int rc;

	rc = db_run(&w->db, &w->pool, id, &res, args, nargs);
	if (rc == ERR_OK && res.affected == 0)
		log_warnx("ledger: row %lld was no longer held by this sender's lease; %s not recorded", row->id,
		    db_stmt_name(id));
	return rc;
}

int
ledger_accept(struct worker *w, const struct ledger_row *row, const char *record_id)
{
	return ledger_settle(w, row, STMT_LEDGER_ACCEPT,
	    DB_ARGS(DB_TEXT_OR_NULL(record_id), DB_INT(row->id), DB_TEXT(row->lease)));
}

int
ledger_reject(struct worker *w, const struct ledger_row *row, const char *code)
{
	return ledger_settle(w, row, STMT_LEDGER_REJECT,
	    DB_ARGS(DB_TEXT(code), DB_INT(row->id), DB_TEXT(row->lease)));
}

int
ledger_retry(struct worker *w, const struct ledger_row *row, const char *code, bool solo)
{
	return ledger_settle(w, row, STMT_LEDGER_RETRY, DB_ARGS(DB_TEXT(code), DB_INT(solo ? 1 : 0),
	    DB_INT(w->app->cfg.metering_retry), DB_INT(row->id), DB_TEXT(row->lease)));
}

int
ledger_hold(struct worker *w, const struct ledger_row *row, const char *code)
{
	return ledger_settle(w, row, STMT_LEDGER_HOLD, DB_ARGS(DB_TEXT(code), DB_INT(w->app->cfg.metering_retry),
	    DB_INT(row->id), DB_TEXT(row->lease)));
}

int
ledger_release(struct worker *w, const struct ledger_row *row, bool solo)
{
	return ledger_settle(w, row, STMT_LEDGER_RELEASE,
	    DB_ARGS(DB_INT(solo ? 1 : 0), DB_INT(row->id), DB_TEXT(row->lease)));
}

int
ledger_unknown(struct worker *w, const struct ledger_row *row, const char *code)
{
	return ledger_settle(w, row, STMT_LEDGER_UNKNOWN,
	    DB_ARGS(DB_TEXT(code), DB_INT(row->id), DB_TEXT(row->lease)));
}

int
ledger_recover(struct worker *w, const char *marketplace, bool resend_safe)
{
	return db_run(&w->db, &w->pool, resend_safe ? STMT_LEDGER_RECOVER_PENDING : STMT_LEDGER_RECOVER_UNKNOWN,
	    NULL, DB_ARGS(DB_TEXT(marketplace)));
}
