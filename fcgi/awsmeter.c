/* SPDX-License-Identifier: MIT */
/*
 * awsmeter.c: BatchMeterUsage over awsapi.c: leasing ledger rows, sending
 * them in calls that end before the lease does, halving a batch refused
 * for what may be one record, and settling each row with its own result.
 */
#include "awsmeter.h"

#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "awsapi.h"
#include "config.h"
#include "error.h"
#include "jsonw.h"
#include "ledger.h"
#include "log.h"
#include "worker.h"
#include "banned.h"

#define AWSMETER_BATCH 25
#define AWSMETER_PASS_SECONDS 15	/* a backlog drains in passes this long */
#define AWSMETER_LEASE_SLACK_MS 1000	/* an answer must be recorded this long before the lease ends */
#define AWSMETER_CALL_MIN_MS 500	/* not worth starting a call with less time than this */
#define AWSMETER_BACKOFF_MS 200		/* first pause before retrying a throttled or failing call */

/* One pass over one listing. */
struct awsmeter_pass {
	struct worker *w;
	const struct config_aws *listing;
	const char *partition;
	const char *refusal;		/* AWS refused our credentials or configuration: its code */
	size_t calls;			/* calls made this pass */
};

/* How one call ended, when AWS did not answer it with Results. */
struct awsmeter_failure {
	bool sent;			/* some attempt left the process */
	enum awsmeter_verdict verdict;
	const char *code;		/* in the pool */
	long status;
};

static const char *const awsmeter_retry_errors[] = {
	"ThrottlingException", "InternalServiceErrorException", "InternalFailure", "ServiceUnavailable",
	"ServiceUnavailableException", "RequestThrottled", "MalformedResponse", NULL
};

static const char *const awsmeter_config_errors[] = {
	"UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch",
	"IncompleteSignature", "IncompleteSignatureException", "MissingAuthenticationToken",
	"MissingAuthenticationTokenException", "AccessDenied", "AccessDeniedException", "RequestExpired",
	"NotAuthorized", "InvalidAccessKeyId", "OptInRequired", "DisabledApiException", "InvalidProductCodeException",
	"InvalidEndpointRegionException", "InvalidRegionException", "UnknownOperationException",
	"SerializationException", NULL
};

static bool
awsmeter_listed(const char *const *list, const char *type)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], type) == 0)
			return true;
	return false;
}

enum awsmeter_verdict
awsmeter_judge(const char *type, long status)
{
	if (status >= 500 || status == 429)
		return AWSMETER_RETRY;
	if (status == 401 || status == 403)
		return AWSMETER_HOLD;
	if (type == NULL || type[0] == '\0' || awsmeter_listed(awsmeter_retry_errors, type))
		return AWSMETER_RETRY;
	if (awsmeter_listed(awsmeter_config_errors, type) || strncmp(type, "ExpiredToken", 12) == 0)
		return AWSMETER_HOLD;
	/* InvalidLicense, InvalidCustomerIdentifier, InvalidUsageDimension, InvalidTag,
	 * InvalidUsageAllocations, Validation, CustomerNotEntitled, TimestampOutOfBounds,
	 * and whatever else refuses the call: maybe one record's fault. */
	return AWSMETER_SPLIT;
}

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
	return awsmeter_key(w, json_object_get_int64(ts), jr_str(record, "Dimension"),
	    jr_str(record, "CustomerAWSAccountId"), jr_str(record, "LicenseArn"),
	    jr_str(record, "CustomerIdentifier"));
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

/* A successful call's answer, settled in one transaction (one commit for its rows). */
struct awsmeter_answer {
	struct worker *w;
	const struct ledger_row *rows;
	size_t n;
	struct json_object *json;
};

/*
 * Settles rows[0..n) from a successful call's Results and UnprocessedRecords;
 * the first error. Run by db_transaction(): should it fail, the rows stay
 * "sent" and ledger_recover() sends them again once their lease is over,
 * which AWS answers with the first result (an identical record).
 */
static int
awsmeter_settle(void *arg)
{
	const struct awsmeter_answer *a = arg;
	struct worker *w = a->w;
	const struct ledger_row *rows = a->rows;
	size_t n = a->n;
	struct json_object *json = a->json, *results, *unprocessed, *item, *record;
	const char *keys[AWSMETER_BATCH], *key, *status;
	bool done[AWSMETER_BATCH] = { false };
	size_t i, j;
	int rc = ERR_OK;

	for (i = 0; i < n; i++)
		keys[i] = awsmeter_row_key(w, &rows[i]);
	if (json_object_object_get_ex(json, "Results", &results) && json_object_is_type(results, json_type_array)) {
		for (j = 0; j < json_object_array_length(results); j++) {
			item = json_object_array_get_idx(results, j);
			json_object_object_get_ex(item, "UsageRecord", &record);
			key = awsmeter_record_key(w, record);
			status = jr_str(item, "Status");
			for (i = 0; rc == ERR_OK && key != NULL && i < n; i++) {
				if (done[i] || keys[i] == NULL || strcmp(keys[i], key) != 0)
					continue;
				if (status != NULL && strcmp(status, "Success") == 0)
					rc = ledger_accept(w, &rows[i], jr_str(item, "MeteringRecordId"));
				else
					rc = ledger_reject(w, &rows[i], status != NULL ? status : "NoStatus");
				done[i] = true;
				break;
			}
		}
	}
	if (json_object_object_get_ex(json, "UnprocessedRecords", &unprocessed) &&
	    json_object_is_type(unprocessed, json_type_array)) {
		for (j = 0; j < json_object_array_length(unprocessed); j++) {
			key = awsmeter_record_key(w, json_object_array_get_idx(unprocessed, j));
			for (i = 0; rc == ERR_OK && key != NULL && i < n; i++)
				if (!done[i] && keys[i] != NULL && strcmp(keys[i], key) == 0) {
					rc = ledger_retry(w, &rows[i], "UnprocessedRecords", false);
					done[i] = true;
				}
		}
	}
	/* A record AWS did not mention was not metered: send it again. */
	for (i = 0; rc == ERR_OK && i < n; i++)
		if (!done[i])
			rc = ledger_retry(w, &rows[i], "NoResult", false);
	return rc;
}

static struct json_object *
awsmeter_body(const struct config_aws *listing, const struct ledger_row *rows, size_t n)
{
	struct json_object *body = json_object_new_object(), *records = json_object_new_array();
	size_t i;

	json_object_object_add(body, "ProductCode", json_object_new_string(listing->product_code));
	for (i = 0; i < n; i++)
		json_object_array_add(records, awsmeter_record(&rows[i]));
	json_object_object_add(body, "UsageRecords", records);
	return body;
}

static void
awsmeter_pause(long long ms)
{
	struct timespec pause = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&pause, NULL);
}

/*
 * One BatchMeterUsage call for rows[0..n), tried again in place while it
 * is throttled or failing, http.retries times at most, and never past the
 * lease: each attempt's timeout ends AWSMETER_LEASE_SLACK_MS before the
 * lease, and no attempt starts with less than AWSMETER_CALL_MIN_MS left.
 * With an answer, settles the rows and returns ERR_OK with *answered set;
 * otherwise leaves the rows leased and describes the failure in *f.
 * Returns ERR_OK or ERR_NOMEM.
 */
static int
awsmeter_call(struct awsmeter_pass *p, const struct ledger_row *rows, size_t n, bool *answered,
    struct awsmeter_failure *f)
{
	struct worker *w = p->w;
	struct json_object *body;
	struct awsapi_reply reply;
	struct awsapi_call call;
	long long left, delay = AWSMETER_BACKOFF_MS, timeout;
	long attempt;
	int rc = ERR_OK;

	*answered = false;
	*f = (struct awsmeter_failure){ false, AWSMETER_RETRY, "lease_ran_out", 0 };
	body = awsmeter_body(p->listing, rows, n);
	if (body == NULL)
		return ERR_NOMEM;
	for (attempt = 0;; attempt++) {
		left = rows[0].lease_end - AWSMETER_LEASE_SLACK_MS - ledger_clock_ms();
		if (left < AWSMETER_CALL_MIN_MS)
			break;
		timeout = left < w->app->cfg.http_timeout * 1000LL ? left : w->app->cfg.http_timeout * 1000LL;
		call = (struct awsapi_call){ p->listing, p->listing->metering_url, "aws-marketplace",
		    "AWSMPMeteringService.BatchMeterUsage", "1.1", body, 0, (long)timeout, NULL };
		rc = awsapi_perform(&w->http, &w->pool, &call, &reply);
		p->calls++;
		f->sent = true;
		if (rc == ERR_OK) {
			struct awsmeter_answer a = { w, rows, n, reply.json };

			if (db_transaction(&w->db, awsmeter_settle, &a) != ERR_OK)
				log_warnx("aws: BatchMeterUsage answer not recorded; its %zu rows are sent again "
				    "once their lease is over", n);
			*answered = true;
		} else if (rc != ERR_NOMEM) {
			f->status = reply.status;
			f->code = reply.timed_out ? "Timeout" : reply.error_type != NULL ? reply.error_type : "NoAnswer";
			f->verdict = rc == ERR_UNAVAILABLE ? AWSMETER_RETRY : awsmeter_judge(reply.error_type, reply.status);
		}
		awsapi_reply_release(&reply);
		if (rc != ERR_UNAVAILABLE || reply.timed_out || attempt >= w->app->cfg.http_retries ||
		    left - delay < AWSMETER_CALL_MIN_MS)
			break;
		log_info("aws: BatchMeterUsage answered %s; retrying in %lld ms", f->code, delay);
		awsmeter_pause(delay);
		delay *= 2;
	}
	json_object_put(body);
	return rc == ERR_NOMEM ? ERR_NOMEM : ERR_OK;
}

/* Settles rows[0..n) alike after a failed or skipped call; the first db error, after trying all. */
static int
awsmeter_settle_failed(struct awsmeter_pass *p, const struct ledger_row *rows, size_t n,
    const struct awsmeter_failure *f, bool solo)
{
	size_t i;
	int rc = ERR_OK, one;

	for (i = 0; i < n; i++) {
		if (!f->sent)
			one = ledger_release(p->w, &rows[i], solo);
		else if (f->verdict == AWSMETER_HOLD)
			one = ledger_hold(p->w, &rows[i], f->code);
		else if (f->verdict == AWSMETER_SPLIT)
			one = ledger_reject(p->w, &rows[i], f->code);
		else
			one = ledger_retry(p->w, &rows[i], f->code, solo);
		if (one != ERR_OK && rc == ERR_OK)
			rc = one;
	}
	return rc;
}

static const char *
awsmeter_config_prefix(const char *partition)
{
	return strcmp(partition, "aws-cn") == 0 ? "aws_cn" : "aws";
}

/*
 * Sends rows[0..n) and settles each. A batch refused whole for what may be
 * one record is halved and each half sent again, so only the records AWS
 * refuses alone end rejected; a refusal of our credentials or configuration
 * holds the rows and stops the pass (later rows are held unsent). split:
 * rows is part of a batch refused whole (rows released unsent go alone next
 * time).
 */
static int
awsmeter_send_rows(struct awsmeter_pass *p, const struct ledger_row *rows, size_t n, bool split)
{
	struct awsmeter_failure f;
	bool answered;
	size_t half;
	int rc;

	if (p->refusal != NULL) {
		f = (struct awsmeter_failure){ true, AWSMETER_HOLD, p->refusal, 0 };
		return awsmeter_settle_failed(p, rows, n, &f, false);
	}
	rc = awsmeter_call(p, rows, n, &answered, &f);
	if (rc != ERR_OK || answered)
		return rc;
	if (!f.sent) {
		log_info("aws: %zu ledger rows not sent: the lease is nearly over", n);
		return awsmeter_settle_failed(p, rows, n, &f, split);
	}
	if (f.verdict == AWSMETER_HOLD) {
		p->refusal = f.code;
		log_warnx("aws: BatchMeterUsage for %s refused our credentials or configuration: %s (HTTP %ld); "
		    "the ledger is held and resent once %s.access_key_id, secret_access_key, session_token, region, "
		    "product_code and metering_url are right", p->partition, f.code, f.status,
		    awsmeter_config_prefix(p->partition));
		return awsmeter_settle_failed(p, rows, n, &f, false);
	}
	if (f.verdict == AWSMETER_SPLIT && n > 1) {
		log_info("aws: BatchMeterUsage refused %zu records whole: %s; sending each half again", n, f.code);
		half = n / 2;
		rc = awsmeter_send_rows(p, rows, half, true);
		if (rc == ERR_OK)
			rc = awsmeter_send_rows(p, rows + half, n - half, true);
		return rc;
	}
	if (f.verdict == AWSMETER_SPLIT)
		log_warnx("aws: ledger row %lld refused for good: %s", rows[0].id, f.code);
	return awsmeter_settle_failed(p, rows, n, &f, false);
}

int
awsmeter_send(struct worker *w, const char *partition)
{
	struct awsmeter_pass p = { w, config_aws_listing(&w->app->cfg, partition), partition, NULL, 0 };
	struct ledger_row rows[AWSMETER_BATCH], batch[AWSMETER_BATCH];
	time_t until = time(NULL) + AWSMETER_PASS_SECONDS;
	size_t n, i, nbatch, calls;
	int rc;

	if (p.listing == NULL || !p.listing->enabled)
		return ERR_OK;
	rc = ledger_recover(w, partition, true);
	while (rc == ERR_OK && p.refusal == NULL && time(NULL) < until) {
		pool_reset(&w->pool);
		rc = ledger_lease(w, partition, 0, rows, AWSMETER_BATCH, &n);
		if (rc != ERR_OK || n == 0)
			break;
		calls = p.calls;
		/* Rows to send alone go alone; the rest together (one product: the listing's). */
		for (i = 0, nbatch = 0; i < n && rc == ERR_OK; i++) {
			if (rows[i].solo)
				rc = awsmeter_send_rows(&p, &rows[i], 1, false);
			else
				batch[nbatch++] = rows[i];
		}
		if (rc == ERR_OK && nbatch > 0)
			rc = awsmeter_send_rows(&p, batch, nbatch, false);
		if (p.calls == calls && p.refusal == NULL)
			break;	/* no time for a single call under a whole lease: try next pass */
	}
	return rc;
}
