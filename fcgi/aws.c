/* SPDX-License-Identifier: MIT */
/*
 * aws.c: AWS Marketplace as a marketplace: the two listings, the landing
 * page the buyer's browser posts the registration token to, and
 * ResolveCustomer.
 */
#include "aws.h"

#include <string.h>

#include <json-c/json.h>

#include "awsapi.h"
#include "awsmeter.h"
#include "binding.h"
#include "config.h"
#include "db.h"
#include "events.h"
#include "fields.h"
#include "form.h"
#include "jsonw.h"
#include "notify.h"
#include "page.h"
#include "request.h"
#include "subscriptions.h"
#include "text.h"
#include "worker.h"
#include "banned.h"

struct aws_customer {
	const char *account_id;
	const char *license_arn;
	const char *customer_identifier;
	const char *product_code;
};

static bool
aws_cn_enabled(const struct config *cfg)
{
	return cfg->aws_cn.enabled;
}

static bool
aws_enabled(const struct config *cfg)
{
	return cfg->aws.enabled;
}

static const char *
aws_cn_listing_url(const struct config *cfg)
{
	return cfg->aws_cn.listing_url;
}

static const char *
aws_listing_url(const struct config *cfg)
{
	return cfg->aws.listing_url;
}

static const char *
aws_no_bill_url(const struct config *cfg)
{
	(void)cfg;
	return "";
}

static const char *
aws_cn_dimension(const struct config *cfg)
{
	return cfg->aws_cn.dimension;
}

static const char *
aws_dimension(const struct config *cfg)
{
	return cfg->aws.dimension;
}

static long
aws_cn_unit(const struct config *cfg)
{
	return cfg->aws_cn.unit_price_micros;
}

static long
aws_unit(const struct config *cfg)
{
	return cfg->aws.unit_price_micros;
}

static int
aws_cn_meter_send(struct worker *w)
{
	return awsmeter_send(w, "aws-cn");
}

static int
aws_meter_send(struct worker *w)
{
	return awsmeter_send(w, "aws");
}

const struct marketplace aws_cn_marketplace = {
	"aws-cn", { "亚马逊云科技 Marketplace", "AWS Marketplace (China)" },
	aws_cn_enabled, aws_cn_listing_url, aws_no_bill_url,
	aws_cn_dimension, aws_cn_unit, aws_cn_meter_send,
};

const struct marketplace aws_marketplace = {
	"aws", { "AWS Marketplace", "AWS Marketplace" },
	aws_enabled, aws_listing_url, aws_no_bill_url,
	aws_dimension, aws_unit, aws_meter_send,
};

/* The enabled listing for partition, or NULL. */
static const struct config_aws *
aws_listing(const struct config *cfg, const char *partition)
{
	const struct config_aws *listing = config_aws_listing(cfg, partition);

	return listing != NULL && listing->enabled ? listing : NULL;
}

/* Reads and checks ResolveCustomer's answer; false if it is unusable. */
static bool
aws_parse_customer(struct request *r, struct json_object *json, struct aws_customer *c)
{
	c->account_id = jr_str(json, "CustomerAWSAccountId");
	c->license_arn = jr_str(json, "LicenseArn");
	c->product_code = jr_str(json, "ProductCode");
	c->customer_identifier = awsapi_customer_id(r->pool, jr_str(json, "CustomerIdentifier"));
	if (c->account_id != NULL && !text_chars(c->account_id, 255, ""))
		return false;
	if (c->license_arn != NULL && (strncmp(c->license_arn, "arn:aws", 7) != 0 ||
	    !text_chars(c->license_arn, 1024, ":/-_.")))
		return false;
	if (c->customer_identifier != NULL && !text_chars(c->customer_identifier, 255, "-_"))
		return false;
	if (!text_chars(c->product_code, 255, "-_"))
		return false;
	/* New listings: account + license; older ones: the customer identifier. */
	return (c->account_id != NULL && c->license_arn != NULL) || c->customer_identifier != NULL;
}

static const struct page_text aws_back = { "返回亚马逊云科技 Marketplace", "Back to AWS Marketplace" };

static int
aws_page(struct request *r, int status, const struct config_aws *listing, struct page_text title,
    struct page_text message)
{
	struct page p = { title, message, NULL,
	    listing != NULL && listing->listing_url[0] != '\0' ? listing->listing_url : NULL, aws_back };

	return page_render(r, status, &p);
}

/* Maps a failed ResolveCustomer to the page the buyer sees. */
static int
aws_resolve_failed(struct request *r, const struct config_aws *listing, int rc,
    const struct awsapi_reply *reply)
{
	const char *type = reply->error_type != NULL ? reply->error_type : "";

	if (strcmp(type, "InvalidTokenException") == 0 || strcmp(type, "ExpiredTokenException") == 0)
		return aws_page(r, 400, listing,
		    (struct page_text){ "链接已失效", "This link is no longer valid" },
		    (struct page_text){ "请返回亚马逊云科技 Marketplace，在订阅页面顶部单击“设置您的账户”重新开始。",
		    "Go back to AWS Marketplace and click “Set up your account” at the top of the subscription page again." });
	if (rc == ERR_UNAVAILABLE || strcmp(type, "DisabledApiException") == 0)
		return aws_page(r, 503, listing,
		    (struct page_text){ "暂时无法完成", "Please try again shortly" },
		    (struct page_text){ "亚马逊云科技 Marketplace 暂时没有响应。请稍后返回订阅页面，再次单击“设置您的账户”。",
		    "AWS Marketplace is not answering right now. Go back to the subscription page in a moment and click “Set up your account” again." });
	return aws_page(r, 502, listing,
	    (struct page_text){ "暂时无法完成", "Please try again shortly" },
	    (struct page_text){ "亚马逊云科技 Marketplace 的响应无法识别。请稍后再次单击“设置您的账户”；如仍失败，请提交工单。",
	    "AWS Marketplace sent an answer we could not read. Click “Set up your account” again later; if it keeps failing, contact support." });
}

/*
 * True when the landing says the subscription is a free trial. AWS adds
 * x-amzn-marketplace-offer-type=free-trial for free trials only; any other
 * value (or a repeated field) is not one we know, and is recorded as not a
 * free trial rather than turning the buyer away.
 */
static bool
aws_free_trial(const struct request *r)
{
	const char *offer = kvlist_get(&r->form, "x-amzn-marketplace-offer-type");

	return offer != NULL && kvlist_count(&r->form, "x-amzn-marketplace-offer-type") == 1 &&
	    strcmp(offer, "free-trial") == 0;
}

struct aws_landing_tx {
	struct request *r;
	const char *partition;
	const struct aws_customer *customer;
	struct subscription sub;
	char attempt[BINDING_ATTEMPT_LEN + 1];
};

static int
aws_landing_tx(void *arg)
{
	struct aws_landing_tx *tx = arg;
	struct request *r = tx->r;
	const struct aws_customer *c = tx->customer;
	struct subscription_keys k = {
		.marketplace = tx->partition,
		.account_id = c->account_id,	/* NULL for an older listing: no account id given */
		.customer_aws_account_id = c->account_id,
		.license_arn = c->license_arn,
		.customer_identifier = c->customer_identifier,
		.product_code = c->product_code,
		.free_trial = aws_free_trial(r),
	};
	bool created;
	int rc;

	rc = subscriptions_upsert(&r->worker->db, r->pool, &k, "pending", &tx->sub, &created);
	if (rc != ERR_OK)
		return rc;
	if (created) {
		rc = events_record(&r->worker->db, r->pool, NULL, 0, tx->partition, "subscription.registered",
		    "account_id", k.account_id, "customer_identifier", k.customer_identifier,
		    "subscription", pool_printf(r->pool, "%lld", tx->sub.id), NULL);
		if (rc != ERR_OK)
			return rc;
	}
	/* Notifications that came before this landing apply now. */
	rc = notify_apply_unmatched(r->worker, &tx->sub);
	if (rc != ERR_OK)
		return rc;
	if (strcmp(tx->sub.status, "failed") == 0 || strcmp(tx->sub.status, "ended") == 0)
		return ERR_SUBSCRIPTION_INACTIVE;
	return binding_attempt_create(&r->worker->db, r->pool, tx->sub.id, r->cfg->ticket_ttl, tx->attempt);
}

/* POST /marketplace/{partition}/landing: see aws.h. */
static int
aws_landing(struct request *r)
{
	const struct config_aws *listing = aws_listing(r->cfg, r->path_param[0]);
	struct awsapi_reply reply;
	struct awsapi_call call;
	struct aws_customer customer;
	struct aws_landing_tx tx = { .r = r, .partition = r->path_param[0], .customer = &customer };
	struct json_object *body;
	int rc;

	if (listing == NULL)
		return ERR_NOT_FOUND;
	body = json_object_new_object();
	if (body == NULL)
		return ERR_NOMEM;
	json_object_object_add(body, "RegistrationToken",
	    json_object_new_string(field_str(r, "x-amzn-marketplace-token")));
	call = (struct awsapi_call){ listing, listing->metering_url, "aws-marketplace",
	    "AWSMPMeteringService.ResolveCustomer", "1.1", body, r->cfg->http_retries, 0, NULL };
	rc = awsapi_perform(&r->worker->http, r->pool, &call, &reply);
	json_object_put(body);
	if (rc != ERR_OK) {
		rc = rc == ERR_NOMEM ? rc : aws_resolve_failed(r, listing, rc, &reply);
		awsapi_reply_release(&reply);
		return rc;
	}
	if (!aws_parse_customer(r, reply.json, &customer)) {
		reply.error_type = "MalformedResponse";
		rc = aws_resolve_failed(r, listing, ERR_UPSTREAM, &reply);
		awsapi_reply_release(&reply);
		return rc;
	}
	if (strcmp(customer.product_code, listing->product_code) != 0) {
		awsapi_reply_release(&reply);
		return aws_page(r, 400, listing,
		    (struct page_text){ "无法识别该订阅", "This subscription is not for us" },
		    (struct page_text){ "该订阅不属于本产品。请确认您在亚马逊云科技 Marketplace 上订阅的产品后重试。",
		    "This subscription is for another product. Check which product you subscribed to on AWS Marketplace." });
	}
	rc = db_transaction(&r->worker->db, aws_landing_tx, &tx);
	awsapi_reply_release(&reply);	/* customer's strings were borrowed from it */
	if (rc == ERR_SUBSCRIPTION_INACTIVE)
		return aws_page(r, 409, listing,
		    (struct page_text){ "订阅已失效", "This subscription has ended" },
		    (struct page_text){ "该订阅已失效。请在亚马逊云科技 Marketplace 重新订阅后，再单击“设置您的账户”。",
		    "This subscription is no longer active. Subscribe again on AWS Marketplace, then click “Set up your account”." });
	if (rc != ERR_OK)
		return rc;
	return binding_redirect(r, tx.attempt);
}

/* GET /marketplace/{partition}/landing: 200, for listing validation and lost visitors. */
static int
aws_landing_info(struct request *r)
{
	const struct config_aws *listing = aws_listing(r->cfg, r->path_param[0]);

	if (listing == NULL)
		return ERR_NOT_FOUND;
	return aws_page(r, 200, listing,
	    (struct page_text){ "从亚马逊云科技 Marketplace 开始", "Start from AWS Marketplace" },
	    (struct page_text){ "请在亚马逊云科技 Marketplace 订阅本产品，然后在订阅页面顶部的蓝色横幅中单击“设置您的账户”，即可绑定您的组织。",
	    "Subscribe to this product on AWS Marketplace, then click “Set up your account” in the blue banner at the top of the subscription page to bind your organization." });
}

/* POST /marketplace/{partition}/sns: 200 when applied, recorded or seen before;
 * 403 when the message cannot be trusted (SNS does not retry a 4xx); 404 for
 * an unknown partition; 503 when it should come again (SNS retries). */
static int
aws_sns(struct request *r)
{
	struct json_object *root;
	int rc;

	rc = notify_handle(r->worker, r->path_param[0], r->body, r->body_len, "https");
	if (rc != ERR_OK)
		return rc;
	root = json_object_new_object();
	json_object_object_add(root, "status", json_object_new_string("ok"));
	return reply_json(r, 200, root);
}

static const struct field aws_landing_fields[] = {
	/* x-amzn-marketplace-offer-type is read by aws_free_trial(), never refused */
	{ "x-amzn-marketplace-token", FIELD_TOKEN, 1, 4096, FIELD_REQUIRED, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct route aws_routes[] = {
	{ "aws_landing", METHOD_POST, "/marketplace/{}/landing", aws_landing, AUTH_NONE,
	  BODY_FORM_MULTIPART, REPLY_PAGE, aws_landing_fields },
	{ "aws_landing_info", METHOD_GET, "/marketplace/{}/landing", aws_landing_info, AUTH_NONE,
	  BODY_NONE, REPLY_PAGE, NULL },
	{ "aws_sns", METHOD_POST, "/marketplace/{}/sns", aws_sns, AUTH_NONE, BODY_RAW, REPLY_JSON, NULL },
};

ROUTE_TABLE(aws, aws_routes);
