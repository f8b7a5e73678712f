/* SPDX-License-Identifier: MIT */
/*
 * aliyunsso.h: 免登, the link a buyer follows from 云市场's 已购买服务列表
 * (protocol: ../shared/protocols/aliyun-marketplace.md §2). It carries
 * the MD5 token of aliyun.h over all of its parameters.
 *
 *   GET /marketplace/aliyun/sso?action=verify&instanceId=&timeStamp=&token=
 *     timeStamp is "yyyy-MM-dd HH:mm:ss" in Beijing time (UTC+8), its space
 *     sent as %20 or '+'. 303 to /bind with the binding ticket cookie when
 *     the instance is not bound; 303 to /console/billing?org=<org> with an
 *     SSO session cookie (session.sso_ttl) of the user who bound it when it
 *     is, also while the instance is frozen (expiredInstance): the buyer
 *     lands where billing shows the suspension and what to do. Pages for:
 *     400 an incomplete link; 403 a token that does not match (a parameter
 *     added or changed after signing included: invalid_token), a timeStamp
 *     more than aliyun.verify_window seconds from now either way
 *     (link_expired), a link used before (link_used); 409 an instance we
 *     have not been told about yet (instance_opening, with Retry-After:
 *     the buyer clicked inside 云市场's 1-5 minutes of activation; the link
 *     is not used up and works once createInstance arrives); 409 a frozen
 *     or released instance that is not bound (subscription_inactive); 409
 *     a bound instance whose binder closed the account or left the org
 *     (bound_user_gone, naming the org: sign in); 404 while aliyun.enabled
 *     is off.
 *
 * Decisions where the protocol is silent (§2.2 of the note):
 * - A 免登 link signs in or binds once: the SHA-256 of its token is kept
 *   in MySQL for two windows past its timeStamp (clocks differ between
 *   hosts), and no nonce is needed. Signing in writes "session.sso".
 * - The session is the binder's, never a new account's that reuses the
 *   e-mail of a closed one: the binding names the user, not the address.
 */
#ifndef MPBIND_ALIYUNSSO_H
#define MPBIND_ALIYUNSSO_H

#include "router.h"

extern const struct route_table aliyun_sso_route_table;

#endif
