/* SPDX-License-Identifier: MIT */
/*
 * binding.h: binding a marketplace subscription to an organization, for
 * every marketplace. A landing (AWS) or 免登 visit (Alibaba) creates a
 * binding attempt (random id, one hour) and hands the browser an
 * Ed25519-signed ticket for it in the HttpOnly cookie "mpb_bind"; the
 * wizard (/bind) reads the attempt's context and confirms.
 *
 *   GET  /api/binding           200 {"marketplace","listing_url","account_id","customer_identifier",
 *                               "subscription_status","expires_at",
 *                               "signed_in","email","bound":null|{org_id,org_name,member},
 *                               "orgs":[{id,name,member_count,role,eligible,reason}],
 *                               "allow_org_creation","support_url"};
 *                               404 binding_not_found; 400 ticket_invalid; 410 ticket_expired /
 *                               binding_used
 *   POST /api/binding/confirm {org_id}
 *                               200 {"binding":{org_id,org_name,marketplace,account_id,
 *                               customer_identifier}};
 *                               the errors above, and 404 (not a member), 403 insufficient_role,
 *                               409 org_already_bound / subscription_already_bound /
 *                               subscription_inactive
 *
 * An org's "reason" when not eligible: "insufficient_role" (权限不足) or
 * "org_bound" (已绑定云市场订阅).
 *
 * account_id is the buyer's account (AWS CustomerAWSAccountId, Alibaba
 * aliUid); it is null for an older AWS listing, which names the buyer only
 * by customer_identifier (客户标识符).
 *
 * Locks are taken in the order of db.h: a binding attempt, the
 * subscription, the org, the membership, the bindings. Unbinding follows
 * it through binding_unbind_lock and binding_unbind_end.
 */
#ifndef MPBIND_BINDING_H
#define MPBIND_BINDING_H

#include "router.h"

struct db;
struct pool;
struct request;
struct subscription;

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
 * transaction, after the caller has locked the subscription and then the
 * org and checked the user's role: ends any grace window and writes the
 * event. binding_id gets the new binding. Returns ERR_OK, ERR_ORG_BOUND,
 * ERR_SUBSCRIPTION_BOUND (also when the unique keys catch a binding made
 * meanwhile, whichever of the two it was) or a database error.
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

/*
 * Unbinding org_id inside the caller's transaction, step one: locks the
 * subscription the org is bound to (if any; *sub gets it, id 0 for none)
 * and then the org. ERR_OK, ERR_NOT_FOUND for no such org, or a database
 * error. The caller then checks (and locks) the role it requires.
 */
int binding_unbind_lock(struct db *db, struct pool *pool, const char *org_id, struct subscription *sub);

/*
 * Step two: locks org_id's binding and ends it as binding_end does.
 * ERR_OK; ERR_NOT_BOUND; ERR_DB_DEADLOCK when the org was bound to another
 * subscription since step one (db_transaction runs it all again); or a
 * database error.
 */
int binding_unbind_end(struct db *db, struct pool *pool, const char *org_id, const struct subscription *sub,
    const char *reason, long grace_seconds, const char *actor, long long actor_user_id);

#endif
