/* SPDX-License-Identifier: MIT */
/*
 * test_aliyunmeter.c: what a PushMeteringData answer means for the rows it
 * carried, including answers the simulator never gives (a string "true",
 * 429, a 2xx error, a proxy's HTML, a connection that never opened), and
 * the refusals of our own credentials or configuration that are held.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "aliyunmeter.h"
#include "buf.h"
#include "error.h"
#include "http.h"
#include "pool.h"
#include "unitpool.h"

/* The outcome of an answer with status and body (NULL: no answer). */
static struct aliyun_meter_outcome
judge(long status, const char *body, bool several)
{
	struct aliyun_meter_outcome out;
	struct http_reply reply;

	memset(&reply, 0, sizeof(reply));
	buf_init(&reply.body, 1 << 16);
	reply.status = status;
	reply.sent = true;
	if (body != NULL)
		assert_int_equal(buf_appends(&reply.body, body), 0);
	assert_int_equal(aliyun_meter_judge(&pool, ERR_OK, &reply, several, &out), ERR_OK);
	buf_release(&reply.body);
	return out;
}

static struct aliyun_meter_outcome
judge_failure(bool sent, bool timed_out)
{
	struct aliyun_meter_outcome out;
	struct http_reply reply;

	memset(&reply, 0, sizeof(reply));
	buf_init(&reply.body, 1 << 16);
	reply.sent = sent;
	reply.timed_out = timed_out;
	assert_int_equal(aliyun_meter_judge(&pool, ERR_UPSTREAM, &reply, false, &out), ERR_OK);
	buf_release(&reply.body);
	return out;
}

static void
aliyun_meter_accepts_success_with_its_request_id(void **state)
{
	struct aliyun_meter_outcome o;

	(void)state;
	o = judge(200, "{\"RequestId\":\"6EF60BEC-0242-43AF-BB20-270359FB54A7\",\"Success\":true}", true);
	assert_int_equal(o.verdict, ALIYUN_METER_ACCEPT);
	assert_string_equal(o.record_id, "6EF60BEC-0242-43AF-BB20-270359FB54A7");
	o = judge(200, "{\"Success\":\"true\"}", false);
	assert_int_equal(o.verdict, ALIYUN_METER_ACCEPT);
	assert_null(o.record_id);
}

struct judge_case {
	long status;
	const char *body;
	const char *code;		/* expected */
};

/* Each of cases[0..n) (an answer to a request of several instances) gets verdict and its code. */
static void
expect(const struct judge_case *cases, size_t n, enum aliyun_meter_verdict verdict)
{
	struct aliyun_meter_outcome o;
	size_t i;

	for (i = 0; i < n; i++) {
		o = judge(cases[i].status, cases[i].body, true);
		assert_int_equal(o.verdict, verdict);
		assert_string_equal(o.code, cases[i].code);
	}
}

/* Throttling and server errors bill nothing: send again later. */
static void
aliyun_meter_retries_throttling_and_server_errors(void **state)
{
	static const struct judge_case cases[] = {
		{ 400, "{\"Code\":\"Service.Flow.Control\"}", "Service.Flow.Control" },
		{ 400, "{\"Code\":\"Throttling.User\"}", "Throttling.User" },
		{ 500, "{\"Code\":\"InternalError\"}", "InternalError" },
		{ 503, "{\"Code\":\"UnknownError\"}", "UnknownError" },
		{ 400, "{\"Code\":\"SignatureNonceUsed\"}", "SignatureNonceUsed" },
		{ 503, "<html>unavailable</html>", "http_503" },
		{ 429, "", "http_429" },
		{ 408, "", "http_408" },
	};

	(void)state;
	expect(cases, sizeof(cases) / sizeof(cases[0]), ALIYUN_METER_RETRY);
}

/* Parameter errors may be one record's: split a request of several
 * instances, reject a request of one. Other codes of the marketplace are
 * final for all. */
static void
aliyun_meter_rejects_or_splits_refusals(void **state)
{
	struct aliyun_meter_outcome o;

	(void)state;
	o = judge(400, "{\"Code\":\"Invalid.Parameter.Instance\",\"Message\":\"x\"}", true);
	assert_int_equal(o.verdict, ALIYUN_METER_SPLIT);
	o = judge(400, "{\"Code\":\"Invalid.Parameter.Instance\"}", false);
	assert_int_equal(o.verdict, ALIYUN_METER_REJECT);
	assert_string_equal(o.code, "Invalid.Parameter.Instance");
	o = judge(400, "{\"Code\":\"Metering.Data.Exceeded\"}", true);
	assert_int_equal(o.verdict, ALIYUN_METER_SPLIT);
	o = judge(400, "{\"Code\":\"UnknownError\"}", true);
	assert_int_equal(o.verdict, ALIYUN_METER_REJECT);
	assert_string_equal(o.code, "UnknownError");
	o = judge(200, "{\"Success\":false,\"Code\":\"Invalid.Parameter.Metering\"}", false);
	assert_int_equal(o.verdict, ALIYUN_METER_REJECT);
	o = judge(414, "<html>URI too long</html>", true);
	assert_int_equal(o.verdict, ALIYUN_METER_SPLIT);
	o = judge(413, "", false);
	assert_int_equal(o.verdict, ALIYUN_METER_REJECT);
	assert_string_equal(o.code, "http_413");
	/* a code is kept short and plain */
	o = judge(400, "{\"Code\":\"Bad code\\n with\\u00e9 characters and then a great deal more text than fits\"}",
	    false);
	assert_int_equal(o.verdict, ALIYUN_METER_REJECT);
	assert_true(strlen(o.code) <= 64);
	assert_int_equal(strspn(o.code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"),
	    strlen(o.code));
}

/* Our credentials, signature, permission or endpoint refused: nothing was
 * billed, and it is ours to fix, so never final. */
static void
aliyun_meter_holds_refusals_of_our_configuration(void **state)
{
	static const struct judge_case cases[] = {
		{ 400, "{\"Code\":\"SignatureDoesNotMatch\",\"Message\":\"x\"}", "SignatureDoesNotMatch" },
		{ 404, "{\"Code\":\"InvalidAccessKeyId.NotFound\"}", "InvalidAccessKeyId.NotFound" },
		{ 403, "{\"Code\":\"InvalidAccessKeyId.Inactive\"}", "InvalidAccessKeyId.Inactive" },
		{ 400, "{\"Code\":\"InvalidTimeStamp.Expired\"}", "InvalidTimeStamp.Expired" },
		{ 400, "{\"Code\":\"IncompleteSignature\"}", "IncompleteSignature" },
		{ 403, "{\"Code\":\"Forbidden.RAM\"}", "Forbidden.RAM" },
		{ 403, "{\"Code\":\"Permission.Denied\"}", "Permission.Denied" },
		{ 404, "{\"Code\":\"InvalidAction.NotFound\"}", "InvalidAction.NotFound" },
		{ 403, "{\"Code\":\"SomethingNew\"}", "SomethingNew" },
		{ 401, "", "http_401" },
		{ 403, "<html>forbidden</html>", "http_403" },
		{ 404, "<html>not here</html>", "http_404" },
		{ 400, "<html>bad request</html>", "http_400" },
	};

	(void)state;
	expect(cases, sizeof(cases) / sizeof(cases[0]), ALIYUN_METER_HOLD);
}

/* A 2xx that is not the expected JSON may have billed. */
static void
aliyun_meter_unknown_for_a_malformed_success(void **state)
{
	static const char *const bodies[] = { "<html>gateway error</html>", "", "[true]",
		"{\"RequestId\":\"x\"}", "{\"Success\":false}" };
	struct aliyun_meter_outcome o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		o = judge(200, bodies[i], false);
		assert_int_equal(o.verdict, ALIYUN_METER_UNKNOWN);
		assert_string_equal(o.code, "malformed_answer");
	}
}

/* A gateway's 502 or 504 without a code may hide a billed push. */
static void
aliyun_meter_unknown_behind_a_gateway(void **state)
{
	static const long statuses[] = { 502, 504 };
	struct aliyun_meter_outcome o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		o = judge(statuses[i], "<html>bad gateway</html>", true);
		assert_int_equal(o.verdict, ALIYUN_METER_UNKNOWN);
	}
	o = judge(502, "{\"Code\":\"InternalError\"}", true);
	assert_int_equal(o.verdict, ALIYUN_METER_RETRY);
}

/* No answer: safe to resend only if the request never left. */
static void
aliyun_meter_tells_unsent_from_lost(void **state)
{
	struct aliyun_meter_outcome o;

	(void)state;
	o = judge_failure(false, false);
	assert_int_equal(o.verdict, ALIYUN_METER_RETRY);
	assert_string_equal(o.code, "not_sent");
	o = judge_failure(false, true);
	assert_int_equal(o.verdict, ALIYUN_METER_RETRY);
	o = judge_failure(true, true);
	assert_int_equal(o.verdict, ALIYUN_METER_UNKNOWN);
	assert_string_equal(o.code, "timeout_after_send");
	o = judge_failure(true, false);
	assert_int_equal(o.verdict, ALIYUN_METER_UNKNOWN);
	assert_string_equal(o.code, "connection_lost_after_send");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aliyun_meter_accepts_success_with_its_request_id),
		cmocka_unit_test(aliyun_meter_retries_throttling_and_server_errors),
		cmocka_unit_test(aliyun_meter_rejects_or_splits_refusals),
		cmocka_unit_test(aliyun_meter_holds_refusals_of_our_configuration),
		cmocka_unit_test(aliyun_meter_unknown_for_a_malformed_success),
		cmocka_unit_test(aliyun_meter_unknown_behind_a_gateway),
		cmocka_unit_test(aliyun_meter_tells_unsent_from_lost),
	};

	return cmocka_run_group_tests(tests, pool_setup, pool_teardown);
}
