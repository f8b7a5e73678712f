/* SPDX-License-Identifier: MIT */
/*
 * subscriptions.c: finding, creating and moving marketplace subscriptions.
 */
#include "subscriptions.h"

#include <string.h>


#include "buf.h"
#include "db.h"
#include "error.h"
#include "pool.h"
#include "text.h"
#include "banned.h"

/*
 * The hex SHA-256 of the marketplace key of k, or NULL when k has none.
 * *reused tells whether the marketplace gives the same key to a later
 * subscription: an older AWS listing's CustomerIdentifier + ProductCode
 * names the buyer account's subscription to the product, and the account
 * gets it again when it subscribes again. A LicenseArn or an Alibaba
 * instanceId names one agreement only.
 */
static const char *
subscriptions_key(struct pool *pool, const struct subscription_keys *k, bool *reused)
{
	char *hex;
	const char *canonical;

	*reused = false;
	if (k->instance_id != NULL) {
		canonical = pool_printf(pool, "%s|instance|%s", k->marketplace, k->instance_id);
	} else if (k->license_arn != NULL) {
		canonical = pool_printf(pool, "%s|license|%s", k->marketplace, k->license_arn);
	} else if (k->customer_identifier != NULL && k->product_code != NULL) {
		canonical = pool_printf(pool, "%s|customer|%s|%s", k->marketplace,
		    k->customer_identifier, k->product_code);
		*reused = true;
	} else {
		return NULL;
	}
	hex = pool_alloc(pool, TEXT_SHA256_HEX);
	if (canonical == NULL || hex == NULL)
		return NULL;
	text_sha256_hex(hex, canonical, strlen(canonical));
	return hex;
}

int
subscriptions_lock(struct db *db, struct pool *pool, long long id, struct subscription *out)
{
	struct db_result res;
	int rc;

	rc = db_run(db, pool, STMT_SUB_LOCK, &res, DB_ARGS(DB_INT(id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 0)
		return ERR_NOT_FOUND;
	out->id = id;
	out->marketplace = db_text(&res, 0, 0);
	out->account_id = db_text(&res, 0, 1);
	out->status = db_text(&res, 0, 2);
	out->customer_identifier = db_text(&res, 0, 3);
	out->license_arn = db_text(&res, 0, 4);
	out->product_code = db_text(&res, 0, 5);
	out->notified_at = db_text(&res, 0, 6);
	return ERR_OK;
}

int
subscriptions_upsert(struct db *db, struct pool *pool, const struct subscription_keys *k,
    const char *initial, struct subscription *out, bool *created)
{
	struct db_result res;
	const char *key;
	bool reused;
	int attempt, rc = ERR_DB_DUPLICATE;
	long long id;

	*created = false;
	key = subscriptions_key(pool, k, &reused);
	if (key == NULL)
		return ERR_FIELD;
	/*
	 * The live row of the key, else its newest ended one. An ended row
	 * is the answer only for a key that names one agreement; a reused
	 * key gets a fresh row and the ended one stays as history. Two
	 * landings may race: the loser's insert hits the unique key on live
	 * rows once the winner commits, and then finds its row.
	 */
	for (attempt = 0; attempt < 2 && rc == ERR_DB_DUPLICATE; attempt++) {
		rc = db_run(db, pool, STMT_SUB_BY_KEY_LOCK, &res, DB_ARGS(DB_TEXT(key)));
		if (rc != ERR_OK)
			return rc;
		if (res.nrows == 1 && (!reused || strcmp(db_text(&res, 0, 1), "ended") != 0)) {
			id = db_int(&res, 0, 0);
			rc = db_run(db, pool, STMT_SUB_FILL_KEYS, NULL,
			    DB_ARGS(DB_TEXT_OR_NULL(k->customer_identifier),
			    DB_TEXT_OR_NULL(k->customer_aws_account_id), DB_TEXT_OR_NULL(k->license_arn),
			    DB_INT(id)));
			return rc != ERR_OK ? rc : subscriptions_lock(db, pool, id, out);
		}
		rc = db_run(db, pool, STMT_SUB_INSERT, &res, DB_ARGS(DB_TEXT(k->marketplace), DB_TEXT(key),
		    DB_TEXT_OR_NULL(k->account_id), DB_TEXT_OR_NULL(k->customer_aws_account_id),
		    DB_TEXT_OR_NULL(k->license_arn), DB_TEXT_OR_NULL(k->customer_identifier),
		    DB_TEXT_OR_NULL(k->product_code), DB_TEXT(initial), DB_INT(k->free_trial ? 1 : 0)));
	}
	if (rc != ERR_OK)
		return rc;
	*created = true;
	return subscriptions_lock(db, pool, (long long)res.insert_id, out);
}

int
subscriptions_set_status(struct db *db, struct pool *pool, long long id, const char *status)
{
	return db_run(db, pool, STMT_SUB_SET_STATUS, NULL, DB_ARGS(DB_TEXT(status),
	    DB_INT(strcmp(status, "ended") == 0 ? 1 : 0), DB_INT(id)));
}

bool
subscriptions_bindable(const char *status)
{
	return status != NULL && (strcmp(status, "pending") == 0 || strcmp(status, "active") == 0);
}
