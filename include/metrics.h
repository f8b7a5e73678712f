/* SPDX-License-Identifier: MIT */
/*
 * metrics.h: counters shared by the master and every worker process, kept
 * in one anonymous shared mapping made before the first fork, updated with
 * atomic adds and rendered in the Prometheus text format by /metrics.
 *
 * Routes are numbered by the router before forking; index 0 is "unmatched".
 * Every function accepts a NULL metrics pointer and then does nothing, so
 * tools that share the modules (mpbindctl, unit tests) need no metrics.
 */
#ifndef MPBIND_METRICS_H
#define MPBIND_METRICS_H

#include <stddef.h>

struct buf;
struct metrics;

/*
 * Maps the shared region for nroutes routes named names[0..nroutes) (names
 * are borrowed and must outlive the metrics). Returns NULL on failure.
 */
struct metrics *metrics_create(size_t nroutes, const char *const *names);

/* Unmaps the region (in the process that created it, at exit). */
void metrics_free(struct metrics *m);

void metrics_request(struct metrics *m, size_t route, int status, double seconds);
void metrics_db_error(struct metrics *m);
void metrics_db_reconnect(struct metrics *m);
void metrics_worker_restart(struct metrics *m);
void metrics_workers_set(struct metrics *m, long running);

/* Appends the exposition text. 0, or -1 when out grows past its maximum. */
int metrics_render(const struct metrics *m, struct buf *out);

#endif
