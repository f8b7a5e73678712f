/* SPDX-License-Identifier: MIT */
/*
 * bare.c: the bench's reference FastCGI worker, what libfcgi and libmariadb
 * alone can do on this machine with mpbind's process model: N pre-forked
 * processes x M threads on one listening socket, each thread with its own
 * FCGX_Request, MySQL connection and prepared point select. No router, no
 * request pool, no JSON library, no logging: the floor mpbind is compared
 * with. It is a benchmark tool, not part of mpbind.
 *
 *   GET /bare/nodb       200 {"status":"ok"}
 *   GET /bare/db?id=N    200 {"id":N,"email":"..."}; 404 when no such user;
 *                        503 on a database error (the next request reconnects)
 *   anything else        404
 *
 * usage: bench-bare -s SOCKET [-w WORKERS] [-t THREADS]; the database comes
 * from BARE_DB_SOCKET, BARE_DB_USER, BARE_DB_PASSWORD and BARE_DB_NAME.
 * SIGTERM or SIGINT to the master stops the workers and removes the socket.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <mysql.h>

#include "banned.h"

#define BARE_BACKLOG 1024		/* as mpbind's master */
#define BARE_MAX_WORKERS 64
#define BARE_EMAIL_MAX 254
#define BARE_QUERY "SELECT id, email FROM users WHERE id = ?"
#define BARE_NODB_BODY "{\"status\":\"ok\"}"

/* The database settings, read once in the master; immutable afterwards. */
struct bare_db_config {
	const char *socket;
	const char *user;
	const char *password;
	const char *name;
};

/* One serving thread: its request, connection and statement. */
struct bare_thread {
	pthread_t id;
	int listen_fd;
	const struct bare_db_config *db;
	MYSQL *conn;			/* NULL until connected */
	MYSQL_STMT *stmt;		/* prepared BARE_QUERY on conn */
};

static void
bare_fatal(const char *what)
{
	int saved = errno;

	fputs("bench-bare: ", stderr);
	errno = saved;
	perror(what);
	exit(1);
}

/* Closes the thread's connection; the next request reconnects. */
static void
bare_db_release(struct bare_thread *t)
{
	if (t->stmt != NULL)
		mysql_stmt_close(t->stmt);
	if (t->conn != NULL)
		mysql_close(t->conn);
	t->stmt = NULL;
	t->conn = NULL;
}

/* Connects and prepares BARE_QUERY unless already done. true on success. */
static bool
bare_db_connect(struct bare_thread *t)
{
	my_bool no = 0;

	if (t->stmt != NULL)
		return true;
	t->conn = mysql_init(NULL);
	if (t->conn == NULL)
		return false;
	mysql_options(t->conn, MYSQL_OPT_RECONNECT, &no);
	mysql_options(t->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(t->conn, "localhost", t->db->user, t->db->password, t->db->name, 0,
	    t->db->socket, 0) == NULL)
		goto fail;
	t->stmt = mysql_stmt_init(t->conn);
	if (t->stmt == NULL)
		goto fail;
	if (mysql_stmt_prepare(t->stmt, BARE_QUERY, sizeof(BARE_QUERY) - 1) != 0)
		goto fail;
	return true;
fail:
	fprintf(stderr, "bench-bare: database: %s\n", mysql_error(t->conn));
	bare_db_release(t);
	return false;
}

/*
 * Looks up user id: 1 found (email filled, NUL-terminated), 0 not found,
 * -1 database error (the connection is dropped).
 */
static int
bare_db_user(struct bare_thread *t, long long id, char email[BARE_EMAIL_MAX + 1])
{
	MYSQL_BIND param, result[2];
	long long got_id = 0;
	unsigned long email_len = 0;
	int rc, found = 0;

	if (!bare_db_connect(t))
		return -1;
	memset(&param, 0, sizeof(param));
	param.buffer_type = MYSQL_TYPE_LONGLONG;
	param.buffer = &id;
	memset(result, 0, sizeof(result));
	result[0].buffer_type = MYSQL_TYPE_LONGLONG;
	result[0].buffer = &got_id;
	result[1].buffer_type = MYSQL_TYPE_STRING;
	result[1].buffer = email;
	result[1].buffer_length = BARE_EMAIL_MAX + 1;
	result[1].length = &email_len;
	if (mysql_stmt_bind_param(t->stmt, &param) != 0 || mysql_stmt_execute(t->stmt) != 0 ||
	    mysql_stmt_bind_result(t->stmt, result) != 0)
		goto fail;
	while ((rc = mysql_stmt_fetch(t->stmt)) == 0 || rc == MYSQL_DATA_TRUNCATED)
		found = 1;
	if (rc != MYSQL_NO_DATA)
		goto fail;
	mysql_stmt_free_result(t->stmt);
	if (found)
		email[email_len <= BARE_EMAIL_MAX ? email_len : BARE_EMAIL_MAX] = '\0';
	return found;
fail:
	fprintf(stderr, "bench-bare: query: %s\n", mysql_stmt_error(t->stmt));
	bare_db_release(t);
	return -1;
}

/* Sends a complete answer; body is JSON of body_len bytes. */
static void
bare_reply(FCGX_Request *req, int status, const char *reason, const char *body, size_t body_len)
{
	char head[160];
	int n;

	n = snprintf(head, sizeof(head), "Status: %d %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n", status, reason, body_len);
	FCGX_PutStr(head, n, req->out);
	FCGX_PutStr(body, (int)body_len, req->out);
}

/* Sends {"error":message}; message needs no escaping. */
static void
bare_reply_error(FCGX_Request *req, int status, const char *reason, const char *message)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", message);

	bare_reply(req, status, reason, body, (size_t)n);
}

/* Copies s into out as the inside of a JSON string; false if it does not fit. */
static bool
bare_json_escape(char *out, size_t size, const char *s)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (size - o < 7)
			return false;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, size - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return true;
}

/* The id=N parameter of a query string, or 1. */
static long long
bare_query_id(const char *query)
{
	const char *p = query;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, "id=", 3) == 0)
			return strtoll(p + 3, NULL, 10);
		p = strchr(p, '&');
		if (p != NULL)
			p++;
	}
	return 1;
}

static void
bare_serve(struct bare_thread *t, FCGX_Request *req)
{
	const char *path = FCGX_GetParam("DOCUMENT_URI", req->envp);
	char email[BARE_EMAIL_MAX + 1], escaped[6 * BARE_EMAIL_MAX + 8], body[sizeof(escaped) + 64];
	long long id;
	int n, found;

	if (path != NULL && strcmp(path, "/bare/nodb") == 0) {
		bare_reply(req, 200, "OK", BARE_NODB_BODY, sizeof(BARE_NODB_BODY) - 1);
		return;
	}
	if (path == NULL || strcmp(path, "/bare/db") != 0) {
		bare_reply_error(req, 404, "Not Found", "not found");
		return;
	}
	id = bare_query_id(FCGX_GetParam("QUERY_STRING", req->envp));
	found = bare_db_user(t, id, email);
	if (found < 0) {
		bare_reply_error(req, 503, "Service Unavailable", "db error");
		return;
	}
	if (found == 0) {
		bare_reply_error(req, 404, "Not Found", "no such user");
		return;
	}
	if (!bare_json_escape(escaped, sizeof(escaped), email)) {
		bare_reply_error(req, 500, "Internal Server Error", "too long");
		return;
	}
	n = snprintf(body, sizeof(body), "{\"id\":%lld,\"email\":\"%s\"}", id, escaped);
	bare_reply(req, 200, "OK", body, (size_t)n);
}

static void *
bare_thread_main(void *arg)
{
	struct bare_thread *t = arg;
	FCGX_Request req;

	mysql_thread_init();
	FCGX_InitRequest(&req, t->listen_fd, 0);
	bare_db_connect(t);	/* connect before the first request; failures retry per request */
	for (;;) {
		if (FCGX_Accept_r(&req) < 0) {
			if (errno != EINTR)
				usleep(10000);
			continue;
		}
		bare_serve(t, &req);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

/* A worker process: threads serve; the main thread waits for SIGTERM. */
static void
bare_worker_run(int listen_fd, long nthreads, const struct bare_db_config *db)
{
	struct bare_thread *threads;
	sigset_t stop;
	long i;
	int sig;

	if (FCGX_Init() != 0 || mysql_library_init(0, NULL, NULL) != 0)
		bare_fatal("library init");
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);	/* after FCGX_Init: see machine-proof G2 */
	threads = calloc((size_t)nthreads, sizeof(*threads));
	if (threads == NULL)
		bare_fatal("threads");
	for (i = 0; i < nthreads; i++) {
		threads[i].listen_fd = listen_fd;
		threads[i].db = db;
		if (pthread_create(&threads[i].id, NULL, bare_thread_main, &threads[i]) != 0)
			bare_fatal("pthread_create");
	}
	while (sigwait(&stop, &sig) != 0)
		;
	_exit(0);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-bare -s socket [-w workers] [-t threads]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct bare_db_config db = {
		getenv("BARE_DB_SOCKET"), getenv("BARE_DB_USER"), getenv("BARE_DB_PASSWORD"),
		getenv("BARE_DB_NAME"),
	};
	pid_t pids[BARE_MAX_WORKERS];
	const char *socket_path = NULL;
	long nworkers = 2, nthreads = 4, i;
	sigset_t stop;
	int ch, fd, sig;

	while ((ch = getopt(argc, argv, "s:w:t:")) != -1) {
		switch (ch) {
		case 's': socket_path = optarg; break;
		case 'w': nworkers = strtol(optarg, NULL, 10); break;
		case 't': nthreads = strtol(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (socket_path == NULL || nworkers < 1 || nworkers > BARE_MAX_WORKERS || nthreads < 1 ||
	    nthreads > 64 || db.socket == NULL || db.user == NULL || db.name == NULL)
		usage();
	unlink(socket_path);
	fd = FCGX_OpenSocket(socket_path, BARE_BACKLOG);
	if (fd < 0)
		bare_fatal("listen");
	if (chmod(socket_path, 0666) == -1)	/* nginx's workers run as nobody */
		bare_fatal("chmod");
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	for (i = 0; i < nworkers; i++) {
		pids[i] = fork();
		if (pids[i] == -1)
			bare_fatal("fork");
		if (pids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			bare_worker_run(fd, nthreads, &db);
		}
	}
	while (sigwait(&stop, &sig) != 0)
		;
	for (i = 0; i < nworkers; i++)
		kill(pids[i], SIGTERM);
	for (i = 0; i < nworkers; i++)
		waitpid(pids[i], NULL, 0);
	unlink(socket_path);
	return 0;
}
