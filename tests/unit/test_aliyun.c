/* SPDX-License-Identifier: MIT */
/* test_aliyun.c: the 云市场 MD5 token, the createInstance fingerprint and
 * Beijing-time parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "aliyun.h"
#include "error.h"
#include "form.h"
#include "pool.h"
#include "unitpool.h"

static const char *
token_of(const char *query, const char *key)
{
	static char out[ALIYUN_TOKEN_LEN + 1];
	struct kvlist params;
	const char *bad;

	assert_int_equal(form_parse(&pool, query, strlen(query), 64, 1024, &params, &bad), ERR_OK);
	assert_int_equal(aliyun_token(&pool, &params, key, out), ERR_OK);
	return out;
}

/* The documentation's example: MD5("p1=1&p2=2&p3=3&key=isvkey"). */
static void
aliyun_token_follows_the_documented_example(void **state)
{
	(void)state;
	assert_string_equal(token_of("p3=3&token=whatever&p1=1&p2=2", "isvkey"),
	    "691b1c2be27485a87fb000de6f89f1d3");
}

/* A captured createInstance: values URL-decoded (the space in expiredOn),
 * every parameter signed, including ones we do not use. */
static void
aliyun_token_signs_decoded_values_and_unknown_parameters(void **state)
{
	(void)state;
	assert_string_equal(token_of("action=createInstance&aliUid=1041031108983109&orderBizId=122779388"
	    "&productCode=cmjj00012345&expiredOn=2026-01-25%2000%3A00%3A00&package_version=yuncode6661200001"
	    "&orderId=269326581310319&skuId=yuncode6661200001&trial=true", "k3y"),
	    "58c4cf470e714ab53e1a439790797716");
	assert_string_equal(token_of("action=createInstance&aliUid=1041031108983109&orderBizId=122779388"
	    "&productCode=cmjj00012345&expiredOn=2026-01-25+00:00:00&package_version=yuncode6661200001"
	    "&orderId=269326581310319&skuId=yuncode6661200001&trial=true", "k3y"),
	    "58c4cf470e714ab53e1a439790797716");
	assert_string_not_equal(token_of("p1=1&p2=2&p3=3&p4=4", "isvkey"), "691b1c2be27485a87fb000de6f89f1d3");
	assert_string_not_equal(token_of("p1=1&p2=2&p3=3", "isvkeY"), "691b1c2be27485a87fb000de6f89f1d3");
}

static const char *
fingerprint_of(const char *query)
{
	static char out[ALIYUN_FINGERPRINT_LEN + 1];
	struct kvlist params;
	const char *bad;

	assert_int_equal(form_parse(&pool, query, strlen(query), 64, 1024, &params, &bad), ERR_OK);
	assert_int_equal(aliyun_fingerprint(&pool, &params, out), ERR_OK);
	return out;
}

/* SHA-256 of "a\0" "1\0" "b\0" "x y\0": sorted, decoded, token left out. */
static void
aliyun_fingerprint_covers_the_signed_parameters(void **state)
{
	char first[ALIYUN_FINGERPRINT_LEN + 1], token[ALIYUN_TOKEN_LEN + 1];

	(void)state;
	assert_string_equal(fingerprint_of("b=x+y&token=abc&a=1"),
	    "c0d90aa6acecbb3d86d355719e56be7b71b6ebe5f76c799f3cac89c9a6b2f294");
	memcpy(first, fingerprint_of("a=1&b=x%20y"), sizeof(first));
	assert_string_equal(fingerprint_of("token=other&b=x+y&a=1"), first);
	assert_string_not_equal(fingerprint_of("a=1&b=x+z"), first);
	assert_string_not_equal(fingerprint_of("a=1&b=x+y&c="), first);
	assert_string_not_equal(fingerprint_of("a=1"), first);
	/* What the token cannot tell apart, the fingerprint does. */
	memcpy(token, token_of("a=1%26b%3Dx+y", "k"), sizeof(token));
	assert_string_equal(token_of("a=1&b=x+y", "k"), token);
	assert_string_not_equal(fingerprint_of("a=1%26b%3Dx+y"), first);
}

static void
aliyun_parses_beijing_time(void **state)
{
	time_t t;

	(void)state;
	assert_true(aliyun_parse_time("2026-01-25 00:00:00", &t));
	assert_int_equal((long long)t, 1769270400LL);
	assert_true(aliyun_parse_time("2024-02-29 23:59:59", &t));
	assert_int_equal((long long)t, 1709222399LL);
	assert_true(aliyun_parse_time("1970-01-01 08:00:00", &t));
	assert_int_equal((long long)t, 0);
}

static void
aliyun_refuses_what_is_not_a_time(void **state)
{
	static const char *const bad[] = {
		"", "2026-01-25", "2026-01-25T00:00:00", "2026-01-25 00:00:00Z", "2026-1-25 00:00:00",
		"2026-13-01 00:00:00", "2026-00-10 00:00:00", "2026-02-29 00:00:00", "2026-04-31 00:00:00",
		"2026-01-25 24:00:00", "2026-01-25 23:60:00", "2026-01-25 23:59:60", "1969-12-31 23:59:59",
		"２026-01-25 00:00:00", "2026-01-25 00:00:0a", "+026-01-25 00:00:00",
	};
	size_t i;
	time_t t;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(aliyun_parse_time(bad[i], &t));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aliyun_token_follows_the_documented_example),
		cmocka_unit_test(aliyun_token_signs_decoded_values_and_unknown_parameters),
		cmocka_unit_test(aliyun_fingerprint_covers_the_signed_parameters),
		cmocka_unit_test(aliyun_parses_beijing_time),
		cmocka_unit_test(aliyun_refuses_what_is_not_a_time),
	};

	return cmocka_run_group_tests(tests, pool_setup, pool_teardown);
}
