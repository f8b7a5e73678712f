/* SPDX-License-Identifier: MIT */
/*
 * ctl.c: mpbindctl, the operator's tool. Each command is a row in
 * ctl_commands[]: name, usage, handler. Commands that touch the database
 * use the same configuration, statements and modules as the workers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <mysql.h>
#include <sodium.h>

#include "config.h"
#include "log.h"
#include "migrate.h"
#include "ticket.h"
#include "banned.h"

struct ctl {
	struct config cfg;
	const char *config_path;
};

struct ctl_command {
	const char *name;
	const char *usage;
	int (*run)(struct ctl *c, int argc, char **argv);
	bool needs_config;
};

static int
ctl_keygen(struct ctl *c, int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : c->cfg.ticket_keys;
	const char *kid = argc > 2 ? argv[2] : NULL;
	char generated[TICKET_KID_MAX + 1];
	unsigned char rnd[4];

	if (kid == NULL) {
		randombytes_buf(rnd, sizeof(rnd));
		snprintf(generated, sizeof(generated), "k%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
		kid = generated;
	}
	if (ticket_keys_rotate(path, kid) != 0) {
		fprintf(stderr, "mpbindctl: keygen \"%s\": %s\n", path, strerror(errno));
		return 1;
	}
	printf("new signing key \"%s\" in %s\n", kid, path);
	return 0;
}

static int
ctl_migrate(struct ctl *c, int argc, char **argv)
{
	return migrate_run(&c->cfg, argc > 1 ? argv[1] : "sql", stdout, stderr);
}

static int
ctl_check_config(struct ctl *c, int argc, char **argv)
{
	struct ticket_keys keys;

	(void)argc;
	(void)argv;
	if (ticket_keys_load(&keys, c->cfg.ticket_keys, stderr) != 0)
		return 1;
	ticket_keys_clear(&keys);
	config_dump(&c->cfg, stdout);
	return 0;
}

static const struct ctl_command ctl_commands[] = {
	{ "keygen", "keygen [path [kid]]   add a new ticket signing key (the old ones keep verifying)", ctl_keygen, false },
	{ "migrate", "migrate [dir]         apply the schema files in dir (default sql)", ctl_migrate, true },
	{ "config", "config                check and print the configuration (secrets hidden)", ctl_check_config, true },
};

static void
usage(void)
{
	size_t i;

	fprintf(stderr, "usage: mpbindctl [-c config] command [arguments]\n\ncommands:\n");
	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		fprintf(stderr, "  %s\n", ctl_commands[i].usage);
	exit(2);
}

int
main(int argc, char *argv[])
{
	const struct ctl_command *cmd = NULL;
	struct ctl c;
	size_t i;
	int rc;

	memset(&c, 0, sizeof(c));
	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		c.config_path = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		usage();
	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		if (strcmp(argv[1], ctl_commands[i].name) == 0)
			cmd = &ctl_commands[i];
	if (cmd == NULL)
		usage();
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    mysql_library_init(0, NULL, NULL) != 0) {
		fprintf(stderr, "mpbindctl: library initialisation failed\n");
		return 1;
	}
	if (config_load(&c.cfg, c.config_path, stderr) != 0 && cmd->needs_config) {
		config_release(&c.cfg);
		return 1;
	}
	log_init("-", LOG_LEVEL_WARN, "mpbindctl");
	rc = cmd->run(&c, argc - 1, argv + 1);
	config_release(&c.cfg);
	mysql_library_end();
	return rc;
}
