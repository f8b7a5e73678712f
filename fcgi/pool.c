/* SPDX-License-Identifier: MIT */
/*
 * pool.c: a chunked arena. Small allocations share 16 KiB chunks; a large
 * one gets a chunk of its own.
 */
#include "pool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define POOL_CHUNK_SIZE 16384

struct pool_chunk {
	struct pool_chunk *next;
	size_t size;
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

void
pool_init(struct pool *p, size_t max)
{
	p->head = NULL;
	p->total = 0;
	p->max = max;
}

void
pool_release(struct pool *p)
{
	struct pool_chunk *c, *next;

	for (c = p->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	pool_init(p, p->max);
}

void
pool_reset(struct pool *p)
{
	struct pool_chunk *c, *keep = NULL, *next;

	for (c = p->head; c != NULL; c = next) {
		next = c->next;
		if (keep == NULL && c->size == POOL_CHUNK_SIZE) {
			keep = c;
			continue;
		}
		free(c);
	}
	p->head = keep;
	p->total = 0;
	if (keep != NULL) {
		keep->next = NULL;
		keep->used = 0;
	}
}

static struct pool_chunk *
pool_chunk_new(size_t size)
{
	struct pool_chunk *c;

	c = malloc(sizeof(*c) + size);
	if (c == NULL)
		return NULL;
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

void *
pool_alloc(struct pool *p, size_t n)
{
	const size_t align = alignof(max_align_t);
	struct pool_chunk *c;
	size_t need;
	void *ptr;

	if (n == 0)
		n = 1;
	if (n > p->max || p->total > p->max - n) {
		errno = EMSGSIZE;
		return NULL;
	}
	need = (n + align - 1) & ~(align - 1);
	c = p->head;
	if (c == NULL || c->size - c->used < need) {
		c = pool_chunk_new(need > POOL_CHUNK_SIZE / 4 ? need : POOL_CHUNK_SIZE);
		if (c == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		if (c->size == POOL_CHUNK_SIZE || p->head == NULL) {
			c->next = p->head;
			p->head = c;
		} else {
			/* keep the partly used standard chunk in front */
			c->next = p->head->next;
			p->head->next = c;
		}
	}
	ptr = c->data + c->used;
	c->used += need;
	p->total += n;
	memset(ptr, 0, n);
	return ptr;
}

char *
pool_strndup(struct pool *p, const char *s, size_t n)
{
	char *copy;

	if (n == (size_t)-1) {
		errno = EMSGSIZE;
		return NULL;
	}
	copy = pool_alloc(p, n + 1);
	if (copy == NULL)
		return NULL;
	memcpy(copy, s, n);
	copy[n] = '\0';
	return copy;
}

char *
pool_strdup(struct pool *p, const char *s)
{
	return pool_strndup(p, s, strlen(s));
}

char *
pool_printf(struct pool *p, const char *fmt, ...)
{
	va_list ap, copy;
	char *out;
	int n;

	va_start(ap, fmt);
	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0 || (out = pool_alloc(p, (size_t)n + 1)) == NULL) {
		va_end(ap);
		return NULL;
	}
	vsnprintf(out, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return out;
}
