/* SPDX-License-Identifier: MIT */
/*
 * usage.h: usage reported by the control plane, from every cloud an org
 * runs in (service credential; loopback or the configured network only).
 *
 *   POST /internal/usage {"records":[{id, org_id, cloud, region, dimension, quantity, start, end}]}
 *     200 {"accepted","duplicates","rejected","results":[{id,status,error?}]}
 *     400 when the body is not such an object or holds more than 1000 records; 401
 *
 * A batch is stored in one transaction (503 when the database fails: send
 * the whole batch again; ids make that harmless). Within it each record is
 * judged alone: "accepted", "duplicate" (the same id with
 * the same content: stored once) or "rejected" with an error code:
 *   invalid_record  a field is missing or malformed (error.field names it)
 *   conflict        the id was stored before with other content
 *   unknown_org, unknown_dimension
 *   not_in_one_hour the record crosses a UTC hour boundary
 *   in_future, too_old (older than metering.lookback_hours)
 *   hour_closed     the org's hour was already billed
 * quantity is a JSON integer or a decimal string with at most six
 * decimals ("12.5"): never a floating-point number. start and end are UTC
 * RFC 3339 ("2026-11-22T05:00:00Z"), end after start.
 */
#ifndef MPBIND_USAGE_H
#define MPBIND_USAGE_H

#include "router.h"

extern const struct route_table usage_route_table;

#endif
