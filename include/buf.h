/* SPDX-License-Identifier: MIT */
/*
 * buf.h: a growable byte buffer with a ceiling (after git's strbuf and
 * curl's dynbuf). Every buffer has a maximum; an append that would pass it
 * fails and leaves the buffer as it was.
 *
 * Invariants: len < alloc whenever data != NULL, and data[len] == '\0', so
 * buf_cstr() is always a valid C string. The buffer owns data.
 */
#ifndef MPBIND_BUF_H
#define MPBIND_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;	/* the most len may reach */
};

#define BUF_INIT(maximum) { NULL, 0, 0, (maximum) }

/* Sets up an empty buffer; allocates nothing. */
void buf_init(struct buf *b, size_t max);

/* Frees the contents; the buffer must be buf_init'ed again before reuse. */
void buf_release(struct buf *b);

/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);

/*
 * Appends n bytes. Returns 0, or -1 with errno ENOMEM (allocation failed)
 * or EMSGSIZE (the result would pass max); on -1 the buffer is unchanged.
 */
int buf_append(struct buf *b, const void *data, size_t n);
int buf_appends(struct buf *b, const char *s);
int buf_appendc(struct buf *b, char c);
int buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vappendf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* The contents as a C string; "" for an empty buffer. Borrowed. */
const char *buf_cstr(const struct buf *b);

/*
 * Hands the contents to the caller, who frees them with free(); the buffer
 * is left empty (as after buf_init). NULL if the buffer was never grown.
 */
char *buf_detach(struct buf *b, size_t *len);

#endif
