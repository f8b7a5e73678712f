/* SPDX-License-Identifier: MIT */
/*
 * meterd.c: mpbind-meterd, the background worker. One thread per AWS
 * listing with an SQS queue long-polls it and hands every message to the
 * same notification handler the HTTPS endpoint uses, deleting a message
 * only once its effect is committed (or it was refused for good). A
 * message that keeps failing for now is received again after the
 * visibility timeout; after sqs.max_receives receives it is recorded as
 * refused and deleted, so nothing is retried forever. The main thread runs
 * the periodic passes: grace windows that ended become suspensions, and
 * refused notifications older than sns.rejected_days are deleted. Several
 * copies may run at once: rows are leased with SELECT ... FOR UPDATE SKIP
 * LOCKED, never through a leader.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <mysql.h>
#include <sodium.h>

#include "config.h"
#include "db.h"
#include "error.h"
#include "events.h"
#include "log.h"
#include "marketplace.h"
#include "meter.h"
#include "notify.h"
#include "sqs.h"
#include "worker.h"
#include "banned.h"

#define METERD_POLLERS_MAX 2

struct meterd {
	struct app app;
	atomic_bool stop;
	bool once;
};

struct meterd_poller {
	struct meterd *d;
	const char *partition;
	const struct config_aws *listing;
	struct worker w;
	pthread_t id;
};

static void
usage(void)
{
	fprintf(stderr, "usage: mpbind-meterd [-c config] [-p pid_file] [--once]\n");
	exit(2);
}

/* Sleeps up to seconds, waking early when the daemon stops. */
static void
meterd_pause(struct meterd *d, long seconds)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	long i;

	for (i = 0; i < seconds * 10 && !atomic_load(&d->stop); i++)
		nanosleep(&tick, NULL);
}

/* One ReceiveMessage and the handling of what it brought. */
static int
meterd_poll_once(struct meterd_poller *p)
{
	struct sqs_message batch[SQS_BATCH];
	const struct config *cfg = &p->d->app.cfg;
	const char *reason;
	size_t n, i;
	int rc;

	rc = sqs_receive(&p->w, p->listing, p->d->once ? 0 : cfg->sqs_wait, cfg->sqs_visibility,
	    &p->d->stop, batch, &n);
	if (rc != ERR_OK)
		return rc;
	for (i = 0; i < n; i++) {
		rc = notify_handle(&p->w, p->partition, batch[i].body, batch[i].len, "sqs");
		/* Applied, recorded, or refused for good: done with it. Otherwise
		 * leave it; it becomes visible again after the visibility timeout,
		 * until it has been received sqs.max_receives times. */
		if (rc != ERR_OK && rc != ERR_SNS_REJECTED && batch[i].receive_count >= cfg->sqs_max_receives) {
			reason = pool_printf(&p->w.pool, "still failing after %ld receives: %s",
			    batch[i].receive_count, error_code(rc));
			if (reason != NULL && notify_give_up(&p->w, p->partition, batch[i].body, batch[i].len,
			    "sqs", reason) == ERR_OK)
				rc = ERR_OK;
		}
		if (rc == ERR_OK || rc == ERR_SNS_REJECTED)
			rc = sqs_delete(&p->w, p->listing, batch[i].receipt);
		else
			log_warnx("meterd: %s message kept for redelivery (received %ld times): %s", p->partition,
			    batch[i].receive_count, error_code(rc));
	}
	return ERR_OK;
}

static void *
meterd_poll_main(void *arg)
{
	struct meterd_poller *p = arg;
	long backoff = 1;

	mysql_thread_init();
	while (!atomic_load(&p->d->stop)) {
		pool_reset(&p->w.pool);
		if (meterd_poll_once(p) == ERR_OK) {
			backoff = 1;
		} else if (!atomic_load(&p->d->stop)) {
			log_warnx("meterd: polling %s failed; again in %lds", p->partition, backoff);
			meterd_pause(p->d, backoff);
			backoff = backoff < 30 ? backoff * 2 : 30;
		}
		if (p->d->once)
			break;
	}
	worker_release(&p->w);
	mysql_thread_end();
	return NULL;
}

static int
meterd_grace_tx(void *arg)
{
	struct worker *w = arg;
	struct db_result due;
	size_t i;
	int rc;

	rc = db_run(&w->db, &w->pool, STMT_GRACE_DUE_LEASE, &due, DB_NOARGS);
	for (i = 0; rc == ERR_OK && i < due.nrows; i++) {
		rc = db_run(&w->db, &w->pool, STMT_ORG_BILLING_SUSPEND, NULL, DB_ARGS(DB_TEXT(db_text(&due, i, 0))));
		if (rc == ERR_OK)
			rc = events_record(&w->db, &w->pool, db_text(&due, i, 0), 0, "system", "billing.suspended",
			    "reason", "grace_ended", NULL);	/* a code: the page says it in the reader's language */
	}
	if (rc == ERR_OK && due.nrows > 0)
		log_info("meterd: %zu orgs suspended after their grace window", due.nrows);
	return rc;
}

/* Deletes refused notifications older than sns.rejected_days, a batch at a time. */
static int
meterd_prune_rejected(struct worker *w)
{
	struct db_result res;
	unsigned long long total = 0;
	int batch, rc = ERR_OK;

	for (batch = 0; batch < 100 && rc == ERR_OK; batch++) {
		pool_reset(&w->pool);
		rc = db_run(&w->db, &w->pool, STMT_INBOX_REJECTED_PRUNE, &res,
		    DB_ARGS(DB_INT(w->app->cfg.sns_rejected_days)));
		if (rc != ERR_OK || res.affected == 0)
			break;
		total += res.affected;
	}
	if (total > 0)
		log_info("meterd: %llu refused notifications pruned", total);
	return rc;
}

/*
 * The periodic work of one pass: grace windows that ended, refused
 * notifications past their keeping time, closed usage hours into the
 * ledger, then each marketplace sends what is due.
 */
static void
meterd_pass(struct meterd *d, struct worker *w)
{
	const struct marketplace *mp;
	size_t i;
	int rc;

	pool_reset(&w->pool);
	rc = db_transaction(&w->db, meterd_grace_tx, w);
	if (rc != ERR_OK)
		log_warnx("meterd: grace pass failed: %s", error_code(rc));
	rc = meterd_prune_rejected(w);
	if (rc != ERR_OK)
		log_warnx("meterd: pruning refused notifications failed: %s", error_code(rc));
	pool_reset(&w->pool);
	rc = meter_build(w);
	if (rc != ERR_OK)
		log_warnx("meterd: building usage hours failed: %s", error_code(rc));
	for (i = 0; (mp = marketplace_at(i)) != NULL && !atomic_load(&d->stop); i++) {
		if (mp->meter_send == NULL || !mp->enabled(&d->app.cfg))
			continue;
		pool_reset(&w->pool);
		rc = mp->meter_send(w);
		if (rc != ERR_OK)
			log_warnx("meterd: sending %s metering failed: %s", mp->id, error_code(rc));
	}
}

static void
meterd_start_pollers(struct meterd *d, struct meterd_poller *pollers, size_t *n)
{
	static const char *const partitions[] = { "aws-cn", "aws" };
	const struct config_aws *l;
	size_t i;

	*n = 0;
	for (i = 0; i < sizeof(partitions) / sizeof(partitions[0]) && *n < METERD_POLLERS_MAX; i++) {
		l = config_aws_listing(&d->app.cfg, partitions[i]);
		if (!l->enabled || l->sqs_url[0] == '\0' || l->sqs_queue_url[0] == '\0')
			continue;
		pollers[*n].d = d;
		pollers[*n].partition = partitions[i];
		pollers[*n].listing = l;
		worker_init(&pollers[*n].w, &d->app, (unsigned)(*n + 1));
		if (pthread_create(&pollers[*n].id, NULL, meterd_poll_main, &pollers[*n]) != 0)
			fatal("meterd: poller thread");
		log_info("meterd: polling %s notifications from SQS", partitions[i]);
		(*n)++;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "once", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct meterd_poller pollers[METERD_POLLERS_MAX];
	struct meterd d;
	struct worker w;
	const char *config_path = NULL, *pid_file = NULL;
	enum log_level level;
	struct timespec interval;
	sigset_t stop;
	size_t npollers, i;
	int ch, sig;

	memset(&d, 0, sizeof(d));
	while ((ch = getopt_long(argc, argv, "c:p:o", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'p':
			pid_file = optarg;
			break;
		case 'o':
			d.once = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (sodium_init() < 0 || config_load(&d.app.cfg, config_path, stderr) != 0)
		return 1;
	log_level_parse(d.app.cfg.log_level, &level);
	if (log_init(d.app.cfg.log_file, level, "mpbind-meterd") == -1) {
		fprintf(stderr, "mpbind-meterd: log file \"%s\": %s\n", d.app.cfg.log_file, log_strerror(errno));
		return 1;
	}
	if (config_apply_timezone(&d.app.cfg) != 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    mysql_library_init(0, NULL, NULL) != 0)
		fatalx("initialisation failed");
	atomic_init(&d.stop, false);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_pidfile(pid_file);
	log_info("started");

	mysql_thread_init();
	worker_init(&w, &d.app, 0);
	meterd_start_pollers(&d, pollers, &npollers);
	interval.tv_sec = d.app.cfg.meterd_interval;
	interval.tv_nsec = 0;
	for (;;) {
		meterd_pass(&d, &w);
		if (d.once)
			break;
		sig = sigtimedwait(&stop, NULL, &interval);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("stopping on signal %d", sig);
			break;
		}
	}
	atomic_store(&d.stop, true);
	for (i = 0; i < npollers; i++)
		pthread_join(pollers[i].id, NULL);
	worker_release(&w);
	mysql_thread_end();
	if (pid_file != NULL)
		unlink(pid_file);
	config_release(&d.app.cfg);
	log_info("stopped");
	return 0;
}
