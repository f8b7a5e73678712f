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
 *                                                       metering.retry_seconds doubling)
 *                             +--> unknown, with code  (the send may or may not have
 *                                                       landed and resending could bill
 *                                                       twice: mpbindctl reconcile lists it)
 *
 * Leases are rows locked with SELECT ... FOR UPDATE SKIP LOCKED and marked
 * "sent" with a lease deadline (metering.lease_seconds) before anything
 * leaves the process, so
 * several mpbind-meterd never send one row at once. A sender that dies
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
	/* the subscription's keys, for the marketplace's record */
	const char *account_id;
	const char *customer_aws_account_id;
	const char *license_arn;
	const char *customer_identifier;
	const char *product_code;
	const char *instance_id;
};

/*
 * Leases up to max due rows of marketplace: pending, next_attempt_at
 * reached, subscription not failed; rows of subscriptions with a flush
 * request first, then oldest hour first. With min_interval > 0, only rows
 * of subscriptions not sent to within min_interval seconds are taken, and
 * taking them stamps the subscription (Alibaba: one push per instance per
 * minute). Marks the rows "sent" and commits. Strings live in the worker's
 * pool. Returns ERR_OK with *n possibly 0, or a database error.
 */
int ledger_lease(struct worker *w, const char *marketplace, long min_interval,
    struct ledger_row *rows, size_t max, size_t *n);

/* Settles a leased row. Each commits on its own; ERR_OK or a db error. */
int ledger_accept(struct worker *w, long long id, const char *record_id);
int ledger_reject(struct worker *w, long long id, const char *code);
int ledger_retry(struct worker *w, long long id, const char *code, bool solo);
int ledger_unknown(struct worker *w, long long id, const char *code);

/*
 * Rows of marketplace left "sent" past their lease: back to pending when
 * resend_safe, else unknown. Returns ERR_OK or a db error.
 */
int ledger_recover(struct worker *w, const char *marketplace, bool resend_safe);

#endif
