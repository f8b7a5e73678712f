/* SPDX-License-Identifier: MIT */
/*
 * events.h: the audit trail. Every state change writes one event in the
 * transaction that makes the change; org admins and billing admins read an
 * org's events, newest first, on the 事件 (Events) page.
 *
 *   GET /api/orgs/{org}/events?before=&limit=
 *       200 {"events":[{id,at,actor,actor_email,action,detail}],"next_before":id|null}
 *       401 not signed in; 403 a member without an admin role;
 *       404 not a member (never says whether the org exists)
 */
#ifndef MPBIND_EVENTS_H
#define MPBIND_EVENTS_H

#include "router.h"

struct db;
struct pool;
struct request;

extern const struct route_table events_route_table;

/*
 * Records action on org_id (NULL for account events) by actor_user_id (0
 * for none) acting as actor ("user", "aws-cn", "aliyun", "system",
 * "operator"). The detail is built from name/value string pairs ending
 * with NULL. Returns db_run's result.
 */
int events_record(struct db *db, struct pool *pool, const char *org_id, long long actor_user_id,
    const char *actor, const char *action, ...) __attribute__((sentinel));

/* events_record for the signed-in user of r. */
#define events_by_user(r, org_id, action, ...) \
	events_record(&(r)->worker->db, (r)->pool, (org_id), (r)->user.user_id, "user", (action), __VA_ARGS__)

#endif
