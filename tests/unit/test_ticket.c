/* SPDX-License-Identifier: MIT */
/* test_ticket.c: signed tickets verify only when authentic, current and for their purpose. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "error.h"
#include "text.h"
#include "ticket.h"

static char dir[] = "/tmp/mpbind-ticket-XXXXXX";
static char path[256];
static struct ticket_keys keys;
static bool fsync_fails;

/* Injects a failing fsync(2): this definition takes the place of libc's in the whole program. */
int
fsync(int fd)
{
	if (fsync_fails) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/tickets.key", dir);
	if (ticket_keys_rotate(path, "k1") != 0 || ticket_keys_load(&keys, path, stderr) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char tmp[300];

	(void)state;
	ticket_keys_clear(&keys);
	unlink(path);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	unlink(tmp);
	rmdir(dir);
	return 0;
}

static void
ticket_round_trips(void **state)
{
	char t[TICKET_MAX], jti[TICKET_JTI_LEN + 1];
	struct ticket out;
	const char *why;

	(void)state;
	assert_int_equal(ticket_sign(&keys, "binding", "attempt=abc|x", 1000, 60, t, jti), ERR_OK);
	assert_int_equal(ticket_verify(&keys, "binding", t, 1059, &out, &why), ERR_OK);
	assert_string_equal(why, "ok");
	assert_string_equal(out.purpose, "binding");
	assert_string_equal(out.kid, "k1");
	assert_string_equal(out.data, "attempt=abc|x");
	assert_string_equal(out.jti, jti);
	assert_int_equal(strlen(jti), TICKET_JTI_LEN);
	assert_int_equal(out.expires, 1060);
}

static void
ticket_rejects_a_bad_signature(void **state)
{
	char t[TICKET_MAX];
	struct ticket out;
	const char *why;
	char *dot;

	(void)state;
	assert_int_equal(ticket_sign(&keys, "binding", "a", 1000, 60, t, NULL), ERR_OK);
	dot = strchr(t, '.');
	dot[5] = dot[5] == 'A' ? 'B' : 'A';
	assert_int_equal(ticket_verify(&keys, "binding", t, 1001, &out, &why), ERR_TICKET_INVALID);
	assert_string_equal(why, "bad signature");
	assert_string_equal(out.data, "");
}

static void
ticket_rejects_a_tampered_payload(void **state)
{
	unsigned char payload[512];
	char t[TICKET_MAX], forged[TICKET_MAX], *dot;
	struct ticket out;
	const char *why;
	long n;

	(void)state;
	assert_int_equal(ticket_sign(&keys, "binding", "attempt=aaaa", 1000, 60, t, NULL), ERR_OK);
	dot = strchr(t, '.');
	n = text_base64url_decode(payload, sizeof(payload) - 1, t, (size_t)(dot - t));
	assert_true(n > 0);
	payload[n - 1] = 'b';	/* attempt=aaab */
	n = (long)text_base64url_encode(forged, sizeof(forged), payload, (size_t)n);
	snprintf(forged + n, sizeof(forged) - (size_t)n, "%s", dot);
	assert_int_equal(ticket_verify(&keys, "binding", forged, 1001, &out, &why), ERR_TICKET_INVALID);
	assert_string_equal(why, "bad signature");
}

static void
ticket_rejects_an_unknown_key_id(void **state)
{
	char other_path[300], t[TICKET_MAX];
	struct ticket_keys other;
	struct ticket out;
	const char *why;

	(void)state;
	snprintf(other_path, sizeof(other_path), "%s/other.key", dir);
	assert_int_equal(ticket_keys_rotate(other_path, "k9"), 0);
	assert_int_equal(ticket_keys_load(&other, other_path, NULL), 0);
	assert_int_equal(ticket_sign(&other, "binding", "a", 1000, 60, t, NULL), ERR_OK);
	assert_int_equal(ticket_verify(&keys, "binding", t, 1001, &out, &why), ERR_TICKET_INVALID);
	assert_string_equal(why, "unknown key id");
	ticket_keys_clear(&other);
	unlink(other_path);
}

static void
ticket_rejects_an_expired_ticket(void **state)
{
	char t[TICKET_MAX];
	struct ticket out;
	const char *why;

	(void)state;
	assert_int_equal(ticket_sign(&keys, "sso", "u=1", 1000, 60, t, NULL), ERR_OK);
	assert_int_equal(ticket_verify(&keys, "sso", t, 1060, &out, &why), ERR_TICKET_EXPIRED);
	assert_string_equal(why, "expired");
	assert_int_equal(ticket_verify(&keys, "sso", t, 999999, &out, &why), ERR_TICKET_EXPIRED);
}

static void
ticket_rejects_another_purpose(void **state)
{
	char t[TICKET_MAX];
	struct ticket out;
	const char *why;

	(void)state;
	assert_int_equal(ticket_sign(&keys, "sso", "u=1", 1000, 60, t, NULL), ERR_OK);
	assert_int_equal(ticket_verify(&keys, "binding", t, 1001, &out, &why), ERR_TICKET_INVALID);
	assert_string_equal(why, "wrong purpose");
}

static void
ticket_rejects_malformed_text(void **state)
{
	static const char *bad[] = { "", ".", "abc", "abc.def", "!!!.???", "djF8azF8.AAAA" };
	struct ticket out;
	const char *why;
	char huge[TICKET_MAX + 10];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ticket_verify(&keys, "binding", bad[i], 1, &out, &why), ERR_TICKET_INVALID);
		assert_string_equal(why, "malformed");
	}
	memset(huge, 'A', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	huge[10] = '.';
	assert_int_equal(ticket_verify(&keys, "binding", huge, 1, &out, &why), ERR_TICKET_INVALID);
}

static void
ticket_keys_rotate_keeps_old_keys_verifying(void **state)
{
	char before[TICKET_MAX], after[TICKET_MAX];
	struct ticket_keys rotated;
	struct ticket out;
	struct stat st;

	(void)state;
	assert_int_equal(ticket_sign(&keys, "binding", "old", 1000, 600, before, NULL), ERR_OK);
	assert_int_equal(ticket_keys_rotate(path, "k2"), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ticket_keys_load(&rotated, path, NULL), 0);
	assert_int_equal(rotated.count, 2);
	assert_string_equal(rotated.key[0].kid, "k2");
	assert_int_equal(ticket_verify(&rotated, "binding", before, 1001, &out, NULL), ERR_OK);
	assert_string_equal(out.kid, "k1");
	assert_int_equal(ticket_sign(&rotated, "binding", "new", 1000, 600, after, NULL), ERR_OK);
	assert_int_equal(ticket_verify(&rotated, "binding", after, 1001, &out, NULL), ERR_OK);
	assert_string_equal(out.kid, "k2");
	/* the old key set does not know k2 */
	assert_int_equal(ticket_verify(&keys, "binding", after, 1001, &out, NULL), ERR_TICKET_INVALID);
	ticket_keys_clear(&rotated);
}

static void
ticket_keys_rotate_leaves_no_secret_behind_on_failure(void **state)
{
	char tmp[300];
	struct ticket_keys still;
	struct stat st;
	int rc, err;

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fsync_fails = true;
	rc = ticket_keys_rotate(path, "k3");
	err = errno;
	fsync_fails = false;
	assert_int_equal(rc, -1);
	assert_int_equal(err, EIO);
	/* the half-made file held a new secret key: it is gone, and the key file is as it was */
	assert_int_equal(stat(tmp, &st), -1);
	assert_int_equal(ticket_keys_load(&still, path, NULL), 0);
	assert_string_not_equal(still.key[0].kid, "k3");
	ticket_keys_clear(&still);
}

static void
ticket_sign_refuses_bad_arguments(void **state)
{
	char t[TICKET_MAX], big[TICKET_DATA_MAX + 2];
	struct ticket_keys none;

	(void)state;
	memset(&none, 0, sizeof(none));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ticket_sign(&none, "binding", "a", 1, 60, t, NULL), ERR_INTERNAL);
	assert_int_equal(ticket_sign(&keys, "Bad-Purpose", "a", 1, 60, t, NULL), ERR_INTERNAL);
	assert_int_equal(ticket_sign(&keys, "binding", big, 1, 60, t, NULL), ERR_INTERNAL);
	assert_int_equal(ticket_sign(&keys, "binding", "a", 1, 0, t, NULL), ERR_INTERNAL);
}

static void
ticket_keys_load_rejects_bad_files(void **state)
{
	char bad_path[300];
	struct ticket_keys k;
	FILE *f;

	(void)state;
	snprintf(bad_path, sizeof(bad_path), "%s/bad.key", dir);
	f = fopen(bad_path, "w");
	fputs("k1 notbase64!!\n", f);
	fclose(f);
	assert_int_equal(ticket_keys_load(&k, bad_path, NULL), -1);
	f = fopen(bad_path, "w");
	fputs("# only a comment\n", f);
	fclose(f);
	assert_int_equal(ticket_keys_load(&k, bad_path, NULL), -1);
	assert_int_equal(ticket_keys_load(&k, "/nonexistent/x.key", NULL), -1);
	unlink(bad_path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ticket_round_trips),
		cmocka_unit_test(ticket_rejects_a_bad_signature),
		cmocka_unit_test(ticket_rejects_a_tampered_payload),
		cmocka_unit_test(ticket_rejects_an_unknown_key_id),
		cmocka_unit_test(ticket_rejects_an_expired_ticket),
		cmocka_unit_test(ticket_rejects_another_purpose),
		cmocka_unit_test(ticket_rejects_malformed_text),
		cmocka_unit_test(ticket_keys_rotate_keeps_old_keys_verifying),
		cmocka_unit_test(ticket_keys_rotate_leaves_no_secret_behind_on_failure),
		cmocka_unit_test(ticket_sign_refuses_bad_arguments),
		cmocka_unit_test(ticket_keys_load_rejects_bad_files),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
