/* SPDX-License-Identifier: MIT */
/*
 * text.c: UTF-8, escaping, encodings and constant-time comparison.
 */
#include "text.h"

#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "banned.h"

bool
text_utf8_wellformed(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	unsigned cp, need;

	while (p < end) {
		if (*p == 0)
			return false;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			need = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			need = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			need = 3;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= need)
			return false;
		for (unsigned i = 1; i <= need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += need + 1;
	}
	return true;
}

bool
text_valid_utf8(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return text_utf8_wellformed(s, len);
}

int
text_html_escape(struct buf *out, const char *s)
{
	const char *rep;
	int rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: rep = NULL; break;
		}
		rc = rep != NULL ? buf_appends(out, rep) : buf_appendc(out, *s);
	}
	return rc;
}

int
text_url_encode(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	size_t i;
	int rc = 0;

	for (i = 0; i < len && rc == 0; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			rc = buf_appendc(out, (char)c);
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			rc = buf_append(out, esc, 3);
		}
	}
	return rc;
}

size_t
text_base64url_len(size_t n)
{
	return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1;
}

size_t
text_base64url_encode(char *out, size_t size, const unsigned char *in, size_t n)
{
	if (size < text_base64url_len(n) + 1) {
		if (size > 0)
			out[0] = '\0';
		return 0;
	}
	sodium_bin2base64(out, size, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return strlen(out);
}

long
text_base64url_decode(unsigned char *out, size_t size, const char *in, size_t len)
{
	const char *end;
	size_t n;

	if (sodium_base642bin(out, size, in, len, NULL, &n, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || end != in + len)
		return -1;
	return (long)n;
}

void
text_hex(char *out, const unsigned char *in, size_t n)
{
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

static bool
text_chars_of(const char *s, size_t max, const char *extra, bool lower)
{
	size_t n = s != NULL ? strlen(s) : 0;
	char c;

	if (n == 0 || n > max)
		return false;
	for (; *s != '\0'; s++) {
		c = *s;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (!lower && c >= 'A' && c <= 'Z'))
			continue;
		if (strchr(extra, c) == NULL)
			return false;
	}
	return true;
}

bool
text_chars(const char *s, size_t max, const char *extra)
{
	return text_chars_of(s, max, extra, false);
}

bool
text_lower_chars(const char *s, size_t max, const char *extra)
{
	return text_chars_of(s, max, extra, true);
}

bool
text_decimal_micros(const char *s, long long whole_max, long long *micros)
{
	long long whole = 0, frac = 0;
	int digits = 0;

	if (whole_max > TEXT_DECIMAL_WHOLE_MAX || *s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		whole = whole * 10 + (*s - '0');	/* at most 10 * whole_max + 9: no overflow */
		if (whole > whole_max)
			return false;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9' && digits < 6; s++, digits++)
			frac = frac * 10 + (*s - '0');
		if (digits == 0)
			return false;
	}
	if (*s != '\0')
		return false;
	for (; digits < 6; digits++)
		frac *= 10;
	*micros = whole * 1000000 + frac;
	return true;
}

void
text_sha256_hex(char out[TEXT_SHA256_HEX], const void *data, size_t len)
{
	unsigned char digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, data, len);
	text_hex(out, digest, sizeof(digest));
}

bool
text_equal_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char ha[crypto_generichash_BYTES], hb[crypto_generichash_BYTES];

	/* Hash both so the compare costs the same whatever the lengths. */
	crypto_generichash(ha, sizeof(ha), (const unsigned char *)a, la, NULL, 0);
	crypto_generichash(hb, sizeof(hb), (const unsigned char *)b, lb, NULL, 0);
	return sodium_memcmp(ha, hb, sizeof(ha)) == 0 && la == lb;
}
