/* SPDX-License-Identifier: MIT */
/*
 * page.h: the few HTML pages the FastCGI side renders itself: messages for
 * a browser that arrives from a marketplace (an expired token, a binding
 * already held, activation in progress) and errors on browser routes.
 * Everything inserted is HTML-escaped; the page has no script, and its
 * style comes from /css/app.css.
 */
#ifndef MPBIND_PAGE_H
#define MPBIND_PAGE_H

struct request;

/* A message shown to a person, in both languages. */
struct page_text {
	const char *zh;
	const char *en;
};

struct page {
	struct page_text title;
	struct page_text message;
	const char *detail;		/* extra line, already in the user's language; may be NULL */
	const char *link_href;		/* may be NULL */
	struct page_text link_text;
};

/* Renders p in r's language with status. ERR_OK or ERR_NOMEM. */
int page_render(struct request *r, int status, const struct page *p);

/* Renders the error list's message for err as a page. */
int page_error(struct request *r, int err);

#endif
