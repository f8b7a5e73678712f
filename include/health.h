/* SPDX-License-Identifier: MIT */
/*
 * health.h: liveness, readiness and metrics endpoints.
 *
 *   GET /healthz       200 {"status":"ok","db":"ok"}; 503 {"status":"error","db":"down"}
 *   GET /healthz/live  200 {"status":"ok"} without touching the database
 *   GET /metrics       200 Prometheus text (nginx allows it from loopback only)
 */
#ifndef MPBIND_HEALTH_H
#define MPBIND_HEALTH_H

#include "router.h"

extern const struct route_table health_route_table;

#endif
