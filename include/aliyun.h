/* SPDX-License-Identifier: MIT */
/*
 * aliyun.h: Alibaba Cloud Marketplace (阿里云云市场) as a marketplace: the
 * SPI the marketplace calls for every instance lifecycle change, and the
 * 免登 link a buyer follows from 已购买服务列表 (protocol:
 * ../shared/protocols/aliyun-marketplace.md §1, §2). Configuration: aliyun.*.
 *
 * Both are authenticated by an MD5 token: lowercase hex MD5 of every
 * parameter but "token", URL-decoded, sorted by name (bytes), joined as
 * "k=v&..." and followed by "&key=<aliyun.isv_key>". No parameter is
 * whitelisted: ones we do not know (package_version, extra billing items)
 * are signed and ignored. A name may appear once, query and body together.
 *
 *   GET|POST /marketplace/aliyun/spi   (query and/or urlencoded body)
 *     createInstance {aliUid, orderBizId, productCode[, orderId, skuId,
 *       trial, expiredOn]}: 200 {"instanceId": orderBizId, "appInfo":
 *       {"frontEndUrl": "<public_url>/", "authUrl":
 *       "<public_url>/marketplace/aliyun/sso"}}, the same for every retry.
 *     renewInstance {instanceId[, orderId, expiredOn]}: a frozen
 *       ("expired") instance is active again and its org pays through the
 *       marketplace again; upgradeInstance {instanceId, skuId[, orderId]}:
 *       the new SKU is recorded; expiredInstance {instanceId}: the instance
 *       and its bound org are frozen (billing status "suspended", data
 *       kept); releaseInstance {instanceId[, isRefund, orderId]}: the
 *       subscription ends, its binding ends ("released") and the org enters
 *       its grace window as when unbinding -- unless the instance was
 *       frozen: then the org stays suspended, as nobody pays for it.
 *       Each answers 200 {"success": "true"}.
 *     Errors: {"success": "false", "error": {"code", "message"[, "field"]}}
 *       400 too_many_fields / invalid_field (a value is malformed or a name
 *       repeated; "field" names it) / unknown_action / wrong_product
 *       (productCode is not aliyun.product_code); 403 invalid_token;
 *       409 instance_conflict (createInstance again for an orderBizId with
 *       another aliUid or productCode: nothing changes); 409
 *       subscription_inactive (renew or upgrade of a released instance);
 *       404 not_found while aliyun.enabled is off; 503 db_unavailable /
 *       busy (retry). What the request core refuses before the handler
 *       (400 invalid_form, a field over max_field_len, 413 past max_body,
 *       415 a body that is not urlencoded) has the usual {"error": ...}.
 *
 *   GET /marketplace/aliyun/sso?action=verify&instanceId=&timeStamp=&token=
 *     timeStamp is "yyyy-MM-dd HH:mm:ss" in Beijing time (UTC+8), its space
 *     sent as %20 or '+'. 303 to /bind with the binding ticket cookie when
 *     the instance is not bound; 303 to /console/billing?org=<org> with an
 *     SSO session cookie (session.sso_ttl) of the user who bound it when it
 *     is. Pages for: 400 an incomplete link; 403 a token that does not match
 *     (invalid_token), a timeStamp more than aliyun.verify_window seconds
 *     from now either way (link_expired), a link used before (link_used);
 *     409 an instance we have not been told about yet (instance_opening,
 *     with Retry-After: the buyer clicked inside 云市场's 1-5 minutes of
 *     activation; the link is not used up and works once createInstance
 *     arrives); 409 a frozen or released instance that is not bound
 *     (subscription_inactive); 409 a bound instance whose binder closed the
 *     account or left the org (bound_user_gone, naming the org: sign in);
 *     404 while aliyun.enabled is off.
 *
 * Decisions where the protocol is silent (§7, §8 of the note):
 * - success is the string "true", as in the documentation's examples;
 *   failures also carry a non-2xx status, so either reading sees them.
 * - A lifecycle call for an instanceId we never created answers success
 *   (and is logged and recorded) rather than feed 云市场's 120 retries.
 * - Replays are harmless: a call with an orderId is applied once per
 *   (instanceId, action, orderId); calls without one change nothing when
 *   the state already matches.
 * - createInstance retried with a different skuId or orderId keeps the
 *   first values; upgrades come through upgradeInstance.
 * - refundRenewInstance (a prepaid renewal refunded) and verify sent to
 *   the SPI are unknown_action: a pay-as-you-go product has no prepaid
 *   renewals, and verify belongs to the authUrl.
 * - A 免登 link signs in or binds once: the SHA-256 of its token is kept
 *   in MySQL for two windows past its timeStamp (clocks differ between
 *   hosts), and no nonce is needed. Signing in writes "session.sso".
 * - Every value we store is checked (ids [A-Za-z0-9._-], aliUid digits,
 *   trial and isRefund true/false, times as above) and a bad one refused.
 */
#ifndef MPBIND_ALIYUN_H
#define MPBIND_ALIYUN_H

#include <stdbool.h>
#include <time.h>

#include "marketplace.h"
#include "router.h"

struct kvlist;
struct pool;

#define ALIYUN_TOKEN_LEN 32	/* lowercase hex MD5 */

extern const struct route_table aliyun_route_table;
extern const struct marketplace aliyun_marketplace;

/*
 * The token of params under key into out (ALIYUN_TOKEN_LEN + 1 bytes):
 * every pair but "token", sorted by name. Scratch space comes from pool.
 * Returns ERR_OK or ERR_NOMEM.
 */
int aliyun_token(struct pool *pool, const struct kvlist *params, const char *key, char *out);

/*
 * Parses "yyyy-MM-dd HH:mm:ss" in Beijing time (UTC+8), as 云市场 sends
 * timeStamp and expiredOn, into *out. False when s is not such a time.
 */
bool aliyun_parse_time(const char *s, time_t *out);

#endif
