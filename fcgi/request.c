/* SPDX-License-Identifier: MIT */
/*
 * request.c: reading a FastCGI request and writing its response. Input is
 * capped before it is read; output is built in capped buffers and written
 * with FCGX_PutStr in one go.
 */
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "config.h"
#include "text.h"
#include "worker.h"
#include "banned.h"

#define REQUEST_PATH_MAX 1024
#define REQUEST_COOKIE_MAX 8192
#define REQUEST_COOKIES_MAX 32
#define RESPONSE_HEADERS_MAX 8192
#define RESPONSE_BODY_MAX (4 * 1024 * 1024)

static const struct {
	int status;
	const char *reason;
} request_reasons[] = {
	{ 200, "OK" }, { 201, "Created" }, { 204, "No Content" }, { 301, "Moved Permanently" },
	{ 302, "Found" }, { 303, "See Other" }, { 304, "Not Modified" }, { 400, "Bad Request" },
	{ 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 409, "Conflict" }, { 410, "Gone" },
	{ 411, "Length Required" }, { 413, "Payload Too Large" },
	{ 415, "Unsupported Media Type" }, { 422, "Unprocessable Entity" },
	{ 429, "Too Many Requests" }, { 500, "Internal Server Error" }, { 502, "Bad Gateway" },
	{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
};

static const char *
request_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(request_reasons) / sizeof(request_reasons[0]); i++)
		if (request_reasons[i].status == status)
			return request_reasons[i].reason;
	return "Unknown";
}

static enum method
request_method_parse(const char *name)
{
	if (name == NULL)
		return METHOD_OTHER;
	if (strcmp(name, "GET") == 0 || strcmp(name, "HEAD") == 0)
		return METHOD_GET;
	if (strcmp(name, "POST") == 0)
		return METHOD_POST;
	if (strcmp(name, "PUT") == 0)
		return METHOD_PUT;
	if (strcmp(name, "PATCH") == 0)
		return METHOD_PATCH;
	if (strcmp(name, "DELETE") == 0)
		return METHOD_DELETE;
	return METHOD_OTHER;
}

const char *
request_param(const struct request *r, const char *name)
{
	return FCGX_GetParam(name, r->fcgx->envp);
}

const char *
request_header(const struct request *r, const char *cgi_name)
{
	return FCGX_GetParam(cgi_name, r->fcgx->envp);
}

const char *
request_cookie(const struct request *r, const char *name)
{
	return kvlist_get(&r->cookies, name);
}

enum lang
request_lang(const struct request *r)
{
	const char *lang = request_cookie(r, "lang");
	const char *accept;

	if (lang != NULL)
		return strcmp(lang, "en") == 0 ? LANG_EN : LANG_ZH;
	accept = request_header(r, "HTTP_ACCEPT_LANGUAGE");
	if (accept != NULL && strncasecmp(accept, "en", 2) == 0)
		return LANG_EN;
	return LANG_ZH;
}

static bool
request_path_ok(const char *path)
{
	size_t i;

	if (path[0] != '/')
		return false;
	for (i = 0; path[i] != '\0'; i++)
		if ((unsigned char)path[i] <= 0x20 || (unsigned char)path[i] >= 0x7f || i >= REQUEST_PATH_MAX)
			return false;
	return true;
}

int
request_init(struct request *r, FCGX_Request *fcgx, struct worker *w)
{
	const char *cookie, *bad;
	int rc;

	memset(r, 0, sizeof(*r));
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	r->fcgx = fcgx;
	r->worker = w;
	r->cfg = &w->app->cfg;
	r->pool = &w->pool;
	r->status = 200;
	buf_init(&r->resp_headers, RESPONSE_HEADERS_MAX);
	buf_init(&r->resp_body, RESPONSE_BODY_MAX);

	r->method_name = request_param(r, "REQUEST_METHOD");
	r->method = request_method_parse(r->method_name);
	r->path = request_param(r, "DOCUMENT_URI");
	if (r->path == NULL)
		r->path = request_param(r, "SCRIPT_NAME");
	r->query = request_param(r, "QUERY_STRING");
	r->remote_addr = request_param(r, "REMOTE_ADDR");
	r->content_type = request_param(r, "CONTENT_TYPE");
	if (r->query == NULL)
		r->query = "";
	if (r->remote_addr == NULL)
		r->remote_addr = "";

	cookie = request_header(r, "HTTP_COOKIE");
	if (cookie != NULL && strlen(cookie) <= REQUEST_COOKIE_MAX) {
		rc = form_parse_cookies(r->pool, cookie, REQUEST_COOKIES_MAX, &r->cookies);
		if (rc != ERR_OK)
			return rc;
	}
	r->lang = request_lang(r);
	if (r->path == NULL || !request_path_ok(r->path)) {
		r->path = "/";
		return ERR_BAD_REQUEST;
	}
	rc = form_parse(r->pool, r->query, strlen(r->query), (size_t)r->cfg->max_fields,
	    (size_t)r->cfg->max_field_len, &r->query_params, &bad);
	if (rc == ERR_FIELD)
		request_set_error_field(r, bad);
	return rc;
}

const char *
request_set_error_field(struct request *r, const char *field)
{
	size_t n = field != NULL ? strlen(field) : 0;
	const char *shown = NULL;

	if (n > 0 && n <= REQUEST_FIELD_SHOWN && text_valid_utf8(field, n))
		shown = pool_strndup(r->pool, field, n);
	r->error_field = shown != NULL ? shown : "?";
	return r->error_field;
}

void
request_release(struct request *r)
{
	if (r->json != NULL)
		json_object_put(r->json);
	r->json = NULL;
	buf_release(&r->resp_headers);
	buf_release(&r->resp_body);
	if (r->pool != NULL)
		pool_reset(r->pool);
}

int
request_read_body(struct request *r, size_t max)
{
	const char *cl = request_param(r, "CONTENT_LENGTH");
	unsigned long long n;
	char *end;
	int got;

	if (cl == NULL || *cl == '\0') {
		r->body = pool_strdup(r->pool, "");
		r->body_len = 0;
		return r->body != NULL ? ERR_OK : ERR_NOMEM;
	}
	n = strtoull(cl, &end, 10);
	if (*end != '\0' || cl[0] == '-')
		return ERR_BAD_REQUEST;
	if (n > max)
		return ERR_BODY_TOO_LARGE;
	r->body = pool_alloc(r->pool, (size_t)n + 1);
	if (r->body == NULL)
		return ERR_NOMEM;
	got = n > 0 ? FCGX_GetStr(r->body, (int)n, r->fcgx->in) : 0;
	if (got < 0 || (unsigned long long)got != n)
		return ERR_BAD_REQUEST;
	r->body[n] = '\0';
	r->body_len = (size_t)n;
	return ERR_OK;
}

static bool
request_header_safe(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

int
request_add_header(struct request *r, const char *name, const char *value)
{
	if (!request_header_safe(name) || !request_header_safe(value))
		return ERR_INTERNAL;
	if (buf_appendf(&r->resp_headers, "%s: %s\r\n", name, value) == -1)
		return ERR_NOMEM;
	return ERR_OK;
}

int
request_set_cookie(struct request *r, const char *name, const char *value, long max_age)
{
	bool secure = strncmp(r->cfg->public_url, "https://", 8) == 0;

	if (!request_header_safe(name) || !request_header_safe(value) ||
	    strpbrk(value, ";, ") != NULL)
		return ERR_INTERNAL;
	if (buf_appendf(&r->resp_headers,
	    "Set-Cookie: %s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Lax%s\r\n",
	    name, value, max_age, secure ? "; Secure" : "") == -1)
		return ERR_NOMEM;
	return ERR_OK;
}

int
reply_text(struct request *r, int status, const char *type, const char *text, size_t len)
{
	r->status = status;
	r->resp_type = type;
	r->replied = true;
	buf_reset(&r->resp_body);
	if (buf_append(&r->resp_body, text, len) == -1)
		return ERR_NOMEM;
	return ERR_OK;
}

int
reply_json(struct request *r, int status, struct json_object *obj)
{
	const char *text;
	size_t len;
	int rc;

	if (obj == NULL)
		return ERR_NOMEM;
	text = json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	rc = text != NULL ? reply_text(r, status, "application/json; charset=utf-8", text, len)
	    : ERR_NOMEM;
	json_object_put(obj);
	return rc;
}

int
reply_error_json(struct request *r, int err)
{
	struct json_object *root, *error;
	const char *message = r->error_message != NULL ? r->error_message
	    : error_message(err, r->lang);

	root = json_object_new_object();
	error = json_object_new_object();
	if (root == NULL || error == NULL) {
		json_object_put(root);
		json_object_put(error);
		return ERR_NOMEM;
	}
	json_object_object_add(root, "error", error);	/* takes error */
	json_object_object_add(error, "code", json_object_new_string(error_code(err)));
	json_object_object_add(error, "message", json_object_new_string(message));
	if (r->error_field != NULL)
		json_object_object_add(error, "field", json_object_new_string(r->error_field));
	return reply_json(r, error_status(err), root);
}

int
reply_redirect(struct request *r, int status, const char *location)
{
	int rc = request_add_header(r, "Location", location);

	if (rc != ERR_OK)
		return rc;
	return reply_text(r, status, "text/plain; charset=utf-8", "", 0);
}

void
request_send(struct request *r)
{
	char head[256];
	int n;

	if (!r->replied) {
		r->status = 500;
		r->resp_type = "text/plain; charset=utf-8";
		buf_reset(&r->resp_body);
	}
	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n",
	    r->status, request_reason(r->status),
	    r->resp_type != NULL ? r->resp_type : "text/plain; charset=utf-8",
	    r->resp_body.len);
	if (n < 0 || (size_t)n >= sizeof(head))
		return;
	FCGX_PutStr(head, n, r->fcgx->out);
	if (r->resp_headers.len > 0)
		FCGX_PutStr(r->resp_headers.data, (int)r->resp_headers.len, r->fcgx->out);
	FCGX_PutStr("\r\n", 2, r->fcgx->out);
	if (r->resp_body.len > 0 && r->method_name != NULL && strcmp(r->method_name, "HEAD") != 0)
		FCGX_PutStr(r->resp_body.data, (int)r->resp_body.len, r->fcgx->out);
}

double
request_elapsed(const struct request *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - r->started.tv_sec) +
	    (double)(now.tv_nsec - r->started.tv_nsec) / 1e9;
}
