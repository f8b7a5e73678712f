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

/* Constant-time equality of two strings (time depends on lengths only). */
bool text_equal_ct(const char *a, const char *b);

#endif
