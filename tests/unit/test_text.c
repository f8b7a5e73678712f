/* SPDX-License-Identifier: MIT */
/* test_text.c: UTF-8 validation, escaping, base64url, character sets, decimals, SHA-256 hex, constant-time equality. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "buf.h"
#include "text.h"

static void
text_accepts_utf8_and_rejects_the_rest(void **state)
{
	(void)state;
	assert_true(text_valid_utf8("组织 Zilliz", strlen("组织 Zilliz")));
	assert_true(text_valid_utf8("😀", 4));
	assert_false(text_valid_utf8("\xc3\x28", 2));		/* bad continuation */
	assert_false(text_valid_utf8("\xc0\xaf", 2));		/* overlong */
	assert_false(text_valid_utf8("\xed\xa0\x80", 3));	/* surrogate */
	assert_false(text_valid_utf8("\xf4\x90\x80\x80", 4));	/* past U+10FFFF */
	assert_false(text_valid_utf8("\xe4\xbd", 2));		/* truncated */
	assert_false(text_valid_utf8("a\tb", 3));		/* control */
	assert_false(text_valid_utf8("a\x7f", 2));
	assert_true(text_utf8_wellformed("a\tb", 3));
}

static void
text_escapes_html_and_urls(void **state)
{
	struct buf b = BUF_INIT(256);

	(void)state;
	assert_int_equal(text_html_escape(&b, "<script>alert('x')&\"</script>"), 0);
	assert_string_equal(buf_cstr(&b), "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;");
	buf_reset(&b);
	assert_int_equal(text_url_encode(&b, "a b/组~", strlen("a b/组~")), 0);
	assert_string_equal(buf_cstr(&b), "a%20b%2F%E7%BB%84~");
	buf_release(&b);
}

static void
text_base64url_round_trips(void **state)
{
	unsigned char in[32], out[32];
	char enc[64];
	size_t n;

	(void)state;
	randombytes_buf(in, sizeof(in));
	n = text_base64url_encode(enc, sizeof(enc), in, sizeof(in));
	assert_int_equal(n, 43);
	assert_null(strchr(enc, '='));
	assert_int_equal(text_base64url_decode(out, sizeof(out), enc, n), 32);
	assert_memory_equal(in, out, 32);
	assert_int_equal(text_base64url_decode(out, sizeof(out), "a*b", 3), -1);
	assert_int_equal(text_base64url_encode(enc, 10, in, sizeof(in)), 0);
}

static void
text_compares_in_constant_time(void **state)
{
	(void)state;
	assert_true(text_equal_ct("secret-token", "secret-token"));
	assert_false(text_equal_ct("secret-token", "secret-tokeN"));
	assert_false(text_equal_ct("secret-token", "secret-token2"));
	assert_false(text_equal_ct("", "x"));
	assert_true(text_equal_ct("", ""));
}

static void
text_checks_character_sets(void **state)
{
	char long_id[66];

	(void)state;
	assert_true(text_chars("Abc-1_x", 7, "-_"));
	assert_false(text_chars("Abc-1_x", 6, "-_"));		/* too long */
	assert_false(text_chars("", 8, ""));
	assert_false(text_chars(NULL, 8, ""));
	assert_false(text_chars("a b", 8, "-"));
	assert_false(text_chars("é", 8, ""));			/* ASCII only */
	assert_true(text_lower_chars("cn-north-1", 64, "-"));
	assert_false(text_lower_chars("CN-north-1", 64, "-"));
	memset(long_id, 'a', 65);
	long_id[65] = '\0';
	assert_true(text_chars(long_id, 65, ""));
	assert_false(text_chars(long_id, 64, ""));
}

static void
text_parses_decimals_exactly(void **state)
{
	long long m = -1;

	(void)state;
	assert_true(text_decimal_micros("0", 10, &m));
	assert_int_equal(m, 0);
	assert_true(text_decimal_micros("12.5", 100, &m));
	assert_int_equal(m, 12500000);
	assert_true(text_decimal_micros("0.000001", 1, &m));
	assert_int_equal(m, 1);
	assert_true(text_decimal_micros("999999999999.999999", TEXT_DECIMAL_WHOLE_MAX, &m));
	assert_int_equal(m, 999999999999999999LL);
	assert_false(text_decimal_micros("1000000000000", TEXT_DECIMAL_WHOLE_MAX, &m));
	assert_false(text_decimal_micros("99999999999999999999999", TEXT_DECIMAL_WHOLE_MAX, &m));
	assert_false(text_decimal_micros("11", 10, &m));		/* above whole_max */
	assert_false(text_decimal_micros("1.0000001", 10, &m));	/* seven decimals */
	assert_false(text_decimal_micros("1.", 10, &m));
	assert_false(text_decimal_micros(".5", 10, &m));
	assert_false(text_decimal_micros("", 10, &m));
	assert_false(text_decimal_micros("-1", 10, &m));
	assert_false(text_decimal_micros("1e3", 10000, &m));
	assert_false(text_decimal_micros("1 ", 10, &m));
	assert_false(text_decimal_micros("1", TEXT_DECIMAL_WHOLE_MAX + 1, &m));
}

static void
text_hashes_to_hex(void **state)
{
	char hex[TEXT_SHA256_HEX];

	(void)state;
	text_sha256_hex(hex, "abc", 3);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	text_sha256_hex(hex, "", 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_accepts_utf8_and_rejects_the_rest),
		cmocka_unit_test(text_escapes_html_and_urls),
		cmocka_unit_test(text_base64url_round_trips),
		cmocka_unit_test(text_compares_in_constant_time),
		cmocka_unit_test(text_checks_character_sets),
		cmocka_unit_test(text_parses_decimals_exactly),
		cmocka_unit_test(text_hashes_to_hex),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
