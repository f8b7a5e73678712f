/* SPDX-License-Identifier: MIT */
/*
 * events.c: writing audit events and listing an org's events.
 */
#include "events.h"

#include <stdarg.h>
#include <string.h>

#include "db.h"
#include "fields.h"
#include "jsonw.h"
#include "orgs.h"
#include "request.h"
#include "worker.h"
#include "banned.h"

#define EVENTS_DETAIL_MAX 2000

int
events_record(struct db *db, struct pool *pool, const char *org_id, long long actor_user_id,
    const char *actor, const char *action, ...)
{
	struct json_object *detail = json_object_new_object();
	const char *name, *value, *text;
	va_list ap;
	int rc;

	if (detail == NULL)
		return ERR_NOMEM;
	va_start(ap, action);
	while ((name = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		jw_str(detail, name, value);
	}
	va_end(ap);
	text = json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL || strlen(text) > EVENTS_DETAIL_MAX)
		text = "{}";
	rc = db_run(db, pool, STMT_EVENT_INSERT, NULL, DB_ARGS(DB_TEXT_OR_NULL(org_id),
	    actor_user_id > 0 ? DB_INT(actor_user_id) : DB_NULL, DB_TEXT(actor), DB_TEXT(action),
	    DB_TEXT(text)));
	json_object_put(detail);
	return rc;
}

/* GET /api/orgs/{org}/events: see events.h. */
static int
events_list(struct request *r)
{
	const char *org_id = r->path_param[0];
	long long before = field_int(r, "before", (long long)1 << 62);
	long long limit = field_int(r, "limit", 50);
	struct json_object *root, *list, *e, *detail;
	struct db_result res;
	enum org_role role;
	size_t i;
	int rc;

	rc = orgs_role(r, org_id, false, &role);
	if (rc != ERR_OK)
		return rc;
	if (role != ROLE_ADMIN && role != ROLE_BILLING)
		return ERR_FORBIDDEN;
	rc = db_run(&r->worker->db, r->pool, STMT_EVENT_LIST, &res,
	    DB_ARGS(DB_TEXT(org_id), DB_INT(before), DB_INT(limit)));
	if (rc != ERR_OK)
		return rc;
	root = json_object_new_object();
	list = json_object_new_array();
	for (i = 0; i < res.nrows; i++) {
		e = json_object_new_object();
		jw_int(e, "id", db_int(&res, i, 0));
		jw_str(e, "at", db_text(&res, i, 1));
		jw_str(e, "actor_email", db_text(&res, i, 2));
		jw_str(e, "actor", db_text(&res, i, 3));
		jw_str(e, "action", db_text(&res, i, 4));
		detail = json_tokener_parse(db_text(&res, i, 5));
		jw_add(e, "detail", detail != NULL ? detail : json_object_new_object());
		json_object_array_add(list, e);
	}
	jw_add(root, "events", list);
	if (res.nrows == (size_t)limit)
		jw_int(root, "next_before", db_int(&res, res.nrows - 1, 0));
	else
		jw_add(root, "next_before", NULL);
	return reply_json(r, 200, root);
}

static const struct field events_list_fields[] = {
	{ "before", FIELD_INT, 1, (long long)1 << 62, FIELD_QUERY, NULL },
	{ "limit", FIELD_INT, 1, 200, FIELD_QUERY, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct route events_routes[] = {
	{ "events_list", METHOD_GET, "/api/orgs/{}/events", events_list, AUTH_SESSION, BODY_NONE,
	  REPLY_JSON, events_list_fields },
};

ROUTE_TABLE(events, events_routes);
