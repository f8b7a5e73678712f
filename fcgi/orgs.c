/* SPDX-License-Identifier: MIT */
/*
 * orgs.c: creating, listing, renaming and leaving organizations, and the
 * role checks the other modules build on.
 */
#include "orgs.h"

#include <string.h>

#include <sodium.h>

#include "config.h"
#include "db.h"
#include "events.h"
#include "fields.h"
#include "jsonw.h"
#include "request.h"
#include "worker.h"
#include "banned.h"

static const char *const orgs_roles[] = {
	[ROLE_NONE] = NULL, [ROLE_MEMBER] = "member", [ROLE_BILLING] = "billing", [ROLE_ADMIN] = "admin",
};

bool
orgs_valid_id(const char *id)
{
	size_t i;

	if (id == NULL || strlen(id) != ORG_ID_LEN || strncmp(id, "org-", 4) != 0)
		return false;
	for (i = 4; i < ORG_ID_LEN; i++)
		if (id[i] < 'a' || id[i] > 'z')
			return false;
	return true;
}

const char *
orgs_role_name(enum org_role role)
{
	return role <= ROLE_ADMIN ? orgs_roles[role] : NULL;
}

enum org_role
orgs_role_parse(const char *name)
{
	enum org_role role;

	for (role = ROLE_MEMBER; name != NULL && role <= ROLE_ADMIN; role++)
		if (strcmp(orgs_roles[role], name) == 0)
			return role;
	return ROLE_NONE;
}

bool
orgs_role_can_bill(enum org_role role)
{
	return role == ROLE_ADMIN || role == ROLE_BILLING;
}

int
orgs_role(struct request *r, const char *org_id, bool lock, enum org_role *role)
{
	struct db_result res;
	int rc;

	*role = ROLE_NONE;
	if (!orgs_valid_id(org_id) || !r->signed_in)
		return ERR_NOT_FOUND;
	rc = db_run(&r->worker->db, r->pool, lock ? STMT_ORG_ROLE_LOCK : STMT_ORG_ROLE, &res,
	    DB_ARGS(DB_TEXT(org_id), DB_INT(r->user.user_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 0)
		return ERR_NOT_FOUND;
	*role = orgs_role_parse(db_text(&res, 0, 0));
	return ERR_OK;
}

int
orgs_insert(struct db *db, struct pool *pool, long long user_id, const char *name,
    const char *actor, char *id)
{
	int attempt, i, rc = ERR_DB_DUPLICATE;

	for (attempt = 0; attempt < 3 && rc == ERR_DB_DUPLICATE; attempt++) {
		memcpy(id, "org-", 4);
		for (i = 4; i < ORG_ID_LEN; i++)
			id[i] = (char)('a' + randombytes_uniform(26));
		id[ORG_ID_LEN] = '\0';
		rc = db_run(db, pool, STMT_ORG_INSERT, NULL,
		    DB_ARGS(DB_TEXT(id), DB_TEXT(name), DB_INT(user_id)));
	}
	if (rc != ERR_OK)
		return rc;
	rc = db_run(db, pool, STMT_MEMBER_INSERT, NULL,
	    DB_ARGS(DB_TEXT(id), DB_INT(user_id), DB_TEXT("admin")));
	if (rc != ERR_OK)
		return rc;
	return events_record(db, pool, id, strcmp(actor, "user") == 0 ? user_id : 0, actor,
	    "org.created", "name", name, NULL);
}

int
orgs_check_admins(struct db *db, struct pool *pool, const char *org_id, long long user_id)
{
	struct db_result res;
	bool is_admin = false;
	size_t i;
	int rc;

	rc = db_run(db, pool, STMT_ORG_ADMINS_LOCK, &res, DB_ARGS(DB_TEXT(org_id)));
	if (rc != ERR_OK)
		return rc;
	for (i = 0; i < res.nrows; i++)
		if (db_int(&res, i, 0) == user_id)
			is_admin = true;
	return is_admin && res.nrows <= 1 ? ERR_LAST_ADMIN : ERR_OK;
}

static struct json_object *
orgs_json(const char *id, const char *name, const char *role, long long members, const char *created)
{
	struct json_object *o = json_object_new_object();

	jw_str(o, "id", id);
	jw_str(o, "name", name);
	jw_str(o, "role", role);
	jw_int(o, "member_count", members);
	jw_str(o, "created_at", created);
	return o;
}

/* 200 with the org of r->path_param[0], or the handler's error. */
static int
orgs_reply_one(struct request *r, const char *org_id, int status)
{
	struct json_object *root;
	struct db_result res;
	int rc;

	rc = db_run(&r->worker->db, r->pool, STMT_ORG_GET, &res,
	    DB_ARGS(DB_TEXT(org_id), DB_INT(r->user.user_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 0)
		return ERR_NOT_FOUND;
	root = json_object_new_object();
	jw_add(root, "org", orgs_json(org_id, db_text(&res, 0, 0), db_text(&res, 0, 1),
	    db_int(&res, 0, 2), db_text(&res, 0, 3)));
	return reply_json(r, status, root);
}

/* GET /api/orgs: see orgs.h. */
static int
orgs_list(struct request *r)
{
	struct json_object *root, *list;
	struct db_result res;
	size_t i;
	int rc;

	rc = db_run(&r->worker->db, r->pool, STMT_ORG_LIST, &res, DB_ARGS(DB_INT(r->user.user_id)));
	if (rc != ERR_OK)
		return rc;
	root = json_object_new_object();
	list = json_object_new_array();
	for (i = 0; i < res.nrows; i++)
		json_object_array_add(list, orgs_json(db_text(&res, i, 0), db_text(&res, i, 1),
		    db_text(&res, i, 2), db_int(&res, i, 3), db_text(&res, i, 4)));
	jw_add(root, "orgs", list);
	jw_bool(root, "allow_creation", r->cfg->allow_org_creation);
	return reply_json(r, 200, root);
}

struct orgs_create_tx {
	struct request *r;
	char id[ORG_ID_LEN + 1];
};

static int
orgs_create_tx(void *arg)
{
	struct orgs_create_tx *tx = arg;

	return orgs_insert(&tx->r->worker->db, tx->r->pool, tx->r->user.user_id,
	    field_str(tx->r, "name"), "user", tx->id);
}

/* POST /api/orgs: see orgs.h. */
static int
orgs_create(struct request *r)
{
	struct orgs_create_tx tx = { .r = r };
	int rc;

	if (!r->cfg->allow_org_creation)
		return ERR_ORG_CREATION_OFF;
	rc = db_transaction(&r->worker->db, orgs_create_tx, &tx);
	if (rc != ERR_OK)
		return rc;
	return orgs_reply_one(r, tx.id, 201);
}

/* GET /api/orgs/{org}: see orgs.h. */
static int
orgs_get(struct request *r)
{
	if (!orgs_valid_id(r->path_param[0]))
		return ERR_NOT_FOUND;
	return orgs_reply_one(r, r->path_param[0], 200);
}

static int
orgs_rename_tx(void *arg)
{
	struct request *r = arg;
	const char *org_id = r->path_param[0];
	enum org_role role;
	int rc;

	rc = orgs_role(r, org_id, true, &role);
	if (rc != ERR_OK)
		return rc;
	if (role != ROLE_ADMIN)
		return ERR_FORBIDDEN;
	rc = db_run(&r->worker->db, r->pool, STMT_ORG_RENAME, NULL,
	    DB_ARGS(DB_TEXT(field_str(r, "name")), DB_TEXT(org_id)));
	if (rc != ERR_OK)
		return rc;
	return events_by_user(r, org_id, "org.renamed", "name", field_str(r, "name"), NULL);
}

/* PATCH /api/orgs/{org}: see orgs.h. */
static int
orgs_rename(struct request *r)
{
	int rc = db_transaction(&r->worker->db, orgs_rename_tx, r);

	return rc != ERR_OK ? rc : orgs_reply_one(r, r->path_param[0], 200);
}

static int
orgs_leave_tx(void *arg)
{
	struct request *r = arg;
	const char *org_id = r->path_param[0];
	enum org_role role;
	int rc;

	rc = orgs_role(r, org_id, true, &role);
	if (rc != ERR_OK)
		return rc;
	rc = orgs_check_admins(&r->worker->db, r->pool, org_id, r->user.user_id);
	if (rc != ERR_OK)
		return rc;
	rc = db_run(&r->worker->db, r->pool, STMT_MEMBER_DELETE, NULL,
	    DB_ARGS(DB_TEXT(org_id), DB_INT(r->user.user_id)));
	if (rc != ERR_OK)
		return rc;
	return events_by_user(r, org_id, "member.left", "email", r->user.email, NULL);
}

/* POST /api/orgs/{org}/leave: see orgs.h. */
static int
orgs_leave(struct request *r)
{
	int rc = db_transaction(&r->worker->db, orgs_leave_tx, r);

	return rc != ERR_OK ? rc : reply_json(r, 200, json_object_new_object());
}

static const struct field orgs_name_fields[] = {
	{ "name", FIELD_TEXT, 1, 100, FIELD_REQUIRED, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct route orgs_routes[] = {
	{ "orgs_list", METHOD_GET, "/api/orgs", orgs_list, AUTH_SESSION, BODY_NONE, REPLY_JSON, NULL },
	{ "orgs_create", METHOD_POST, "/api/orgs", orgs_create, AUTH_SESSION, BODY_JSON, REPLY_JSON,
	  orgs_name_fields },
	{ "orgs_get", METHOD_GET, "/api/orgs/{}", orgs_get, AUTH_SESSION, BODY_NONE, REPLY_JSON, NULL },
	{ "orgs_rename", METHOD_PATCH, "/api/orgs/{}", orgs_rename, AUTH_SESSION, BODY_JSON, REPLY_JSON,
	  orgs_name_fields },
	{ "orgs_leave", METHOD_POST, "/api/orgs/{}/leave", orgs_leave, AUTH_SESSION, BODY_JSON,
	  REPLY_JSON, NULL },
};

ROUTE_TABLE(orgs, orgs_routes);
