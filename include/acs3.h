/* SPDX-License-Identifier: MIT */
/*
 * acs3.h: ACS3-HMAC-SHA256, the request signature of Alibaba Cloud OpenAPI
 * (V3), for RPC-style calls such as Market's PushMeteringData
 * (../shared/protocols/aliyun-marketplace.md §3.4). acs3_sign() is a pure
 * function from a request's parts to the URL and headers that carry it, so
 * tests can hold it against a vector computed elsewhere. Nothing here
 * sends, logs or keeps anything.
 *
 *   CanonicalRequest = METHOD \n path \n CanonicalQuery \n CanonicalHeaders \n
 *                      SignedHeaders \n hex(sha256(body))
 *   StringToSign     = "ACS3-HMAC-SHA256" \n hex(sha256(CanonicalRequest))
 *   Signature        = hex(HMAC-SHA256(AccessKeySecret, StringToSign))
 *
 * path is the endpoint's ("/" in production); CanonicalQuery is every
 * parameter name and value percent-encoded (RFC 3986: A-Za-z0-9-_.~ kept,
 * space %20), sorted, joined "k=v&..."; the signed headers are host (as in
 * the endpoint, with its port if any), x-acs-action, x-acs-content-sha256,
 * x-acs-date, x-acs-signature-nonce and x-acs-version, lowercase, sorted.
 */
#ifndef MPBIND_ACS3_H
#define MPBIND_ACS3_H

#include <stddef.h>
#include <time.h>

struct pool;

#define ACS3_NONCE_LEN 32	/* lowercase hex of 16 random bytes */
#define ACS3_HEADERS 7		/* the six signed headers and Authorization */

struct acs3_param {
	const char *name;		/* unencoded */
	const char *value;		/* unencoded */
};

struct acs3_request {
	const char *method;		/* "POST" */
	const char *endpoint;		/* scheme://host[:port][/path], no query */
	const char *action;		/* x-acs-action, e.g. "PushMeteringData" */
	const char *version;		/* x-acs-version, e.g. "2015-11-01" */
	const struct acs3_param *query;	/* any order; may be NULL when nquery is 0 */
	size_t nquery;
	const char *body;		/* may be NULL when body_len is 0 */
	size_t body_len;
	time_t date;			/* x-acs-date, written as UTC yyyy-MM-ddTHH:mm:ssZ */
	const char *nonce;		/* x-acs-signature-nonce: new for every request */
	const char *access_key_id;
	const char *access_key_secret;	/* secret: never copied into the result */
};

struct acs3_signed {
	const char *url;		/* endpoint "?" CanonicalQuery: the URL to send */
	/* "Host: ...", the five x-acs-* headers, "Authorization: ...", NULL */
	const char *headers[ACS3_HEADERS + 1];
	const char *canonical_request;	/* for tests and for diffing a SignatureDoesNotMatch */
	const char *string_to_sign;
	const char *signature;		/* lowercase hex */
};

/*
 * Signs req into out. Every string of out is allocated from pool and lives
 * as long as it. Returns ERR_OK, ERR_NOMEM, or ERR_INTERNAL when the
 * endpoint has no host or the date cannot be written.
 */
int acs3_sign(struct pool *pool, const struct acs3_request *req, struct acs3_signed *out);

/* A fresh random nonce into out (ACS3_NONCE_LEN + 1 bytes). */
void acs3_nonce(char *out);

#endif
