/* SPDX-License-Identifier: MIT */
/*
 * form.c: urlencoded and cookie decoding into request-pool key/value lists.
 */
#include "form.h"

#include <string.h>

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
