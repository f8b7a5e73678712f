/* SPDX-License-Identifier: MIT */
/*
 * pool.h: request-scoped memory (after nginx's r->pool). Everything a
 * request allocates comes from its pool and is released at once when the
 * request ends; nothing from a pool is ever passed to free().
 *
 * A pool has a ceiling: an allocation that would take it past max fails
 * with NULL (errno EMSGSIZE), as does a failed malloc (errno ENOMEM).
 * Memory is zeroed. A pool is used by one thread at a time.
 */
#ifndef MPBIND_POOL_H
#define MPBIND_POOL_H

#include <stddef.h>

struct pool_chunk;

struct pool {
	struct pool_chunk *head;	/* newest chunk first */
	size_t total;			/* bytes handed out */
	size_t max;
};

/* Sets up an empty pool; allocates nothing. */
void pool_init(struct pool *p, size_t max);

/* Frees every chunk; the pool is empty and reusable afterwards. */
void pool_release(struct pool *p);

/* Empties the pool but keeps its first standard chunk for the next request. */
void pool_reset(struct pool *p);

/* Returns n zeroed bytes, aligned for any type, or NULL. */
void *pool_alloc(struct pool *p, size_t n);

/* Copies of strings, NUL-terminated, or NULL. */
char *pool_strdup(struct pool *p, const char *s);
char *pool_strndup(struct pool *p, const char *s, size_t n);
char *pool_printf(struct pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
