/* SPDX-License-Identifier: MIT */
/* test_fields.c: declarative field validation for JSON bodies, forms and query strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "config.h"
#include "error.h"
#include "fields.h"
#include "request.h"
#include "router.h"

static struct config cfg;
static struct pool pool;

static const struct field signup_fields[] = {
	{ "email", FIELD_EMAIL, 3, 254, FIELD_REQUIRED, NULL },
	{ "name", FIELD_TEXT, 1, 10, 0, NULL },
	{ "age", FIELD_INT, 0, 150, 0, NULL },
	{ "role", FIELD_ENUM, 0, 0, 0, "admin|billing|member" },
	{ "agree", FIELD_BOOL, 0, 0, 0, NULL },
	{ "org", FIELD_ID, 1, 26, FIELD_QUERY, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};
static const struct field token_fields[] = {
	{ "x-amzn-marketplace-token", FIELD_TOKEN, 1, 64, FIELD_REQUIRED, NULL },
	{ NULL, 0, 0, 0, 0, NULL },
};
static const struct route json_route = { "t", METHOD_POST, "/t", NULL, AUTH_NONE, BODY_JSON,
	REPLY_JSON, signup_fields };
static const struct route form_route = { "f", METHOD_POST, "/f", NULL, AUTH_NONE, BODY_FORM,
	REPLY_PAGE, token_fields };

static int
setup(void **state)
{
	(void)state;
	pool_init(&pool, 1 << 20);
	return config_load(&cfg, NULL, NULL);
}

static int
teardown(void **state)
{
	(void)state;
	pool_release(&pool);
	config_release(&cfg);
	return 0;
}

static void
request_for(struct request *r, const struct route *route, const char *json, const char *form,
    const char *query)
{
	const char *bad;

	memset(r, 0, sizeof(*r));
	r->cfg = &cfg;
	r->pool = &pool;
	r->route = route;
	r->lang = LANG_EN;
	if (json != NULL)
		r->json = json_tokener_parse(json);
	if (form != NULL)
		assert_int_equal(form_parse(&pool, form, strlen(form), 64, 8192, &r->form, &bad), ERR_OK);
	if (query != NULL)
		assert_int_equal(form_parse(&pool, query, strlen(query), 64, 8192, &r->query_params, &bad), ERR_OK);
}

static void
release(struct request *r)
{
	json_object_put(r->json);
}

static void
fields_accept_a_valid_json_body(void **state)
{
	struct request r;

	(void)state;
	request_for(&r, &json_route,
	    "{\"email\":\" Ada@Example.COM\",\"name\":\"  组织 A \",\"age\":36,\"role\":\"billing\",\"agree\":true}",
	    NULL, "org=org-abc");
	assert_int_equal(fields_validate(&r), ERR_FIELD);	/* the e-mail has a leading space */
	release(&r);
	request_for(&r, &json_route,
	    "{\"email\":\"Ada@Example.COM\",\"name\":\"  组织 A \",\"age\":36,\"role\":\"billing\",\"agree\":true}",
	    NULL, "org=org-abc");
	assert_int_equal(fields_validate(&r), ERR_OK);
	assert_string_equal(field_str(&r, "email"), "ada@example.com");
	assert_string_equal(field_str(&r, "name"), "组织 A");
	assert_int_equal(field_int(&r, "age", -1), 36);
	assert_string_equal(field_str(&r, "role"), "billing");
	assert_true(field_bool(&r, "agree", false));
	assert_string_equal(field_str(&r, "org"), "org-abc");
	assert_false(field_present(&r, "nonexistent"));
	release(&r);
}

static void
fields_name_the_field_and_the_reason(void **state)
{
	static const struct {
		const char *json;
		const char *field;
		const char *reason;
	} cases[] = {
		{ "{}", "email", "missing" },
		{ "{\"email\":\"a@b.co\",\"extra\":1}", "extra", "not a known field" },
		{ "{\"email\":\"not-an-email\"}", "email", "invalid" },
		{ "{\"email\":\"a@b.co\",\"name\":\"12345678901\"}", "name", "too long" },
		{ "{\"email\":\"a@b.co\",\"name\":\"   \"}", "name", "missing" },
		{ "{\"email\":\"a@b.co\",\"age\":\"36\"}", "age", "invalid" },
		{ "{\"email\":\"a@b.co\",\"age\":151}", "age", "invalid" },
		{ "{\"email\":\"a@b.co\",\"role\":\"owner\"}", "role", "invalid" },
		{ "{\"email\":\"a@b.co\",\"agree\":\"yes\"}", "agree", "invalid" },
		{ "{\"email\":\"a@b.co\",\"name\":\"a\\u0000b\"}", "name", "invalid" },
		{ "{\"email\":\"a@b.co\",\"name\":\"tab\\there\"}", "name", "invalid" },
		{ "{\"email\":\"a@b.co\",\"name\":5}", "name", "invalid" },
	};
	struct request r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		request_for(&r, &json_route, cases[i].json, NULL, "org=o1");
		assert_int_equal(fields_validate(&r), ERR_FIELD);
		assert_string_equal(r.error_field, cases[i].field);
		assert_non_null(strstr(r.error_message, cases[i].reason));
		release(&r);
	}
}

static void
fields_reject_a_body_that_is_not_an_object(void **state)
{
	struct request r;

	(void)state;
	request_for(&r, &json_route, "[1,2]", NULL, NULL);
	assert_int_equal(fields_validate(&r), ERR_BAD_JSON);
	release(&r);
}

static void
fields_validate_forms_and_refuse_repeats(void **state)
{
	struct request r;

	(void)state;
	request_for(&r, &form_route, NULL, "x-amzn-marketplace-token=abc%2Bdef%3D&other=1", NULL);
	assert_int_equal(fields_validate(&r), ERR_OK);
	assert_string_equal(field_str(&r, "x-amzn-marketplace-token"), "abc+def=");
	request_for(&r, &form_route, NULL, "x-amzn-marketplace-token=a&x-amzn-marketplace-token=b", NULL);
	assert_int_equal(fields_validate(&r), ERR_FIELD);
	assert_non_null(strstr(r.error_message, "repeated"));
	request_for(&r, &form_route, NULL, "x-amzn-marketplace-token=", NULL);
	assert_int_equal(fields_validate(&r), ERR_FIELD);
	request_for(&r, &form_route, NULL, "x-amzn-marketplace-token=a%3Cb", NULL);
	assert_int_equal(fields_validate(&r), ERR_FIELD);
	request_for(&r, &form_route, NULL, "x-amzn-marketplace-token=%FF%FE", NULL);
	assert_int_equal(fields_validate(&r), ERR_FIELD);
	request_for(&r, &form_route, NULL, "other=1", NULL);
	assert_int_equal(fields_validate(&r), ERR_FIELD);
	assert_string_equal(r.error_field, "x-amzn-marketplace-token");
}

static void
fields_normalize_emails(void **state)
{
	static const char *good[] = { "a@b.co", "First.Last+tag@Mail.Example.ORG", "x_y@sub-d.example.cn" };
	static const char *bad[] = { "", "a", "@b.co", "a@", "a@b", "a@b.c", "a..b@c.co", ".a@b.co",
		"a.@b.co", "a@-b.co", "a@b-.co", "a@b..co", "a b@c.co", "a@b.c0", "a@@b.co",
		"组@b.co" };
	char buf[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", good[i]);
		assert_true(fields_email_normalize(buf));
	}
	snprintf(buf, sizeof(buf), "First.Last+tag@Mail.Example.ORG");
	fields_email_normalize(buf);
	assert_string_equal(buf, "first.last+tag@mail.example.org");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		assert_false(fields_email_normalize(buf));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fields_accept_a_valid_json_body),
		cmocka_unit_test(fields_name_the_field_and_the_reason),
		cmocka_unit_test(fields_reject_a_body_that_is_not_an_object),
		cmocka_unit_test(fields_validate_forms_and_refuse_repeats),
		cmocka_unit_test(fields_normalize_emails),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
