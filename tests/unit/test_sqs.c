/* SPDX-License-Identifier: MIT */
/* test_sqs.c: the region SQS requests are signed for, from the option or the queue URL's host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "sqs.h"

/* The region sqs_region picks for queue_url with option set to option. */
static const char *
region_for(const char *queue_url, const char *option)
{
	static char out[SQS_REGION_MAX];
	char region[] = "cn-northwest-1", url[256], chosen[64];
	struct config_aws listing;

	snprintf(url, sizeof(url), "%s", queue_url);
	snprintf(chosen, sizeof(chosen), "%s", option);
	memset(&listing, 0, sizeof(listing));
	listing.region = region;
	listing.sqs_queue_url = url;
	listing.sqs_region = chosen;
	return sqs_region(&listing, out, sizeof(out));
}

static void
sqs_region_comes_from_the_queue_host(void **state)
{
	(void)state;
	assert_string_equal(region_for("https://sqs.us-west-2.amazonaws.com/123456789012/q", ""), "us-west-2");
	assert_string_equal(region_for("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", ""),
	    "cn-north-1");
	assert_string_equal(region_for("https://SQS.EU-WEST-1.AMAZONAWS.COM/123456789012/q", ""), "eu-west-1");
	assert_string_equal(region_for("https://sqs-fips.us-gov-west-1.amazonaws.com/1/q", ""), "us-gov-west-1");
	assert_string_equal(region_for("https://ap-southeast-2.queue.amazonaws.com/1/q", ""), "ap-southeast-2");
	assert_string_equal(region_for("https://queue.amazonaws.com/123456789012/q", ""), "us-east-1");
}

static void
sqs_region_falls_back_to_the_listing(void **state)
{
	(void)state;
	assert_string_equal(region_for("http://127.0.0.1:8090/aws/aws-cn/sqs/queue/q", ""), "cn-northwest-1");
	assert_string_equal(region_for("https://sqs.amazonaws.com/1/q", ""), "cn-northwest-1");
	assert_string_equal(region_for("https://sqs.us_east.amazonaws.com/1/q", ""), "cn-northwest-1");
	assert_string_equal(region_for("https://sqs.us-east-1.example.com/1/q", ""), "cn-northwest-1");
	assert_string_equal(region_for("https://user@sqs.us-east-1.amazonaws.com/1/q", ""), "cn-northwest-1");
	assert_string_equal(region_for("", ""), "cn-northwest-1");
}

static void
sqs_region_option_wins(void **state)
{
	(void)state;
	assert_string_equal(region_for("https://sqs.us-west-2.amazonaws.com/1/q", "cn-north-1"), "cn-north-1");
	assert_string_equal(region_for("http://127.0.0.1:8090/aws/aws-cn/sqs/queue/q", "cn-north-1"), "cn-north-1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sqs_region_comes_from_the_queue_host),
		cmocka_unit_test(sqs_region_falls_back_to_the_listing),
		cmocka_unit_test(sqs_region_option_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
