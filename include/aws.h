/* SPDX-License-Identifier: MIT */
/*
 * aws.h: AWS Marketplace, China ("aws-cn") and global ("aws") listings, on
 * one code path: partition, region, endpoints, credentials and product code
 * come from the listing's configuration (aws_cn.*, aws.*).
 *
 *   GET  /marketplace/{aws-cn|aws}/landing  200 page: start from the marketplace
 *   POST /marketplace/{aws-cn|aws}/landing  form (urlencoded, or multipart/form-data
 *        accepted defensively) x-amzn-marketplace-token
 *        [, x-amzn-marketplace-offer-type]:
 *        303 to /bind with the binding ticket cookie; pages for:
 *        400 a missing, empty, repeated or malformed token or form,
 *        400 token invalid or expired (click 设置您的账户 again), 400 another
 *        product, 409 a subscription no longer active (failed, or an ended
 *        agreement: an older listing's resubscription lands afresh, see
 *        subscriptions.h), 502 a malformed answer, 503 throttled or failing
 *        after retries, DisabledApiException, or no answer in time;
 *        415 another content type; 404 for an unknown or disabled partition.
 *        offer-type free-trial records a free trial; any other value is
 *        recorded as not one, never refused.
 *   POST /marketplace/{aws-cn|aws}/sns      an SNS message (notify.h): 200 applied, recorded or
 *        seen before; 403 forged or not ours (SNS does not retry a 4xx); 503 try again later
 *
 * The registration token is sent to ResolveCustomer at once and then
 * forgotten: it is never stored, logged, put in a cookie or a URL.
 */
#ifndef MPBIND_AWS_H
#define MPBIND_AWS_H

#include "marketplace.h"
#include "router.h"

extern const struct route_table aws_route_table;
extern const struct marketplace aws_cn_marketplace;
extern const struct marketplace aws_marketplace;

#endif
