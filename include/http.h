/* SPDX-License-Identifier: MIT */
/*
 * http.h: outbound HTTP for calls to the marketplaces, over one libcurl
 * easy handle per thread (so connections are reused). Every call has a
 * timeout and a cap on the response size; TLS is always verified, against
 * the call's own CA bundle when it names one (SNS certificates: sns.ca_file),
 * else http.ca_file when it is set. AWS calls are signed by libcurl's SigV4 with
 * the region and service passed explicitly.
 *
 * Nothing here logs a request body, a header value or a credential.
 */
#ifndef MPBIND_HTTP_H
#define MPBIND_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct config;
typedef void CURL;

struct http {
	CURL *curl;			/* NULL until first use */
	const struct config *cfg;	/* borrowed */
};

struct http_call {
	const char *method;		/* "GET" or "POST" */
	const char *url;
	const char *body;		/* POST body or NULL */
	size_t body_len;
	const char *const *headers;	/* "Name: value" strings, NULL-terminated, or NULL */
	const char *sigv4;		/* "aws:amz:<region>:<service>" or NULL */
	const char *userpwd;		/* "AKID:SECRET" for sigv4; secret */
	long timeout_ms;		/* 0: http.timeout */
	size_t max_response;		/* 0: 1 MiB */
	const atomic_bool *cancel;	/* the call stops soon after this turns true; may be NULL */
	bool not_idempotent;		/* fresh connection, not kept: libcurl never resends it itself */
	const char *ca_file;		/* NULL: http.ca_file; "": the system's; else this bundle only */
};

struct http_reply {
	long status;			/* HTTP status, 0 if none */
	struct buf body;		/* owned; http_reply_release frees it */
	bool timed_out;
	bool untrusted;			/* the server's TLS certificate did not verify */
	bool sent;			/* the request left us: on failure the server may have acted on it */
};

/* Sets up h; opens nothing. */
void http_init(struct http *h, const struct config *cfg);

/* Closes the handle and its connections. */
void http_release(struct http *h);

/*
 * Performs call and fills reply (which the caller releases with
 * http_reply_release even on failure). Returns ERR_OK when an HTTP response
 * arrived (whatever its status), ERR_UPSTREAM on a transport failure, a
 * timeout or a response over max_response, ERR_NOMEM.
 */
int http_perform(struct http *h, const struct http_call *call, struct http_reply *reply);

void http_reply_release(struct http_reply *reply);

#endif
