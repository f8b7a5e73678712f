/* SPDX-License-Identifier: MIT */
/*
 * binding.h: binding a marketplace subscription to an organization, for
 * every marketplace. A landing (AWS) or 免登 visit (Alibaba) creates a
 * binding attempt (random id, one hour) and hands the browser an
 * Ed25519-signed ticket for it in the HttpOnly cookie "mpb_bind"; the
 * wizard (/bind) reads the attempt's context and confirms.
 *
 *   GET  /api/binding           200 {"marketplace","listing_url","account_id","subscription_status","expires_at",
 *                               "signed_in","email","bound":null|{org_id,org_name,member},
 *                               "orgs":[{id,name,member_count,role,eligible,reason}],
 *                               "allow_org_creation","support_url"};
 *                               404 binding_not_found; 400 ticket_invalid; 410 ticket_expired /
 *                               binding_used
 *   POST /api/binding/confirm {org_id}
 *                               200 {"binding":{org_id,org_name,marketplace,account_id}};
 *                               the errors above, and 404 (not a member), 403 insufficient_role,
 *                               409 org_already_bound / subscription_already_bound /
 *                               subscription_inactive
 *
 * An org's "reason" when not eligible: "insufficient_role" (权限不足) or
 * "org_bound" (已绑定云市场订阅).
 */
#ifndef MPBIND_BINDING_H
#define MPBIND_BINDING_H

#include "router.h"

struct db;
struct pool;
struct request;

#define BINDING_ATTEMPT_LEN 32
#define BINDING_COOKIE "mpb_bind"

extern const struct route_table binding_route_table;

/*
 * Creates an attempt for subscription_id valid for ttl seconds, inside the
 * caller's transaction; id gets its id (BINDING_ATTEMPT_LEN + 1 bytes).
 */
int binding_attempt_create(struct db *db, struct pool *pool, long long subscription_id, long ttl,
    char *id);

/* Signs a ticket for attempt id, sets the cookie and answers 303 to /bind. */
int binding_redirect(struct request *r, const char *attempt_id);

/*
 * Binds subscription_id to org_id for user_id inside the caller's
 * transaction, after the caller has locked the subscription and checked
 * the user's role: ends any grace window and writes the event. binding_id
 * gets the new binding. Returns ERR_OK, ERR_ORG_BOUND,
 * ERR_SUBSCRIPTION_BOUND or a database error.
 */
int binding_create(struct db *db, struct pool *pool, const char *org_id, long long subscription_id,
    long long user_id, const char *marketplace, const char *account_id, long long *binding_id);

/*
 * Ends binding binding_id of org_id now for reason, puts the org in its
 * grace window (grace_seconds) and records "binding.ended" by actor,
 * inside the caller's transaction.
 */
int binding_end(struct db *db, struct pool *pool, long long binding_id, const char *org_id,
    const char *reason, long grace_seconds, const char *actor, long long actor_user_id,
    const char *marketplace, const char *account_id);

#endif
