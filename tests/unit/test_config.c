/* SPDX-License-Identifier: MIT */
/* test_config.c: the configuration table: defaults, file, environment, and each kind of bad value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char path[] = "/tmp/mpbind-config-XXXXXX";

static void
write_config(const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* Loads path and returns what was reported. */
static int
load(struct config *cfg, char *report, size_t size)
{
	FILE *errors = fmemopen(report, size, "w");
	int rc;

	assert_non_null(errors);
	rc = config_load(cfg, path, errors);
	fclose(errors);
	return rc;
}

static void
config_has_defaults(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(config_load(&cfg, NULL, NULL), 0);
	assert_int_equal(cfg.workers, 2);
	assert_int_equal(cfg.threads, 4);
	assert_int_equal(cfg.listen_mode, 0660);
	assert_int_equal(cfg.grace_seconds, 3600);
	assert_true(cfg.allow_org_creation);
	assert_string_equal(cfg.aws_cn.region, "cn-northwest-1");
	assert_false(cfg.aws_cn.enabled);
	config_release(&cfg);
}

static void
config_reads_the_file_and_the_environment(void **state)
{
	char report[1024] = "";
	struct config cfg;

	(void)state;
	write_config("# comment\nworkers = 3\n  threads=8  \nlisten = 127.0.0.1:9000\n"
	    "orgs.allow_creation = no\ndb.password = s3cret\n", 0600);
	setenv("MPBIND_THREADS", "5", 1);
	assert_int_equal(load(&cfg, report, sizeof(report)), 0);
	unsetenv("MPBIND_THREADS");
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(cfg.threads, 5);
	assert_string_equal(cfg.listen, "127.0.0.1:9000");
	assert_false(cfg.allow_org_creation);
	assert_string_equal(cfg.db_password, "s3cret");
	config_release(&cfg);
}

static void
config_reports_each_bad_value_with_its_line(void **state)
{
	char report[2048] = "";
	struct config cfg;

	(void)state;
	write_config("workers = 0\nthreads = many\nlisten = nowhere\npublic_url = ftp://x\n"
	    "no_such_option = 1\njust words\nlisten_mode = 999\norgs.allow_creation = maybe\n", 0644);
	assert_int_equal(load(&cfg, report, sizeof(report)), -1);
	assert_non_null(strstr(report, ":1: \"workers\": out of range"));
	assert_non_null(strstr(report, ":2: \"threads\": not an integer"));
	assert_non_null(strstr(report, ":3: \"listen\": not unix:/path or host:port"));
	assert_non_null(strstr(report, ":4: \"public_url\": not an http(s) URL"));
	assert_non_null(strstr(report, ":5: unknown option \"no_such_option\""));
	assert_non_null(strstr(report, ":6: expected \"name = value\""));
	assert_non_null(strstr(report, ":7: \"listen_mode\": not an octal file mode"));
	assert_non_null(strstr(report, ":8: \"orgs.allow_creation\": not yes or no"));
	config_release(&cfg);
}

static void
config_refuses_secrets_in_a_readable_file(void **state)
{
	char report[1024] = "";
	struct config cfg;

	(void)state;
	write_config("db.password = s3cret\n", 0644);
	assert_int_equal(load(&cfg, report, sizeof(report)), -1);
	assert_non_null(strstr(report, "readable by group or others"));
	assert_null(strstr(report, "s3cret"));
	config_release(&cfg);
}

static void
config_requires_credentials_for_an_enabled_listing(void **state)
{
	char report[1024] = "";
	struct config cfg;

	(void)state;
	write_config("aws_cn.enabled = yes\naws_cn.product_code = p1\n", 0600);
	assert_int_equal(load(&cfg, report, sizeof(report)), -1);
	assert_non_null(strstr(report, "\"aws_cn.metering_url\": must be set"));
	assert_non_null(strstr(report, "\"aws_cn.secret_access_key\": must be set"));
	config_release(&cfg);
}

static void
config_rejects_a_bad_environment_value(void **state)
{
	char report[1024] = "";
	struct config cfg;

	(void)state;
	write_config("", 0600);
	setenv("MPBIND_WORKERS", "1000", 1);
	assert_int_equal(load(&cfg, report, sizeof(report)), -1);
	unsetenv("MPBIND_WORKERS");
	assert_non_null(strstr(report, "MPBIND_WORKERS: out of range"));
	config_release(&cfg);
}

static void
config_dump_hides_secrets(void **state)
{
	char out[16384] = "";
	struct config cfg;
	FILE *f;

	(void)state;
	write_config("db.password = hunter2\ninternal_token = tok123\n", 0600);
	assert_int_equal(config_load(&cfg, path, NULL), 0);
	f = fmemopen(out, sizeof(out), "w");
	config_dump(&cfg, f);
	fclose(f);
	assert_non_null(strstr(out, "db.password = (set)"));
	assert_null(strstr(out, "hunter2"));
	assert_null(strstr(out, "tok123"));
	config_release(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_has_defaults),
		cmocka_unit_test(config_reads_the_file_and_the_environment),
		cmocka_unit_test(config_reports_each_bad_value_with_its_line),
		cmocka_unit_test(config_refuses_secrets_in_a_readable_file),
		cmocka_unit_test(config_requires_credentials_for_an_enabled_listing),
		cmocka_unit_test(config_rejects_a_bad_environment_value),
		cmocka_unit_test(config_dump_hides_secrets),
	};
	int fd, rc;

	fd = mkstemp(path);
	if (fd == -1)
		return 1;
	close(fd);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
