/* SPDX-License-Identifier: MIT */
/* test_text.c: UTF-8 validation, escaping, base64url, constant-time equality. */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_accepts_utf8_and_rejects_the_rest),
		cmocka_unit_test(text_escapes_html_and_urls),
		cmocka_unit_test(text_base64url_round_trips),
		cmocka_unit_test(text_compares_in_constant_time),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
