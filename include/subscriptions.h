/* SPDX-License-Identifier: MIT */
/*
 * subscriptions.h: marketplace subscriptions, whichever marketplace they
 * come from. A subscription is found by the marketplace's own key (AWS:
 * partition + LicenseArn, or partition + CustomerIdentifier + ProductCode
 * for older listings; Alibaba: instanceId), never by the buyer account
 * alone, since one account can hold several agreements.
 *
 * A key belongs to at most one live (not ended) subscription, enforced by
 * a unique key on a generated column that is NULL once ended. An ended
 * subscription keeps a LicenseArn or instanceId key: each names one
 * agreement, and landing on it again finds the ended row. An older
 * listing's CustomerIdentifier + ProductCode is given again when the same
 * AWS account subscribes again, so an ended row never blocks that key: the
 * next landing creates a fresh row and the ended one, its binding and its
 * ledger stay as history.
 *
 * Every function here runs inside the caller's transaction.
 */
#ifndef MPBIND_SUBSCRIPTIONS_H
#define MPBIND_SUBSCRIPTIONS_H

#include <stdbool.h>

struct db;
struct pool;

/* What a marketplace told us about a subscription; NULL for unknown. */
struct subscription_keys {
	const char *marketplace;	/* "aws-cn", "aws", "aliyun" */
	const char *account_id;		/* shown to the buyer; NULL when unknown (older AWS listing) */
	const char *customer_aws_account_id;
	const char *license_arn;
	const char *customer_identifier;
	const char *product_code;
	const char *instance_id;	/* Alibaba */
	bool free_trial;
};

/* A subscription's state. Strings live in the pool. */
struct subscription {
	long long id;
	const char *marketplace;
	const char *account_id;	/* NULL for an older AWS listing: show customer_identifier */
	const char *status;	/* pending, active, failed, unsubscribe_pending, ended */
	const char *customer_identifier;
	const char *license_arn;
	const char *product_code;
	const char *notified_at;	/* last lifecycle message applied, or NULL */
};

/*
 * Finds the subscription for k (its live one, else an ended one whose key
 * is not reused, see above) or creates it with status initial, locked.
 * Fills in identifiers the row lacked. Fills *out. *created tells which
 * happened. Returns ERR_OK, ERR_FIELD when k has no usable key, or a
 * database error.
 */
int subscriptions_upsert(struct db *db, struct pool *pool, const struct subscription_keys *k,
    const char *initial, struct subscription *out, bool *created);

/* Locks subscription id and fills *out. ERR_OK, ERR_NOT_FOUND or a db error. */
int subscriptions_lock(struct db *db, struct pool *pool, long long id, struct subscription *out);

/* Sets the status of subscription id; "ended" also stamps ended_at. */
int subscriptions_set_status(struct db *db, struct pool *pool, long long id, const char *status);

/* True for a status a new binding may be made with (pending or active). */
bool subscriptions_bindable(const char *status);

#endif
