/* SPDX-License-Identifier: MIT */
/*
 * members.c: members, roles and invitations of an organization.
 */
#include "members.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "db.h"
#include "events.h"
#include "fields.h"
#include "jsonw.h"
#include "orgs.h"
#include "request.h"
#include "text.h"
#include "worker.h"
#include "banned.h"

#define INVITATION_ID_LEN 22

static bool
members_valid_invitation(const char *id)
{
	size_t i;

	if (id == NULL || strlen(id) != INVITATION_ID_LEN)
		return false;
	for (i = 0; i < INVITATION_ID_LEN; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '_'))
			return false;
	return true;
}

/* The user id in a path, or 0. */
static long long
members_user_param(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s < '1' || *s > '9' || strlen(s) > 18)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' ? v : 0;
}

/* The link an admin sends to the invitee. In the pool. */
static const char *
members_link(struct request *r, const char *id)
{
	return pool_printf(r->pool, "%s/invite.html?id=%s", r->cfg->public_url, id);
}

/* GET /api/orgs/{org}/members: see members.h. */
static int
members_list(struct request *r)
{
	const char *org_id = r->path_param[0];
	struct json_object *root, *list, *m;
	struct db_result res;
	enum org_role role;
	size_t i;
	int rc;

	rc = orgs_role(r, org_id, false, &role);
	if (rc != ERR_OK)
		return rc;
	rc = db_run(&r->worker->db, r->pool, STMT_MEMBER_LIST, &res, DB_ARGS(DB_TEXT(org_id)));
	if (rc != ERR_OK)
		return rc;
	root = json_object_new_object();
	list = json_object_new_array();
	for (i = 0; i < res.nrows; i++) {
		m = json_object_new_object();
		jw_int(m, "user_id", db_int(&res, i, 0));
		jw_str(m, "email", db_text(&res, i, 1));
		jw_str(m, "role", db_text(&res, i, 2));
		jw_str(m, "joined_at", db_text(&res, i, 3));
		json_object_array_add(list, m);
	}
	jw_add(root, "members", list);
	jw_str(root, "my_role", orgs_role_name(role));
	if (role != ROLE_ADMIN) {
		jw_add(root, "invitations", NULL);
		return reply_json(r, 200, root);
	}
	rc = db_run(&r->worker->db, r->pool, STMT_INVITE_LIST_ORG, &res, DB_ARGS(DB_TEXT(org_id)));
	if (rc != ERR_OK) {
		json_object_put(root);
		return rc;
	}
	list = json_object_new_array();
	for (i = 0; i < res.nrows; i++) {
		m = json_object_new_object();
		jw_str(m, "id", db_text(&res, i, 0));
		jw_str(m, "email", db_text(&res, i, 1));
		jw_str(m, "role", db_text(&res, i, 2));
		jw_str(m, "expires_at", db_text(&res, i, 3));
		jw_str(m, "link", members_link(r, db_text(&res, i, 0)));
		json_object_array_add(list, m);
	}
	jw_add(root, "invitations", list);
	return reply_json(r, 200, root);
}

struct members_invite_tx {
	struct request *r;
	char id[INVITATION_ID_LEN + 1];
	const char *expires_at;
};

static int
members_invite_tx(void *arg)
{
	struct members_invite_tx *tx = arg;
	struct request *r = tx->r;
	const char *org_id = r->path_param[0], *email = field_str(r, "email");
	unsigned char raw[16];
	struct db_result res;
	enum org_role role;
	int rc;

	rc = orgs_role(r, org_id, true, &role);
	if (rc != ERR_OK)
		return rc;
	if (role != ROLE_ADMIN)
		return ERR_FORBIDDEN;
	rc = db_run(&r->worker->db, r->pool, STMT_MEMBER_BY_EMAIL, &res,
	    DB_ARGS(DB_TEXT(org_id), DB_TEXT(email)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows > 0)
		return ERR_ALREADY_MEMBER;
	randombytes_buf(raw, sizeof(raw));
	text_base64url_encode(tx->id, sizeof(tx->id), raw, sizeof(raw));
	rc = db_run(&r->worker->db, r->pool, STMT_INVITE_INSERT, NULL,
	    DB_ARGS(DB_TEXT(tx->id), DB_TEXT(org_id), DB_TEXT(email), DB_TEXT(field_str(r, "role")),
	    DB_INT(r->user.user_id), DB_INT(r->cfg->invitation_ttl)));
	if (rc == ERR_OK)
		rc = db_run(&r->worker->db, r->pool, STMT_INVITE_GET, &res, DB_ARGS(DB_TEXT(tx->id), DB_TEXT(org_id)));
	if (rc != ERR_OK)
		return rc;
	tx->expires_at = db_text(&res, 0, 1);
	return events_by_user(r, org_id, "invitation.created", "email", email,
	    "role", field_str(r, "role"), NULL);
}

/* POST /api/orgs/{org}/invitations: see members.h. */
static int
members_invite(struct request *r)
{
	struct members_invite_tx tx = { .r = r };
	struct json_object *root, *inv;
	int rc;

	rc = db_transaction(&r->worker->db, members_invite_tx, &tx);
	if (rc != ERR_OK)
		return rc;
	root = json_object_new_object();
	inv = json_object_new_object();
	jw_str(inv, "id", tx.id);
	jw_str(inv, "email", field_str(r, "email"));
	jw_str(inv, "role", field_str(r, "role"));
	jw_str(inv, "expires_at", tx.expires_at);
	jw_str(inv, "link", members_link(r, tx.id));
	jw_add(root, "invitation", inv);
	return reply_json(r, 201, root);
}

static int
members_revoke_tx(void *arg)
{
	struct request *r = arg;
	const char *org_id = r->path_param[0], *id = r->path_param[1];
	struct db_result res, inv;
	enum org_role role;
	int rc;

	rc = orgs_role(r, org_id, true, &role);
	if (rc != ERR_OK)
		return rc;
	if (role != ROLE_ADMIN)
		return ERR_FORBIDDEN;
	if (!members_valid_invitation(id))
		return ERR_NOT_FOUND;
	rc = db_run(&r->worker->db, r->pool, STMT_INVITE_GET, &inv, DB_ARGS(DB_TEXT(id), DB_TEXT(org_id)));
	if (rc == ERR_OK)
		rc = db_run(&r->worker->db, r->pool, STMT_INVITE_REVOKE, &res, DB_ARGS(DB_TEXT(id), DB_TEXT(org_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.affected == 0)
		return ERR_NOT_FOUND;
	return events_by_user(r, org_id, "invitation.revoked", "invitation", id,
	    "email", db_text(&inv, 0, 0), NULL);
}

/* DELETE /api/orgs/{org}/invitations/{id}: see members.h. */
static int
members_revoke(struct request *r)
{
	int rc = db_transaction(&r->worker->db, members_revoke_tx, r);

	return rc != ERR_OK ? rc : reply_json(r, 200, json_object_new_object());
}

/*
 * Locks the admin's and the target's memberships for a change to the
 * target: returns ERR_OK with *target_role and *email set.
 */
static int
members_lock_target(struct request *r, long long target, enum org_role *target_role,
    const char **email)
{
	const char *org_id = r->path_param[0];
	struct db_result res;
	enum org_role role;
	int rc;

	rc = orgs_role(r, org_id, true, &role);
	if (rc != ERR_OK)
		return rc;
	if (role != ROLE_ADMIN)
		return ERR_FORBIDDEN;
	if (target == 0)
		return ERR_NOT_FOUND;
	rc = db_run(&r->worker->db, r->pool, STMT_MEMBER_LOCK, &res,
	    DB_ARGS(DB_TEXT(org_id), DB_INT(target)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 0)
		return ERR_NOT_FOUND;
	*target_role = orgs_role_parse(db_text(&res, 0, 0));
	*email = db_text(&res, 0, 1);
	return ERR_OK;
}

static int
members_set_role_tx(void *arg)
{
	struct request *r = arg;
	const char *org_id = r->path_param[0], *new_role = field_str(r, "role");
	long long target = members_user_param(r->path_param[1]);
	enum org_role old_role;
	const char *email;
	int rc;

	rc = members_lock_target(r, target, &old_role, &email);
	if (rc != ERR_OK)
		return rc;
	if (old_role == ROLE_ADMIN && strcmp(new_role, "admin") != 0) {
		rc = orgs_check_admins(&r->worker->db, r->pool, org_id, target);
		if (rc != ERR_OK)
			return rc;
	}
	rc = db_run(&r->worker->db, r->pool, STMT_MEMBER_SET_ROLE, NULL,
	    DB_ARGS(DB_TEXT(new_role), DB_TEXT(org_id), DB_INT(target)));
	if (rc != ERR_OK)
		return rc;
	return events_by_user(r, org_id, "member.role_changed", "user_id", r->path_param[1],
	    "email", email, "from", orgs_role_name(old_role), "to", new_role, NULL);
}

/* PUT /api/orgs/{org}/members/{user}: see members.h. */
static int
members_set_role(struct request *r)
{
	int rc = db_transaction(&r->worker->db, members_set_role_tx, r);

	return rc != ERR_OK ? rc : reply_json(r, 200, json_object_new_object());
}

static int
members_remove_tx(void *arg)
{
	struct request *r = arg;
	const char *org_id = r->path_param[0];
	long long target = members_user_param(r->path_param[1]);
	enum org_role old_role;
	const char *email;
	int rc;

	rc = members_lock_target(r, target, &old_role, &email);
	if (rc != ERR_OK)
		return rc;
	if (old_role == ROLE_ADMIN) {
		rc = orgs_check_admins(&r->worker->db, r->pool, org_id, target);
		if (rc != ERR_OK)
			return rc;
	}
	rc = db_run(&r->worker->db, r->pool, STMT_MEMBER_DELETE, NULL,
	    DB_ARGS(DB_TEXT(org_id), DB_INT(target)));
	if (rc != ERR_OK)
		return rc;
	return events_by_user(r, org_id, "member.removed", "user_id", r->path_param[1],
	    "email", email, "role", orgs_role_name(old_role), NULL);
}

/* DELETE /api/orgs/{org}/members/{user}: see members.h. */
static int
members_remove(struct request *r)
{
	int rc = db_transaction(&r->worker->db, members_remove_tx, r);

	return rc != ERR_OK ? rc : reply_json(r, 200, json_object_new_object());
}

static struct json_object *
members_invitation_json(struct db_result *res, size_t i)
{
	struct json_object *inv = json_object_new_object();

	jw_str(inv, "id", db_text(res, i, 0));
	jw_str(inv, "org_id", db_text(res, i, 1));
	jw_str(inv, "org_name", db_text(res, i, 2));
	jw_str(inv, "role", db_text(res, i, 3));
	jw_str(inv, "invited_by", db_text(res, i, 4));
	jw_str(inv, "expires_at", db_text(res, i, 5));
	return inv;
}

/* GET /api/invitations: see members.h. */
static int
members_mine(struct request *r)
{
	struct json_object *root, *list;
	struct db_result res;
	size_t i;
	int rc;

	rc = db_run(&r->worker->db, r->pool, STMT_INVITE_LIST_EMAIL, &res, DB_ARGS(DB_TEXT(r->user.email)));
	if (rc != ERR_OK)
		return rc;
	root = json_object_new_object();
	list = json_object_new_array();
	for (i = 0; i < res.nrows; i++)
		json_object_array_add(list, members_invitation_json(&res, i));
	jw_add(root, "invitations", list);
	return reply_json(r, 200, root);
}

/* Loads and checks invitation r->path_param[0] for the signed-in user. */
static int
members_lock_invitation(struct request *r, struct db_result *res)
{
	const char *id = r->path_param[0];
	int rc;

	if (!members_valid_invitation(id))
		return ERR_NOT_FOUND;
	rc = db_run(&r->worker->db, r->pool, STMT_INVITE_LOCK, res, DB_ARGS(DB_TEXT(id)));
	if (rc != ERR_OK)
		return rc;
	if (res->nrows == 0)
		return ERR_NOT_FOUND;
	if (strcmp(db_text(res, 0, 1), r->user.email) != 0)
		return ERR_INVITATION_EMAIL;
	if (db_int(res, 0, 3) != 1)
		return ERR_INVITATION_INVALID;
	return ERR_OK;
}

/* GET /api/invitations/{id}: see members.h. */
static int
members_show(struct request *r)
{
	struct json_object *root, *inv;
	struct db_result res;
	int rc;

	rc = members_lock_invitation(r, &res);
	if (rc != ERR_OK)
		return rc;
	root = json_object_new_object();
	inv = json_object_new_object();
	jw_str(inv, "id", r->path_param[0]);
	jw_str(inv, "org_id", db_text(&res, 0, 0));
	jw_str(inv, "org_name", db_text(&res, 0, 4));
	jw_str(inv, "role", db_text(&res, 0, 2));
	jw_add(root, "invitation", inv);
	return reply_json(r, 200, root);
}

struct members_answer_tx {
	struct request *r;
	bool accept;
	const char *org_id;
	const char *org_name;
	const char *role;
};

static int
members_answer_tx(void *arg)
{
	struct members_answer_tx *tx = arg;
	struct request *r = tx->r;
	struct db_result res;
	int rc;

	rc = members_lock_invitation(r, &res);
	if (rc != ERR_OK)
		return rc;
	tx->org_id = db_text(&res, 0, 0);
	tx->role = db_text(&res, 0, 2);
	tx->org_name = db_text(&res, 0, 4);
	if (!tx->accept) {
		rc = db_run(&r->worker->db, r->pool, STMT_INVITE_DECLINE, NULL,
		    DB_ARGS(DB_TEXT(r->path_param[0])));
		return rc != ERR_OK ? rc : events_by_user(r, tx->org_id, "invitation.declined",
		    "email", r->user.email, NULL);
	}
	rc = db_run(&r->worker->db, r->pool, STMT_MEMBER_INSERT, NULL,
	    DB_ARGS(DB_TEXT(tx->org_id), DB_INT(r->user.user_id), DB_TEXT(tx->role)));
	if (rc == ERR_DB_DUPLICATE)
		return ERR_ALREADY_MEMBER;
	if (rc != ERR_OK)
		return rc;
	rc = db_run(&r->worker->db, r->pool, STMT_INVITE_ACCEPT, NULL,
	    DB_ARGS(DB_INT(r->user.user_id), DB_TEXT(r->path_param[0])));
	if (rc != ERR_OK)
		return rc;
	return events_by_user(r, tx->org_id, "member.joined", "email", r->user.email,
	    "role", tx->role, NULL);
}

static int
members_answer(struct request *r, bool accept)
{
	struct members_answer_tx tx = { .r = r, .accept = accept };
	struct json_object *root, *org;
	int rc;

	rc = db_transaction(&r->worker->db, members_answer_tx, &tx);
	if (rc != ERR_OK)
		return rc;
	root = json_object_new_object();
	if (accept) {
		org = json_object_new_object();
		jw_str(org, "id", tx.org_id);
		jw_str(org, "name", tx.org_name);
		jw_str(org, "role", tx.role);
		jw_add(root, "org", org);
	}
	return reply_json(r, 200, root);
}

/* POST /api/invitations/{id}/accept: see members.h. */
static int
members_accept(struct request *r)
{
	return members_answer(r, true);
}

/* POST /api/invitations/{id}/decline: see members.h. */
static int
members_decline(struct request *r)
{
	return members_answer(r, false);
}

static const struct field members_invite_fields[] = {
	{ "email", FIELD_EMAIL, 3, 254, FIELD_REQUIRED, NULL },
	{ "role", FIELD_ENUM, 0, 0, FIELD_REQUIRED, "admin|billing|member" },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct field members_role_fields[] = {
	{ "role", FIELD_ENUM, 0, 0, FIELD_REQUIRED, "admin|billing|member" },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct route members_routes[] = {
	{ "members_list", METHOD_GET, "/api/orgs/{}/members", members_list, AUTH_SESSION, BODY_NONE,
	  REPLY_JSON, NULL },
	{ "members_invite", METHOD_POST, "/api/orgs/{}/invitations", members_invite, AUTH_SESSION,
	  BODY_JSON, REPLY_JSON, members_invite_fields },
	{ "members_revoke", METHOD_DELETE, "/api/orgs/{}/invitations/{}", members_revoke, AUTH_SESSION,
	  BODY_NONE, REPLY_JSON, NULL },
	{ "members_set_role", METHOD_PUT, "/api/orgs/{}/members/{}", members_set_role, AUTH_SESSION,
	  BODY_JSON, REPLY_JSON, members_role_fields },
	{ "members_remove", METHOD_DELETE, "/api/orgs/{}/members/{}", members_remove, AUTH_SESSION,
	  BODY_NONE, REPLY_JSON, NULL },
	{ "invitations_mine", METHOD_GET, "/api/invitations", members_mine, AUTH_SESSION, BODY_NONE,
	  REPLY_JSON, NULL },
	{ "invitations_show", METHOD_GET, "/api/invitations/{}", members_show, AUTH_SESSION, BODY_NONE,
	  REPLY_JSON, NULL },
	{ "invitations_accept", METHOD_POST, "/api/invitations/{}/accept", members_accept, AUTH_SESSION,
	  BODY_JSON, REPLY_JSON, NULL },
	{ "invitations_decline", METHOD_POST, "/api/invitations/{}/decline", members_decline,
	  AUTH_SESSION, BODY_JSON, REPLY_JSON, NULL },
};

ROUTE_TABLE(members, members_routes);
