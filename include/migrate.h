/* SPDX-License-Identifier: MIT */
/*
 * migrate.h: applies the numbered schema files in sql/ in order and records
 * each in schema_migrations (name, SHA-256, time). A file already recorded
 * is skipped; a recorded file whose contents changed is reported. The first
 * failing file stops the run with its name and the server's message.
 *
 * Runs with credentials that may change the schema (MPBIND_DB_USER /
 * MPBIND_DB_PASSWORD in the environment), not the application's.
 */
#ifndef MPBIND_MIGRATE_H
#define MPBIND_MIGRATE_H

#include <stdio.h>

struct config;

/* Returns 0 when every file is applied, 1 on failure (reported to err). */
int migrate_run(const struct config *cfg, const char *dir, FILE *out, FILE *err);

#endif
