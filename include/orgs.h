/* SPDX-License-Identifier: MIT */
/*
 * orgs.h: organizations and the role a user holds in each.
 *
 *   GET   /api/orgs             200 {"orgs":[{id,name,role,member_count,created_at}],
 *                                    "allow_creation":bool}
 *   POST  /api/orgs {name}      201 {"org":{...}}; 403 org_creation_disabled; 400 invalid_field
 *   GET   /api/orgs/{org}       200 {"org":{...}}; 404 when the user is not a member
 *   PATCH /api/orgs/{org} {name}  200 {"org":{...}}; 403 not an Org Admin; 404
 *   POST  /api/orgs/{org}/leave 200 {}; 409 last_admin; 404
 *
 * A user who is not a member gets 404 for any org id, existing or not.
 */
#ifndef MPBIND_ORGS_H
#define MPBIND_ORGS_H

#include <stdbool.h>

#include "router.h"

struct db;
struct pool;
struct request;

#define ORG_ID_LEN 26	/* "org-" + 22 lowercase letters */

enum org_role { ROLE_NONE = 0, ROLE_MEMBER, ROLE_BILLING, ROLE_ADMIN };

extern const struct route_table orgs_route_table;

/* True when id has the shape of an org id. */
bool orgs_valid_id(const char *id);

/* "admin", "billing", "member"; NULL for ROLE_NONE. Static. */
const char *orgs_role_name(enum org_role role);

/* The role named name, or ROLE_NONE. */
enum org_role orgs_role_parse(const char *name);

/* True for the roles that may bind and unbind a marketplace subscription. */
bool orgs_role_can_bill(enum org_role role);

/*
 * The signed-in user's role in org_id, locking the membership row when
 * lock is set (inside a transaction). Returns ERR_OK, ERR_NOT_FOUND when
 * the user is not a member or the id is malformed, or a database error.
 */
int orgs_role(struct request *r, const char *org_id, bool lock, enum org_role *role);

/*
 * Creates an org named name with user_id as its Org Admin and writes the
 * event, inside the caller's transaction. id gets the new id (ORG_ID_LEN
 * + 1 bytes). Returns ERR_OK or a database error.
 */
int orgs_insert(struct db *db, struct pool *pool, long long user_id, const char *name,
    const char *actor, char *id);

/*
 * The last-admin rule, inside a transaction: returns ERR_LAST_ADMIN when
 * removing user_id's admin role would leave org_id with no Org Admin.
 * Locks the org's admin memberships so concurrent changes serialise.
 */
int orgs_check_admins(struct db *db, struct pool *pool, const char *org_id, long long user_id);

#endif
