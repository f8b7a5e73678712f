/* SPDX-License-Identifier: MIT */
/* test_form.c: urlencoded, multipart/form-data and cookie decoding, with every cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "form.h"
#include "pool.h"
#include "unitpool.h"

static int
parse(const char *s, size_t max_fields, size_t max_len, struct kvlist *out, const char **bad)
{
	return form_parse(&pool, s, strlen(s), max_fields, max_len, out, bad);
}

static void
form_decodes_plus_and_percent(void **state)
{
	struct kvlist l;
	const char *bad;

	(void)state;
	assert_int_equal(parse("x-amzn-marketplace-token=abc%2Bdef+g&b=&c&&d=%E4%BD%A0", 10, 100, &l, &bad), ERR_OK);
	assert_int_equal(l.count, 4);
	assert_string_equal(kvlist_get(&l, "x-amzn-marketplace-token"), "abc+def g");
	assert_string_equal(kvlist_get(&l, "b"), "");
	assert_string_equal(kvlist_get(&l, "c"), "");
	assert_string_equal(kvlist_get(&l, "d"), "你");
	assert_null(kvlist_get(&l, "e"));
}

static void
form_keeps_repeats_in_order(void **state)
{
	struct kvlist l;
	const char *bad;

	(void)state;
	assert_int_equal(parse("t=1&t=2", 10, 100, &l, &bad), ERR_OK);
	assert_int_equal(kvlist_count(&l, "t"), 2);
	assert_string_equal(kvlist_get(&l, "t"), "1");
}

static void
form_rejects_bad_escapes_nul_and_empty_names(void **state)
{
	struct kvlist l;
	const char *bad;

	(void)state;
	assert_int_equal(parse("a=%zz", 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(parse("a=%4", 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(parse("a=%", 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(parse("a=x%00y", 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(parse("=v", 10, 100, &l, &bad), ERR_BAD_FORM);
}

static void
form_caps_fields_and_lengths(void **state)
{
	struct kvlist l;
	const char *bad;

	(void)state;
	assert_int_equal(parse("a=1&b=2&c=3", 2, 100, &l, &bad), ERR_TOO_MANY_FIELDS);
	assert_int_equal(parse("a=1234567", 10, 5, &l, &bad), ERR_FIELD);
	assert_string_equal(bad, "a");
	assert_int_equal(parse("abcdefg=1", 10, 5, &l, &bad), ERR_FIELD);
}

#define CT "multipart/form-data; boundary=----WebKitFormBoundaryx7Qp"
#define B "------WebKitFormBoundaryx7Qp"

static int
multipart(const char *content_type, const char *s, size_t max_fields, size_t max_len, struct kvlist *out,
    const char **bad)
{
	return form_parse_multipart(&pool, content_type, s, strlen(s), max_fields, max_len, out, bad);
}

static void
form_multipart_reads_named_parts(void **state)
{
	struct kvlist l;
	const char *bad;

	(void)state;
	/* What a browser sends: values as they are (no %-decoding), CRLF line ends. */
	assert_int_equal(multipart(CT,
	    B "\r\nContent-Disposition: form-data; name=\"x-amzn-marketplace-token\"\r\n\r\n"
	    "abc+def/g==\r\n"
	    B "\r\ncontent-disposition: Form-Data;name=x-amzn-marketplace-offer-type\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n\r\nfree-trial\r\n"
	    B "\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n"
	    B "\r\nContent-Disposition: form-data; name=\"lines\"\r\n\r\na\r\nb\r\n"
	    B "--\r\n", 10, 100, &l, &bad), ERR_OK);
	assert_int_equal(l.count, 4);
	assert_string_equal(kvlist_get(&l, "x-amzn-marketplace-token"), "abc+def/g==");
	assert_string_equal(kvlist_get(&l, "x-amzn-marketplace-offer-type"), "free-trial");
	assert_string_equal(kvlist_get(&l, "empty"), "");
	assert_string_equal(kvlist_get(&l, "lines"), "a\r\nb");
	assert_int_equal(l.items[3].value_len, 4);
}

static void
form_multipart_skips_preamble_epilogue_and_keeps_repeats(void **state)
{
	struct kvlist l;
	const char *bad;

	(void)state;
	assert_int_equal(multipart("Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b'c\"",
	    "preamble\r\n--a b'c  \r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n1\r\n"
	    "--a b'c\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n2\r\n--a b'c--epilogue",
	    10, 100, &l, &bad), ERR_OK);
	assert_int_equal(kvlist_count(&l, "t"), 2);
	assert_string_equal(kvlist_get(&l, "t"), "1");
	assert_string_equal(l.items[1].value, "2");
}

static void
form_multipart_refuses_bad_boundaries_and_shapes(void **state)
{
	static const char part[] = B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n" B "--";
	static const char nul[] = B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\0y\r\n" B "--";
	struct kvlist l;
	const char *bad;

	(void)state;
	assert_int_equal(multipart("multipart/form-data", part, 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart("multipart/form-data; boundary=", part, 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart("multipart/form-data; boundary=\"abc", part, 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart("multipart/form-data; boundary=a;boundary=b", part, 10, 100, &l, &bad),
	    ERR_BAD_FORM);
	assert_int_equal(multipart("multipart/form-data; boundary=a<b", part, 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart("multipart/form-data; boundary="
	    "12345678901234567890123456789012345678901234567890123456789012345678901", part, 10, 100, &l, &bad),
	    ERR_BAD_FORM);
	/* the right boundary but a body that does not use it, or never closes */
	assert_int_equal(multipart(CT, "x-amzn-marketplace-token=abc", 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart(CT, "", 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart(CT, B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1", 10, 100,
	    &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart(CT, B "\r\nContent-Disposition: form-data; name=\"a\"", 10, 100, &l, &bad),
	    ERR_BAD_FORM);
	assert_int_equal(multipart(CT, B "junk\r\n", 10, 100, &l, &bad), ERR_BAD_FORM);
	/* parts without a usable name, another disposition, a file, odd headers, a NUL */
	assert_int_equal(multipart(CT, B "\r\n\r\n1\r\n" B "--", 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart(CT, B "\r\nContent-Type: text/plain\r\n\r\n1\r\n" B "--", 10, 100, &l, &bad),
	    ERR_BAD_FORM);
	assert_int_equal(multipart(CT, B "\r\nContent-Disposition: form-data; name=\"\"\r\n\r\n1\r\n" B "--",
	    10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart(CT, B "\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n" B "--",
	    10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart(CT, B "\r\nContent-Disposition: form-data; name=\"a\"; filename=\"x.txt\"\r\n"
	    "\r\n1\r\n" B "--", 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart(CT, B "\r\nContent-Disposition: form-data; name=\"a\"; filename*=UTF-8''x\r\n"
	    "\r\n1\r\n" B "--", 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart(CT, B "\r\nContent-Disposition: form-data; name=\"a\"\r\n"
	    "Content-Disposition: form-data; name=\"b\"\r\n\r\n1\r\n" B "--", 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart(CT, B "\r\nContent-Disposition: form-data; name=\"a\"\r\nno colon\r\n\r\n1\r\n"
	    B "--", 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart(CT, B "\r\nContent-Disposition: form-data; name=\"a\" junk\r\n\r\n1\r\n"
	    B "--", 10, 100, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(form_parse_multipart(&pool, CT, nul, sizeof(nul) - 1, 10, 100, &l, &bad), ERR_BAD_FORM);
}

static void
form_multipart_caps_fields_and_lengths(void **state)
{
	struct kvlist l;
	const char *bad, *body;
	char pad[1000];

	(void)state;
	assert_int_equal(multipart(CT,
	    B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
	    B "\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n"
	    B "\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n3\r\n" B "--", 2, 100, &l, &bad),
	    ERR_TOO_MANY_FIELDS);
	assert_int_equal(multipart(CT, B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n123456\r\n" B "--",
	    10, 5, &l, &bad), ERR_FIELD);
	assert_string_equal(bad, "a");
	assert_int_equal(multipart(CT, B "\r\nContent-Disposition: form-data; name=\"abcdef\"\r\n\r\n1\r\n" B "--",
	    10, 5, &l, &bad), ERR_FIELD);
	assert_string_equal(bad, "abcdef");
	/* a part's headers hold at most its name's cap and 1024 bytes */
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	body = pool_printf(&pool, B "\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: %s\r\n\r\n1\r\n" B "--",
	    pad);
	assert_int_equal(multipart(CT, body, 10, 5, &l, &bad), ERR_BAD_FORM);
	assert_int_equal(multipart(CT, body, 10, 100, &l, &bad), ERR_OK);
}

static void
form_splits_cookies(void **state)
{
	struct kvlist l;

	(void)state;
	assert_int_equal(form_parse_cookies(&pool, " a=1; mpb_session=xyz ;lang=\"en\"; junk; =v", 32, &l), ERR_OK);
	assert_int_equal(l.count, 3);
	assert_string_equal(kvlist_get(&l, "mpb_session"), "xyz");
	assert_string_equal(kvlist_get(&l, "lang"), "en");
	assert_int_equal(form_parse_cookies(&pool, "a=1; b=2; c=3", 2, &l), ERR_OK);
	assert_int_equal(l.count, 2);
}

static void
form_fails_cleanly_when_the_pool_is_exhausted(void **state)
{
	static const char mp[] = B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n" B "--";
	struct pool tiny;
	struct kvlist l;
	const char *bad;

	(void)state;
	pool_init(&tiny, 16);
	assert_int_equal(form_parse(&tiny, "aaaa=bbbbbbbbbbbbbbbbbbbbb", 26, 10, 100, &l, &bad), ERR_NOMEM);
	pool_release(&tiny);
	pool_init(&tiny, 16);
	assert_int_equal(form_parse_multipart(&tiny, CT, mp, sizeof(mp) - 1, 10, 100, &l, &bad), ERR_NOMEM);
	pool_release(&tiny);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(form_decodes_plus_and_percent),
		cmocka_unit_test(form_keeps_repeats_in_order),
		cmocka_unit_test(form_rejects_bad_escapes_nul_and_empty_names),
		cmocka_unit_test(form_caps_fields_and_lengths),
		cmocka_unit_test(form_multipart_reads_named_parts),
		cmocka_unit_test(form_multipart_skips_preamble_epilogue_and_keeps_repeats),
		cmocka_unit_test(form_multipart_refuses_bad_boundaries_and_shapes),
		cmocka_unit_test(form_multipart_caps_fields_and_lengths),
		cmocka_unit_test(form_splits_cookies),
		cmocka_unit_test(form_fails_cleanly_when_the_pool_is_exhausted),
	};

	return cmocka_run_group_tests(tests, pool_setup, pool_teardown);
}
