/* SPDX-License-Identifier: MIT */
/*
 * page.c: a one-card HTML page in the user's language.
 */
#include "page.h"

#include "request.h"
#include "text.h"
#include "banned.h"

static const char *
page_pick(const struct request *r, const struct page_text *t)
{
	if (r->lang == LANG_EN && t->en != NULL)
		return t->en;
	return t->zh != NULL ? t->zh : "";
}

int
page_render(struct request *r, int status, const struct page *p)
{
	struct buf *out = &r->resp_body;
	int rc = 0;

	buf_reset(out);
	rc |= buf_appendf(out, "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>",
	    r->lang == LANG_EN ? "en" : "zh-CN");
	rc |= text_html_escape(out, page_pick(r, &p->title));
	rc |= buf_appends(out, "</title><link rel=\"stylesheet\" href=\"/css/app.css\"></head>\n"
	    "<body class=\"message-page\"><main class=\"card message\"><h1>");
	rc |= text_html_escape(out, page_pick(r, &p->title));
	rc |= buf_appends(out, "</h1>\n<p class=\"lead\">");
	rc |= text_html_escape(out, page_pick(r, &p->message));
	rc |= buf_appends(out, "</p>\n");
	if (p->detail != NULL) {
		rc |= buf_appends(out, "<p class=\"detail\">");
		rc |= text_html_escape(out, p->detail);
		rc |= buf_appends(out, "</p>\n");
	}
	if (p->link_href != NULL) {
		rc |= buf_appends(out, "<p><a class=\"btn primary\" href=\"");
		rc |= text_html_escape(out, p->link_href);
		rc |= buf_appends(out, "\">");
		rc |= text_html_escape(out, page_pick(r, &p->link_text));
		rc |= buf_appends(out, "</a></p>\n");
	}
	rc |= buf_appends(out, "</main></body></html>\n");
	if (rc != 0)
		return ERR_NOMEM;
	r->status = status;
	r->resp_type = "text/html; charset=utf-8";
	r->replied = true;
	return ERR_OK;
}

int
page_error(struct request *r, int err)
{
	struct page p = {
		.title = { "出错了", "Something went wrong" },
		.message = { error_message(err, LANG_ZH), error_message(err, LANG_EN) },
		.detail = r->error_message,
		.link_href = "/",
		.link_text = { "返回首页", "Back to the start" },
	};

	return page_render(r, error_status(err), &p);
}
