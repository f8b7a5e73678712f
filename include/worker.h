/* SPDX-License-Identifier: MIT */
/*
 * worker.h: the process-wide application state (struct app, read-only once
 * the master has forked) and one worker thread's context (struct worker).
 *
 * A worker process runs config.threads threads; each owns a struct worker
 * with its MySQL connection, its request pool and its outbound HTTP handle.
 * Nothing else is kept between requests.
 */
#ifndef MPBIND_WORKER_H
#define MPBIND_WORKER_H

#include "config.h"
#include "db.h"
#include "http.h"
#include "pool.h"
#include "ticket.h"

struct metrics;

struct app {
	struct config cfg;
	struct ticket_keys keys;
	char dummy_hash[128];		/* Argon2id of a random password: unknown e-mails cost the same */
	struct metrics *metrics;	/* shared mapping, made before fork */
	int listen_fd;
};

struct worker {
	const struct app *app;		/* borrowed */
	struct db db;
	struct pool pool;
	struct http http;
	unsigned index;
};

/* Sets up w for app; opens nothing yet (the database connects lazily). */
void worker_init(struct worker *w, const struct app *app, unsigned index);

/* Closes the connection and frees the pool and HTTP handle. */
void worker_release(struct worker *w);

/*
 * Runs one worker process: threads accepting on app->listen_fd until
 * SIGTERM or SIGINT, then drains in-flight requests for at most
 * drain_timeout seconds. Returns the process exit status.
 */
int worker_process_run(const struct app *app);

#endif
