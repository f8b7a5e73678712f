/* SPDX-License-Identifier: MIT */
/*
 * form.h: decoders for application/x-www-form-urlencoded data (query
 * strings and POST bodies), for multipart/form-data bodies of plain fields
 * (RFC 7578, no files) and for the Cookie header.
 *
 * Decoded names and values live in the pool given; a list keeps every
 * pair in order, repeats included, so a caller can refuse a repeated field.
 */
#ifndef MPBIND_FORM_H
#define MPBIND_FORM_H

#include <stdbool.h>
#include <stddef.h>

struct pool;

struct kv {
	const char *name;
	const char *value;
	size_t value_len;
};

struct kvlist {
	struct kv *items;
	size_t count;
};

/*
 * Decodes "a=1&b=x+y%21" into out: '+' is a space, %XX a byte. A pair
 * without '=' has an empty value. Empty pairs ("a=1&&b=2") are skipped.
 * Returns ERR_OK; ERR_BAD_FORM for a bad escape, an empty name or a decoded
 * NUL byte; ERR_TOO_MANY_FIELDS past max_fields; ERR_FIELD (with *bad set to
 * the name) for a name or value longer than max_len bytes; ERR_NOMEM.
 */
int form_parse(struct pool *pool, const char *s, size_t len, size_t max_fields,
    size_t max_len, struct kvlist *out, const char **bad);

/*
 * Decodes a multipart/form-data body s[0..len) whose boundary is the
 * "boundary" parameter of content_type (1 to 70 characters, RFC 2046).
 * Each part must carry Content-Disposition: form-data; name="..." and no
 * filename (files are refused); its other headers are ignored, values are
 * taken as they are (CRLF line ends, as RFC 7578 requires). A preamble and
 * an epilogue are ignored. Returns ERR_OK; ERR_BAD_FORM for a missing or
 * bad boundary, a missing close delimiter, a part without a name, a file,
 * part headers longer than max_len + 1024 bytes or a NUL byte;
 * ERR_TOO_MANY_FIELDS
 * past max_fields; ERR_FIELD (with *bad set to the name) for a name or
 * value longer than max_len bytes; ERR_NOMEM.
 */
int form_parse_multipart(struct pool *pool, const char *content_type, const char *s, size_t len,
    size_t max_fields, size_t max_len, struct kvlist *out, const char **bad);

/*
 * Splits a Cookie header ("a=1; b=2") into out. Values are not decoded.
 * Malformed pieces are skipped, as browsers do. Returns ERR_OK or ERR_NOMEM.
 */
int form_parse_cookies(struct pool *pool, const char *header, size_t max_cookies,
    struct kvlist *out);

/* The first value for name, or NULL. Borrowed from the list. */
const char *kvlist_get(const struct kvlist *list, const char *name);

/* How many pairs are named name. */
size_t kvlist_count(const struct kvlist *list, const char *name);

#endif
