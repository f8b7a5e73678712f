/* SPDX-License-Identifier: MIT */
/*
 * log.h: one line per event, to a file opened at start or to stderr; and
 * the program's pid file, which make stop and service managers read.
 *
 * Style (OpenBSD): messages are lowercase, no full stop, the subject quoted.
 * log_warn() appends strerror(errno); log_warnx() does not. Never pass a
 * token, a password, a secret or a bound SQL value to these functions.
 * Each call issues a single write(2), so lines from threads and processes
 * sharing one O_APPEND file do not interleave.
 */
#ifndef MPBIND_LOG_H
#define MPBIND_LOG_H

#include <stdbool.h>

/* Room for any message log_strerror() gives. */
#define LOG_STRERROR_MAX 128

enum log_level { LOG_LEVEL_WARN = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_DEBUG = 2 };

/*
 * Opens path for appending (NULL or "-" means stderr) and sets the level and
 * the program name shown in each line. Returns 0, or -1 with errno set.
 * Call once in the main thread before any thread or child starts.
 */
int log_init(const char *path, enum log_level level, const char *ident);

/* Parses "warn", "info" or "debug"; false if name is none of those. */
bool log_level_parse(const char *name, enum log_level *out);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The text of errno value errnum, like strerror() but thread-safe: it uses
 * strerror_r (in whichever of its two forms the C library has) and a
 * buffer of the calling thread's own, valid until that thread's next call.
 * strerror() itself is banned (banned.h).
 */
const char *log_strerror(int errnum);

/* Writes getpid() to path (nothing for NULL or ""); fatal() if it cannot. */
void log_pidfile(const char *path);

/* Log and exit(1); fatal() appends strerror(errno). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
