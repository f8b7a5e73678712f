/* SPDX-License-Identifier: MIT */
/*
 * main.c: mpbind-fcgi, the master. It reads the configuration, opens the
 * listening socket, maps the shared metrics, pre-forks the worker processes
 * and restarts any that dies. SIGTERM/SIGINT drains the workers and exits.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>
#include <mysql.h>
#include <sodium.h>

#include "auth.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "worker.h"
#include "banned.h"

#define MASTER_WORKERS_MAX 64
#define MASTER_BACKLOG 1024

struct master {
	struct app app;
	const char *socket_path;	/* unix socket to remove at exit, or NULL */
	pid_t pid[MASTER_WORKERS_MAX];
	time_t started[MASTER_WORKERS_MAX];
	time_t restart_at[MASTER_WORKERS_MAX];
	bool stopping;
};

static void
usage(void)
{
	fprintf(stderr, "usage: mpbind-fcgi [-c config] [--check-config]\n");
	exit(2);
}

static int
master_listen(struct master *m)
{
	const struct config *cfg = &m->app.cfg;
	const char *addr = cfg->listen;
	struct stat st;
	int fd;

	if (strncmp(addr, "unix:", 5) == 0) {
		addr += 5;
		if (lstat(addr, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(addr);
		m->socket_path = addr;
	}
	fd = FCGX_OpenSocket(addr, MASTER_BACKLOG);
	if (fd < 0)
		fatal("listen on \"%s\"", cfg->listen);
	if (m->socket_path != NULL && chmod(m->socket_path, (mode_t)cfg->listen_mode) == -1)
		fatal("chmod \"%s\"", m->socket_path);
	return fd;
}

static void
master_spawn(struct master *m, long slot)
{
	sigset_t none;
	pid_t pid;

	pid = fork();
	if (pid == -1) {
		log_warn("fork worker %ld", slot);
		m->restart_at[slot] = time(NULL) + 1;
		return;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGHUP, SIG_IGN);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		_exit(worker_process_run(&m->app));
	}
	m->pid[slot] = pid;
	m->started[slot] = time(NULL);
	m->restart_at[slot] = 0;
}

static long
master_running(const struct master *m)
{
	long i, n = 0;

	for (i = 0; i < m->app.cfg.workers; i++)
		if (m->pid[i] > 0)
			n++;
	return n;
}

static void
master_reap(struct master *m)
{
	int status;
	pid_t pid;
	long i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < m->app.cfg.workers; i++) {
			if (m->pid[i] != pid)
				continue;
			m->pid[i] = 0;
			if (m->stopping)
				break;
			if (WIFSIGNALED(status))
				log_warnx("worker %ld (pid %ld) killed by signal %d", i, (long)pid,
				    WTERMSIG(status));
			else
				log_warnx("worker %ld (pid %ld) exited with %d", i, (long)pid,
				    WEXITSTATUS(status));
			metrics_worker_restart(m->app.metrics);
			/* A worker that dies at once is restarted after a pause. */
			m->restart_at[i] = time(NULL) - m->started[i] < 1 ? time(NULL) + 1 : 0;
			if (m->restart_at[i] == 0)
				master_spawn(m, i);
		}
	}
	metrics_workers_set(m->app.metrics, master_running(m));
}

/*
 * Sends SIGTERM to every worker, gives them drain_timeout seconds and two
 * more (a worker gives up on its own after drain_timeout), then SIGKILLs
 * whatever is left.
 */
static void
master_stop(struct master *m)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 }, deadline, now;
	long i;

	m->stopping = true;
	for (i = 0; i < m->app.cfg.workers; i++)
		if (m->pid[i] > 0)
			kill(m->pid[i], SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += m->app.cfg.drain_timeout + 2;
	for (;;) {
		master_reap(m);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (master_running(m) == 0 || now.tv_sec > deadline.tv_sec ||
		    (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec))
			break;
		nanosleep(&pause, NULL);
	}
	for (i = 0; i < m->app.cfg.workers; i++)
		if (m->pid[i] > 0) {
			log_warnx("worker %ld did not stop; killing it", i);
			kill(m->pid[i], SIGKILL);
		}
	while (waitpid(-1, NULL, 0) > 0)
		;
}

static void
master_loop(struct master *m)
{
	struct timespec tick = { 1, 0 };
	sigset_t set;
	time_t now;
	long i;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	for (;;) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("stopping on signal %d", sig);
			master_stop(m);
			return;
		}
		master_reap(m);
		now = time(NULL);
		for (i = 0; i < m->app.cfg.workers; i++)
			if (m->pid[i] == 0 && m->restart_at[i] != 0 && now >= m->restart_at[i])
				master_spawn(m, i);
		metrics_workers_set(m->app.metrics, master_running(m));
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check-config", no_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct master m;
	const char *config_path = NULL, **names;
	enum log_level level;
	bool check = false;
	sigset_t set;
	size_t nroutes;
	long i;
	int ch, rc;

	memset(&m, 0, sizeof(m));
	while ((ch = getopt_long(argc, argv, "c:n", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'n':
			check = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (sodium_init() < 0) {
		fprintf(stderr, "mpbind-fcgi: libsodium failed to initialise\n");
		return 1;
	}
	rc = config_load(&m.app.cfg, config_path, stderr);
	if (rc == 0 && ticket_keys_load(&m.app.keys, m.app.cfg.ticket_keys, stderr) != 0)
		rc = -1;
	if (check) {
		fprintf(rc == 0 ? stdout : stderr, "%s\n",
		    rc == 0 ? "configuration ok" : "configuration has errors");
		config_release(&m.app.cfg);
		return rc == 0 ? 0 : 1;
	}
	if (rc != 0)
		return 1;
	log_level_parse(m.app.cfg.log_level, &level);
	if (log_init(m.app.cfg.log_file, level, "mpbind-fcgi") == -1) {
		fprintf(stderr, "mpbind-fcgi: log file \"%s\": %s\n", m.app.cfg.log_file, log_strerror(errno));
		return 1;
	}
	if (config_apply_timezone(&m.app.cfg) != 0)
		fatal("time zone");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || mysql_library_init(0, NULL, NULL) != 0)
		fatalx("library initialisation failed");
	if (auth_init(&m.app) != 0)
		fatalx("password hashing parameters are unusable");
	nroutes = router_init(&names);
	if (nroutes == 0)
		fatalx("route tables are malformed");
	m.app.metrics = metrics_create(nroutes, names);
	if (m.app.metrics == NULL)
		fatal("metrics mapping");
	if (FCGX_Init() != 0)
		fatalx("FCGX_Init failed");
	m.app.listen_fd = master_listen(&m);

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_pidfile(m.app.cfg.pid_file);
	log_info("listening on \"%s\" with %ld workers x %ld threads", m.app.cfg.listen,
	    m.app.cfg.workers, m.app.cfg.threads);
	for (i = 0; i < m.app.cfg.workers; i++)
		master_spawn(&m, i);
	metrics_workers_set(m.app.metrics, master_running(&m));
	master_loop(&m);

	if (m.socket_path != NULL)
		unlink(m.socket_path);
	if (m.app.cfg.pid_file[0] != '\0')
		unlink(m.app.cfg.pid_file);
	log_info("stopped");
	ticket_keys_clear(&m.app.keys);
	metrics_free(m.app.metrics);
	config_release(&m.app.cfg);
	return 0;
}
