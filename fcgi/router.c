/* SPDX-License-Identifier: MIT */
/*
 * router.c: the list of route tables, path matching, and the steps every
 * request takes before its handler: authentication, CSRF, body, fields.
 * The flat route list is built once before forking and only read after.
 */
#include "router.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "config.h"
#include "fields.h"
#include "log.h"
#include "page.h"
#include "request.h"
#include "session.h"
#include "text.h"

#include "health.h"
#include "auth.h"
#include "orgs.h"
#include "members.h"
#include "events.h"
#include "aws.h"
#include "aliyunspi.h"
#include "aliyunsso.h"
#include "binding.h"
#include "billing.h"
#include "usage.h"
#include "banned.h"

#define ROUTER_ROUTES_MAX 255
#define ROUTER_JSON_DEPTH 16

/* Adding a resource: include its header above and add its table here. */
static const struct route_table *const router_tables[] = {
	&health_route_table,
	&auth_route_table,
	&orgs_route_table,
	&members_route_table,
	&events_route_table,
	&aws_route_table,
	&aliyun_spi_route_table,
	&aliyun_sso_route_table,
	&binding_route_table,
	&billing_route_table,
	&usage_route_table,
};

/* Read-only after router_init(), which runs before the first fork. */
static const struct route *router_routes[ROUTER_ROUTES_MAX + 1];
static const char *router_names[ROUTER_ROUTES_MAX + 1];
static size_t router_count;

size_t
router_init(const char ***names)
{
	const struct route_table *t;
	size_t i, j;

	router_count = 1;
	router_names[0] = "unmatched";
	for (i = 0; i < sizeof(router_tables) / sizeof(router_tables[0]); i++) {
		t = router_tables[i];
		for (j = 0; j < t->count; j++) {
			if (router_count > ROUTER_ROUTES_MAX || t->routes[j].handler == NULL ||
			    t->routes[j].pattern[0] != '/') {
				log_warnx("router: table \"%s\" route %zu is malformed", t->module, j);
				return 0;
			}
			router_routes[router_count] = &t->routes[j];
			router_names[router_count] = t->routes[j].name;
			router_count++;
		}
	}
	*names = router_names;
	return router_count;
}

static bool
router_param_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '~' || c == '-';
}

/* Matches path against pattern, capturing "{}" segments into r. */
static bool
router_match(struct request *r, const char *pattern, const char *path, bool capture)
{
	const char *p = pattern, *s = path, *seg;
	size_t nparams = 0, n;

	while (*p != '\0' && *s != '\0') {
		if (p[0] == '{' && p[1] == '}') {
			seg = s;
			while (*s != '\0' && *s != '/' && router_param_char(*s))
				s++;
			n = (size_t)(s - seg);
			if (n == 0 || n > 128 || (*s != '\0' && *s != '/') ||
			    nparams == REQUEST_PATH_PARAMS)
				return false;
			if (capture) {
				r->path_param[nparams] = pool_strndup(r->pool, seg, n);
				if (r->path_param[nparams] == NULL)
					return false;
			}
			nparams++;
			p += 2;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *p == '\0' && *s == '\0';
}

static int
router_find(struct request *r)
{
	bool path_matched = false;
	size_t i;

	for (i = 1; i < router_count; i++) {
		if (!router_match(r, router_routes[i]->pattern, r->path, false))
			continue;
		path_matched = true;
		if ((router_routes[i]->method & (unsigned)r->method) == 0)
			continue;
		r->route = router_routes[i];
		r->route_index = i;
		if (!router_match(r, r->route->pattern, r->path, true))
			return ERR_NOMEM;
		return ERR_OK;
	}
	return path_matched ? ERR_METHOD : ERR_NOT_FOUND;
}

static int
router_authenticate(struct request *r)
{
	const char *auth, *csrf;
	int rc;

	switch (r->route->auth) {
	case AUTH_NONE:
		return ERR_OK;
	case AUTH_SERVICE:
		auth = request_header(r, "HTTP_AUTHORIZATION");
		if (r->cfg->internal_token[0] == '\0' || auth == NULL ||
		    strncmp(auth, "Bearer ", 7) != 0 ||
		    !text_equal_ct(auth + 7, r->cfg->internal_token))
			return ERR_UNAUTHORIZED;
		return ERR_OK;
	case AUTH_OPTIONAL:
		rc = session_authenticate(r);
		return rc == ERR_UNAUTHORIZED ? ERR_OK : rc;
	case AUTH_SESSION:
		rc = session_authenticate(r);
		if (rc != ERR_OK)
			return rc;
		if (r->method == METHOD_GET)
			return ERR_OK;
		csrf = request_header(r, "HTTP_X_CSRF_TOKEN");
		if (csrf == NULL || !text_equal_ct(csrf, r->user.csrf))
			return ERR_CSRF;
		return ERR_OK;
	}
	return ERR_INTERNAL;
}

static bool
router_type_is(const char *content_type, const char *want)
{
	size_t n = strlen(want);

	return content_type != NULL && strncasecmp(content_type, want, n) == 0 &&
	    (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ');
}

static int
router_parse_json(struct request *r)
{
	struct json_tokener *tok;
	int rc = ERR_BAD_JSON;

	if (r->body_len == 0) {
		r->json = json_object_new_object();
		return r->json != NULL ? ERR_OK : ERR_NOMEM;
	}
	if (!router_type_is(r->content_type, "application/json"))
		return ERR_MEDIA_TYPE;
	tok = json_tokener_new_ex(ROUTER_JSON_DEPTH);
	if (tok == NULL)
		return ERR_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	r->json = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	if (r->json != NULL && json_tokener_get_error(tok) == json_tokener_success &&
	    json_tokener_get_parse_end(tok) == r->body_len)
		rc = ERR_OK;
	json_tokener_free(tok);
	return rc;
}

static int
router_read_input(struct request *r)
{
	const char *bad;
	int rc;

	if (r->route->body == BODY_NONE)
		return ERR_OK;
	rc = request_read_body(r, (size_t)r->cfg->max_body);
	if (rc != ERR_OK)
		return rc;
	switch (r->route->body) {
	case BODY_JSON:
		return router_parse_json(r);
	case BODY_FORM:
	case BODY_FORM_MULTIPART:
		if (r->route->body == BODY_FORM_MULTIPART &&
		    router_type_is(r->content_type, "multipart/form-data"))
			rc = form_parse_multipart(r->pool, r->content_type, r->body, r->body_len,
			    (size_t)r->cfg->max_fields, (size_t)r->cfg->max_field_len, &r->form, &bad);
		else if (r->body_len > 0 && !router_type_is(r->content_type,
		    "application/x-www-form-urlencoded"))
			return ERR_MEDIA_TYPE;
		else
			rc = form_parse(r->pool, r->body, r->body_len, (size_t)r->cfg->max_fields,
			    (size_t)r->cfg->max_field_len, &r->form, &bad);
		if (rc == ERR_FIELD)
			request_set_error_field(r, bad);
		return rc;
	case BODY_RAW:
	case BODY_NONE:
		break;
	}
	return ERR_OK;
}

static int
router_run(struct request *r)
{
	int rc;

	rc = router_find(r);
	if (rc != ERR_OK)
		return rc;
	rc = router_authenticate(r);
	if (rc != ERR_OK)
		return rc;
	rc = router_read_input(r);
	if (rc != ERR_OK)
		return rc;
	rc = fields_validate(r);
	if (rc != ERR_OK)
		return rc;
	return r->route->handler(r);
}

void
router_reply_error(struct request *r, int err)
{
	if (err == ERR_METHOD && r->route == NULL)
		request_add_header(r, "Allow", "GET, POST, PUT, PATCH, DELETE");
	if (r->route != NULL && r->route->reply == REPLY_PAGE)
		page_error(r, err);
	else
		reply_error_json(r, err);
	if (!r->replied)
		reply_text(r, 500, "text/plain; charset=utf-8", "internal error\n", 15);
}

void
router_dispatch(struct request *r)
{
	int rc = router_run(r);

	if (rc == ERR_OK && r->replied)
		return;
	if (rc == ERR_OK) {
		log_warnx("router: route \"%s\" returned without a reply", r->route->name);
		rc = ERR_INTERNAL;
	}
	if (error_status(rc) >= 500)
		log_warnx("router: %s %s: %s", r->method_name != NULL ? r->method_name : "?",
		    r->route != NULL ? r->route->name : "unmatched", error_code(rc));
	/* Headers stay: a handler may set one for its error (Retry-After). */
	buf_reset(&r->resp_body);
	r->replied = false;
	router_reply_error(r, rc);
}
