/* SPDX-License-Identifier: MIT */
/*
 * ledger.h: the metering ledger, one row per (subscription, marketplace
 * dimension, usage hour), unique. meter.c builds rows from an org's closed
 * hours; each marketplace's sender (struct marketplace's meter_send) leases
 * due rows, sends them, and settles each with the marketplace's answer:
 *
 *   pending --lease--> sent --+--> accepted            (counted as billed)
 *                             +--> rejected, with code (final; never success)
 *                             +--> pending, backoff    (throttled, 5xx, unprocessed;
 *                             |                         metering.retry_seconds doubling)
 *                             +--> pending, held       (our credentials or configuration
 *                             |                         were refused: ten times the backoff,
 *                             |                         resent once they are fixed)
 *                             +--> pending, released   (never sent: the lease ran short;
 *                             |                         due again, the attempt not counted)
 *                             +--> unknown, with code  (the send may or may not have
 *                                                       landed and resending could bill
 *                                                       twice: mpbindctl reconcile lists it)
 *
 * Leases are rows locked with SELECT ... FOR UPDATE SKIP LOCKED and marked
 * "sent" with a lease deadline (metering.lease_seconds) and a random lease
 * token before anything leaves the process, so several mpbind-meterd never
 * send one row at once. A sender's calls end before its lease does (each
 * sender cuts its calls short), and a row is settled only while it is
 * still "sent" under the settling lease's token: an answer recorded after
 * the lease ran out changes nothing (and is logged). A sender that dies
 * leaves rows "sent" past their lease: ledger_recover() returns them to
 * pending where a resend is harmless (AWS de-duplicates identical records)
 * and marks them unknown where it is not (Alibaba).
 */
#ifndef MPBIND_LEDGER_H
#define MPBIND_LEDGER_H

#include <stdbool.h>
#include <stddef.h>

struct worker;

struct ledger_row {
	long long id;
	long long subscription_id;
	long long hour;			/* epoch seconds: the start of the UTC hour */
	long long quantity;		/* marketplace units */
	const char *dimension;
	bool solo;			/* send alone: its batch was refused whole */
	bool flush;			/* unsubscribe-pending asked for it now */
	int attempts;			/* including this one */
	const char *lease;		/* the lease's token, in the worker's pool */
	long long lease_end;		/* ledger_clock_ms(): the lease is over after this; a sender's
					 * calls must end well before */
	/* the subscription's keys, for the marketplace's record */
	const char *account_id;
	const char *customer_aws_account_id;
	const char *license_arn;
	const char *customer_identifier;
	const char *product_code;
	const char *instance_id;
};

/* Monotonic milliseconds: the clock of ledger_row.lease_end. */
long long ledger_clock_ms(void);

/*
 * Leases up to max due rows of marketplace: pending, next_attempt_at
 * reached, subscription not failed; rows of subscriptions with a flush
 * request first, then oldest hour first. With min_interval > 0, only rows
 * of subscriptions not sent to within min_interval seconds are taken, and
 * taking them stamps the subscription (Alibaba: one push per instance per
 * minute). Each lease reads the rows in sending order from an index and
 * locks only the rows it takes, so other senders take the next ones at
 * once. Marks the rows "sent" under a new lease token and commits.
 * Strings live in the worker's pool. Returns ERR_OK with *n possibly 0, or
 * a database error.
 */
int ledger_lease(struct worker *w, const char *marketplace, long min_interval,
    struct ledger_row *rows, size_t max, size_t *n);

/*
 * Settle a leased row, each committing on its own: accepted with the
 * marketplace's record id (may be NULL); rejected for good with code;
 * retried after the usual backoff (solo: send it alone next time); held
 * after a refusal of our credentials or configuration (ten times the
 * backoff); released unsent (due again, the attempt not counted; solo as
 * for retry); unknown with code. A row no longer "sent" under row->lease
 * is left as it is and a warning logged. ERR_OK or a db error.
 */
int ledger_accept(struct worker *w, const struct ledger_row *row, const char *record_id);
int ledger_reject(struct worker *w, const struct ledger_row *row, const char *code);
int ledger_retry(struct worker *w, const struct ledger_row *row, const char *code, bool solo);
int ledger_hold(struct worker *w, const struct ledger_row *row, const char *code);
int ledger_release(struct worker *w, const struct ledger_row *row, bool solo);
int ledger_unknown(struct worker *w, const struct ledger_row *row, const char *code);

/*
 * Rows of marketplace left "sent" past their lease: back to pending when
 * resend_safe, else unknown. Returns ERR_OK or a db error.
 */
int ledger_recover(struct worker *w, const char *marketplace, bool resend_safe);

#endif
