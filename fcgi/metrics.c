/* SPDX-License-Identifier: MIT */
/*
 * metrics.c: a fixed-size shared region of 64-bit counters. Processes only
 * ever add; the renderer reads with relaxed atomic loads, which is all a
 * scrape needs.
 */
#include "metrics.h"

#include <stdint.h>
#include <sys/mman.h>

#include "buf.h"
#include "banned.h"

#define METRICS_ROUTES_MAX 256

static const int metrics_statuses[] = {
	200, 201, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405, 409, 410, 413,
	415, 422, 429, 500, 502, 503, 504,
};
#define METRICS_STATUS_COUNT (sizeof(metrics_statuses) / sizeof(metrics_statuses[0]))
#define METRICS_STATUS_OTHER METRICS_STATUS_COUNT

static const double metrics_buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};
#define METRICS_BUCKET_COUNT (sizeof(metrics_buckets) / sizeof(metrics_buckets[0]))

struct metrics_route {
	uint64_t status[METRICS_STATUS_COUNT + 1];
	uint64_t bucket[METRICS_BUCKET_COUNT + 1];	/* last is +Inf */
	uint64_t sum_us;
};

struct metrics {
	size_t nroutes;
	const char *const *names;
	uint64_t db_errors;
	uint64_t db_reconnects;
	uint64_t worker_restarts;
	int64_t workers;
	struct metrics_route route[METRICS_ROUTES_MAX];
};

static void
metrics_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static uint64_t
metrics_load(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

struct metrics *
metrics_create(size_t nroutes, const char *const *names)
{
	struct metrics *m;

	if (nroutes > METRICS_ROUTES_MAX)
		return NULL;
	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	m->nroutes = nroutes;
	m->names = names;
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m != NULL)
		munmap(m, sizeof(*m));
}

void
metrics_request(struct metrics *m, size_t route, int status, double seconds)
{
	struct metrics_route *r;
	size_t i;

	if (m == NULL || route >= m->nroutes)
		return;
	r = &m->route[route];
	for (i = 0; i < METRICS_STATUS_COUNT && metrics_statuses[i] != status; i++)
		;
	metrics_add(&r->status[i], 1);
	for (i = 0; i < METRICS_BUCKET_COUNT && seconds > metrics_buckets[i]; i++)
		;
	metrics_add(&r->bucket[i], 1);
	metrics_add(&r->sum_us, seconds > 0 ? (uint64_t)(seconds * 1e6) : 0);
}

void
metrics_db_error(struct metrics *m)
{
	if (m != NULL)
		metrics_add(&m->db_errors, 1);
}

void
metrics_db_reconnect(struct metrics *m)
{
	if (m != NULL)
		metrics_add(&m->db_reconnects, 1);
}

void
metrics_worker_restart(struct metrics *m)
{
	if (m != NULL)
		metrics_add(&m->worker_restarts, 1);
}

void
metrics_workers_set(struct metrics *m, long running)
{
	if (m != NULL)
		__atomic_store_n(&m->workers, (int64_t)running, __ATOMIC_RELAXED);
}

static int
metrics_render_route(const struct metrics *m, size_t i, struct buf *out)
{
	const struct metrics_route *r = &m->route[i];
	uint64_t n, count = 0;
	size_t s;
	int rc = 0;

	for (s = 0; s <= METRICS_STATUS_COUNT && rc == 0; s++) {
		n = metrics_load(&r->status[s]);
		if (n == 0)
			continue;
		if (s < METRICS_STATUS_COUNT)
			rc = buf_appendf(out, "mpbind_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
			    m->names[i], metrics_statuses[s], (unsigned long long)n);
		else
			rc = buf_appendf(out, "mpbind_requests_total{route=\"%s\",status=\"other\"} %llu\n",
			    m->names[i], (unsigned long long)n);
	}
	return rc != 0 ? rc : (int)count;
}

static int
metrics_render_histogram(const struct metrics *m, size_t i, struct buf *out)
{
	const struct metrics_route *r = &m->route[i];
	uint64_t cumulative = 0;
	size_t b;
	int rc = 0;

	for (b = 0; b <= METRICS_BUCKET_COUNT; b++)
		cumulative += metrics_load(&r->bucket[b]);
	if (cumulative == 0)
		return 0;
	cumulative = 0;
	for (b = 0; b <= METRICS_BUCKET_COUNT && rc == 0; b++) {
		cumulative += metrics_load(&r->bucket[b]);
		if (b < METRICS_BUCKET_COUNT)
			rc = buf_appendf(out, "mpbind_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
			    m->names[i], metrics_buckets[b], (unsigned long long)cumulative);
		else
			rc = buf_appendf(out, "mpbind_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
			    m->names[i], (unsigned long long)cumulative);
	}
	if (rc == 0)
		rc = buf_appendf(out, "mpbind_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
		    "mpbind_request_duration_seconds_count{route=\"%s\"} %llu\n",
		    m->names[i], (double)metrics_load(&r->sum_us) / 1e6,
		    m->names[i], (unsigned long long)cumulative);
	return rc;
}

int
metrics_render(const struct metrics *m, struct buf *out)
{
	size_t i;
	int rc;

	if (m == NULL)
		return 0;
	rc = buf_appends(out, "# HELP mpbind_requests_total Requests answered, by route and status.\n"
	    "# TYPE mpbind_requests_total counter\n");
	for (i = 0; i < m->nroutes && rc == 0; i++)
		rc = metrics_render_route(m, i, out);
	if (rc == 0)
		rc = buf_appends(out, "# HELP mpbind_request_duration_seconds Time to answer, by route.\n"
		    "# TYPE mpbind_request_duration_seconds histogram\n");
	for (i = 0; i < m->nroutes && rc == 0; i++)
		rc = metrics_render_histogram(m, i, out);
	if (rc == 0)
		rc = buf_appendf(out,
		    "# HELP mpbind_db_errors_total Database errors, connection losses included.\n"
		    "# TYPE mpbind_db_errors_total counter\n"
		    "mpbind_db_errors_total %llu\n"
		    "# HELP mpbind_db_reconnects_total Connections re-established after a loss.\n"
		    "# TYPE mpbind_db_reconnects_total counter\n"
		    "mpbind_db_reconnects_total %llu\n"
		    "# HELP mpbind_worker_restarts_total Worker processes restarted by the master.\n"
		    "# TYPE mpbind_worker_restarts_total counter\n"
		    "mpbind_worker_restarts_total %llu\n"
		    "# HELP mpbind_workers Worker processes running.\n"
		    "# TYPE mpbind_workers gauge\n"
		    "mpbind_workers %lld\n",
		    (unsigned long long)metrics_load(&m->db_errors),
		    (unsigned long long)metrics_load(&m->db_reconnects),
		    (unsigned long long)metrics_load(&m->worker_restarts),
		    (long long)__atomic_load_n(&m->workers, __ATOMIC_RELAXED));
	return rc;
}
