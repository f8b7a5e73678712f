/* SPDX-License-Identifier: MIT */
/*
 * text.h: small text helpers shared by every module: UTF-8 validation,
 * escaping for HTML and URLs, base64url and hex, and a constant-time compare.
 */
#ifndef MPBIND_TEXT_H
#define MPBIND_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* True when s[0..len) is well-formed UTF-8 with no C0 control, DEL or NUL. */
bool text_valid_utf8(const char *s, size_t len);

/* True when s[0..len) is a valid UTF-8 sequence (controls allowed but NUL). */
bool text_utf8_wellformed(const char *s, size_t len);

/* Appends s with & < > " ' escaped. Returns buf_append's result. */
int text_html_escape(struct buf *out, const char *s);

/* Appends s percent-encoded (RFC 3986 unreserved kept). */
int text_url_encode(struct buf *out, const char *s, size_t len);

/*
 * base64url without padding. text_base64url_encode writes a NUL-terminated
 * string into out (size at least text_base64url_len(n) + 1) and returns
 * its length. text_base64url_decode returns the decoded length or -1.
 */
size_t text_base64url_len(size_t n);
size_t text_base64url_encode(char *out, size_t size, const unsigned char *in, size_t n);
long text_base64url_decode(unsigned char *out, size_t size, const char *in, size_t len);

/* Lowercase hex of in[0..n) into out (2n + 1 bytes). */
void text_hex(char *out, const unsigned char *in, size_t n);

/*
 * True when s (NULL is false) is 1 to max characters, each an ASCII letter
 * or digit or one of extra; text_lower_chars allows only lowercase letters.
 */
bool text_chars(const char *s, size_t max, const char *extra);
bool text_lower_chars(const char *s, size_t max, const char *extra);

/*
 * A decimal "123" or "123.456789" (at most six decimals, no sign) as
 * micro-units; false if malformed or the whole part exceeds whole_max, which
 * must be at most TEXT_DECIMAL_WHOLE_MAX (so the result stays below 1e18).
 */
#define TEXT_DECIMAL_WHOLE_MAX 999999999999LL
bool text_decimal_micros(const char *s, long long whole_max, long long *micros);

/* Lowercase hex of the SHA-256 of data[0..len) into out. */
#define TEXT_SHA256_HEX 65
void text_sha256_hex(char out[TEXT_SHA256_HEX], const void *data, size_t len);

/* Constant-time equality of two strings (time depends on lengths only). */
bool text_equal_ct(const char *a, const char *b);

#endif
