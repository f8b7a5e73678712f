/* SPDX-License-Identifier: MIT */
/* test_pool.c: request pools hand out zeroed, aligned memory up to a ceiling. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pool.h"

static void
pool_allocates_aligned_zeroed_memory(void **state)
{
	struct pool p;
	unsigned char *a, *b;
	size_t i;

	(void)state;
	pool_init(&p, 1 << 20);
	a = pool_alloc(&p, 3);
	b = pool_alloc(&p, 100);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal((uintptr_t)b % _Alignof(max_align_t), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(b[i], 0);
	assert_string_equal(pool_strdup(&p, "hello"), "hello");
	assert_string_equal(pool_strndup(&p, "hello", 2), "he");
	assert_string_equal(pool_printf(&p, "%s=%d", "n", 7), "n=7");
	pool_release(&p);
	assert_null(p.head);
}

static void
pool_fails_past_its_ceiling(void **state)
{
	struct pool p;

	(void)state;
	pool_init(&p, 1000);
	assert_non_null(pool_alloc(&p, 900));
	errno = 0;
	assert_null(pool_alloc(&p, 200));
	assert_int_equal(errno, EMSGSIZE);
	assert_null(pool_strndup(&p, "x", (size_t)-1));
	assert_non_null(pool_alloc(&p, 50));
	pool_release(&p);
}

static void
pool_reset_keeps_one_chunk_and_allows_reuse(void **state)
{
	struct pool p;
	void *big;
	int i;

	(void)state;
	pool_init(&p, 8 << 20);
	for (i = 0; i < 100; i++)
		assert_non_null(pool_alloc(&p, 1000));
	big = pool_alloc(&p, 1 << 20);
	assert_non_null(big);
	memset(big, 0xab, 1 << 20);
	pool_reset(&p);
	assert_int_equal(p.total, 0);
	assert_non_null(p.head);
	for (i = 0; i < 10; i++)
		assert_non_null(pool_alloc(&p, 500));
	pool_release(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pool_allocates_aligned_zeroed_memory),
		cmocka_unit_test(pool_fails_past_its_ceiling),
		cmocka_unit_test(pool_reset_keeps_one_chunk_and_allows_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
