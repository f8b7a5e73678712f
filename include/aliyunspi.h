/* SPDX-License-Identifier: MIT */
/*
 * aliyunspi.h: the SPI 云市场 calls for every instance lifecycle change
 * (protocol: ../shared/protocols/aliyun-marketplace.md §1). Parameters and
 * the MD5 token are as in aliyun.h: a call whose token does not match all
 * of its parameters changes nothing.
 *
 *   GET|POST /marketplace/aliyun/spi   (query and/or urlencoded body)
 *     createInstance {aliUid, orderBizId, productCode, orderId[, skuId,
 *       trial, expiredOn]}: 200 {"instanceId": orderBizId, "appInfo":
 *       {"frontEndUrl": "<public_url>/", "authUrl":
 *       "<public_url>/marketplace/aliyun/sso"}}, the same for every retry
 *       that carries the same parameters.
 *     renewInstance {instanceId, orderId[, expiredOn]}: a frozen
 *       ("expired") instance is active again and its org pays through the
 *       marketplace again; upgradeInstance {instanceId, skuId, orderId}:
 *       the new SKU is recorded; expiredInstance {instanceId}: the instance
 *       and its bound org are frozen (billing status "suspended", data
 *       kept); releaseInstance {instanceId[, isRefund, orderId]}: the
 *       subscription ends, its binding ends ("released") and the org enters
 *       its grace window as when unbinding -- unless the instance was
 *       frozen: then the org stays suspended, as nobody pays for it.
 *       Each answers 200 {"success": "true"}.
 *     Errors: {"success": "false", "error": {"code", "message"[, "field"]}}
 *       400 too_many_fields / invalid_field (a value is missing or
 *       malformed, or a name repeated; "field" names it) / unknown_action /
 *       wrong_product (productCode is not aliyun.product_code);
 *       403 invalid_token; 404 unknown_instance (a lifecycle call for an
 *       instanceId no createInstance made); 409 instance_conflict
 *       (createInstance again for an orderBizId with other parameters);
 *       409 subscription_inactive (renew or upgrade of a released
 *       instance); 404 not_found while aliyun.enabled is off; 503
 *       db_unavailable / busy (retry). None of them changes anything. What
 *       the request core refuses before the handler (400 invalid_form, a
 *       field over max_field_len, 413 past max_body, 415 a body that is not
 *       urlencoded) has the usual {"error": ...}.
 *
 * Decisions where the protocol is silent (§7, §8 of the note):
 * - success is the string "true", as in the documentation's examples;
 *   failures also carry a non-2xx status, so either reading sees them.
 * - createInstance keeps the fingerprint of its parameters (aliyun.h:
 *   every signed parameter but token, unknown ones included). A retry with
 *   the same orderBizId and the same parameters gets the first answer; any
 *   other parameter set for that orderBizId (another aliUid, skuId,
 *   orderId, trial, expiredOn, extra item...) is instance_conflict and
 *   nothing is stored: changes come through upgradeInstance and
 *   renewInstance. A subscription created before the fingerprint was kept
 *   is checked on aliUid and productCode and takes the next retry's.
 * - A lifecycle call for an instanceId we never created is refused (404
 *   unknown_instance) and not recorded, so it cannot later pass for a
 *   replay of a real call; 云市场 retries it until the instance exists.
 * - orderId is required where the protocol lists it (createInstance,
 *   renewInstance, upgradeInstance): a call is applied once per
 *   (instanceId, action, orderId), and a replay answers success and
 *   changes nothing. expiredInstance and releaseInstance have no orderId
 *   to key on; they change nothing when the state already matches.
 * - renewInstance never moves expiredOn back: a renewal that arrives after
 *   a later one keeps the later date.
 * - refundRenewInstance (a prepaid renewal refunded) and verify sent to
 *   the SPI are unknown_action: a pay-as-you-go product has no prepaid
 *   renewals, and verify belongs to the authUrl.
 * - Every value we store is checked (ids [A-Za-z0-9._-], aliUid digits,
 *   trial and isRefund true/false, times "yyyy-MM-dd HH:mm:ss" Beijing
 *   time) and a bad one refused.
 */
#ifndef MPBIND_ALIYUNSPI_H
#define MPBIND_ALIYUNSPI_H

#include "router.h"

extern const struct route_table aliyun_spi_route_table;

#endif
