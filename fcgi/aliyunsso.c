/* SPDX-License-Identifier: MIT */
/*
 * aliyunsso.c: 免登, the link a buyer follows from 云市场's 已购买服务列表:
 * into the binding wizard when the instance is not bound yet, straight
 * into the console as the user who bound it when it is. The token and the
 * parameter list are aliyun.c's; the SPI is aliyunspi.c.
 */
#include "aliyunsso.h"

#include <string.h>


#include "aliyun.h"
#include "binding.h"
#include "config.h"
#include "db.h"
#include "events.h"
#include "form.h"
#include "page.h"
#include "request.h"
#include "session.h"
#include "subscriptions.h"
#include "text.h"
#include "worker.h"
#include "banned.h"

#define ALIYUN_SSO_RETRY_AFTER "30"	/* seconds, while an instance is being activated */

struct aliyun_sso_tx {
	struct request *r;
	const char *instance_id;
	const char *token_hash;		/* hex SHA-256 of the link's token */
	long keep;			/* seconds to remember it */
	char attempt[BINDING_ATTEMPT_LEN + 1];
	long long user_id;		/* bound: the user who bound it */
	const char *email;
	const char *org_id;
	const char *org_name;
};

static int
aliyun_sso_tx(void *arg)
{
	struct aliyun_sso_tx *tx = arg;
	struct request *r = tx->r;
	struct db *db = &r->worker->db;
	struct db_result res;
	long long subscription_id;
	const char *status;
	int rc;

	tx->user_id = 0;
	tx->org_id = tx->org_name = NULL;
	rc = db_run(db, r->pool, STMT_ALIYUN_VERIFY_USE, NULL, DB_ARGS(DB_TEXT(tx->token_hash),
	    DB_INT(tx->keep)));
	if (rc == ERR_DB_DUPLICATE)
		return ERR_ALIYUN_LINK_USED;
	if (rc == ERR_OK)
		rc = db_run(db, r->pool, STMT_ALIYUN_SUB_LOCK, &res, DB_ARGS(DB_TEXT(tx->instance_id)));
	if (rc != ERR_OK)
		return rc;
	/* Rolled back: the link stays usable until createInstance arrives. */
	if (res.nrows == 0)
		return ERR_ALIYUN_OPENING;
	subscription_id = db_int(&res, 0, 0);
	status = db_text(&res, 0, 2);
	rc = db_run(db, r->pool, STMT_ALIYUN_SSO_BINDING, &res, DB_ARGS(DB_INT(subscription_id)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 1) {
		tx->org_id = db_text(&res, 0, 0);
		tx->org_name = db_text(&res, 0, 1);
		if (db_int(&res, 0, 4) != 1)
			return ERR_ALIYUN_USER_GONE;
		tx->user_id = db_int(&res, 0, 2);
		tx->email = db_text(&res, 0, 3);
		return events_record(db, r->pool, tx->org_id, tx->user_id, "aliyun", "session.sso",
		    "instance_id", tx->instance_id, NULL);
	}
	if (!subscriptions_bindable(status))
		return ERR_SUBSCRIPTION_INACTIVE;
	return binding_attempt_create(db, r->pool, subscription_id, r->cfg->ticket_ttl, tx->attempt);
}

static const struct {
	int err;
	struct page_text title;
	struct page_text message;
} aliyun_sso_pages[] = {
	{ ERR_BAD_REQUEST, { "链接不完整", "This link is incomplete" },
	  { "请返回阿里云云市场控制台的“已购买服务列表”，重新单击“免登”。",
	    "Go back to 已购买服务列表 (purchased services) in the Alibaba Cloud Marketplace console and click 免登 again." } },
	{ ERR_ALIYUN_TOKEN, { "链接无效", "This link is not valid" },
	  { "该免登链接未通过校验。请返回阿里云云市场控制台的“已购买服务列表”，重新单击“免登”。",
	    "This 免登 link did not pass verification. Go back to 已购买服务列表 in the Alibaba Cloud Marketplace console and click 免登 again." } },
	{ ERR_ALIYUN_LINK_STALE, { "链接已过期", "This link has expired" },
	  { "免登链接只在生成后的几分钟内有效。请返回阿里云云市场控制台的“已购买服务列表”，重新单击“免登”。",
	    "A 免登 link works only for a few minutes. Go back to 已购买服务列表 in the Alibaba Cloud Marketplace console and click 免登 again." } },
	{ ERR_ALIYUN_LINK_USED, { "链接已使用", "This link was already used" },
	  { "每个免登链接只能使用一次。请返回阿里云云市场控制台的“已购买服务列表”，重新单击“免登”。",
	    "Each 免登 link works once. Go back to 已购买服务列表 in the Alibaba Cloud Marketplace console and click 免登 again." } },
	{ ERR_ALIYUN_OPENING, { "正在开通", "Activation in progress" },
	  { "您的实例仍在开通中，约需要 1 - 5 分钟完成。请稍后再次单击“免登”。",
	    "Your instance is still being activated, which takes about 1 to 5 minutes. Click 免登 again shortly." } },
	{ ERR_SUBSCRIPTION_INACTIVE, { "实例已失效", "This instance is no longer active" },
	  { "该实例已过期或已释放，无法绑定组织。请在阿里云云市场续费或重新开通后再试。",
	    "This instance has expired or was released, so it cannot be bound. Renew it or open a new one on Alibaba Cloud Marketplace." } },
	{ ERR_ALIYUN_USER_GONE, { "请登录", "Please sign in" },
	  { "该实例已为下列组织开通阿里云云市场扣费，但绑定它的用户已无法进入该组织。请使用该组织成员的账号登录。",
	    "This instance pays for the organization below, but the user who bound it can no longer enter it. Sign in with an account that is a member of the organization." } },
};

/* The page for a 免登 link that does not lead in; other errors go to the router. */
static int
aliyun_sso_page(struct request *r, int err, const struct aliyun_sso_tx *tx)
{
	struct page p = { .link_text = { "返回阿里云云市场", "Back to Alibaba Cloud Marketplace" } };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(aliyun_sso_pages) / sizeof(aliyun_sso_pages[0]); i++)
		if (aliyun_sso_pages[i].err == err)
			break;
	if (i == sizeof(aliyun_sso_pages) / sizeof(aliyun_sso_pages[0]))
		return err;
	p.title = aliyun_sso_pages[i].title;
	p.message = aliyun_sso_pages[i].message;
	if (r->cfg->aliyun.listing_url[0] != '\0')
		p.link_href = r->cfg->aliyun.listing_url;
	if (err == ERR_ALIYUN_USER_GONE) {
		p.detail = pool_printf(r->pool, r->lang == LANG_EN ? "Organization: %s (%s)" : "组织：%s（%s）",
		    tx->org_name, tx->org_id);
		if (p.detail == NULL)
			return ERR_NOMEM;
		p.link_href = "/login";
		p.link_text = (struct page_text){ "登录", "Sign in" };
	}
	if (err == ERR_ALIYUN_OPENING && (rc = request_add_header(r, "Retry-After", ALIYUN_SSO_RETRY_AFTER)) != ERR_OK)
		return rc;
	return page_render(r, error_status(err), &p);
}

/* Signs the user who bound the instance in for session.sso_ttl and sends
 * the browser to the org's billing overview. */
static int
aliyun_sso_sign_in(struct request *r, const struct aliyun_sso_tx *tx)
{
	const char *location;
	int rc;

	rc = session_create(r, tx->user_id, tx->email, SESSION_SSO, r->cfg->sso_session_ttl);
	if (rc != ERR_OK)
		return rc;
	location = pool_printf(r->pool, "%s/console/billing?org=%s", r->cfg->public_url, tx->org_id);
	return location != NULL ? reply_redirect(r, 303, location) : ERR_NOMEM;
}

/* Hex SHA-256 of token in the pool, or NULL. */
static const char *
aliyun_token_hash(struct pool *pool, const char *token)
{
	char *hex = pool_alloc(pool, TEXT_SHA256_HEX);

	if (hex == NULL)
		return NULL;
	text_sha256_hex(hex, token, strlen(token));
	return hex;
}

/* GET /marketplace/aliyun/sso: see aliyunsso.h. */
static int
aliyun_sso(struct request *r)
{
	struct aliyun_sso_tx tx = { .r = r };
	long window = r->cfg->aliyun.verify_window;
	const char *action, *stamp, *token;
	struct kvlist params;
	time_t at, now = time(NULL);
	int rc;

	if (!r->cfg->aliyun.enabled)
		return ERR_NOT_FOUND;
	rc = aliyun_params(r, &params);
	if (rc != ERR_OK)
		return rc == ERR_NOMEM ? rc : aliyun_sso_page(r, ERR_BAD_REQUEST, &tx);
	action = kvlist_get(&params, "action");
	tx.instance_id = kvlist_get(&params, "instanceId");
	stamp = kvlist_get(&params, "timeStamp");
	token = kvlist_get(&params, "token");
	if (action == NULL || strcmp(action, "verify") != 0 || tx.instance_id == NULL ||
	    !aliyun_valid_id(tx.instance_id) || stamp == NULL || token == NULL)
		return aliyun_sso_page(r, ERR_BAD_REQUEST, &tx);
	rc = aliyun_token_check(r, &params);
	if (rc == ERR_OK && !aliyun_parse_time(stamp, &at))
		rc = ERR_BAD_REQUEST;
	if (rc == ERR_OK && (at < now - window || at > now + window))
		rc = ERR_ALIYUN_LINK_STALE;
	if (rc != ERR_OK)
		return aliyun_sso_page(r, rc, &tx);
	/* Kept a window past the link's own end, for clocks that differ between hosts. */
	tx.keep = (long)(at - now) + 2 * window;
	tx.token_hash = aliyun_token_hash(r->pool, token);
	if (tx.token_hash == NULL)
		return ERR_NOMEM;
	/* Best effort: a later visit purges what this one leaves. */
	(void)db_run(&r->worker->db, r->pool, STMT_ALIYUN_VERIFY_PURGE, NULL, DB_NOARGS);
	rc = db_transaction(&r->worker->db, aliyun_sso_tx, &tx);
	if (rc != ERR_OK)
		return aliyun_sso_page(r, rc, &tx);
	if (tx.user_id > 0)
		return aliyun_sso_sign_in(r, &tx);
	return binding_redirect(r, tx.attempt);
}

static const struct route aliyun_sso_routes[] = {
	/* No field list: 云市场 may add parameters, and every one is signed. */
	{ "aliyun_sso", METHOD_GET, "/marketplace/aliyun/sso", aliyun_sso, AUTH_NONE, BODY_NONE,
	  REPLY_PAGE, NULL },
};

ROUTE_TABLE(aliyun_sso, aliyun_sso_routes);