/* SPDX-License-Identifier: MIT */
/*
 * awsapi.h: calls to AWS JSON APIs (Marketplace Metering and Entitlement:
 * JSON 1.1, SigV4 service "aws-marketplace"; SQS: JSON 1.0, service "sqs")
 * with the credentials of one listing. libcurl signs (CURLOPT_AWS_SIGV4,
 * region and service always explicit); we set x-amz-content-sha256 and, for
 * temporary credentials, X-Amz-Security-Token.
 *
 * Throttling, InternalServiceError and other 5xx answers are retried with
 * exponential backoff (200 ms, 400 ms, ...) up to http.retries times; a
 * timeout is not retried (the caller decides).
 */
#ifndef MPBIND_AWSAPI_H
#define MPBIND_AWSAPI_H

#include <stdatomic.h>
#include <stdbool.h>

struct config_aws;
struct http;
struct json_object;
struct pool;

struct awsapi_call {
	const struct config_aws *listing;
	const char *url;		/* endpoint, e.g. https://metering.marketplace.../ */
	const char *service;		/* "aws-marketplace" or "sqs" */
	const char *target;		/* X-Amz-Target, e.g. AWSMPMeteringService.ResolveCustomer */
	const char *json_version;	/* "1.1" or "1.0" */
	struct json_object *body;	/* borrowed */
	long retries;			/* attempts after the first */
	long timeout_ms;		/* 0: http.timeout */
	const atomic_bool *cancel;	/* see struct http_call; may be NULL */
};

struct awsapi_reply {
	long status;
	struct json_object *json;	/* owned: a parsed JSON object, or NULL */
	const char *error_type;		/* "InvalidTokenException", in the pool; NULL on success */
	const char *error_message;	/* in the pool; may be NULL */
	bool timed_out;
	int attempts;
};

/*
 * Performs the call. Returns ERR_OK for a 2xx JSON object (reply->json);
 * ERR_UPSTREAM for an AWS error that retrying does not cure (error_type
 * set) or a malformed answer (error_type "MalformedResponse");
 * ERR_UNAVAILABLE when still throttled or failing after the retries, on a
 * transport failure or a timeout (timed_out set). The caller releases
 * reply with awsapi_reply_release() whatever the result.
 */
int awsapi_perform(struct http *http, struct pool *pool, const struct awsapi_call *call,
    struct awsapi_reply *reply);

void awsapi_reply_release(struct awsapi_reply *reply);

/*
 * A CustomerIdentifier without the spaces AWS's own examples put around it,
 * copied into pool; NULL for NULL.
 */
char *awsapi_customer_id(struct pool *pool, const char *s);

#endif
