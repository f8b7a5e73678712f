/* SPDX-License-Identifier: MIT */
/*
 * aliyun.h: Alibaba Cloud Marketplace (阿里云云市场) as a marketplace
 * (struct marketplace: names, listing and bill URLs, metering), and what
 * its two entry points share: the SPI the marketplace calls for every
 * instance lifecycle change (aliyunspi.h) and the 免登 link a buyer follows
 * from 已购买服务列表 (aliyunsso.h). Protocol:
 * ../shared/protocols/aliyun-marketplace.md §1, §2. Configuration: aliyun.*.
 * Metering (PushMeteringData) is aliyunmeter.h.
 *
 * Both entry points are authenticated by an MD5 token: lowercase hex MD5
 * of every parameter but "token", URL-decoded, sorted by name (bytes),
 * joined as "k=v&..." and followed by "&key=<aliyun.isv_key>", compared in
 * constant time. No parameter is whitelisted: ones we do not know
 * (package_version, extra billing items) are signed and ignored. A name
 * may appear once, query and body together.
 */
#ifndef MPBIND_ALIYUN_H
#define MPBIND_ALIYUN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "marketplace.h"

struct kvlist;
struct pool;
struct request;

#define ALIYUN_TOKEN_LEN 32		/* lowercase hex MD5 */
#define ALIYUN_FINGERPRINT_LEN 64	/* lowercase hex SHA-256 */

extern const struct marketplace aliyun_marketplace;

/*
 * The token of params under key into out (ALIYUN_TOKEN_LEN + 1 bytes):
 * every pair but "token", sorted by name. Scratch space comes from pool.
 * Returns ERR_OK or ERR_NOMEM.
 */
int aliyun_token(struct pool *pool, const struct kvlist *params, const char *key, char *out);

/*
 * The fingerprint of params into out (ALIYUN_FINGERPRINT_LEN + 1 bytes):
 * hex SHA-256 over the pairs the token signs (all but "token", sorted by
 * name), each name and value followed by a NUL, so that two parameter
 * sets have one fingerprint only when they are the same. Scratch space
 * comes from pool. Returns ERR_OK or ERR_NOMEM.
 */
int aliyun_fingerprint(struct pool *pool, const struct kvlist *params, char *out);

/* ERR_OK when params carry a token that matches them under
 * aliyun.isv_key; ERR_ALIYUN_TOKEN when it is missing or does not. */
int aliyun_token_check(struct request *r, const struct kvlist *params);

/*
 * Parses "yyyy-MM-dd HH:mm:ss" in Beijing time (UTC+8), as 云市场 sends
 * timeStamp and expiredOn, into *out. False when s is not such a time.
 */
bool aliyun_parse_time(const char *s, time_t *out);

/*
 * Collects r's parameters, the query string and an urlencoded body (both
 * parsed by the router within max_fields and max_field_len), into one
 * list whose pairs are borrowed from r. Returns ERR_OK,
 * ERR_TOO_MANY_FIELDS, ERR_NOMEM, or ERR_FIELD (r->error_field naming it)
 * for a parameter that appears more than once.
 */
int aliyun_params(struct request *r, struct kvlist *out);

/* True for an instanceId, orderBizId, orderId or productCode: 1 to 64 of
 * [A-Za-z0-9._-]. */
bool aliyun_valid_id(const char *s);

#endif
