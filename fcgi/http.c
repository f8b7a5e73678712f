/* SPDX-License-Identifier: MIT */
/*
 * http.c: the libcurl wrapper. The easy handle is reset before every call,
 * which keeps its connection cache and drops every option of the last call.
 */
#include "http.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <curl/curl.h>

#include "config.h"
#include "error.h"
#include "log.h"
#include "banned.h"

#define HTTP_DEFAULT_MAX (1024 * 1024)

void
http_init(struct http *h, const struct config *cfg)
{
	h->curl = NULL;
	h->cfg = cfg;
}

void
http_release(struct http *h)
{
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	h->curl = NULL;
}

void
http_reply_release(struct http_reply *reply)
{
	buf_release(&reply->body);
}

static size_t
http_write(char *data, size_t size, size_t n, void *arg)
{
	struct buf *body = arg;

	if (buf_append(body, data, size * n) == -1)
		return 0;	/* makes curl fail with CURLE_WRITE_ERROR */
	return size * n;
}

/* Aborts a transfer (a long poll) once the caller's cancel flag is set. */
static int
http_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	const atomic_bool *cancel = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(cancel) ? 1 : 0;
}

static const char *
http_host_of(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://"), *end;
	size_t n;

	p = p != NULL ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	n = (size_t)(end - p) < size - 1 ? (size_t)(end - p) : size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

int
http_perform(struct http *h, const struct http_call *call, struct http_reply *reply)
{
	struct curl_slist *headers = NULL, *grown;
	const char *const *hp, *ca_file;
	long timeout_ms = call->timeout_ms > 0 ? call->timeout_ms : h->cfg->http_timeout * 1000;
	char host[256];
	long request_size = 0;
	CURLcode cc;
	int rc = ERR_UPSTREAM;

	buf_init(&reply->body, call->max_response > 0 ? call->max_response : HTTP_DEFAULT_MAX);
	reply->status = 0;
	reply->timed_out = false;
	reply->untrusted = false;
	reply->sent = false;
	if (h->curl == NULL) {
		h->curl = curl_easy_init();
		if (h->curl == NULL)
			return ERR_NOMEM;
	} else {
		curl_easy_reset(h->curl);
	}
	for (hp = call->headers; hp != NULL && *hp != NULL; hp++) {
		grown = curl_slist_append(headers, *hp);
		if (grown == NULL) {
			rc = ERR_NOMEM;
			goto out;
		}
		headers = grown;
	}
	/*
	 * No "Expect: 100-continue" round trip. Not on SigV4 calls: libcurl
	 * signs every header set here, and this one is never sent, so the
	 * signature would name a header the server cannot see.
	 */
	if (call->sigv4 == NULL) {
		grown = curl_slist_append(headers, "Expect:");
		if (grown == NULL) {
			rc = ERR_NOMEM;
			goto out;
		}
		headers = grown;
	}
	curl_easy_setopt(h->curl, CURLOPT_URL, call->url);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	ca_file = call->ca_file != NULL ? call->ca_file : h->cfg->ca_file;
	if (ca_file[0] != '\0')
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(h->curl, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)(call->max_response > 0 ? call->max_response : HTTP_DEFAULT_MAX));
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &reply->body);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "mpbind/1");
	if (strcmp(call->method, "POST") == 0) {
		curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, call->body != NULL ? call->body : "");
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
	}
	if (call->sigv4 != NULL) {
		curl_easy_setopt(h->curl, CURLOPT_AWS_SIGV4, call->sigv4);
		curl_easy_setopt(h->curl, CURLOPT_USERPWD, call->userpwd);
	}
	if (call->cancel != NULL) {
		curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, http_progress);
		curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, (void *)(uintptr_t)call->cancel);
		curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
	}
	if (call->not_idempotent) {
		/* A reused connection found dead makes libcurl resend the request. */
		curl_easy_setopt(h->curl, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(h->curl, CURLOPT_FORBID_REUSE, 1L);
	}
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
	cc = curl_easy_perform(h->curl);
	reply->sent = curl_easy_getinfo(h->curl, CURLINFO_REQUEST_SIZE, &request_size) != CURLE_OK ||
	    request_size > 0;
	if (cc != CURLE_OK) {
		reply->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
		reply->untrusted = cc == CURLE_PEER_FAILED_VERIFICATION;
		log_warnx("http: %s \"%s\" failed: %s", call->method,
		    http_host_of(call->url, host, sizeof(host)), curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &reply->status);
	rc = ERR_OK;
out:
	/* The credentials must not stay in the reused handle. */
	if (h->curl != NULL) {
		curl_easy_setopt(h->curl, CURLOPT_USERPWD, NULL);
		curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	}
	curl_slist_free_all(headers);
	return rc;
}
