/* SPDX-License-Identifier: MIT */
/* test_buf.c: capped buffers grow, refuse to pass their maximum, stay intact. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
buf_appends_and_terminates(void **state)
{
	struct buf b = BUF_INIT(64);

	(void)state;
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_appends(&b, "abc"), 0);
	assert_int_equal(buf_appendf(&b, "-%d-%s", 42, "x"), 0);
	assert_int_equal(buf_appendc(&b, '!'), 0);
	assert_string_equal(buf_cstr(&b), "abc-42-x!");
	assert_int_equal(b.len, 9);
	buf_release(&b);
	assert_null(b.data);
}

static void
buf_refuses_past_max_and_keeps_contents(void **state)
{
	struct buf b = BUF_INIT(8);

	(void)state;
	assert_int_equal(buf_appends(&b, "12345678"), 0);
	errno = 0;
	assert_int_equal(buf_appendc(&b, '9'), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(buf_appendf(&b, "%s", "more"), -1);
	assert_string_equal(buf_cstr(&b), "12345678");
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_append(&b, "abcdefghi", 9), -1);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void
buf_grows_through_many_appends(void **state)
{
	struct buf b = BUF_INIT(100000);
	size_t len;
	char *s;
	int i;

	(void)state;
	for (i = 0; i < 10000; i++)
		assert_int_equal(buf_appends(&b, "0123456789"), 0);
	assert_int_equal(b.len, 100000);
	assert_int_equal(buf_appendc(&b, 'x'), -1);
	s = buf_detach(&b, &len);
	assert_int_equal(len, 100000);
	assert_int_equal(s[99999], '9');
	assert_null(b.data);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_appends_and_terminates),
		cmocka_unit_test(buf_refuses_past_max_and_keeps_contents),
		cmocka_unit_test(buf_grows_through_many_appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
