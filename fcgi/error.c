/* SPDX-License-Identifier: MIT */
/*
 * error.c: lookups generated from ERROR_LIST in error.h.
 */
#include "error.h"

#include <stddef.h>

#include "banned.h"

struct error_entry {
	int status;
	const char *code;
	const char *message[2];
};

static const struct error_entry error_table[ERROR_INDEX_COUNT] = {
#define X(name, st, cd, en, zh) [ERROR_INDEX_##name] = { st, cd, { zh, en } },
	ERROR_LIST(X)
#undef X
};

static const struct error_entry *
error_lookup(int err)
{
	int index = -err - 1;

	if (err >= 0 || index >= ERROR_INDEX_COUNT)
		return &error_table[ERROR_INDEX_INTERNAL];
	return &error_table[index];
}

int
error_status(int err)
{
	return err == ERR_OK ? 200 : error_lookup(err)->status;
}

const char *
error_code(int err)
{
	return err == ERR_OK ? "ok" : error_lookup(err)->code;
}

const char *
error_message(int err, enum lang lang)
{
	if (err == ERR_OK)
		return "OK";
	return error_lookup(err)->message[lang == LANG_EN ? 1 : 0];
}
