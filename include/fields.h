/* SPDX-License-Identifier: MIT */
/*
 * fields.h: declarative validation at the edge (after kcgi's validators).
 * A route lists its fields; fields_validate() checks the JSON body, form or
 * query string against that list before the handler runs, and the handler
 * reads only validated values through field_str() and friends.
 *
 * JSON bodies must be objects and may hold only listed fields; forms and
 * query strings may hold others (marketplaces add parameters), but a
 * listed field may appear only once.
 */
#ifndef MPBIND_FIELDS_H
#define MPBIND_FIELDS_H

#include <stdbool.h>

struct request;

enum field_type {
	FIELD_TEXT,	/* UTF-8, no control characters; min/max bytes */
	FIELD_EMAIL,	/* normalised to lower case; checked shape */
	FIELD_PASSWORD,	/* UTF-8, no control characters; min/max bytes */
	FIELD_INT,	/* decimal integer in [min, max] */
	FIELD_BOOL,	/* JSON true/false, or "true"/"false"/"1"/"0" */
	FIELD_TOKEN,	/* [A-Za-z0-9+/=._~-]; min/max bytes */
	FIELD_ID,	/* [a-z0-9-]; min/max bytes */
	FIELD_ENUM,	/* one of choices, "a|b|c" */
	FIELD_ARRAY,	/* JSON only: an array of min..max items, read with field_json() */
};

enum field_flags {
	FIELD_REQUIRED = 1 << 0,
	FIELD_QUERY = 1 << 1,	/* from the query string, not the body */
};

struct field {
	const char *name;	/* NULL ends a list */
	enum field_type type;
	long long min, max;
	unsigned flags;
	const char *choices;
};

/*
 * Validates r's input against r->route->fields and stores the values.
 * Returns ERR_OK, or ERR_FIELD / ERR_TOO_MANY_FIELDS with r->error_field
 * naming the field, or ERR_BAD_JSON when the body is not an object.
 */
int fields_validate(struct request *r);

/* Validated values by name. NULL / def / false when absent. Borrowed. */
const char *field_str(const struct request *r, const char *name);
long long field_int(const struct request *r, const char *name, long long def);
bool field_bool(const struct request *r, const char *name, bool def);
bool field_present(const struct request *r, const char *name);

/* A validated FIELD_ARRAY, or NULL when absent. Borrowed from r->json. */
struct json_object *field_json(const struct request *r, const char *name);

/* Lower-cases and checks an e-mail address in place; false if invalid. */
bool fields_email_normalize(char *email);

#endif
