/* SPDX-License-Identifier: MIT */
/*
 * ticket.h: short-lived tickets signed with Ed25519 (libsodium), used for
 * binding attempts and single sign-on. A ticket names its purpose, the key
 * that signed it (so two keys can be live during a rotation), its expiry, a
 * random one-time id and a short payload:
 *
 *     base64url("v1|kid|purpose|expires|jti|data") "." base64url(signature)
 *
 * This module proves a ticket authentic and current; recording the one-time
 * id as used is the caller's job, in MySQL, inside its own transaction.
 *
 * Key file: one key per line, "kid base64url(64-byte secret key)"; '#'
 * starts a comment. The first key signs; every key verifies.
 */
#ifndef MPBIND_TICKET_H
#define MPBIND_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <sodium.h>

#define TICKET_KEYS_MAX 4
#define TICKET_KID_MAX 16
#define TICKET_PURPOSE_MAX 32
#define TICKET_DATA_MAX 256
#define TICKET_JTI_LEN 32		/* hex of 16 random bytes */
#define TICKET_MAX 768			/* longest encoded ticket, NUL included */

struct ticket_key {
	char kid[TICKET_KID_MAX + 1];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
};

struct ticket_keys {
	struct ticket_key key[TICKET_KEYS_MAX];
	size_t count;
};

struct ticket {
	char kid[TICKET_KID_MAX + 1];
	char purpose[TICKET_PURPOSE_MAX + 1];
	long long expires;
	char jti[TICKET_JTI_LEN + 1];
	char data[TICKET_DATA_MAX + 1];
};

/*
 * Loads path into keys. Returns 0, or -1 with a reason written to errors
 * (which may be NULL). Secret key bytes are never printed.
 */
int ticket_keys_load(struct ticket_keys *keys, const char *path, FILE *errors);

/* Wipes the secret keys from memory. */
void ticket_keys_clear(struct ticket_keys *keys);

/*
 * Creates a new key with id kid and puts it first in the file at path
 * (created with mode 0600), keeping at most TICKET_KEYS_MAX - 1 older keys
 * for verification. Returns 0 or -1 with errno set.
 */
int ticket_keys_rotate(const char *path, const char *kid);

/*
 * Signs a ticket for purpose ([a-z_]{1,32}) carrying data (at most
 * TICKET_DATA_MAX bytes, no '|' needed to be escaped: data is last) that
 * expires ttl seconds after now. Writes it NUL-terminated into out
 * (TICKET_MAX bytes) and its one-time id into jti (TICKET_JTI_LEN + 1
 * bytes, may be NULL). Returns ERR_OK or ERR_INTERNAL.
 */
int ticket_sign(const struct ticket_keys *keys, const char *purpose, const char *data,
    time_t now, long ttl, char *out, char *jti);

/*
 * Verifies text as a ticket for purpose at time now and fills out.
 * Returns ERR_OK, ERR_TICKET_EXPIRED, or ERR_TICKET_INVALID (malformed, bad
 * signature, unknown key id, another purpose); *why (may be NULL) gets a
 * static reason for logs and tests.
 */
int ticket_verify(const struct ticket_keys *keys, const char *purpose, const char *text,
    time_t now, struct ticket *out, const char **why);

#endif
