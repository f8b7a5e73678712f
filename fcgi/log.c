/* SPDX-License-Identifier: MIT */
/*
 * log.c: the log module. Formats a whole line in a stack buffer and writes it
 * with one write(2). The file descriptor and level are set once at start and
 * only read afterwards.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

#define LOG_LINE_MAX 1024

/* Process-wide, written once by log_init before threads start. */
static int log_fd = STDERR_FILENO;
static enum log_level log_level_max = LOG_LEVEL_INFO;
static const char *log_ident = "mpbind";

int
log_init(const char *path, enum log_level level, const char *ident)
{
	int fd;

	log_level_max = level;
	if (ident != NULL)
		log_ident = ident;
	if (path == NULL || path[0] == '\0' || strcmp(path, "-") == 0) {
		log_fd = STDERR_FILENO;
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	log_fd = fd;
	return 0;
}

bool
log_level_parse(const char *name, enum log_level *out)
{
	if (strcmp(name, "warn") == 0)
		*out = LOG_LEVEL_WARN;
	else if (strcmp(name, "info") == 0)
		*out = LOG_LEVEL_INFO;
	else if (strcmp(name, "debug") == 0)
		*out = LOG_LEVEL_DEBUG;
	else
		return false;
	return true;
}

/* strerror_r comes in two forms: XSI returns 0 and fills buf, GNU may return static text. */
static const char *
log_strerror_xsi(int rc, char *buf)
{
	return rc == 0 ? buf : "unknown error";
}

static const char *
log_strerror_gnu(char *text, char *buf)
{
	(void)buf;
	return text != NULL ? text : "unknown error";
}

const char *
log_strerror(int errnum)
{
	static _Thread_local char buf[LOG_STRERROR_MAX];

	buf[0] = '\0';
	return _Generic(strerror_r(errnum, buf, sizeof(buf)),
	    int: log_strerror_xsi,
	    char *: log_strerror_gnu)(strerror_r(errnum, buf, sizeof(buf)), buf);
}

static void
log_vwrite(const char *tag, int errnum, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	size_t len;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld] %s: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, log_ident, (long)getpid(), tag);
	len = n > 0 ? (size_t)n : 0;
	if (len < sizeof(line)) {
		n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
		len += n > 0 ? (size_t)n : 0;
	}
	if (errnum != 0 && len < sizeof(line)) {
		n = snprintf(line + len, sizeof(line) - len, ": %s", log_strerror(errnum));
		len += n > 0 ? (size_t)n : 0;
	}
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	if (write(log_fd, line, len) != (ssize_t)len)
		return;		/* nowhere left to report it */
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("warn", saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("warn", 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level_max < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_vwrite("info", 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level_max < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vwrite("debug", 0, fmt, ap);
	va_end(ap);
}

void
log_pidfile(const char *path)
{
	FILE *f;

	if (path == NULL || *path == '\0')
		return;
	f = fopen(path, "we");
	if (f == NULL)
		fatal("pid file \"%s\"", path);
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		fatal("pid file \"%s\"", path);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("fatal", saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("fatal", 0, fmt, ap);
	va_end(ap);
	exit(1);
}
