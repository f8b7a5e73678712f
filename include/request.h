/* SPDX-License-Identifier: MIT */
/*
 * request.h: one FastCGI request, from the parameters nginx sent to the
 * response we write back. Everything a request allocates hangs off it (its
 * pool, its JSON documents) and is released once, by request_release(),
 * after FCGX_Finish_r.
 *
 * Handlers see only what passed validation: the route's fields (fields.h),
 * the path parameters, the signed-in user. They answer with one of the
 * reply_* functions, or return a negative error and the router answers
 * with it (JSON for the API, a page for the browser routes).
 */
#ifndef MPBIND_REQUEST_H
#define MPBIND_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "error.h"
#include "form.h"
#include "pool.h"

struct json_object;
struct route;
struct worker;
struct config;
typedef struct FCGX_Request FCGX_Request;

enum method {
	METHOD_OTHER = 0,
	METHOD_GET = 1 << 0,
	METHOD_POST = 1 << 1,
	METHOD_PUT = 1 << 2,
	METHOD_PATCH = 1 << 3,
	METHOD_DELETE = 1 << 4,
};

#define REQUEST_PATH_PARAMS 4
#define REQUEST_FIELDS_MAX 16

struct field_value {
	const char *str;	/* text form, NUL-terminated, in the pool */
	size_t len;
	long long num;		/* for integer and boolean fields */
	bool present;
};

/* The signed-in user, filled by session_authenticate(). */
struct principal {
	long long user_id;
	const char *email;
	const char *session_hash;	/* hex sha256 of the session id */
	const char *csrf;		/* the session's CSRF token */
	const char *created_at;		/* when the account was created, ISO 8601 UTC */
	long long expires_at;
	const char *cookie;		/* a new session's cookie value, until session_set_cookie */
	long cookie_ttl;
};

struct request {
	FCGX_Request *fcgx;		/* borrowed from the worker thread */
	struct worker *worker;		/* borrowed: db, configuration */
	const struct config *cfg;	/* borrowed: worker->app->cfg */
	struct pool *pool;		/* the worker's; reset by request_release */

	/* what came in */
	enum method method;
	const char *method_name;
	const char *path;
	const char *query;
	const char *remote_addr;
	const char *content_type;
	enum lang lang;
	struct kvlist query_params;
	struct kvlist cookies;
	struct kvlist form;		/* urlencoded body */
	char *body;			/* raw body, NUL-terminated, in the pool */
	size_t body_len;
	struct json_object *json;	/* parsed JSON body; owned */

	/* what the router found */
	const struct route *route;
	size_t route_index;
	const char *path_param[REQUEST_PATH_PARAMS];
	struct field_value values[REQUEST_FIELDS_MAX];
	struct principal user;
	bool signed_in;

	/* error detail for reply_error; a client-chosen name goes through
	 * request_set_error_field */
	const char *error_field;
	const char *error_message;	/* overrides the list's message when set */

	/* what goes out */
	int status;
	const char *resp_type;
	struct buf resp_headers;
	struct buf resp_body;
	bool replied;
	struct timespec started;
};

/*
 * Reads the FastCGI parameters of fcgx into r (method, path, query string,
 * cookies, language). Returns ERR_OK or an error to answer with.
 */
int request_init(struct request *r, FCGX_Request *fcgx, struct worker *w);

/* Releases everything the request owns; call after FCGX_Finish_r. */
void request_release(struct request *r);

/* A FastCGI parameter (HTTP_COOKIE, CONTENT_TYPE, ...) or NULL. Borrowed. */
const char *request_param(const struct request *r, const char *name);

/* A request header by its CGI name, e.g. "HTTP_X_CSRF_TOKEN". Borrowed. */
const char *request_header(const struct request *r, const char *cgi_name);

/* The value of cookie name, or NULL. Borrowed. */
const char *request_cookie(const struct request *r, const char *name);

/*
 * Reads the body (at most max bytes, else ERR_BODY_TOO_LARGE) into
 * r->body. ERR_OK, ERR_BODY_TOO_LARGE, ERR_BAD_REQUEST, ERR_NOMEM.
 */
int request_read_body(struct request *r, size_t max);

/* Adds a response header; name and value must not hold CR or LF. */
int request_add_header(struct request *r, const char *name, const char *value);

/*
 * Sets cookie name=value with Path=/, HttpOnly, SameSite=Lax, and Secure
 * when public_url is https. max_age 0 deletes the cookie.
 */
int request_set_cookie(struct request *r, const char *name, const char *value, long max_age);

/*
 * Names field in the error answer, as at most REQUEST_FIELD_SHOWN bytes of
 * valid UTF-8; a longer or invalid name (the client chose it) is shown as
 * "?". Returns what r->error_field now holds (in the pool, never NULL).
 */
#define REQUEST_FIELD_SHOWN 64
const char *request_set_error_field(struct request *r, const char *field);

/* Replies. Each returns ERR_OK or ERR_NOMEM. */

/* Takes ownership of obj (it is released even on failure). */
int reply_json(struct request *r, int status, struct json_object *obj);
/* {"error": {"code", "message", "field"?}} with the error's status. */
int reply_error_json(struct request *r, int err);
int reply_text(struct request *r, int status, const char *type, const char *text, size_t len);
/* 303/302 to location (a path or absolute URL). */
int reply_redirect(struct request *r, int status, const char *location);

/* Writes the response to nginx; called once by the worker. */
void request_send(struct request *r);

/* Seconds since the request started. */
double request_elapsed(const struct request *r);

/* Picks the language from the "lang" cookie, then Accept-Language. */
enum lang request_lang(const struct request *r);

#endif
