/* SPDX-License-Identifier: MIT */
/*
 * router.h: route tables and dispatch. Each resource module exports one
 * table (method, path pattern, handler, auth, body, fields); the router
 * only looks them up, authenticates, reads and validates the input, calls
 * the handler and answers with its error if it returns one.
 *
 * Patterns are literal segments and "{}" for one path parameter of
 * [A-Za-z0-9._~-]{1,128}, captured in order into r->path_param[].
 */
#ifndef MPBIND_ROUTER_H
#define MPBIND_ROUTER_H

#include <stddef.h>

struct field;
struct request;

enum route_auth {
	AUTH_NONE,	/* anyone */
	AUTH_OPTIONAL,	/* the session is looked up when there is one */
	AUTH_SESSION,	/* a signed-in user; CSRF token on state changes */
	AUTH_SERVICE,	/* Authorization: Bearer <internal_token> */
};

/*
 * BODY_FORM is application/x-www-form-urlencoded; BODY_FORM_MULTIPART
 * takes multipart/form-data as well (a marketplace landing page, where the
 * sender's encoding is not documented), decoded into the same r->form.
 */
enum route_body { BODY_NONE, BODY_JSON, BODY_FORM, BODY_FORM_MULTIPART, BODY_RAW };

/* How errors are answered: JSON for the API, an HTML page for a browser. */
enum route_reply { REPLY_JSON, REPLY_PAGE };

struct route {
	const char *name;		/* metrics label, e.g. "orgs_list" */
	unsigned method;		/* METHOD_* bits */
	const char *pattern;
	int (*handler)(struct request *r);
	enum route_auth auth;
	enum route_body body;
	enum route_reply reply;
	const struct field *fields;	/* NULL or a list ended by {NULL} */
};

struct route_table {
	const char *module;
	const struct route *routes;
	size_t count;
};

#define ROUTE_TABLE(mod, table) \
	const struct route_table mod##_route_table = { #mod, table, sizeof(table) / sizeof(table[0]) }

/*
 * Numbers every route (index 0 is "unmatched") and fills names for the
 * metrics. Returns the count, or 0 when a table is malformed (logged).
 * Call once before forking.
 */
size_t router_init(const char ***names);

/* Handles r from routing to the reply (but does not send it). */
void router_dispatch(struct request *r);

/* Answers r with err: a page for REPLY_PAGE routes, JSON otherwise. */
void router_reply_error(struct request *r, int err);

#endif
