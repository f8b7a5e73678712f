/* SPDX-License-Identifier: MIT */
/*
 * test_acs3.c: ACS3-HMAC-SHA256 signing against vectors computed
 * independently. The expected values come from a dozen lines of Python
 * (hashlib, hmac, urllib.parse.quote(s, safe="-_.~")) written from
 * ../shared/protocols/aliyun-marketplace.md §3.4 and run once:
 *
 *   cq  = "&".join(enc(k) + "=" + enc(v) for k, v in sorted(query.items()))
 *   ch  = "".join(h + ":" + headers[h] + "\n" for h in sorted(headers))
 *   cr  = "\n".join(["POST", path, cq, ch, ";".join(sorted(headers)), sha256(body)])
 *   sts = "ACS3-HMAC-SHA256\n" + sha256(cr)
 *   sig = hmac.new(secret, sts, sha256).hexdigest()
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "acs3.h"
#include "error.h"
#include "pool.h"
#include "unitpool.h"

#define SECRET "testSecret/With+Chars="
#define METERING "[{\"InstanceId\":\"1000001\",\"StartTime\":\"1723771200\",\"EndTime\":\"1723774800\"," \
	"\"Entities\":[{\"Key\":\"Unit\",\"Value\":\"96\",\"meteringAssit\":\"cmjj00mpbind-Unit-1\"}]}]"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static struct acs3_request
request_of(const char *endpoint, const struct acs3_param *query, size_t nquery, const char *body)
{
	struct acs3_request req = {
		.method = "POST", .endpoint = endpoint, .action = "PushMeteringData",
		.version = "2015-11-01", .query = query, .nquery = nquery,
		.body = body, .body_len = body != NULL ? strlen(body) : 0,
		.date = 1723780000,	/* 2024-08-16T03:46:40Z */
		.nonce = "0123456789abcdef0123456789abcdef",
		.access_key_id = "LTAI5tTESTKEY", .access_key_secret = SECRET,
	};

	return req;
}

/* The simulator's endpoint: a port in the host, a path, two parameters
 * given out of order, one with a space, '*', '~' and UTF-8. */
static void
acs3_signs_a_metering_request_like_the_reference(void **state)
{
	static const struct acs3_param query[] = {
		{ "Note", "a b*c~\xe4\xb8\xad" },
		{ "Metering", METERING },
	};
	struct acs3_request req = request_of("http://127.0.0.1:18001/aliyun/market/", query, 2, NULL);
	struct acs3_signed out;
	const char *cq = "Metering=%5B%7B%22InstanceId%22%3A%221000001%22%2C%22StartTime%22%3A%221723771200%22"
	    "%2C%22EndTime%22%3A%221723774800%22%2C%22Entities%22%3A%5B%7B%22Key%22%3A%22Unit%22%2C%22Value"
	    "%22%3A%2296%22%2C%22meteringAssit%22%3A%22cmjj00mpbind-Unit-1%22%7D%5D%7D%5D"
	    "&Note=a%20b%2Ac~%E4%B8%AD";
	char expected[4096];

	(void)state;
	assert_int_equal(acs3_sign(&pool, &req, &out), ERR_OK);
	snprintf(expected, sizeof(expected), "POST\n/aliyun/market/\n%s\nhost:127.0.0.1:18001\n"
	    "x-acs-action:PushMeteringData\nx-acs-content-sha256:" EMPTY_SHA256 "\n"
	    "x-acs-date:2024-08-16T03:46:40Z\nx-acs-signature-nonce:0123456789abcdef0123456789abcdef\n"
	    "x-acs-version:2015-11-01\n\n"
	    "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n"
	    EMPTY_SHA256, cq);
	assert_string_equal(out.canonical_request, expected);
	assert_string_equal(out.string_to_sign,
	    "ACS3-HMAC-SHA256\n637c6a24568a7ae513dc1ec66f2ac9f9fca56c772f2124ba2507f47c482b0e20");
	assert_string_equal(out.signature, "1e70e9815ed2a9c832e1ada3fd429dc480bf1afc9f50b2bea5ccfa7b331560c0");
	snprintf(expected, sizeof(expected), "http://127.0.0.1:18001/aliyun/market/?%s", cq);
	assert_string_equal(out.url, expected);
	assert_string_equal(out.headers[0], "Host: 127.0.0.1:18001");
	assert_string_equal(out.headers[1], "x-acs-action: PushMeteringData");
	assert_string_equal(out.headers[2], "x-acs-content-sha256: " EMPTY_SHA256);
	assert_string_equal(out.headers[3], "x-acs-date: 2024-08-16T03:46:40Z");
	assert_string_equal(out.headers[4], "x-acs-signature-nonce: 0123456789abcdef0123456789abcdef");
	assert_string_equal(out.headers[5], "x-acs-version: 2015-11-01");
	assert_string_equal(out.headers[6], "Authorization: ACS3-HMAC-SHA256 Credential=LTAI5tTESTKEY,"
	    "SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;"
	    "x-acs-version,Signature=1e70e9815ed2a9c832e1ada3fd429dc480bf1afc9f50b2bea5ccfa7b331560c0");
	assert_null(out.headers[7]);
	assert_null(strstr(out.canonical_request, SECRET));
}

/* The production endpoint has no path ("/"); no query; the body is hashed. */
static void
acs3_signs_the_root_path_and_the_body(void **state)
{
	struct acs3_request req = request_of("https://market.aliyuncs.com", NULL, 0, "{\"a\":1}");
	struct acs3_signed out;

	(void)state;
	assert_int_equal(acs3_sign(&pool, &req, &out), ERR_OK);
	assert_string_equal(out.signature, "8493a3941a99e80e7c4fc1ab44e32385eea8e1356965310826cdcbb7aa836a05");
	assert_string_equal(out.url, "https://market.aliyuncs.com");
	assert_string_equal(out.headers[0], "Host: market.aliyuncs.com");
	assert_non_null(strstr(out.canonical_request, "POST\n/\n\nhost:market.aliyuncs.com\n"));
}

/* Another secret, date or nonce gives another signature. */
static void
acs3_signature_depends_on_secret_date_and_nonce(void **state)
{
	static const struct acs3_param query[] = { { "Metering", METERING } };
	struct acs3_request req = request_of("http://127.0.0.1:18001/aliyun/market/", query, 1, NULL);
	struct acs3_signed a, b;

	(void)state;
	assert_int_equal(acs3_sign(&pool, &req, &a), ERR_OK);
	req.access_key_secret = "other";
	assert_int_equal(acs3_sign(&pool, &req, &b), ERR_OK);
	assert_string_not_equal(a.signature, b.signature);
	req.access_key_secret = SECRET;
	req.date++;
	assert_int_equal(acs3_sign(&pool, &req, &b), ERR_OK);
	assert_string_not_equal(a.signature, b.signature);
	req.date--;
	req.nonce = "ffffffffffffffffffffffffffffffff";
	assert_int_equal(acs3_sign(&pool, &req, &b), ERR_OK);
	assert_string_not_equal(a.signature, b.signature);
}

static void
acs3_refuses_an_endpoint_without_a_host(void **state)
{
	static const char *const bad[] = { "market.aliyuncs.com/", "https:///", "https://", "https://h/?a=1" };
	struct acs3_signed out;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct acs3_request req = request_of(bad[i], NULL, 0, NULL);

		assert_int_equal(acs3_sign(&pool, &req, &out), ERR_INTERNAL);
	}
}

static void
acs3_nonces_are_hex_and_differ(void **state)
{
	char a[ACS3_NONCE_LEN + 1], b[ACS3_NONCE_LEN + 1];

	(void)state;
	acs3_nonce(a);
	acs3_nonce(b);
	assert_int_equal(strlen(a), ACS3_NONCE_LEN);
	assert_int_equal(strspn(a, "0123456789abcdef"), ACS3_NONCE_LEN);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(acs3_signs_a_metering_request_like_the_reference),
		cmocka_unit_test(acs3_signs_the_root_path_and_the_body),
		cmocka_unit_test(acs3_signature_depends_on_secret_date_and_nonce),
		cmocka_unit_test(acs3_refuses_an_endpoint_without_a_host),
		cmocka_unit_test(acs3_nonces_are_hex_and_differ),
	};

	return cmocka_run_group_tests(tests, pool_setup, pool_teardown);
}
