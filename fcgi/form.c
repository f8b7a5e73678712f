/* SPDX-License-Identifier: MIT */
/*
 * form.c: urlencoded, multipart/form-data and cookie decoding into
 * request-pool key/value lists.
 */
#include "form.h"

#include <string.h>
#include <strings.h>

#include "error.h"
#include "pool.h"
#include "banned.h"

static int
form_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..len) into a pool string; returns its length or -1. */
static long
form_decode(struct pool *pool, const char *s, size_t len, char **out)
{
	char *dst;
	size_t i, j = 0;
	int hi, lo;

	dst = pool_alloc(pool, len + 1);
	if (dst == NULL)
		return -2;
	for (i = 0; i < len; i++) {
		if (s[i] == '+') {
			dst[j++] = ' ';
		} else if (s[i] == '%') {
			if (i + 2 >= len)
				return -1;
			hi = form_hexval(s[i + 1]);
			lo = form_hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			dst[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			dst[j++] = s[i];
		}
	}
	dst[j] = '\0';
	*out = dst;
	return (long)j;
}

static int
kvlist_push(struct pool *pool, struct kvlist *list, size_t *alloc, const char *name,
    const char *value, size_t value_len)
{
	struct kv *items;

	if (list->count == *alloc) {
		*alloc = *alloc != 0 ? *alloc * 2 : 8;
		items = pool_alloc(pool, *alloc * sizeof(*items));
		if (items == NULL)
			return ERR_NOMEM;
		if (list->count > 0)
			memcpy(items, list->items, list->count * sizeof(*items));
		list->items = items;
	}
	list->items[list->count].name = name;
	list->items[list->count].value = value;
	list->items[list->count].value_len = value_len;
	list->count++;
	return ERR_OK;
}

int
form_parse(struct pool *pool, const char *s, size_t len, size_t max_fields,
    size_t max_len, struct kvlist *out, const char **bad)
{
	const char *p = s, *end = s + len, *amp, *eq;
	size_t alloc = 0;
	char *name, *value;
	long nlen, vlen;
	int rc;

	out->items = NULL;
	out->count = 0;
	*bad = NULL;
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp == p) {
			p++;
			continue;
		}
		if (out->count == max_fields)
			return ERR_TOO_MANY_FIELDS;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			eq = amp;
		nlen = form_decode(pool, p, (size_t)(eq - p), &name);
		if (nlen == -2)
			return ERR_NOMEM;
		if (nlen <= 0)
			return ERR_BAD_FORM;
		if ((size_t)nlen > max_len) {
			*bad = name;
			return ERR_FIELD;
		}
		vlen = form_decode(pool, eq < amp ? eq + 1 : amp,
		    eq < amp ? (size_t)(amp - eq - 1) : 0, &value);
		if (vlen == -2)
			return ERR_NOMEM;
		if (vlen < 0)
			return ERR_BAD_FORM;
		if ((size_t)vlen > max_len) {
			*bad = name;
			return ERR_FIELD;
		}
		rc = kvlist_push(pool, out, &alloc, name, value, (size_t)vlen);
		if (rc != ERR_OK)
			return rc;
		p = amp < end ? amp + 1 : end;
	}
	return ERR_OK;
}

#define FORM_BOUNDARY_MAX 70	/* RFC 2046 */
#define FORM_PART_HEADERS_SLACK 1024	/* a part's headers: its name (max_len) and this */

static bool
form_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Finds parameter name (case-insensitive) among the ";"-separated
 * parameters that follow the first item of the header value s[0..len),
 * and copies its value, unquoted, into the pool. Returns 1 when found, 0
 * when absent, -1 when the parameters are malformed or name is repeated,
 * -2 when the pool is exhausted.
 */
static int
form_header_param(struct pool *pool, const char *s, size_t len, const char *name, char **value,
    size_t *value_len)
{
	const char *p = memchr(s, ';', len), *end = s + len, *ns, *ne, *vs, *ve;
	size_t n = strlen(name), j;
	bool quoted;
	int found = 0;

	while (p != NULL && p < end) {
		for (p++; p < end && form_space(*p); p++)
			;
		if (p == end)
			break;	/* a trailing ";" */
		for (ns = p; p < end && *p != '=' && *p != ';' && !form_space(*p); p++)
			;
		for (ne = p; p < end && form_space(*p); p++)
			;
		if (ne == ns || p == end || *p != '=')
			return -1;
		for (p++; p < end && form_space(*p); p++)
			;
		quoted = p < end && *p == '"';
		if (quoted) {
			for (vs = ++p; p < end && *p != '"'; p++)
				if (*p == '\\' && p + 1 < end)
					p++;
			if (p == end)
				return -1;
			ve = p++;
		} else {
			for (vs = p; p < end && *p != ';' && !form_space(*p); p++)
				;
			ve = p;
		}
		for (; p < end && form_space(*p); p++)
			;
		if (p < end && *p != ';')
			return -1;
		if ((size_t)(ne - ns) != n || strncasecmp(ns, name, n) != 0)
			continue;
		if (found)
			return -1;
		found = 1;
		*value = pool_alloc(pool, (size_t)(ve - vs) + 1);
		if (*value == NULL)
			return -2;
		for (j = 0; vs < ve; vs++) {
			if (quoted && *vs == '\\')
				vs++;
			(*value)[j++] = *vs;
		}
		(*value)[j] = '\0';
		*value_len = j;
	}
	return found;
}

/* The boundary of a multipart/form-data content type, or NULL. */
static const char *
form_boundary(struct pool *pool, const char *content_type, int *rc)
{
	static const char bchars[] = "'()+_,-./:=? ";
	char *boundary;
	size_t len, i;
	int found;

	found = form_header_param(pool, content_type, strlen(content_type), "boundary", &boundary, &len);
	*rc = found == -2 ? ERR_NOMEM : ERR_BAD_FORM;
	if (found != 1 || len == 0 || len > FORM_BOUNDARY_MAX || boundary[len - 1] == ' ')
		return NULL;
	for (i = 0; i < len; i++)
		if (!((boundary[i] >= 'a' && boundary[i] <= 'z') || (boundary[i] >= 'A' && boundary[i] <= 'Z') ||
		    (boundary[i] >= '0' && boundary[i] <= '9') || strchr(bchars, boundary[i]) != NULL))
			return NULL;
	*rc = ERR_OK;
	return boundary;
}

/*
 * Reads the header lines h[0..len) of one part: its field name from
 * Content-Disposition: form-data; name="...". A file (a filename
 * parameter), another disposition, a second Content-Disposition or a line
 * that is not a header is ERR_BAD_FORM. Other headers are ignored.
 */
static int
form_part_name(struct pool *pool, const char *h, size_t len, char **name, size_t *name_len)
{
	static const char disposition[] = "content-disposition";
	const char *end = h + len, *eol, *colon, *v;
	size_t dlen = sizeof(disposition) - 1, vlen, file_len;
	char *file;
	int found, file_found, rc = ERR_BAD_FORM;

	*name = NULL;
	for (; h < end; h = eol + 2) {
		eol = memmem(h, (size_t)(end - h), "\r\n", 2);
		if (eol == NULL)
			eol = end;
		colon = memchr(h, ':', (size_t)(eol - h));
		if (colon == NULL || colon == h)
			return ERR_BAD_FORM;
		if ((size_t)(colon - h) != dlen || strncasecmp(h, disposition, dlen) != 0)
			continue;
		if (*name != NULL)
			return ERR_BAD_FORM;
		for (v = colon + 1; v < eol && form_space(*v); v++)
			;
		vlen = (size_t)(eol - v);
		if (vlen < 9 || strncasecmp(v, "form-data", 9) != 0 ||
		    (vlen > 9 && v[9] != ';' && !form_space(v[9])))
			return ERR_BAD_FORM;
		file_found = form_header_param(pool, v, vlen, "filename", &file, &file_len);
		if (file_found == 0)
			file_found = form_header_param(pool, v, vlen, "filename*", &file, &file_len);
		found = file_found == 0 ? form_header_param(pool, v, vlen, "name", name, name_len) : file_found;
		if (found == -2)
			return ERR_NOMEM;
		if (file_found != 0 || found != 1 || *name_len == 0)
			return ERR_BAD_FORM;	/* a file (no uploads here), or malformed */
		rc = ERR_OK;
	}
	return rc;
}

int
form_parse_multipart(struct pool *pool, const char *content_type, const char *s, size_t len,
    size_t max_fields, size_t max_len, struct kvlist *out, const char **bad)
{
	const char *boundary, *p, *end = s + len, *headers, *headers_end, *value, *next;
	char *delim, *name, *copy;
	size_t alloc = 0, dlen, name_len;
	int rc;

	out->items = NULL;
	out->count = 0;
	*bad = NULL;
	boundary = form_boundary(pool, content_type, &rc);
	if (boundary == NULL)
		return rc;
	delim = pool_printf(pool, "\r\n--%s", boundary);	/* a delimiter ends the part before it */
	if (delim == NULL)
		return ERR_NOMEM;
	dlen = strlen(delim);
	/* The first delimiter opens the body, or follows a preamble. */
	if (len >= dlen - 2 && memcmp(s, delim + 2, dlen - 2) == 0) {
		p = s + dlen - 2;
	} else {
		p = memmem(s, len, delim, dlen);
		if (p == NULL)
			return ERR_BAD_FORM;
		p += dlen;
	}
	for (;;) {
		for (; p < end && form_space(*p); p++)
			;	/* transport padding */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return ERR_OK;	/* the close delimiter; the epilogue is ignored */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return ERR_BAD_FORM;
		headers = p + 2;
		headers_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (headers_end == NULL || headers_end == p || (size_t)(headers_end - headers) > max_len + FORM_PART_HEADERS_SLACK ||
		    memchr(headers, '\0', (size_t)(headers_end - headers)) != NULL)
			return ERR_BAD_FORM;
		if (out->count == max_fields)
			return ERR_TOO_MANY_FIELDS;
		rc = form_part_name(pool, headers, (size_t)(headers_end - headers), &name, &name_len);
		if (rc != ERR_OK)
			return rc;
		if (name_len > max_len) {
			*bad = name;
			return ERR_FIELD;
		}
		value = headers_end + 4;
		next = memmem(value, (size_t)(end - value), delim, dlen);
		if (next == NULL)
			return ERR_BAD_FORM;
		if ((size_t)(next - value) > max_len) {
			*bad = name;
			return ERR_FIELD;
		}
		if (memchr(value, '\0', (size_t)(next - value)) != NULL)
			return ERR_BAD_FORM;
		copy = pool_strndup(pool, value, (size_t)(next - value));
		if (copy == NULL)
			return ERR_NOMEM;
		rc = kvlist_push(pool, out, &alloc, name, copy, (size_t)(next - value));
		if (rc != ERR_OK)
			return rc;
		p = next + dlen;
	}
}

int
form_parse_cookies(struct pool *pool, const char *header, size_t max_cookies,
    struct kvlist *out)
{
	const char *p = header, *semi, *eq, *ns, *ne, *vs, *ve;
	size_t alloc = 0;
	char *name, *value;
	int rc;

	out->items = NULL;
	out->count = 0;
	while (*p != '\0' && out->count < max_cookies) {
		semi = strchr(p, ';');
		if (semi == NULL)
			semi = p + strlen(p);
		eq = memchr(p, '=', (size_t)(semi - p));
		if (eq != NULL) {
			for (ns = p; ns < eq && (*ns == ' ' || *ns == '\t'); ns++)
				;
			for (ne = eq; ne > ns && (ne[-1] == ' ' || ne[-1] == '\t'); ne--)
				;
			for (vs = eq + 1; vs < semi && (*vs == ' ' || *vs == '\t'); vs++)
				;
			for (ve = semi; ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
				;
			if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
				vs++;
				ve--;
			}
			if (ne > ns) {
				name = pool_strndup(pool, ns, (size_t)(ne - ns));
				value = pool_strndup(pool, vs, (size_t)(ve - vs));
				if (name == NULL || value == NULL)
					return ERR_NOMEM;
				rc = kvlist_push(pool, out, &alloc, name, value, (size_t)(ve - vs));
				if (rc != ERR_OK)
					return rc;
			}
		}
		p = *semi != '\0' ? semi + 1 : semi;
	}
	return ERR_OK;
}

const char *
kvlist_get(const struct kvlist *list, const char *name)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		if (strcmp(list->items[i].name, name) == 0)
			return list->items[i].value;
	return NULL;
}

size_t
kvlist_count(const struct kvlist *list, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < list->count; i++)
		if (strcmp(list->items[i].name, name) == 0)
			n++;
	return n;
}
