/* SPDX-License-Identifier: MIT */
/*
 * db.c: the per-thread MySQL connection: connect, prepare the statement
 * table, run statements with bound values, copy results into a pool, and
 * reconnect by itself when the server went away.
 */
#include "db.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "config.h"
#include "error.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "banned.h"

#define DB_MAX_ROWS 10000
#define DB_MAX_PARAMS 32
#define DB_MAX_COLS 64
#define DB_CELL_INITIAL 256

struct stmt_def {
	const char *name;
	const char *sql;
};

static const struct stmt_def stmt_defs[STMT_COUNT] = {
#define X(name, sql) [STMT_##name] = { #name, sql },
	STMT_LIST(X)
#undef X
};

const char *
db_stmt_name(enum stmt_id id)
{
	return id < STMT_COUNT ? stmt_defs[id].name : "?";
}

void
db_init(struct db *db, const struct config *cfg, struct metrics *metrics)
{
	memset(db, 0, sizeof(*db));
	db->cfg = cfg;
	db->metrics = metrics;
}

static void
db_close(struct db *db)
{
	size_t i;

	for (i = 0; i < STMT_COUNT; i++) {
		if (db->stmt[i] != NULL)
			mysql_stmt_close(db->stmt[i]);
		db->stmt[i] = NULL;
	}
	if (db->conn != NULL)
		mysql_close(db->conn);
	db->conn = NULL;
	if (db->in_tx)
		db->tx_broken = true;
	db->in_tx = false;
}

void
db_release(struct db *db)
{
	db_close(db);
	db->tx_broken = false;
}

/* True for errors that mean the connection is gone or unusable. */
static bool
db_lost(unsigned err)
{
	switch (err) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_LOST_EXTENDED:
	case CR_COMMANDS_OUT_OF_SYNC:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
	case ER_UNKNOWN_STMT_HANDLER:
	case ER_NET_READ_ERROR:
	case ER_NET_WRITE_INTERRUPTED:
	case ER_NET_READ_INTERRUPTED:
	case 4031:	/* ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8) */
		return true;
	default:
		return false;
	}
}

/*
 * True for errors that mean the statement never reached the server: the
 * client could not send it (2006 comes from a failed write), the client
 * refused to send it, or the server did not know the prepared statement.
 */
static bool
db_unsent(unsigned err)
{
	return err == CR_SERVER_GONE_ERROR || err == CR_COMMANDS_OUT_OF_SYNC ||
	    err == ER_UNKNOWN_STMT_HANDLER;
}

/* True for a statement that changes nothing, so running it twice is harmless. */
static bool
db_stmt_read_only(enum stmt_id id)
{
	return strncmp(stmt_defs[id].sql, "SELECT ", 7) == 0;
}

MYSQL *
db_open(const struct config *cfg, bool bounded, unsigned long flags, char *err, size_t errlen)
{
	unsigned int timeout = (unsigned int)cfg->db_timeout;
	const char *socket = cfg->db_socket[0] != '\0' ? cfg->db_socket : NULL;
	my_bool no = 0;
	MYSQL *conn = mysql_init(NULL);

	if (conn == NULL) {
		snprintf(err, errlen, "mysql_init: out of memory");
		return NULL;
	}
	mysql_options(conn, MYSQL_OPT_RECONNECT, &no);
	mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	if (bounded) {
		mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &timeout);
		mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	}
	mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(conn, MYSQL_INIT_COMMAND,
	    "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,"
	    "NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'");
	mysql_options(conn, MYSQL_INIT_COMMAND,
	    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	if (mysql_real_connect(conn, socket != NULL ? "localhost" : cfg->db_host,
	    cfg->db_user, cfg->db_password, cfg->db_name, (unsigned)cfg->db_port,
	    socket, flags) == NULL) {
		snprintf(err, errlen, "%s", mysql_error(conn));
		mysql_close(conn);
		return NULL;
	}
	return conn;
}

int
db_connect(struct db *db)
{
	const struct config *cfg = db->cfg;
	char err[256];
	size_t i;

	if (db->conn != NULL)
		return ERR_OK;
	db->conn = db_open(cfg, true, 0, err, sizeof(err));
	if (db->conn == NULL) {
		log_warnx("db: connect to \"%s\" failed: %s", cfg->db_name, err);
		goto fail;
	}
	for (i = 0; i < STMT_COUNT; i++) {
		db->stmt[i] = mysql_stmt_init(db->conn);
		if (db->stmt[i] == NULL) {
			log_warnx("db: statement \"%s\": out of memory", stmt_defs[i].name);
			goto fail;
		}
		if (mysql_stmt_prepare(db->stmt[i], stmt_defs[i].sql, strlen(stmt_defs[i].sql)) != 0) {
			log_warnx("db: prepare \"%s\": %s", stmt_defs[i].name,
			    mysql_stmt_error(db->stmt[i]));
			goto fail;
		}
	}
	if (db->connects++ > 0) {
		metrics_db_reconnect(db->metrics);
		log_info("db: reconnected to \"%s\"", cfg->db_name);
	}
	return ERR_OK;
fail:
	metrics_db_error(db->metrics);
	db_close(db);
	return ERR_DB;
}

static int
db_store_rows(MYSQL_STMT *st, struct pool *pool, struct db_result *res, size_t ncols)
{
	MYSQL_BIND bind[DB_MAX_COLS];
	unsigned long length[DB_MAX_COLS];
	my_bool is_null[DB_MAX_COLS], error[DB_MAX_COLS];
	char *cell[DB_MAX_COLS];
	size_t rows, alloc = 0, c;
	char **cells = NULL, **grown;
	size_t *lengths = NULL, *grown_len;
	int rc;

	memset(bind, 0, sizeof(bind[0]) * ncols);
	for (c = 0; c < ncols; c++) {
		cell[c] = pool_alloc(pool, DB_CELL_INITIAL);
		if (cell[c] == NULL)
			return ERR_NOMEM;
		bind[c].buffer_type = MYSQL_TYPE_STRING;
		bind[c].buffer = cell[c];
		bind[c].buffer_length = DB_CELL_INITIAL - 1;
		bind[c].length = &length[c];
		bind[c].is_null = &is_null[c];
		bind[c].error = &error[c];
	}
	if (mysql_stmt_bind_result(st, bind) != 0)
		return ERR_DB;
	for (rows = 0;; rows++) {
		rc = mysql_stmt_fetch(st);
		if (rc == MYSQL_NO_DATA)
			break;
		if (rc == 1)
			return ERR_DB;
		if (rows == DB_MAX_ROWS) {
			log_warnx("db: result has more than %d rows", DB_MAX_ROWS);
			return ERR_DB;
		}
		if (rows == alloc) {
			alloc = alloc != 0 ? alloc * 2 : 8;
			grown = pool_alloc(pool, alloc * ncols * sizeof(*grown));
			grown_len = pool_alloc(pool, alloc * ncols * sizeof(*grown_len));
			if (grown == NULL || grown_len == NULL)
				return ERR_NOMEM;
			if (rows > 0) {
				memcpy(grown, cells, rows * ncols * sizeof(*grown));
				memcpy(grown_len, lengths, rows * ncols * sizeof(*grown_len));
			}
			cells = grown;
			lengths = grown_len;
		}
		for (c = 0; c < ncols; c++) {
			char **out = &cells[rows * ncols + c];

			lengths[rows * ncols + c] = length[c];
			if (is_null[c]) {
				*out = NULL;
				continue;
			}
			if (length[c] < DB_CELL_INITIAL) {
				*out = pool_strndup(pool, cell[c], length[c]);
				if (*out == NULL)
					return ERR_NOMEM;
				continue;
			}
			/* truncated: fetch this column whole */
			*out = pool_alloc(pool, (size_t)length[c] + 1);
			if (*out == NULL)
				return ERR_NOMEM;
			MYSQL_BIND whole;
			memset(&whole, 0, sizeof(whole));
			whole.buffer_type = MYSQL_TYPE_STRING;
			whole.buffer = *out;
			whole.buffer_length = length[c] + 1;
			if (mysql_stmt_fetch_column(st, &whole, (unsigned)c, 0) != 0)
				return ERR_DB;
		}
	}
	res->nrows = rows;
	res->ncols = ncols;
	res->cells = cells;
	res->lengths = lengths;
	return ERR_OK;
}

/*
 * One attempt. Sets *retry when the connection went away and running the
 * statement again on a new one cannot apply it twice: it never reached the
 * server, or it only reads.
 */
static int
db_run_once(struct db *db, struct pool *pool, enum stmt_id id, struct db_result *res,
    const struct db_param *params, size_t nparams, bool *retry)
{
	MYSQL_BIND bind[DB_MAX_PARAMS];
	MYSQL_STMT *st = db->stmt[id];
	size_t i, ncols = 0;
	my_bool update_max = 0;
	unsigned err;
	int rc = ERR_OK;

	*retry = false;
	if (nparams != mysql_stmt_param_count(st) || nparams > DB_MAX_PARAMS) {
		log_warnx("db: statement \"%s\" takes %lu values, given %zu", stmt_defs[id].name,
		    mysql_stmt_param_count(st), nparams);
		return ERR_INTERNAL;
	}
	memset(bind, 0, sizeof(bind[0]) * (nparams > 0 ? nparams : 1));
	for (i = 0; i < nparams; i++) {
		switch (params[i].type) {
		case DB_PARAM_NULL:
			bind[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		case DB_PARAM_INT:
			bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
			bind[i].buffer = (void *)(uintptr_t)&params[i].i;
			break;
		case DB_PARAM_TEXT:
			bind[i].buffer_type = MYSQL_TYPE_STRING;
			bind[i].buffer = (void *)(uintptr_t)params[i].s;
			bind[i].buffer_length = params[i].len;
			break;
		}
	}
	if (nparams > 0 && mysql_stmt_bind_param(st, bind) != 0)
		goto fail;
	mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
	if (mysql_stmt_execute(st) != 0)
		goto fail;
	ncols = mysql_stmt_field_count(st);
	if (res != NULL) {
		memset(res, 0, sizeof(*res));
		res->affected = mysql_stmt_affected_rows(st);
		res->insert_id = mysql_stmt_insert_id(st);
	}
	if (ncols > 0) {
		if (ncols > DB_MAX_COLS || res == NULL) {
			mysql_stmt_free_result(st);
			mysql_stmt_reset(st);
			if (res == NULL)
				return ERR_OK;
			log_warnx("db: statement \"%s\" has too many columns", stmt_defs[id].name);
			return ERR_INTERNAL;
		}
		rc = db_store_rows(st, pool, res, ncols);
		mysql_stmt_free_result(st);
		if (rc == ERR_DB)
			goto fail;
		if (rc != ERR_OK)
			mysql_stmt_reset(st);
	}
	return rc;
fail:
	err = mysql_stmt_errno(st);
	if (err == ER_DUP_ENTRY || err == ER_DUP_KEY)
		return ERR_DB_DUPLICATE;
	if (err == ER_LOCK_DEADLOCK || err == ER_LOCK_WAIT_TIMEOUT) {
		log_info("db: statement \"%s\": %s", stmt_defs[id].name, mysql_stmt_error(st));
		if (db->in_tx)
			db->tx_broken = true;
		return ERR_DB_DEADLOCK;
	}
	metrics_db_error(db->metrics);
	if (db_lost(err)) {
		log_warnx("db: statement \"%s\": connection lost: %s", stmt_defs[id].name,
		    mysql_stmt_error(st));
		*retry = db_unsent(err) || db_stmt_read_only(id);
		db_close(db);
		return ERR_DB;
	}
	log_warnx("db: statement \"%s\": %s (%u)", stmt_defs[id].name, mysql_stmt_error(st), err);
	mysql_stmt_reset(st);
	return ERR_DB;
}

int
db_run(struct db *db, struct pool *pool, enum stmt_id id, struct db_result *res,
    const struct db_param *params, size_t nparams)
{
	bool retry, reconnected = false;
	int rc;

	if (id >= STMT_COUNT)
		return ERR_INTERNAL;
	if (db->tx_broken)
		return ERR_DB;
	for (;;) {
		if (db->conn == NULL && db_connect(db) != ERR_OK)
			return ERR_DB;
		rc = db_run_once(db, pool, id, res, params, nparams, &retry);
		/* A write that may have been applied is never sent again. */
		if (!retry || reconnected || db->tx_broken)
			return rc;
		reconnected = true;
	}
}

int
db_begin(struct db *db)
{
	int rc;

	if (db->tx_broken || db->in_tx)
		return ERR_INTERNAL;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (db->conn == NULL && db_connect(db) != ERR_OK)
			return ERR_DB;
		rc = mysql_real_query(db->conn, "START TRANSACTION", 17);
		if (rc == 0) {
			db->in_tx = true;
			return ERR_OK;
		}
		metrics_db_error(db->metrics);
		if (!db_lost(mysql_errno(db->conn))) {
			log_warnx("db: begin: %s", mysql_error(db->conn));
			return ERR_DB;
		}
		db_close(db);
	}
	return ERR_DB;
}

int
db_commit(struct db *db)
{
	unsigned err;

	if (db->tx_broken) {
		db_rollback(db);
		return ERR_DB;
	}
	if (!db->in_tx || db->conn == NULL)
		return ERR_INTERNAL;
	if (mysql_commit(db->conn) == 0) {
		db->in_tx = false;
		return ERR_OK;
	}
	err = mysql_errno(db->conn);
	metrics_db_error(db->metrics);
	log_warnx("db: commit: %s", mysql_error(db->conn));
	if (db_lost(err)) {
		db_close(db);
		db->tx_broken = false;
		return ERR_DB;
	}
	db_rollback(db);
	return err == ER_LOCK_DEADLOCK ? ERR_DB_DEADLOCK : ERR_DB;
}

void
db_rollback(struct db *db)
{
	if (db->conn != NULL && (db->in_tx || db->tx_broken)) {
		if (mysql_rollback(db->conn) != 0 && db_lost(mysql_errno(db->conn)))
			db_close(db);
	}
	db->in_tx = false;
	db->tx_broken = false;
}

int
db_transaction(struct db *db, int (*fn)(void *arg), void *arg)
{
	int attempt, rc = ERR_DB_DEADLOCK;

	for (attempt = 0; attempt < 3 && rc == ERR_DB_DEADLOCK; attempt++) {
		rc = db_begin(db);
		if (rc != ERR_OK)
			return rc;
		rc = fn(arg);
		if (rc == ERR_OK)
			rc = db_commit(db);
		else
			db_rollback(db);
	}
	return rc;
}

const char *
db_text(const struct db_result *res, size_t row, size_t col)
{
	if (res == NULL || row >= res->nrows || col >= res->ncols)
		return NULL;
	return res->cells[row * res->ncols + col];
}

long long
db_int(const struct db_result *res, size_t row, size_t col)
{
	const char *s = db_text(res, row, col);

	return s != NULL ? strtoll(s, NULL, 10) : 0;
}

bool
db_is_null(const struct db_result *res, size_t row, size_t col)
{
	return db_text(res, row, col) == NULL;
}
