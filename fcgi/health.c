/* SPDX-License-Identifier: MIT */
/*
 * health.c: /healthz, /healthz/live and /metrics.
 */
#include "health.h"

#include "db.h"
#include "metrics.h"
#include "request.h"
#include "worker.h"
#include "banned.h"

#define HEALTH_OK "{\"status\":\"ok\",\"db\":\"ok\"}"
#define HEALTH_DOWN "{\"status\":\"error\",\"db\":\"down\"}"
#define HEALTH_LIVE "{\"status\":\"ok\"}"
#define JSON_TYPE "application/json; charset=utf-8"

/* 200 when a round trip to the database works, 503 otherwise. */
static int
health_ready(struct request *r)
{
	struct db_result res;

	if (db_run(&r->worker->db, r->pool, STMT_PING, &res, DB_NOARGS) != ERR_OK)
		return reply_text(r, 503, JSON_TYPE, HEALTH_DOWN, sizeof(HEALTH_DOWN) - 1);
	return reply_text(r, 200, JSON_TYPE, HEALTH_OK, sizeof(HEALTH_OK) - 1);
}

/* 200 always: the worker answers. */
static int
health_live(struct request *r)
{
	return reply_text(r, 200, JSON_TYPE, HEALTH_LIVE, sizeof(HEALTH_LIVE) - 1);
}

/* 200 with the Prometheus exposition; 500 if it outgrows the body cap. */
static int
health_metrics(struct request *r)
{
	r->status = 200;
	r->resp_type = "text/plain; version=0.0.4; charset=utf-8";
	if (metrics_render(r->worker->app->metrics, &r->resp_body) != 0)
		return ERR_INTERNAL;
	r->replied = true;
	return ERR_OK;
}

static const struct route health_routes[] = {
	{ "healthz", METHOD_GET, "/healthz", health_ready, AUTH_NONE, BODY_NONE, REPLY_JSON, NULL },
	{ "healthz_live", METHOD_GET, "/healthz/live", health_live, AUTH_NONE, BODY_NONE, REPLY_JSON, NULL },
	{ "metrics", METHOD_GET, "/metrics", health_metrics, AUTH_NONE, BODY_NONE, REPLY_JSON, NULL },
};

ROUTE_TABLE(health, health_routes);
