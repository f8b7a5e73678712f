/* SPDX-License-Identifier: MIT */
/*
 * ledger.c: leasing due ledger rows and settling them with the
 * marketplace's answer.
 */
#include "ledger.h"

#include "config.h"
#include "db.h"
#include "error.h"
#include "worker.h"
#include "banned.h"

struct ledger_lease_tx {
	struct worker *w;
	const char *marketplace;
	long min_interval;
	struct ledger_row *rows;
	size_t max;
	size_t *n;
};

static int
ledger_lease_tx(void *arg)
{
	struct ledger_lease_tx *tx = arg;
	struct worker *w = tx->w;
	struct ledger_row *row;
	struct db_result res;
	size_t i;
	int rc;

	*tx->n = 0;
	rc = db_run(&w->db, &w->pool, STMT_LEDGER_DUE_LEASE, &res, DB_ARGS(DB_TEXT(tx->marketplace),
	    DB_INT(tx->min_interval), DB_INT(tx->min_interval), DB_INT((long long)tx->max)));
	for (i = 0; rc == ERR_OK && i < res.nrows; i++) {
		row = &tx->rows[i];
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
		rc = db_run(&w->db, &w->pool, STMT_LEDGER_MARK_SENT, NULL,
		    DB_ARGS(DB_INT(w->app->cfg.metering_lease), DB_INT(row->id)));
		if (rc == ERR_OK && tx->min_interval > 0)
			rc = db_run(&w->db, &w->pool, STMT_SUB_METERED, NULL, DB_ARGS(DB_INT(row->subscription_id)));
	}
	if (rc == ERR_OK)
		*tx->n = res.nrows;
	return rc;
}

int
ledger_lease(struct worker *w, const char *marketplace, long min_interval,
    struct ledger_row *rows, size_t max, size_t *n)
{
	struct ledger_lease_tx tx = { w, marketplace, min_interval, rows, max, n };
	int rc = db_transaction(&w->db, ledger_lease_tx, &tx);

	if (rc != ERR_OK)
		*n = 0;
	return rc;
}

int
ledger_accept(struct worker *w, long long id, const char *record_id)
{
	return db_run(&w->db, &w->pool, STMT_LEDGER_ACCEPT, NULL,
	    DB_ARGS(DB_TEXT_OR_NULL(record_id), DB_INT(id)));
}

int
ledger_reject(struct worker *w, long long id, const char *code)
{
	return db_run(&w->db, &w->pool, STMT_LEDGER_REJECT, NULL, DB_ARGS(DB_TEXT(code), DB_INT(id)));
}

int
ledger_retry(struct worker *w, long long id, const char *code, bool solo)
{
	return db_run(&w->db, &w->pool, STMT_LEDGER_RETRY, NULL,
	    DB_ARGS(DB_TEXT(code), DB_INT(solo ? 1 : 0), DB_INT(w->app->cfg.metering_retry), DB_INT(id)));
}

int
ledger_unknown(struct worker *w, long long id, const char *code)
{
	return db_run(&w->db, &w->pool, STMT_LEDGER_UNKNOWN, NULL, DB_ARGS(DB_TEXT(code), DB_INT(id)));
}

int
ledger_recover(struct worker *w, const char *marketplace, bool resend_safe)
{
	return db_run(&w->db, &w->pool, resend_safe ? STMT_LEDGER_RECOVER_PENDING : STMT_LEDGER_RECOVER_UNKNOWN,
	    NULL, DB_ARGS(DB_TEXT(marketplace)));
}
