/* SPDX-License-Identifier: MIT */
/* test_form.c: urlencoded and cookie decoding, with every cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "form.h"
#include "pool.h"

static struct pool pool;

static int
setup(void **state)
{
	(void)state;
	pool_init(&pool, 1 << 20);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pool_release(&pool);
	return 0;
}

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
	struct pool tiny;
	struct kvlist l;
	const char *bad;

	(void)state;
	pool_init(&tiny, 16);
	assert_int_equal(form_parse(&tiny, "aaaa=bbbbbbbbbbbbbbbbbbbbb", 26, 10, 100, &l, &bad), ERR_NOMEM);
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
		cmocka_unit_test(form_splits_cookies),
		cmocka_unit_test(form_fails_cleanly_when_the_pool_is_exhausted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
