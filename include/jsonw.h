/* SPDX-License-Identifier: MIT */
/*
 * jsonw.h: short helpers for building json-c objects in handlers. Each jw_
 * adds a member to obj; obj takes ownership of what is added. A NULL string
 * is written as JSON null. jr_str reads one back.
 */
#ifndef MPBIND_JSONW_H
#define MPBIND_JSONW_H

#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

/*
 * The string member key of obj, borrowed from obj; NULL when obj is NULL,
 * the member is missing or not a string, or it holds a NUL (\u0000), which
 * no field mpbind reads may contain and a C string would silently cut.
 */
static inline const char *
jr_str(struct json_object *obj, const char *key)
{
	struct json_object *v;
	const char *s;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

static inline void
jw_str(struct json_object *obj, const char *key, const char *value)
{
	json_object_object_add(obj, key, value != NULL ? json_object_new_string(value) : NULL);
}

static inline void
jw_int(struct json_object *obj, const char *key, long long value)
{
	json_object_object_add(obj, key, json_object_new_int64(value));
}

static inline void
jw_bool(struct json_object *obj, const char *key, bool value)
{
	json_object_object_add(obj, key, json_object_new_boolean(value));
}

/* Takes ownership of value. */
static inline void
jw_add(struct json_object *obj, const char *key, struct json_object *value)
{
	json_object_object_add(obj, key, value);
}

#endif
