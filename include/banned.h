/* SPDX-License-Identifier: MIT */
/*
 * banned.h: functions that have no place in mpbind, turned into compile
 * errors (after git's banned.h). Include it last, after every system and
 * library header, in each .c file.
 */
#ifndef MPBIND_BANNED_H
#define MPBIND_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef ctime
#define ctime(t) BANNED(ctime)
#undef asctime
#define asctime(t) BANNED(asctime)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef rand
#define rand() BANNED(rand)
/* Not thread-safe: log_strerror() (log.h) uses strerror_r. */
#undef strerror
#define strerror(e) BANNED(strerror)

#endif
