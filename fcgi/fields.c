/* SPDX-License-Identifier: MIT */
/*
 * fields.c: validation of a route's declared fields, from a JSON object, a
 * form or the query string, into r->values[]. A failure names the field and
 * the reason in the user's language.
 */
#include "fields.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "request.h"
#include "router.h"
#include "text.h"
#include "banned.h"

enum field_reason { REASON_MISSING, REASON_TOO_SHORT, REASON_TOO_LONG, REASON_INVALID,
	REASON_REPEATED, REASON_UNKNOWN };

static const char *const field_reasons[][2] = {
	[REASON_MISSING] = { "缺失", "missing" },
	[REASON_TOO_SHORT] = { "过短", "too short" },
	[REASON_TOO_LONG] = { "过长", "too long" },
	[REASON_INVALID] = { "格式无效", "invalid" },
	[REASON_REPEATED] = { "重复", "repeated" },
	[REASON_UNKNOWN] = { "未知字段", "not a known field" },
};

static int
field_fail(struct request *r, const char *name, enum field_reason reason)
{
	/* A client-chosen name is echoed capped and only when valid UTF-8. */
	const char *shown = request_set_error_field(r, name);

	r->error_message = pool_printf(r->pool, r->lang == LANG_EN ?
	    "Field \"%s\" is %s." : "字段“%s”%s。", shown,
	    field_reasons[reason][r->lang == LANG_EN ? 1 : 0]);
	return ERR_FIELD;
}

bool
fields_email_normalize(char *email)
{
	char *at, *p, *label;
	size_t len = strlen(email), local_len, label_len = 0;
	bool dot_seen = false, tld_alpha = true;

	if (len < 3 || len > 254)
		return false;
	for (p = email; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	at = strchr(email, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL)
		return false;
	local_len = (size_t)(at - email);
	if (local_len == 0 || local_len > 64 || email[0] == '.' || at[-1] == '.' ||
	    strstr(email, "..") != NULL)
		return false;
	for (p = email; p < at; p++)
		if (!isalnum((unsigned char)*p) && strchr(".!#$%&'*+/=?^_`{|}~-", *p) == NULL)
			return false;
	label = at + 1;
	for (p = at + 1;; p++) {
		if (*p == '.' || *p == '\0') {
			label_len = (size_t)(p - label);
			if (label_len == 0 || label_len > 63 || label[0] == '-' || p[-1] == '-')
				return false;
			if (*p == '\0')
				break;
			dot_seen = true;
			label = p + 1;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return false;
	}
	for (p = label; *p != '\0'; p++)
		if (!isalpha((unsigned char)*p))
			tld_alpha = false;
	return dot_seen && tld_alpha && label_len >= 2;
}

static bool
field_charset(const char *s, bool (*ok)(char))
{
	for (; *s != '\0'; s++)
		if (!ok(*s))
			return false;
	return true;
}

static bool
field_token_char(char c)
{
	return isalnum((unsigned char)c) || strchr("+/=._~-", c) != NULL;
}

static bool
field_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static bool
field_choice(const char *choices, const char *value)
{
	size_t n = strlen(value);
	const char *p = choices, *bar;

	while (*p != '\0') {
		bar = strchr(p, '|');
		if (bar == NULL)
			bar = p + strlen(p);
		if ((size_t)(bar - p) == n && strncmp(p, value, n) == 0)
			return true;
		p = *bar != '\0' ? bar + 1 : bar;
	}
	return false;
}

/* Checks value (a pool string the function may edit) against f. */
static int
field_check(struct request *r, const struct field *f, char *value, size_t len,
    struct field_value *out)
{
	char *end;
	long long v;

	if (f->type == FIELD_TEXT) {
		while (len > 0 && value[len - 1] == ' ')
			value[--len] = '\0';
		while (*value == ' ') {
			value++;
			len--;
		}
	}
	if (!text_valid_utf8(value, len))
		return field_fail(r, f->name, REASON_INVALID);
	switch (f->type) {
	case FIELD_TEXT:
	case FIELD_PASSWORD:
	case FIELD_TOKEN:
	case FIELD_ID:
		if ((long long)len < f->min)
			return field_fail(r, f->name, len == 0 ? REASON_MISSING : REASON_TOO_SHORT);
		if ((long long)len > f->max)
			return field_fail(r, f->name, REASON_TOO_LONG);
		if (f->type == FIELD_TOKEN && !field_charset(value, field_token_char))
			return field_fail(r, f->name, REASON_INVALID);
		if (f->type == FIELD_ID && !field_charset(value, field_id_char))
			return field_fail(r, f->name, REASON_INVALID);
		break;
	case FIELD_EMAIL:
		if (len > 254)
			return field_fail(r, f->name, REASON_TOO_LONG);
		if (!fields_email_normalize(value))
			return field_fail(r, f->name, len == 0 ? REASON_MISSING : REASON_INVALID);
		break;
	case FIELD_INT:
		errno = 0;
		v = strtoll(value, &end, 10);
		if (len == 0 || len > 20 || errno != 0 || *end != '\0' || isspace((unsigned char)*value))
			return field_fail(r, f->name, REASON_INVALID);
		if (v < f->min || v > f->max)
			return field_fail(r, f->name, REASON_INVALID);
		out->num = v;
		break;
	case FIELD_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			out->num = 1;
		else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
			out->num = 0;
		else
			return field_fail(r, f->name, REASON_INVALID);
		break;
	case FIELD_ENUM:
		if (!field_choice(f->choices, value))
			return field_fail(r, f->name, REASON_INVALID);
		break;
	case FIELD_ARRAY:
		return ERR_INTERNAL;	/* handled by fields_validate */
	}
	out->str = value;
	out->len = strlen(value);
	out->present = true;
	return ERR_OK;
}

static bool
field_listed(const struct field *fields, const char *name)
{
	for (; fields != NULL && fields->name != NULL; fields++)
		if ((fields->flags & FIELD_QUERY) == 0 && strcmp(fields->name, name) == 0)
			return true;
	return false;
}

/* The text of a JSON value for f, in the pool; NULL with *rc set on failure. */
static char *
field_from_json(struct request *r, const struct field *f, struct json_object *v,
    size_t *len, int *rc)
{
	const char *s;
	char *copy;

	switch (f->type) {
	case FIELD_INT:
		if (!json_object_is_type(v, json_type_int)) {
			*rc = field_fail(r, f->name, REASON_INVALID);
			return NULL;
		}
		copy = pool_printf(r->pool, "%lld", (long long)json_object_get_int64(v));
		break;
	case FIELD_BOOL:
		if (!json_object_is_type(v, json_type_boolean)) {
			*rc = field_fail(r, f->name, REASON_INVALID);
			return NULL;
		}
		copy = pool_strdup(r->pool, json_object_get_boolean(v) ? "true" : "false");
		break;
	default:
		if (!json_object_is_type(v, json_type_string)) {
			*rc = field_fail(r, f->name, REASON_INVALID);
			return NULL;
		}
		s = json_object_get_string(v);
		*len = (size_t)json_object_get_string_len(v);
		if (strlen(s) != *len) {	/* an escaped NUL inside */
			*rc = field_fail(r, f->name, REASON_INVALID);
			return NULL;
		}
		if (*len > (size_t)r->cfg->max_field_len) {
			*rc = field_fail(r, f->name, REASON_TOO_LONG);
			return NULL;
		}
		copy = pool_strndup(r->pool, s, *len);
		break;
	}
	if (copy == NULL)
		*rc = ERR_NOMEM;
	else
		*len = strlen(copy);
	return copy;
}

int
fields_validate(struct request *r)
{
	const struct field *fields = r->route->fields, *f;
	const struct kvlist *list;
	struct json_object *v;
	size_t i, len = 0;
	char *value;
	int rc = ERR_OK;

	if (r->route->body == BODY_JSON) {
		if (r->json == NULL || !json_object_is_type(r->json, json_type_object))
			return ERR_BAD_JSON;
		json_object_object_foreach(r->json, key, val) {
			(void)val;
			if (!field_listed(fields, key))
				return field_fail(r, key, REASON_UNKNOWN);
		}
	}
	for (i = 0; fields != NULL && fields[i].name != NULL; i++) {
		f = &fields[i];
		if (i == REQUEST_FIELDS_MAX)
			return ERR_INTERNAL;
		value = NULL;
		if (f->type == FIELD_ARRAY && r->route->body != BODY_JSON)
			return ERR_INTERNAL;	/* a route table mistake */
		if ((f->flags & FIELD_QUERY) != 0 || r->route->body == BODY_FORM ||
		    r->route->body == BODY_FORM_MULTIPART) {
			list = (f->flags & FIELD_QUERY) != 0 ? &r->query_params : &r->form;
			if (kvlist_count(list, f->name) > 1)
				return field_fail(r, f->name, REASON_REPEATED);
			value = (char *)(uintptr_t)kvlist_get(list, f->name);
			if (value != NULL) {
				len = strlen(value);
				value = pool_strndup(r->pool, value, len);
				if (value == NULL)
					return ERR_NOMEM;
			}
		} else if (r->route->body == BODY_JSON &&
		    json_object_object_get_ex(r->json, f->name, &v) && v != NULL) {
			if (f->type == FIELD_ARRAY) {
				if (!json_object_is_type(v, json_type_array))
					return field_fail(r, f->name, REASON_INVALID);
				len = json_object_array_length(v);
				if ((long long)len < f->min)
					return field_fail(r, f->name, len == 0 ? REASON_MISSING : REASON_TOO_SHORT);
				if ((long long)len > f->max)
					return field_fail(r, f->name, REASON_TOO_LONG);
				r->values[i].present = true;
				r->values[i].num = (long long)len;
				continue;
			}
			value = field_from_json(r, f, v, &len, &rc);	/* v borrowed */
			if (value == NULL)
				return rc;
		}
		if (value == NULL) {
			if ((f->flags & FIELD_REQUIRED) != 0)
				return field_fail(r, f->name, REASON_MISSING);
			continue;
		}
		rc = field_check(r, f, value, len, &r->values[i]);
		if (rc != ERR_OK)
			return rc;
	}
	return ERR_OK;
}

static const struct field_value *
field_find(const struct request *r, const char *name)
{
	const struct field *fields = r->route != NULL ? r->route->fields : NULL;
	size_t i;

	for (i = 0; fields != NULL && fields[i].name != NULL && i < REQUEST_FIELDS_MAX; i++)
		if (strcmp(fields[i].name, name) == 0)
			return r->values[i].present ? &r->values[i] : NULL;
	return NULL;
}

const char *
field_str(const struct request *r, const char *name)
{
	const struct field_value *v = field_find(r, name);

	return v != NULL ? v->str : NULL;
}

long long
field_int(const struct request *r, const char *name, long long def)
{
	const struct field_value *v = field_find(r, name);

	return v != NULL ? v->num : def;
}

bool
field_bool(const struct request *r, const char *name, bool def)
{
	const struct field_value *v = field_find(r, name);

	return v != NULL ? v->num != 0 : def;
}

struct json_object *
field_json(const struct request *r, const char *name)
{
	struct json_object *v;

	if (field_find(r, name) == NULL || !json_object_object_get_ex(r->json, name, &v))
		return NULL;
	return v;
}

bool
field_present(const struct request *r, const char *name)
{
	return field_find(r, name) != NULL;
}
