/* SPDX-License-Identifier: MIT */
/*
 * auth.h: accounts (enterprise e-mail and password) and sign-in.
 *
 *   POST /api/auth/register {email,password}  201 {"user":{id,email},"csrf"}; sets the session
 *                                             cookie; 400 invalid_field / weak_password;
 *                                             409 email_taken
 *   POST /api/auth/login {email,password}     200 {"user":{id,email},"csrf"}; 401
 *                                             invalid_credentials (the same for an unknown
 *                                             e-mail and a wrong password); 429 rate_limited
 *   POST /api/auth/logout                     200 {}; the session is revoked
 *   GET  /api/auth/me                         200 {"user":{id,email,created_at},"csrf","settings"}; 401
 *                                             (answered from the session lookup alone)
 *   POST /api/auth/password {current_password,new_password}
 *                                             200 {}; the other sessions are revoked;
 *                                             403 wrong_password; 400 weak_password;
 *                                             429 rate_limited
 *   POST /api/auth/close {password}           200 {}; every session revoked, memberships
 *                                             removed; 403 wrong_password; 409 last_admin;
 *                                             429 rate_limited
 *
 * Passwords are hashed with Argon2id (crypto_pwhash_str). Every password
 * check (sign-in, and the current password that a password change or
 * closing the account asks for) counts its failures in auth_throttle, per
 * account and per address: past auth.max_failures_account (or _address)
 * failures within 15 minutes the key locks for 2^n seconds (at most 15
 * minutes) and checks answer 429 with Retry-After, without hashing. So a
 * stolen session cookie cannot be used to guess the password, nor to make
 * the server run Argon2id at will. Rows that can no longer lock anything
 * are purged, a hundred at a time, when a failure is counted. nginx adds
 * its limit_req on all four paths.
 */
#ifndef MPBIND_AUTH_H
#define MPBIND_AUTH_H

#include <stdbool.h>

#include "router.h"

struct app;

extern const struct route_table auth_route_table;

/* Prepares app->dummy_hash. Call once in the master. 0 or -1. */
int auth_init(struct app *app);

/*
 * The password policy: 10 to 128 bytes, a letter and a digit, and not the
 * local part of email (when that has four characters or more).
 */
bool auth_password_ok(const char *password, const char *email);

#endif
