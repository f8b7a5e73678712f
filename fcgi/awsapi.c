/* SPDX-License-Identifier: MIT */
/*
 * awsapi.c: the AWS JSON protocol over http.c: signing options, headers,
 * error types, retries with backoff.
 */
#include "awsapi.h"

#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <sodium.h>

#include "config.h"
#include "error.h"
#include "http.h"
#include "jsonw.h"
#include "log.h"
#include "pool.h"
#include "text.h"
#include "banned.h"

#define AWSAPI_RESPONSE_MAX (1024 * 1024)

void
awsapi_reply_release(struct awsapi_reply *reply)
{
	if (reply->json != NULL)
		json_object_put(reply->json);
	reply->json = NULL;
}

char *
awsapi_customer_id(struct pool *pool, const char *s)
{
	if (s == NULL)
		return NULL;
	while (*s == ' ')
		s++;
	return pool_strndup(pool, s, strcspn(s, " "));
}

/* "aws.protocol#InvalidTokenException:http://..." -> "InvalidTokenException". */
static const char *
awsapi_error_type(struct pool *pool, const char *raw)
{
	const char *hash, *start;
	size_t n;

	if (raw == NULL)
		return NULL;
	hash = strrchr(raw, '#');
	start = hash != NULL ? hash + 1 : raw;
	n = strcspn(start, ":");
	if (n == 0 || n > 128)
		return NULL;
	return pool_strndup(pool, start, n);
}

static bool
awsapi_retryable(const char *type, long status)
{
	if (type != NULL && (strcmp(type, "ThrottlingException") == 0 ||
	    strcmp(type, "InternalServiceErrorException") == 0 ||
	    strcmp(type, "InternalFailure") == 0 || strcmp(type, "ServiceUnavailable") == 0 ||
	    strcmp(type, "RequestThrottled") == 0))
		return true;
	return status >= 500;
}

/* One HTTP exchange; fills reply. */
static int
awsapi_once(struct http *http, struct pool *pool, const struct awsapi_call *call, const char *body,
    size_t len, struct awsapi_reply *reply)
{
	const struct config_aws *l = call->listing;
	char sha[TEXT_SHA256_HEX], *userpwd;
	const char *headers[6], *type;
	struct http_call hc;
	struct http_reply hr;
	struct json_object *json;
	size_t nh = 0;
	int rc;

	text_sha256_hex(sha, body, len);
	headers[nh++] = pool_printf(pool, "Content-Type: application/x-amz-json-%s", call->json_version);
	headers[nh++] = pool_printf(pool, "X-Amz-Target: %s", call->target);
	headers[nh++] = pool_printf(pool, "x-amz-content-sha256: %s", sha);
	if (l->session_token[0] != '\0')
		headers[nh++] = pool_printf(pool, "X-Amz-Security-Token: %s", l->session_token);
	headers[nh] = NULL;
	userpwd = pool_printf(pool, "%s:%s", l->access_key_id, l->secret_access_key);
	for (size_t i = 0; i < nh; i++)
		if (headers[i] == NULL)
			return ERR_NOMEM;
	if (userpwd == NULL)
		return ERR_NOMEM;
	memset(&hc, 0, sizeof(hc));
	hc.method = "POST";
	hc.url = call->url;
	hc.body = body;
	hc.body_len = len;
	hc.headers = headers;
	hc.sigv4 = pool_printf(pool, "aws:amz:%s:%s", l->region, call->service);
	hc.userpwd = userpwd;
	hc.timeout_ms = call->timeout_ms;
	hc.cancel = call->cancel;
	hc.max_response = AWSAPI_RESPONSE_MAX;
	rc = http_perform(http, &hc, &hr);
	sodium_memzero(userpwd, strlen(userpwd));
	reply->status = hr.status;
	reply->timed_out = hr.timed_out;
	if (rc != ERR_OK) {
		http_reply_release(&hr);
		return rc == ERR_NOMEM ? rc : ERR_UNAVAILABLE;
	}
	json = hr.body.len > 0 ? json_tokener_parse(buf_cstr(&hr.body)) : NULL;
	http_reply_release(&hr);
	if (json != NULL && !json_object_is_type(json, json_type_object)) {
		json_object_put(json);
		json = NULL;
	}
	reply->json = json;
	if (hr.status >= 200 && hr.status < 300) {
		if (json == NULL) {
			reply->error_type = "MalformedResponse";
			return ERR_UPSTREAM;
		}
		return ERR_OK;
	}
	type = awsapi_error_type(pool, jr_str(json, "__type"));
	reply->error_type = type != NULL ? type : "MalformedResponse";
	reply->error_message = jr_str(json, "message");
	if (reply->error_message == NULL)
		reply->error_message = jr_str(json, "Message");
	if (reply->error_message != NULL)
		reply->error_message = pool_strdup(pool, reply->error_message);
	return awsapi_retryable(type, hr.status) ? ERR_UNAVAILABLE : ERR_UPSTREAM;
}

int
awsapi_perform(struct http *http, struct pool *pool, const struct awsapi_call *call,
    struct awsapi_reply *reply)
{
	const char *body;
	size_t len;
	long delay_ms = 200;
	int rc;

	memset(reply, 0, sizeof(reply[0]));
	body = json_object_to_json_string_length(call->body, JSON_C_TO_STRING_PLAIN, &len);
	if (body == NULL)
		return ERR_NOMEM;
	for (;;) {
		awsapi_reply_release(reply);
		reply->error_type = NULL;
		reply->error_message = NULL;
		reply->attempts++;
		rc = awsapi_once(http, pool, call, body, len, reply);
		if (rc != ERR_UNAVAILABLE || reply->timed_out || reply->attempts > call->retries)
			break;
		log_info("aws: %s answered %s; retrying in %ld ms", call->target,
		    reply->error_type != NULL ? reply->error_type : "nothing", delay_ms);
		struct timespec pause = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
		nanosleep(&pause, NULL);
		delay_ms *= 2;
	}
	if (rc != ERR_OK)
		log_warnx("aws: %s failed after %d attempts: %s (HTTP %ld)", call->target, reply->attempts,
		    reply->timed_out ? "timeout" : reply->error_type != NULL ? reply->error_type : "no answer",
		    reply->status);
	return rc;
}
