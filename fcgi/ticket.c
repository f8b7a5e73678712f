/* SPDX-License-Identifier: MIT */
/*
 * ticket.c: Ed25519-signed tickets and their key file.
 */
#include "ticket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "text.h"
#include "banned.h"

#define TICKET_PAYLOAD_MAX 400
#define TICKET_LINE_MAX 256

static bool
ticket_valid_kid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > TICKET_KID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static bool
ticket_valid_purpose(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > TICKET_PURPOSE_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return false;
	return true;
}

int
ticket_keys_load(struct ticket_keys *keys, const char *path, FILE *errors)
{
	char line[TICKET_LINE_MAX];
	struct ticket_key *k;
	unsigned lineno = 0;
	char *sp, *end;
	long n;
	FILE *f;
	int rc = -1;

	memset(keys, 0, sizeof(*keys));
	f = fopen(path, "re");
	if (f == NULL) {
		if (errors != NULL)
			fprintf(errors, "%s: %s\n", path, log_strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		end = line + strcspn(line, "\r\n");
		*end = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		sp = strchr(line, ' ');
		if (sp == NULL || !ticket_valid_kid(line, (size_t)(sp - line))) {
			if (errors != NULL)
				fprintf(errors, "%s:%u: expected \"kid key\"\n", path, lineno);
			goto out;
		}
		if (keys->count == TICKET_KEYS_MAX) {
			if (errors != NULL)
				fprintf(errors, "%s: more than %d keys\n", path, TICKET_KEYS_MAX);
			goto out;
		}
		k = &keys->key[keys->count];
		memcpy(k->kid, line, (size_t)(sp - line));
		n = text_base64url_decode(k->sk, sizeof(k->sk), sp + 1, strlen(sp + 1));
		if (n != (long)sizeof(k->sk)) {
			if (errors != NULL)
				fprintf(errors, "%s:%u: key \"%s\" is not a base64url Ed25519 secret key\n",
				    path, lineno, k->kid);
			goto out;
		}
		crypto_sign_ed25519_sk_to_pk(k->pk, k->sk);
		keys->count++;
	}
	if (keys->count == 0) {
		if (errors != NULL)
			fprintf(errors, "%s: no keys\n", path);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(line, sizeof(line));
	fclose(f);
	if (rc != 0)
		ticket_keys_clear(keys);
	return rc;
}

void
ticket_keys_clear(struct ticket_keys *keys)
{
	sodium_memzero(keys, sizeof(*keys));
}

int
ticket_keys_rotate(const char *path, const char *kid)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	char encoded[128], line[TICKET_LINE_MAX], tmp[1024];
	struct ticket_keys old;
	size_t i, kept = 0;
	bool created = false;
	int fd = -1, rc = -1, saved = 0, n;

	if (!ticket_valid_kid(kid, strlen(kid))) {
		errno = EINVAL;
		return -1;
	}
	if (access(path, F_OK) == 0 && ticket_keys_load(&old, path, NULL) != 0) {
		errno = EINVAL;
		return -1;
	} else if (access(path, F_OK) != 0) {
		memset(&old, 0, sizeof(old));
	}
	n = snprintf(tmp, sizeof(tmp), "%s.new", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		goto out;
	created = true;
	crypto_sign_keypair(pk, sk);
	text_base64url_encode(encoded, sizeof(encoded), sk, sizeof(sk));
	n = snprintf(line, sizeof(line), "%s %s\n", kid, encoded);
	if (write(fd, line, (size_t)n) != n)
		goto out;
	for (i = 0; i < old.count && kept < TICKET_KEYS_MAX - 1; i++) {
		if (strcmp(old.key[i].kid, kid) == 0)
			continue;
		text_base64url_encode(encoded, sizeof(encoded), old.key[i].sk, sizeof(old.key[i].sk));
		n = snprintf(line, sizeof(line), "%s %s\n", old.key[i].kid, encoded);
		if (write(fd, line, (size_t)n) != n)
			goto out;
		kept++;
	}
	if (fsync(fd) == -1)
		goto out;
	n = close(fd);
	fd = -1;
	if (n == -1 || rename(tmp, path) == -1)
		goto out;
	rc = 0;
out:
	saved = errno;
	if (fd != -1)
		close(fd);
	/* <path>.new holds secret keys: never leave it behind. */
	if (rc != 0 && created)
		unlink(tmp);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(encoded, sizeof(encoded));
	sodium_memzero(line, sizeof(line));
	ticket_keys_clear(&old);
	errno = saved;
	return rc;
}

int
ticket_sign(const struct ticket_keys *keys, const char *purpose, const char *data,
    time_t now, long ttl, char *out, char *jti)
{
	unsigned char sig[crypto_sign_BYTES], nonce[16];
	char payload[TICKET_PAYLOAD_MAX], id[TICKET_JTI_LEN + 1];
	const struct ticket_key *k;
	size_t len, plen;
	int n;

	if (keys->count == 0 || !ticket_valid_purpose(purpose, strlen(purpose)) ||
	    strlen(data) > TICKET_DATA_MAX || ttl <= 0)
		return ERR_INTERNAL;
	k = &keys->key[0];
	randombytes_buf(nonce, sizeof(nonce));
	text_hex(id, nonce, sizeof(nonce));
	n = snprintf(payload, sizeof(payload), "v1|%s|%s|%lld|%s|%s", k->kid, purpose,
	    (long long)now + ttl, id, data);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return ERR_INTERNAL;
	plen = (size_t)n;
	crypto_sign_detached(sig, NULL, (const unsigned char *)payload, plen, k->sk);
	len = text_base64url_encode(out, TICKET_MAX, (const unsigned char *)payload, plen);
	if (len == 0 || len + 1 + text_base64url_len(sizeof(sig)) + 1 > TICKET_MAX)
		return ERR_INTERNAL;
	out[len++] = '.';
	text_base64url_encode(out + len, TICKET_MAX - len, sig, sizeof(sig));
	if (jti != NULL)
		memcpy(jti, id, sizeof(id));
	return ERR_OK;
}

/* Splits payload "v1|kid|purpose|expires|jti|data" into out. */
static bool
ticket_parse(char *payload, struct ticket *out)
{
	char *field[6], *p = payload, *end;
	size_t i;

	for (i = 0; i < 5; i++) {
		field[i] = p;
		p = strchr(p, '|');
		if (p == NULL)
			return false;
		*p++ = '\0';
	}
	field[5] = p;
	if (strcmp(field[0], "v1") != 0 ||
	    !ticket_valid_kid(field[1], strlen(field[1])) ||
	    !ticket_valid_purpose(field[2], strlen(field[2])) ||
	    strlen(field[4]) != TICKET_JTI_LEN || strlen(field[5]) > TICKET_DATA_MAX)
		return false;
	errno = 0;
	out->expires = strtoll(field[3], &end, 10);
	if (errno != 0 || *end != '\0' || end == field[3])
		return false;
	memcpy(out->kid, field[1], strlen(field[1]) + 1);
	memcpy(out->purpose, field[2], strlen(field[2]) + 1);
	memcpy(out->jti, field[4], TICKET_JTI_LEN + 1);
	memcpy(out->data, field[5], strlen(field[5]) + 1);
	return true;
}

int
ticket_verify(const struct ticket_keys *keys, const char *purpose, const char *text,
    time_t now, struct ticket *out, const char **why)
{
	unsigned char payload[TICKET_PAYLOAD_MAX + 1], sig[crypto_sign_BYTES + 1];
	const struct ticket_key *k = NULL;
	const char *dot;
	long plen, slen;
	size_t i, tlen;
	const char *reason = "malformed";
	int rc = ERR_TICKET_INVALID;

	memset(out, 0, sizeof(*out));
	tlen = strlen(text);
	dot = strchr(text, '.');
	if (tlen >= TICKET_MAX || dot == NULL)
		goto out;
	plen = text_base64url_decode(payload, sizeof(payload) - 1, text, (size_t)(dot - text));
	slen = text_base64url_decode(sig, sizeof(sig), dot + 1, tlen - (size_t)(dot - text) - 1);
	if (plen <= 0 || slen != crypto_sign_BYTES)
		goto out;
	payload[plen] = '\0';
	/* Find the key by the kid in the payload before trusting anything else. */
	{
		char copy[TICKET_PAYLOAD_MAX + 1];
		struct ticket peek;

		memcpy(copy, payload, (size_t)plen + 1);
		if (!ticket_parse(copy, &peek))
			goto out;
		for (i = 0; i < keys->count; i++)
			if (strcmp(keys->key[i].kid, peek.kid) == 0)
				k = &keys->key[i];
	}
	if (k == NULL) {
		reason = "unknown key id";
		goto out;
	}
	if (crypto_sign_verify_detached(sig, payload, (unsigned long long)plen, k->pk) != 0) {
		reason = "bad signature";
		goto out;
	}
	if (!ticket_parse((char *)payload, out)) {
		reason = "malformed";
		goto out;
	}
	if (strcmp(out->purpose, purpose) != 0) {
		reason = "wrong purpose";
		goto out;
	}
	if (out->expires <= (long long)now) {
		reason = "expired";
		rc = ERR_TICKET_EXPIRED;
		goto out;
	}
	reason = "ok";
	rc = ERR_OK;
out:
	if (rc != ERR_OK) {
		struct ticket keep = *out;

		memset(out, 0, sizeof(*out));
		if (rc == ERR_TICKET_EXPIRED)
			*out = keep;	/* callers may show what expired */
	}
	if (why != NULL)
		*why = reason;
	return rc;
}
