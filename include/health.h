/* SPDX-License-Identifier: MIT */
/*
 * health.h: liveness, readiness and metrics endpoints.
 *
 *   GET /healthz       200 {"status":"ok","db":"ok"}; 503 {"status":"error","db":"down"}
 *   GET /healthz/live  200 {"status":"ok"} without touching the database
 *   GET /metrics       200 Prometheus text (nginx allows it from loopback only)
 *
 * /metrics is AUTH_NONE here: nginx alone decides who may read it (and who
 * may reach /internal/, whose routes also want the service token). So the
 * FastCGI socket must be reachable by nginx only: a unix socket (the
 * default), or a TCP listen address on a private interface that a firewall
 * opens to the nginx hosts alone. Whoever reaches the socket bypasses
 * nginx's address rules, its body cap and its rate limits.
 */
#ifndef MPBIND_HEALTH_H
#define MPBIND_HEALTH_H

#include "router.h"

extern const struct route_table health_route_table;

#endif
