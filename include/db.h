/* SPDX-License-Identifier: MIT */
/*
 * db.h: one MySQL connection and its prepared statements, owned by one
 * thread. Every runtime statement is named in stmt.h and prepared once per
 * connection; values are always bound, never formatted into SQL.
 *
 * The connection is opened lazily. When the server goes away (restart,
 * kill, timeout) the next call reconnects and re-prepares everything;
 * MYSQL_OPT_RECONNECT is never used. A statement that fails because the
 * connection was lost outside a transaction is run once more on a fresh
 * connection only when that cannot apply it twice: it is a SELECT, or the
 * error shows it never reached the server (the client could not send it,
 * or the server did not know the statement). A write whose answer was lost
 * may have been applied: it fails with ERR_DB, and the caller decides.
 * Inside a transaction nothing is retried: the transaction is marked
 * broken, every later db_run() fails with ERR_DB until db_rollback().
 *
 * Result cells are copied into the caller's pool and die with it.
 *
 * Lock order. A transaction that locks rows of several of these tables
 * locks them in this order, so two of them never wait on each other in a
 * circle: binding attempt, subscription, org, membership, binding. A row
 * needed before its turn (an org's subscription, found through its
 * binding) is first read without a lock, locked in its turn and checked
 * again once the later locks are held; if it changed, the transaction runs
 * again. Confirming a binding, unbinding (binding.h: the billing page and
 * mpbindctl unbind), the Alibaba SPI and the AWS notifications
 * (notify.c, ending a subscription's bindings) follow it.
 */
#ifndef MPBIND_DB_H
#define MPBIND_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "stmt.h"

struct config;
struct metrics;
struct pool;
typedef struct st_mysql MYSQL;
typedef struct st_mysql_stmt MYSQL_STMT;

struct db {
	MYSQL *conn;			/* NULL while disconnected */
	MYSQL_STMT *stmt[STMT_COUNT];
	const struct config *cfg;	/* borrowed */
	struct metrics *metrics;	/* borrowed; may be NULL */
	unsigned long connects;		/* successful connects so far */
	bool in_tx;
	bool tx_broken;
};

enum db_param_type { DB_PARAM_NULL, DB_PARAM_INT, DB_PARAM_TEXT };

struct db_param {
	enum db_param_type type;
	long long i;
	const char *s;
	size_t len;
};

#define DB_INT(v) ((struct db_param){ .type = DB_PARAM_INT, .i = (long long)(v) })
#define DB_TEXT(v) ((struct db_param){ .type = DB_PARAM_TEXT, .s = (v), .len = strlen(v) })
#define DB_BYTES(v, n) ((struct db_param){ .type = DB_PARAM_TEXT, .s = (const char *)(v), .len = (n) })
#define DB_NULL ((struct db_param){ .type = DB_PARAM_NULL })
/* NULL when v is NULL, text otherwise. */
#define DB_TEXT_OR_NULL(v) ((v) != NULL ? DB_TEXT(v) : DB_NULL)

/* Expands to "array, count" for db_run's last two arguments. */
#define DB_ARGS(...) (const struct db_param[]){ __VA_ARGS__ }, \
	(sizeof((const struct db_param[]){ __VA_ARGS__ }) / sizeof(struct db_param))
#define DB_NOARGS NULL, 0

struct db_result {
	size_t nrows;
	size_t ncols;
	char **cells;		/* nrows * ncols, row-major; NULL for SQL NULL */
	size_t *lengths;	/* byte length of each cell */
	unsigned long long affected;
	unsigned long long insert_id;
};

/* Sets up a disconnected handle; allocates nothing. */
void db_init(struct db *db, const struct config *cfg, struct metrics *metrics);

/* Closes the connection and its statements. */
void db_release(struct db *db);

/* Connects (if needed) and prepares every statement. ERR_OK or ERR_DB. */
int db_connect(struct db *db);

/*
 * Opens a bare connection with mpbind's session settings (UTC, strict SQL
 * mode, READ COMMITTED, utf8mb4; never MYSQL_OPT_RECONNECT) and client
 * flags. bounded: reads and writes time out after db.timeout too, as a
 * worker's must (a migration may run long). NULL on failure, the server's
 * or client's reason in err. db_connect uses it; so does migrate.
 */
MYSQL *db_open(const struct config *cfg, bool bounded, unsigned long flags, char *err, size_t errlen);

/*
 * Executes statement id with params. res may be NULL when no rows are
 * wanted. Returns ERR_OK; ERR_DB_DUPLICATE for a duplicate key;
 * ERR_DB_DEADLOCK for a deadlock or lock wait timeout (the transaction, if
 * any, was rolled back by the server: call db_rollback and retry the whole
 * transaction); ERR_DB when the database is unavailable or the statement
 * failed; ERR_NOMEM when the pool is exhausted.
 */
int db_run(struct db *db, struct pool *pool, enum stmt_id id, struct db_result *res,
    const struct db_param *params, size_t nparams);

/* Transactions. db_begin: ERR_OK or ERR_DB. db_commit: ERR_OK, ERR_DB or
 * ERR_DB_DEADLOCK; on failure the transaction is rolled back. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/*
 * Runs fn(arg) inside a transaction and commits when it returns ERR_OK;
 * otherwise rolls back and returns its error. A deadlock or lock wait
 * timeout (in fn or at commit) reruns the whole transaction, up to three
 * times, so fn must have no effect outside the database before commit.
 */
int db_transaction(struct db *db, int (*fn)(void *arg), void *arg);

/* Cell accessors; NULL / 0 for SQL NULL or out of range. Borrowed. */
const char *db_text(const struct db_result *res, size_t row, size_t col);
long long db_int(const struct db_result *res, size_t row, size_t col);
bool db_is_null(const struct db_result *res, size_t row, size_t col);

/* The name of statement id, for logs. Static. */
const char *db_stmt_name(enum stmt_id id);

#endif
