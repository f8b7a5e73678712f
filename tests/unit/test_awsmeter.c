/* SPDX-License-Identifier: MIT */
/*
 * test_awsmeter.c: what an error answering a whole BatchMeterUsage call
 * means for its rows (awsmeter.h's table), including errors the simulator
 * never gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "awsmeter.h"

struct awsmeter_case {
	const char *type;
	long status;
};

static void
expect(const struct awsmeter_case *cases, size_t n, enum awsmeter_verdict verdict)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (awsmeter_judge(cases[i].type, cases[i].status) != verdict)
			fail_msg("%s (HTTP %ld): %d, not %d", cases[i].type != NULL ? cases[i].type : "(none)",
			    cases[i].status, awsmeter_judge(cases[i].type, cases[i].status), verdict);
	}
}

/* Nothing was metered and a resend is harmless. */
static void
awsmeter_retries_throttling_failures_and_silence(void **state)
{
	static const struct awsmeter_case cases[] = {
		{ "ThrottlingException", 400 }, { "InternalServiceErrorException", 500 },
		{ "InternalFailure", 500 }, { "ServiceUnavailable", 503 }, { "RequestThrottled", 400 },
		{ "MalformedResponse", 200 }, { "MalformedResponse", 400 }, { "SomethingNew", 502 },
		{ "SomethingNew", 429 }, { NULL, 0 }, { "", 0 },
	};

	(void)state;
	expect(cases, sizeof(cases) / sizeof(cases[0]), AWSMETER_RETRY);
}

/* May be one record's fault: halve the batch; a record alone is final. */
static void
awsmeter_splits_what_one_record_may_cause(void **state)
{
	static const struct awsmeter_case cases[] = {
		{ "InvalidLicenseException", 400 }, { "InvalidCustomerIdentifierException", 400 },
		{ "InvalidUsageDimensionException", 400 }, { "InvalidTagException", 400 },
		{ "InvalidUsageAllocationsException", 400 }, { "ValidationException", 400 },
		{ "CustomerNotEntitledException", 400 }, { "TimestampOutOfBoundsException", 400 },
		{ "SomethingNew", 400 }, { "SomethingNew", 404 },
	};

	(void)state;
	expect(cases, sizeof(cases) / sizeof(cases[0]), AWSMETER_SPLIT);
}

/* Our credentials or configuration: never final. */
static void
awsmeter_holds_refusals_of_our_configuration(void **state)
{
	static const struct awsmeter_case cases[] = {
		{ "UnrecognizedClientException", 400 }, { "UnrecognizedClientException", 403 },
		{ "InvalidClientTokenId", 403 }, { "InvalidSignatureException", 403 },
		{ "SignatureDoesNotMatch", 403 }, { "IncompleteSignatureException", 400 },
		{ "MissingAuthenticationTokenException", 403 }, { "AccessDeniedException", 400 },
		{ "ExpiredTokenException", 400 }, { "ExpiredToken", 403 }, { "RequestExpired", 400 },
		{ "DisabledApiException", 400 }, { "InvalidProductCodeException", 400 },
		{ "InvalidEndpointRegionException", 400 }, { "UnknownOperationException", 400 },
		{ "SerializationException", 400 }, { "SomethingNew", 401 }, { "SomethingNew", 403 },
		{ "MalformedResponse", 403 },
	};

	(void)state;
	expect(cases, sizeof(cases) / sizeof(cases[0]), AWSMETER_HOLD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(awsmeter_retries_throttling_failures_and_silence),
		cmocka_unit_test(awsmeter_splits_what_one_record_may_cause),
		cmocka_unit_test(awsmeter_holds_refusals_of_our_configuration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
