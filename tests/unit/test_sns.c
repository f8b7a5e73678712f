/* SPDX-License-Identifier: MIT */
/* test_sns.c: the SNS envelope: what is parsed, what is refused, the exact text signed, its time for MySQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "error.h"
#include "sns.h"
#include "unitpool.h"

#define FIELDS_COMMON "\"MessageId\":\"7a4a8a2e-1\",\"TopicArn\":\"arn:aws-cn:sns:cn-northwest-1:1:t\"," \
	"\"Timestamp\":\"2026-11-22T05:52:40.642Z\",\"SignatureVersion\":\"2\",\"Signature\":\"c2ln\"," \
	"\"SigningCertURL\":\"https://sns.cn-northwest-1.amazonaws.com.cn/c.pem\""
#define NOTIFICATION "{\"Type\":\"Notification\",\"Message\":\"{\\\"action\\\":\\\"x\\\"}\"," FIELDS_COMMON "}"
#define CONFIRMATION "{\"Type\":\"SubscriptionConfirmation\",\"Message\":\"m\",\"Token\":\"tok\"," \
	"\"SubscribeURL\":\"https://sns.cn-northwest-1.amazonaws.com.cn/?Action=ConfirmSubscription\"," \
	FIELDS_COMMON "}"

/* sns_parse of a NUL-terminated body: its result, *why on refusal. */
static int
parse(const char *body, struct sns_message *m, const char **why)
{
	*why = NULL;
	return sns_parse(&pool, body, strlen(body), m, why);
}

static void
sns_parses_a_notification_and_a_confirmation(void **state)
{
	struct sns_message m;
	const char *why;

	(void)state;
	assert_int_equal(parse(NOTIFICATION, &m, &why), ERR_OK);
	assert_string_equal(m.type, "Notification");
	assert_string_equal(m.message, "{\"action\":\"x\"}");
	assert_string_equal(m.message_id, "7a4a8a2e-1");
	assert_string_equal(m.timestamp, "2026-11-22T05:52:40.642Z");
	assert_null(m.subject);
	assert_null(m.subscribe_url);
	assert_int_equal(parse(CONFIRMATION, &m, &why), ERR_OK);
	assert_string_equal(m.token, "tok");
	assert_string_equal(m.subscribe_url, "https://sns.cn-northwest-1.amazonaws.com.cn/?Action=ConfirmSubscription");
	/* A null Subject is absent (as Lambda-shaped messages carry it). */
	assert_int_equal(parse("{\"Type\":\"Notification\",\"Message\":\"m\",\"Subject\":null," FIELDS_COMMON "}",
	    &m, &why), ERR_OK);
	assert_null(m.subject);
}

static void
sns_refuses_what_is_not_an_envelope(void **state)
{
	static const struct {
		const char *body;
		const char *why;
	} cases[] = {
		{ "[]", "not a JSON object" },
		{ NOTIFICATION " x", "not a JSON object" },
		{ "{\"Type\":\"Notification\",", "not a JSON object" },
		{ "{\"Type\":\"Notification\"," FIELDS_COMMON "}", "a field is missing or not a string" },
		{ "{\"Type\":\"Notification\",\"Message\":7," FIELDS_COMMON "}", "a field is missing or not a string" },
		{ "{\"Type\":\"Notification\",\"Message\":\"a\\u0000b\"," FIELDS_COMMON "}",
		  "a field is missing or not a string" },
		{ "{\"Type\":\"SubscriptionConfirmation\",\"Message\":\"m\"," FIELDS_COMMON "}",
		  "a field is missing or not a string" },
		{ "{\"Type\":\"Other\",\"Message\":\"m\"," FIELDS_COMMON "}", "unknown message type" },
	};
	struct sns_message m;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].body, &m, &why), ERR_SNS_REJECTED);
		assert_string_equal(why, cases[i].why);
	}
}

/* A notification with MessageId id and Timestamp time, parsed. */
static int
parse_with(const char *id, const char *time, const char **why)
{
	char body[1024];
	struct sns_message m;

	snprintf(body, sizeof(body), "{\"Type\":\"Notification\",\"Message\":\"m\",\"MessageId\":\"%s\","
	    "\"TopicArn\":\"t\",\"Timestamp\":\"%s\",\"SignatureVersion\":\"1\",\"Signature\":\"s\","
	    "\"SigningCertURL\":\"u\"}", id, time);
	return parse(body, &m, why);
}

static void
sns_refuses_a_malformed_id_or_timestamp(void **state)
{
	char long_id[130];
	const char *why;

	(void)state;
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_int_equal(parse_with("id", "2026-11-22T05:52:40Z", &why), ERR_OK);
	assert_int_equal(parse_with("id", "2026-11-22T05:52:40.1Z", &why), ERR_OK);
	assert_int_equal(parse_with("", "2026-11-22T05:52:40Z", &why), ERR_SNS_REJECTED);
	assert_string_equal(why, "malformed MessageId or Timestamp");
	assert_int_equal(parse_with(long_id, "2026-11-22T05:52:40Z", &why), ERR_SNS_REJECTED);
	long_id[128] = '\0';
	assert_int_equal(parse_with(long_id, "2026-11-22T05:52:40Z", &why), ERR_OK);
	assert_int_equal(parse_with("id", "2026-11-22 05:52:40Z", &why), ERR_SNS_REJECTED);
	assert_int_equal(parse_with("id", "2026-11-22T05:52:40", &why), ERR_SNS_REJECTED);
	assert_int_equal(parse_with("id", "2026-11-22T05:52:40.Z", &why), ERR_SNS_REJECTED);
	assert_int_equal(parse_with("id", "2026-11-22T05:52:40+08:00", &why), ERR_SNS_REJECTED);
	assert_int_equal(parse_with("id", "26-11-22T05:52:40Z", &why), ERR_SNS_REJECTED);
}

/* The string to sign of body, parsed. */
static const char *
signed_text(const char *body)
{
	static char out[2048];
	struct sns_message m;
	struct buf b;
	const char *why;

	assert_int_equal(parse(body, &m, &why), ERR_OK);
	buf_init(&b, 64 * 1024);
	assert_int_equal(sns_string_to_sign(&m, &b), ERR_OK);
	assert_true(b.len < sizeof(out));
	memcpy(out, b.data, b.len);
	out[b.len] = '\0';
	buf_release(&b);
	return out;
}

static void
sns_signs_the_keys_aws_names_in_its_order(void **state)
{
	(void)state;
	assert_string_equal(signed_text(NOTIFICATION),
	    "Message\n{\"action\":\"x\"}\nMessageId\n7a4a8a2e-1\nTimestamp\n2026-11-22T05:52:40.642Z\n"
	    "TopicArn\narn:aws-cn:sns:cn-northwest-1:1:t\nType\nNotification\n");
	assert_string_equal(signed_text("{\"Type\":\"Notification\",\"Message\":\"m\",\"Subject\":\"s\","
	    FIELDS_COMMON "}"),
	    "Message\nm\nMessageId\n7a4a8a2e-1\nSubject\ns\nTimestamp\n2026-11-22T05:52:40.642Z\n"
	    "TopicArn\narn:aws-cn:sns:cn-northwest-1:1:t\nType\nNotification\n");
	/* A confirmation signs SubscribeURL and Token, never Subject. */
	assert_string_equal(signed_text(CONFIRMATION),
	    "Message\nm\nMessageId\n7a4a8a2e-1\n"
	    "SubscribeURL\nhttps://sns.cn-northwest-1.amazonaws.com.cn/?Action=ConfirmSubscription\n"
	    "Timestamp\n2026-11-22T05:52:40.642Z\nToken\ntok\n"
	    "TopicArn\narn:aws-cn:sns:cn-northwest-1:1:t\nType\nSubscriptionConfirmation\n");
}

static void
sns_time_becomes_a_mysql_datetime(void **state)
{
	(void)state;
	assert_string_equal(sns_mysql_time(&pool, "2026-11-22T05:52:40.642Z"), "2026-11-22 05:52:40.642000");
	assert_string_equal(sns_mysql_time(&pool, "2026-11-22T05:52:40Z"), "2026-11-22 05:52:40.000000");
	assert_string_equal(sns_mysql_time(&pool, "2026-11-22T05:52:40.123456789Z"), "2026-11-22 05:52:40.123456");
	assert_null(sns_mysql_time(&pool, "2026-11-22T05:52:40"));
	assert_null(sns_mysql_time(&pool, ""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sns_parses_a_notification_and_a_confirmation),
		cmocka_unit_test(sns_refuses_what_is_not_an_envelope),
		cmocka_unit_test(sns_refuses_a_malformed_id_or_timestamp),
		cmocka_unit_test(sns_signs_the_keys_aws_names_in_its_order),
		cmocka_unit_test(sns_time_becomes_a_mysql_datetime),
	};

	return cmocka_run_group_tests(tests, pool_setup, pool_teardown);
}
