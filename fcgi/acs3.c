/* SPDX-License-Identifier: MIT */
/*
 * acs3.c: ACS3-HMAC-SHA256 signing with libsodium (SHA-256 and HMAC-SHA256
 * with a key of any length). Builds the canonical request, the string to
 * sign and the headers; sends nothing.
 */
#include "acs3.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "error.h"
#include "pool.h"
#include "text.h"
#include "banned.h"

#define ACS3_ALGORITHM "ACS3-HMAC-SHA256"
#define ACS3_SIGNED_HEADERS "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
#define ACS3_MAX (1024 * 1024)	/* ceiling of the URL and the canonical request */
#define ACS3_DATE_LEN 20	/* yyyy-MM-ddTHH:mm:ssZ */
#define ACS3_HOST_MAX 255

struct acs3_encoded {
	const char *name;
	const char *value;
};

static int
acs3_encoded_compare(const void *a, const void *b)
{
	const struct acs3_encoded *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

/* s percent-encoded (RFC 3986 unreserved kept) in pool, or NULL. */
static const char *
acs3_encode(struct pool *pool, const char *s)
{
	struct buf b = BUF_INIT(ACS3_MAX);
	const char *out = NULL;

	if (text_url_encode(&b, s, strlen(s)) == 0)
		out = pool_strndup(pool, buf_cstr(&b), b.len);
	buf_release(&b);
	return out;
}

/* The sorted canonical query of req in pool ("" without parameters), or NULL. */
static const char *
acs3_canonical_query(struct pool *pool, const struct acs3_request *req)
{
	struct acs3_encoded *pairs;
	struct buf b = BUF_INIT(ACS3_MAX);
	const char *out = NULL;
	size_t i;
	int rc = 0;

	if (req->nquery == 0)
		return "";
	pairs = pool_alloc(pool, req->nquery * sizeof(pairs[0]));
	if (pairs == NULL)
		return NULL;
	for (i = 0; i < req->nquery; i++) {
		pairs[i].name = acs3_encode(pool, req->query[i].name);
		pairs[i].value = acs3_encode(pool, req->query[i].value);
		if (pairs[i].name == NULL || pairs[i].value == NULL)
			return NULL;
	}
	qsort(pairs, req->nquery, sizeof(pairs[0]), acs3_encoded_compare);
	for (i = 0; i < req->nquery && rc == 0; i++)
		rc = buf_appendf(&b, "%s%s=%s", i > 0 ? "&" : "", pairs[i].name, pairs[i].value);
	if (rc == 0)
		out = pool_strndup(pool, buf_cstr(&b), b.len);
	buf_release(&b);
	return out;
}

/* Splits "scheme://host[:port][/path]" into host and path ("/" when absent). */
static int
acs3_split_endpoint(struct pool *pool, const char *endpoint, const char **host, const char **path)
{
	const char *p = strstr(endpoint, "://"), *slash;
	size_t n;

	if (p == NULL)
		return ERR_INTERNAL;
	p += 3;
	slash = strchr(p, '/');
	n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n > ACS3_HOST_MAX || strpbrk(endpoint, "?#") != NULL)
		return ERR_INTERNAL;
	*host = pool_strndup(pool, p, n);
	*path = slash != NULL ? slash : "/";
	return *host != NULL ? ERR_OK : ERR_NOMEM;
}

int
acs3_sign(struct pool *pool, const struct acs3_request *req, struct acs3_signed *out)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char body_hash[TEXT_SHA256_HEX], request_hash[TEXT_SHA256_HEX];
	char date[ACS3_DATE_LEN + 1], signature[2 * sizeof(mac) + 1];
	crypto_auth_hmacsha256_state state;
	const char *host, *path, *query;
	struct tm tm;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = acs3_split_endpoint(pool, req->endpoint, &host, &path);
	if (rc != ERR_OK)
		return rc;
	if (gmtime_r(&req->date, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm) != ACS3_DATE_LEN)
		return ERR_INTERNAL;
	query = acs3_canonical_query(pool, req);
	if (query == NULL)
		return ERR_NOMEM;
	text_sha256_hex(body_hash, req->body_len > 0 ? req->body : "", req->body_len);
	out->canonical_request = pool_printf(pool,
	    "%s\n%s\n%s\n"
	    "host:%s\nx-acs-action:%s\nx-acs-content-sha256:%s\nx-acs-date:%s\n"
	    "x-acs-signature-nonce:%s\nx-acs-version:%s\n\n%s\n%s",
	    req->method, path, query, host, req->action, body_hash, date, req->nonce, req->version,
	    ACS3_SIGNED_HEADERS, body_hash);
	if (out->canonical_request == NULL)
		return ERR_NOMEM;
	text_sha256_hex(request_hash, out->canonical_request, strlen(out->canonical_request));
	out->string_to_sign = pool_printf(pool, "%s\n%s", ACS3_ALGORITHM, request_hash);
	if (out->string_to_sign == NULL)
		return ERR_NOMEM;
	crypto_auth_hmacsha256_init(&state, (const unsigned char *)req->access_key_secret,
	    strlen(req->access_key_secret));
	crypto_auth_hmacsha256_update(&state, (const unsigned char *)out->string_to_sign,
	    strlen(out->string_to_sign));
	crypto_auth_hmacsha256_final(&state, mac);
	sodium_memzero(&state, sizeof(state));
	text_hex(signature, mac, sizeof(mac));
	out->signature = pool_strdup(pool, signature);
	out->url = pool_printf(pool, "%s%s%s", req->endpoint, query[0] != '\0' ? "?" : "", query);
	out->headers[n++] = pool_printf(pool, "Host: %s", host);
	out->headers[n++] = pool_printf(pool, "x-acs-action: %s", req->action);
	out->headers[n++] = pool_printf(pool, "x-acs-content-sha256: %s", body_hash);
	out->headers[n++] = pool_printf(pool, "x-acs-date: %s", date);
	out->headers[n++] = pool_printf(pool, "x-acs-signature-nonce: %s", req->nonce);
	out->headers[n++] = pool_printf(pool, "x-acs-version: %s", req->version);
	out->headers[n++] = pool_printf(pool, "Authorization: %s Credential=%s,SignedHeaders=%s,Signature=%s",
	    ACS3_ALGORITHM, req->access_key_id, ACS3_SIGNED_HEADERS, signature);
	out->headers[n] = NULL;
	if (out->signature == NULL || out->url == NULL)
		return ERR_NOMEM;
	for (n = 0; n < ACS3_HEADERS; n++)
		if (out->headers[n] == NULL)
			return ERR_NOMEM;
	return ERR_OK;
}

void
acs3_nonce(char *out)
{
	unsigned char bytes[ACS3_NONCE_LEN / 2];

	randombytes_buf(bytes, sizeof(bytes));
	text_hex(out, bytes, sizeof(bytes));
}
