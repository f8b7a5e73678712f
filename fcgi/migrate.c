/* SPDX-License-Identifier: MIT */
/*
 * migrate.c: the schema migration runner behind `mpbindctl migrate`. Its
 * own bookkeeping statements are prepared here, not in stmt.h, because
 * they run before the application's schema exists.
 */
#include "migrate.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "text.h"
#include "banned.h"

#define MIGRATE_FILES_MAX 512
#define MIGRATE_FILE_MAX (1024 * 1024)

static const char migrate_create[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " name VARCHAR(128) NOT NULL PRIMARY KEY,"
    " sha256 CHAR(64) NOT NULL,"
    " applied_at DATETIME(6) NOT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
static const char migrate_lookup[] = "SELECT sha256 FROM schema_migrations WHERE name = ?";
static const char migrate_record[] =
    "INSERT INTO schema_migrations (name, sha256, applied_at) VALUES (?, ?, UTC_TIMESTAMP(6))";

static bool
migrate_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n < 9 || n > 120 || strcmp(name + n - 4, ".sql") != 0)
		return false;
	for (i = 0; i < 3; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	if (name[3] != '_')
		return false;
	for (i = 4; i < n - 4; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '_'))
			return false;
	return true;
}

static int
migrate_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
migrate_read(const char *dir, const char *name, struct buf *out)
{
	char path[4096], chunk[8192];
	size_t n;
	FILE *f;
	int rc = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -1;
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(out, chunk, n) == -1) {
			rc = -1;
			break;
		}
	if (ferror(f))
		rc = -1;
	fclose(f);
	return rc;
}

/* Looks up name; *applied_hash gets its recorded hash or "" if none. */
static int
migrate_recorded(MYSQL *conn, const char *name, char applied_hash[TEXT_SHA256_HEX])
{
	MYSQL_STMT *st = mysql_stmt_init(conn);
	MYSQL_BIND param, result;
	unsigned long len = 0;
	int rc = -1;

	applied_hash[0] = '\0';
	if (st == NULL || mysql_stmt_prepare(st, migrate_lookup, sizeof(migrate_lookup) - 1) != 0)
		goto out;
	memset(&param, 0, sizeof(param));
	param.buffer_type = MYSQL_TYPE_STRING;
	param.buffer = (void *)(uintptr_t)name;
	param.buffer_length = strlen(name);
	memset(&result, 0, sizeof(result));
	result.buffer_type = MYSQL_TYPE_STRING;
	result.buffer = applied_hash;
	result.buffer_length = 65;
	result.length = &len;
	if (mysql_stmt_bind_param(st, &param) != 0 || mysql_stmt_execute(st) != 0 ||
	    mysql_stmt_bind_result(st, &result) != 0)
		goto out;
	switch (mysql_stmt_fetch(st)) {
	case 0:
		applied_hash[len < 64 ? len : 64] = '\0';
		rc = 0;
		break;
	case MYSQL_NO_DATA:
		rc = 0;
		break;
	default:
		break;
	}
out:
	if (st != NULL)
		mysql_stmt_close(st);
	return rc;
}

static int
migrate_record_applied(MYSQL *conn, const char *name, const char *hash)
{
	MYSQL_STMT *st = mysql_stmt_init(conn);
	MYSQL_BIND param[2];
	int rc = -1;

	if (st == NULL || mysql_stmt_prepare(st, migrate_record, sizeof(migrate_record) - 1) != 0)
		goto out;
	memset(param, 0, sizeof(param));
	param[0].buffer_type = MYSQL_TYPE_STRING;
	param[0].buffer = (void *)(uintptr_t)name;
	param[0].buffer_length = strlen(name);
	param[1].buffer_type = MYSQL_TYPE_STRING;
	param[1].buffer = (void *)(uintptr_t)hash;
	param[1].buffer_length = strlen(hash);
	if (mysql_stmt_bind_param(st, param) == 0 && mysql_stmt_execute(st) == 0)
		rc = 0;
out:
	if (st != NULL)
		mysql_stmt_close(st);
	return rc;
}

/* Runs every statement of a multi-statement text; 0 or -1. */
static int
migrate_exec(MYSQL *conn, const char *sql, size_t len)
{
	MYSQL_RES *res;
	int status;

	if (mysql_real_query(conn, sql, (unsigned long)len) != 0)
		return -1;
	do {
		res = mysql_store_result(conn);
		if (res != NULL)
			mysql_free_result(res);
		else if (mysql_field_count(conn) != 0)
			return -1;
		status = mysql_next_result(conn);
		if (status > 0)
			return -1;
	} while (status == 0);
	return 0;
}

static int
migrate_apply(MYSQL *conn, const char *dir, const char *name, FILE *out, FILE *err)
{
	char hash[TEXT_SHA256_HEX], applied[TEXT_SHA256_HEX];
	struct buf sql = BUF_INIT(MIGRATE_FILE_MAX);
	int rc = 1;

	if (migrate_read(dir, name, &sql) == -1) {
		fprintf(err, "migration %s: cannot read: %s\n", name, log_strerror(errno));
		goto out;
	}
	text_sha256_hex(hash, buf_cstr(&sql), sql.len);
	if (migrate_recorded(conn, name, applied) == -1) {
		fprintf(err, "migration %s: lookup failed: %s\n", name, mysql_error(conn));
		goto out;
	}
	if (applied[0] != '\0') {
		if (strcmp(applied, hash) != 0)
			fprintf(err, "migration %s: applied earlier, but the file has changed since\n", name);
		rc = 0;
		goto out;
	}
	if (migrate_exec(conn, buf_cstr(&sql), sql.len) == -1) {
		fprintf(err, "migration %s failed: %s\n", name, mysql_error(conn));
		goto out;
	}
	if (migrate_record_applied(conn, name, hash) == -1) {
		fprintf(err, "migration %s: applied but not recorded: %s\n", name, mysql_error(conn));
		goto out;
	}
	fprintf(out, "applied %s\n", name);
	rc = 0;
out:
	buf_release(&sql);
	return rc;
}

int
migrate_run(const struct config *cfg, const char *dir, FILE *out, FILE *err)
{
	char *names[MIGRATE_FILES_MAX];
	struct dirent *de;
	size_t n = 0, i;
	MYSQL *conn = NULL;
	char reason[256];
	DIR *d;
	int rc = 1;

	d = opendir(dir);
	if (d == NULL) {
		fprintf(err, "migrations \"%s\": %s\n", dir, log_strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL && n < MIGRATE_FILES_MAX)
		if (migrate_name_ok(de->d_name) && (names[n] = strdup(de->d_name)) != NULL)
			n++;
	closedir(d);
	qsort(names, n, sizeof(names[0]), migrate_compare);

	conn = db_open(cfg, false, CLIENT_MULTI_STATEMENTS, reason, sizeof(reason));
	if (conn == NULL) {
		fprintf(err, "migrate: connect: %s\n", reason);
		goto out;
	}
	if (mysql_real_query(conn, migrate_create, sizeof(migrate_create) - 1) != 0) {
		fprintf(err, "migrate: schema_migrations: %s\n", mysql_error(conn));
		goto out;
	}
	for (i = 0; i < n; i++)
		if (migrate_apply(conn, dir, names[i], out, err) != 0)
			goto out;
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	if (conn != NULL)
		mysql_close(conn);
	return rc;
}
