/* SPDX-License-Identifier: MIT */
/*
 * worker.c: one worker process. Its threads each own a FCGX_Request, a
 * MySQL connection and a pool, and loop accept -> dispatch -> send ->
 * finish -> release. The main thread only waits for SIGTERM/SIGINT, then
 * stops the accept loops and waits for in-flight requests to finish.
 */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <mysql.h>

#include "log.h"
#include "metrics.h"
#include "request.h"
#include "router.h"
#include "banned.h"

#define WORKER_POOL_MAX (16 * 1024 * 1024)

/* What a worker process's threads share; lives on the main thread's stack. */
struct worker_process {
	const struct app *app;
	atomic_bool stopping;
	atomic_int running;		/* threads still in their loop */
};

struct worker_thread {
	struct worker_process *proc;
	struct worker w;
	pthread_t id;
	bool started;
};

void
worker_init(struct worker *w, const struct app *app, unsigned index)
{
	w->app = app;
	w->index = index;
	db_init(&w->db, &app->cfg, app->metrics);
	pool_init(&w->pool, WORKER_POOL_MAX);
	http_init(&w->http, &app->cfg);
}

void
worker_release(struct worker *w)
{
	db_release(&w->db);
	pool_release(&w->pool);
	http_release(&w->http);
}

static void
worker_serve(struct worker *w, FCGX_Request *fcgx)
{
	struct request r;
	int rc;

	rc = request_init(&r, fcgx, w);
	if (rc == ERR_OK)
		router_dispatch(&r);
	else
		router_reply_error(&r, rc);
	request_send(&r);
	metrics_request(w->app->metrics, r.route_index, r.status, request_elapsed(&r));
	FCGX_Finish_r(fcgx);
	request_release(&r);
}

static void *
worker_thread_main(void *arg)
{
	struct worker_thread *t = arg;
	FCGX_Request fcgx;

	mysql_thread_init();
	FCGX_InitRequest(&fcgx, t->proc->app->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!atomic_load(&t->proc->stopping)) {
		if (FCGX_Accept_r(&fcgx) < 0) {
			if (atomic_load(&t->proc->stopping))
				break;
			if (errno != EINTR) {
				struct timespec pause = { 0, 10 * 1000 * 1000 };

				nanosleep(&pause, NULL);
			}
			continue;
		}
		worker_serve(&t->w, &fcgx);
	}
	FCGX_Free(&fcgx, 1);
	worker_release(&t->w);
	mysql_thread_end();
	atomic_fetch_sub(&t->proc->running, 1);
	return NULL;
}

/* Interrupts accept(2): FCGI_FAIL_ACCEPT_ON_INTR makes it return. */
static void
worker_wakeup(int sig)
{
	(void)sig;
}

int
worker_process_run(const struct app *app)
{
	struct worker_process proc = { .app = app };
	struct worker_thread *threads;
	struct sigaction sa;
	struct timespec pause = { 0, 20 * 1000 * 1000 }, start, now;
	sigset_t stop;
	long i, n = app->cfg.threads;
	int sig;

	FCGX_Init();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_wakeup;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	threads = calloc((size_t)n, sizeof(*threads));
	if (threads == NULL)
		fatal("worker: threads");
	atomic_init(&proc.stopping, false);
	atomic_init(&proc.running, 0);
	for (i = 0; i < n; i++) {
		threads[i].proc = &proc;
		worker_init(&threads[i].w, app, (unsigned)i);
		atomic_fetch_add(&proc.running, 1);
		if (pthread_create(&threads[i].id, NULL, worker_thread_main, &threads[i]) != 0) {
			atomic_fetch_sub(&proc.running, 1);
			worker_release(&threads[i].w);
			log_warn("worker: thread %ld", i);
			continue;
		}
		threads[i].started = true;
	}

	while (sigwait(&stop, &sig) != 0)
		;
	log_info("worker: draining on signal %d", sig);
	atomic_store(&proc.stopping, true);
	FCGX_ShutdownPending();
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (atomic_load(&proc.running) == 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* Whole seconds would cut a 1 s drain to anything above 0 s. */
		if ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9 >=
		    (double)app->cfg.drain_timeout) {
			log_warnx("worker: %d threads still busy after %lds; exiting",
			    atomic_load(&proc.running), app->cfg.drain_timeout);
			_exit(1);
		}
		/* Threads idle in accept(2) wake up; busy ones finish first. */
		for (i = 0; i < n; i++)
			if (threads[i].started)
				pthread_kill(threads[i].id, SIGUSR1);
		nanosleep(&pause, NULL);
	}
	for (i = 0; i < n; i++)
		if (threads[i].started)
			pthread_join(threads[i].id, NULL);
	free(threads);
	return 0;
}
