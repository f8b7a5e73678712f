/* SPDX-License-Identifier: MIT */
/*
 * billing.h: the billing overview (账单概览), bill history (历史账单),
 * unbinding, and the billing status the control plane reads.
 *
 *   GET  /api/orgs/{org}/billing          200 {"org":{id,name},"role","can_manage","status",
 *                                          "grace_deadline","grace_seconds_left",
 *                                          "grace_window_seconds" (the length an unbind opens),
 *                                          "current_bill":{currency,amount_due_micros,
 *                                          unbilled_micros,credit_used_micros,
 *                                          open_usage_micros,period_start,period_end,
 *                                          next_bill_date},
 *                                          "free_credits":{currency,remaining_micros,
 *                                          granted_micros,expires_at (soonest expiry of credit
 *                                          left, or null),grants:[{granted_micros,
 *                                          remaining_micros,granted_at,expires_at}]},
 *                                          "payment":null|{marketplace,account_id,
 *                                          customer_identifier,subscription_status,bound_at,
 *                                          bound_by,bill_url,
 *                                          starts_at (set while a switch waits for the hour)},
 *                                          "marketplaces":[{id,listing_url}]}; 404 not a member
 *   GET  /api/orgs/{org}/billing/history  200 {"bills":[{period_start,period_end,currency,
 *                                          amount_due_micros,unbilled_micros,...}]} for the
 *                                          closed months, newest first; 404
 *   POST /api/orgs/{org}/billing/unbind   200 {"status":"grace","grace_deadline"}; 403
 *                                          insufficient_role; 404; 409 not_bound
 *   GET  /internal/orgs/{org}/billing-status  (Authorization: Bearer <internal_token>)
 *                                          200 {"org_id","status","grace_deadline",
 *                                          "marketplace","account_id",
 *                                          "customer_identifier"}; 401; 404
 *
 * account_id is the paying account (AWS account ID, Alibaba UID); an
 * older AWS listing names the buyer only by its customer identifier
 * (客户标识符): account_id is then null and customer_identifier set.
 *
 * status is "none", "marketplace", "grace" (with its deadline) or
 * "suspended"; a grace window past its deadline reads "suspended" even
 * before mpbind-meterd has recorded it. Billing periods run from the 1st
 * to the 1st in billing.timezone; an hour belongs to the period holding its
 * start. Money is integer micro-units, rounded down from the exact pico
 * sums (a bill never shows more than is charged; the page rounds down to
 * cents too).
 *
 * Decisions: amount_due is what is billed through a marketplace: closed
 * hours (meter.h) that a subscription pays, after free credit. Closed hours
 * with no marketplace bound (an unbound org, a grace window) are billed
 * nowhere: they are unbilled_micros, shown apart and never due. The
 * marketplace charges in its own unit, carrying what is below one unit into
 * the next hour, so its charges for a month may differ from amount_due by
 * less than one unit; an hour the marketplace refused still counts here
 * (mpbindctl reconcile reports it). open_usage is the cost of usage in hours
 * not closed yet, before free credit. free_credits counts grants not expired
 * now; expiry times are UTC.
 */
#ifndef MPBIND_BILLING_H
#define MPBIND_BILLING_H

#include <time.h>

#include "router.h"

extern const struct route_table billing_route_table;

/*
 * The billing period holding t (local time in billing.timezone): its first
 * instant and the first instant of the next. Returns 0, or -1 if the
 * calendar arithmetic fails.
 */
int billing_period(time_t t, time_t *start, time_t *next);

#endif
