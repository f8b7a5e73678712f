/* SPDX-License-Identifier: MIT */
/*
 * unitpool.h: the pool a unit test program's tests allocate from, made
 * before its group runs and freed after (cmocka's group setup and
 * teardown: cmocka_run_group_tests(tests, pool_setup, pool_teardown)).
 * Included once, by the test program's own file.
 */
#ifndef MPBIND_UNITPOOL_H
#define MPBIND_UNITPOOL_H

#include <sodium.h>

#include "pool.h"

static struct pool pool;

static int
pool_setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	pool_init(&pool, 1 << 20);
	return 0;
}

static int
pool_teardown(void **state)
{
	(void)state;
	pool_release(&pool);
	return 0;
}

#endif
