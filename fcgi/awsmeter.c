/* SPDX-License-Identifier: MIT */
/*
 * awsmeter.c: BatchMeterUsage over awsapi.c, settling each ledger row with
 * its own result.
 */
#include "awsmeter.h"

#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "awsapi.h"
#include "config.h"
#include "error.h"
#include "ledger.h"
#include "log.h"
#include "worker.h"
#include "banned.h"

#define AWSMETER_BATCH 25
#define AWSMETER_PASS_SECONDS 15	/* a backlog drains in passes this long */

/* Identifies a record the same way in our rows and in AWS's answer. */
static const char *
awsmeter_key(struct worker *w, long long timestamp, const char *dimension, const char *account,
    const char *license, const char *customer)
{
	return pool_printf(&w->pool, "%lld|%s|%s|%s|%s", timestamp, dimension != NULL ? dimension : "",
	    account != NULL ? account : "", license != NULL ? license : "", customer != NULL ? customer : "");
}

static const char *
awsmeter_row_key(struct worker *w, const struct ledger_row *row)
{
	bool modern = row->customer_aws_account_id != NULL && row->license_arn != NULL;

	return awsmeter_key(w, row->hour, row->dimension, modern ? row->customer_aws_account_id : NULL,
	    modern ? row->license_arn : NULL, modern ? NULL : row->customer_identifier);
}

static const char *
awsmeter_record_key(struct worker *w, struct json_object *record)
{
	struct json_object *ts;

	if (record == NULL || !json_object_object_get_ex(record, "Timestamp", &ts))
		return NULL;
	return awsmeter_key(w, json_object_get_int64(ts), awsapi_string(record, "Dimension"),
	    awsapi_string(record, "CustomerAWSAccountId"), awsapi_string(record, "LicenseArn"),
	    awsapi_string(record, "CustomerIdentifier"));
}

static struct json_object *
awsmeter_record(const struct ledger_row *row)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "Timestamp", json_object_new_int64(row->hour));
	if (row->customer_aws_account_id != NULL && row->license_arn != NULL) {
		json_object_object_add(r, "CustomerAWSAccountId", json_object_new_string(row->customer_aws_account_id));
		json_object_object_add(r, "LicenseArn", json_object_new_string(row->license_arn));
	} else {
		json_object_object_add(r, "CustomerIdentifier",
		    json_object_new_string(row->customer_identifier != NULL ? row->customer_identifier : ""));
	}
	json_object_object_add(r, "Dimension", json_object_new_string(row->dimension));
	json_object_object_add(r, "Quantity", json_object_new_int64(row->quantity));
	return r;
}

/* Settles rows[0..n) from a successful call's Results and UnprocessedRecords. */
static void
awsmeter_settle(struct worker *w, const struct ledger_row *rows, size_t n, struct json_object *json)
{
	struct json_object *results, *unprocessed, *item, *record;
	const char *keys[AWSMETER_BATCH], *key, *status;
	bool done[AWSMETER_BATCH] = { false };
	size_t i, j;

	for (i = 0; i < n; i++)
		keys[i] = awsmeter_row_key(w, &rows[i]);
	if (json_object_object_get_ex(json, "Results", &results) && json_object_is_type(results, json_type_array)) {
		for (j = 0; j < json_object_array_length(results); j++) {
			item = json_object_array_get_idx(results, j);
			json_object_object_get_ex(item, "UsageRecord", &record);
			key = awsmeter_record_key(w, record);
			status = awsapi_string(item, "Status");
			for (i = 0; key != NULL && i < n; i++) {
				if (done[i] || keys[i] == NULL || strcmp(keys[i], key) != 0)
					continue;
				if (status != NULL && strcmp(status, "Success") == 0)
					ledger_accept(w, rows[i].id, awsapi_string(item, "MeteringRecordId"));
				else
					ledger_reject(w, rows[i].id, status != NULL ? status : "NoStatus");
				done[i] = true;
				break;
			}
		}
	}
	if (json_object_object_get_ex(json, "UnprocessedRecords", &unprocessed) &&
	    json_object_is_type(unprocessed, json_type_array)) {
		for (j = 0; j < json_object_array_length(unprocessed); j++) {
			key = awsmeter_record_key(w, json_object_array_get_idx(unprocessed, j));
			for (i = 0; key != NULL && i < n; i++)
				if (!done[i] && keys[i] != NULL && strcmp(keys[i], key) == 0) {
					ledger_retry(w, rows[i].id, "UnprocessedRecords", false);
					done[i] = true;
				}
		}
	}
	/* A record AWS did not mention was not metered: send it again. */
	for (i = 0; i < n; i++)
		if (!done[i])
			ledger_retry(w, rows[i].id, "NoResult", false);
}

/* One BatchMeterUsage call for rows[0..n) and the settling of its answer. */
static int
awsmeter_call(struct worker *w, const struct config_aws *listing, const struct ledger_row *rows, size_t n)
{
	struct json_object *body = json_object_new_object(), *records = json_object_new_array();
	struct awsapi_reply reply;
	struct awsapi_call call;
	const char *type;
	size_t i;
	int rc;

	json_object_object_add(body, "ProductCode", json_object_new_string(listing->product_code));
	for (i = 0; i < n; i++)
		json_object_array_add(records, awsmeter_record(&rows[i]));
	json_object_object_add(body, "UsageRecords", records);
	call = (struct awsapi_call){ listing, listing->metering_url, "aws-marketplace",
	    "AWSMPMeteringService.BatchMeterUsage", "1.1", body, w->app->cfg.http_retries, 0, NULL };
	rc = awsapi_perform(&w->http, &w->pool, &call, &reply);
	json_object_put(body);
	type = reply.error_type != NULL ? reply.error_type : "";
	if (rc == ERR_OK) {
		awsmeter_settle(w, rows, n, reply.json);
	} else if (strcmp(type, "TimestampOutOfBoundsException") == 0) {
		/* The whole batch was refused for some of its records: send each alone. */
		for (i = 0; i < n; i++)
			if (n > 1)
				ledger_retry(w, rows[i].id, type, true);
			else
				ledger_reject(w, rows[i].id, type);
	} else if (rc == ERR_UPSTREAM && strcmp(type, "MalformedResponse") != 0 &&
	    strcmp(type, "DisabledApiException") != 0) {
		for (i = 0; i < n; i++)
			ledger_reject(w, rows[i].id, type);
	} else {
		/* Throttled, 5xx, no answer, a garbled answer: AWS de-duplicates an
		 * identical resend, so try again later. */
		for (i = 0; i < n; i++)
			ledger_retry(w, rows[i].id, reply.timed_out ? "Timeout" : type[0] != '\0' ? type : "NoAnswer",
			    false);
		rc = ERR_OK;
	}
	awsapi_reply_release(&reply);
	return rc == ERR_NOMEM ? rc : ERR_OK;
}

int
awsmeter_send(struct worker *w, const char *partition)
{
	const struct config_aws *listing = config_aws_listing(&w->app->cfg, partition);
	struct ledger_row rows[AWSMETER_BATCH], batch[AWSMETER_BATCH];
	time_t until = time(NULL) + AWSMETER_PASS_SECONDS;
	size_t n, i, nbatch;
	int rc;

	if (listing == NULL || !listing->enabled)
		return ERR_OK;
	rc = ledger_recover(w, partition, true);
	while (rc == ERR_OK && time(NULL) < until) {
		pool_reset(&w->pool);
		rc = ledger_lease(w, partition, 0, rows, AWSMETER_BATCH, &n);
		if (rc != ERR_OK || n == 0)
			break;
		/* Rows to send alone go alone; the rest together (one product: the listing's). */
		for (i = 0, nbatch = 0; i < n && rc == ERR_OK; i++) {
			if (rows[i].solo)
				rc = awsmeter_call(w, listing, &rows[i], 1);
			else
				batch[nbatch++] = rows[i];
		}
		if (rc == ERR_OK && nbatch > 0)
			rc = awsmeter_call(w, listing, batch, nbatch);
	}
	return rc;
}
