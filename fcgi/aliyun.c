/* SPDX-License-Identifier: MIT */
/*
 * aliyun.c: Alibaba Cloud Marketplace as a marketplace, and what its SPI
 * (aliyunspi.c) and 免登 (aliyunsso.c) share: the MD5 token, Beijing time,
 * the signed parameters and the checks of an id. Metering
 * (PushMeteringData) is in aliyunmeter.c.
 */
#include "aliyun.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "aliyunmeter.h"
#include "config.h"
#include "error.h"
#include "form.h"
#include "pool.h"
#include "request.h"
#include "text.h"
#include "banned.h"

#define ALIYUN_ID_MAX 64		/* instanceId, orderBizId, orderId, productCode */
#define ALIYUN_BEIJING (8 * 3600)	/* 云市场 times are UTC+8 */

static bool
aliyun_enabled(const struct config *cfg)
{
	return cfg->aliyun.enabled;
}

static const char *
aliyun_listing_url(const struct config *cfg)
{
	return cfg->aliyun.listing_url;
}

static const char *
aliyun_bill_url(const struct config *cfg)
{
	return cfg->aliyun.bill_url;
}

/* Metering (aliyunmeter.c): the PushMeteringData entity Key and the price of one of its units. */
static const char *
aliyun_meter_dimension(const struct config *cfg)
{
	return cfg->aliyun.metering_key;
}

static long
aliyun_meter_unit_micros(const struct config *cfg)
{
	return cfg->aliyun.unit_price_micros;
}

const struct marketplace aliyun_marketplace = {
	"aliyun", { "阿里云 云市场", "Alibaba Cloud Marketplace" },
	aliyun_enabled, aliyun_listing_url, aliyun_bill_url,
	aliyun_meter_dimension, aliyun_meter_unit_micros, aliyun_meter_send,
};

/* ---------------------------------------------------------------- tokens */

static int
aliyun_kv_compare(const void *a, const void *b)
{
	const struct kv *x = *(const struct kv *const *)a, *y = *(const struct kv *const *)b;

	return strcmp(x->name, y->name);
}

/* Every pair of params but "token", sorted by name, into *out (in pool);
 * their number into *n. NULL when out of memory. */
static const struct kv **
aliyun_sorted(struct pool *pool, const struct kvlist *params, size_t *n)
{
	const struct kv **sorted;
	size_t i;

	*n = 0;
	sorted = pool_alloc(pool, (params->count + 1) * sizeof(*sorted));
	if (sorted == NULL)
		return NULL;
	for (i = 0; i < params->count; i++)
		if (strcmp(params->items[i].name, "token") != 0)
			sorted[(*n)++] = &params->items[i];
	qsort(sorted, *n, sizeof(*sorted), aliyun_kv_compare);
	return sorted;
}

int
aliyun_token(struct pool *pool, const struct kvlist *params, const char *key, char *out)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	const struct kv **sorted;
	EVP_MD_CTX *ctx;
	size_t i, n;
	int ok;

	sorted = aliyun_sorted(pool, params, &n);
	if (sorted == NULL)
		return ERR_NOMEM;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return ERR_NOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
	for (i = 0; ok && i < n; i++)
		ok = (i == 0 || EVP_DigestUpdate(ctx, "&", 1)) &&
		    EVP_DigestUpdate(ctx, sorted[i]->name, strlen(sorted[i]->name)) &&
		    EVP_DigestUpdate(ctx, "=", 1) &&
		    EVP_DigestUpdate(ctx, sorted[i]->value, sorted[i]->value_len);
	ok = ok && EVP_DigestUpdate(ctx, "&key=", 5) && EVP_DigestUpdate(ctx, key, strlen(key)) &&
	    EVP_DigestFinal_ex(ctx, digest, &digest_len) && digest_len == ALIYUN_TOKEN_LEN / 2;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return ERR_INTERNAL;
	text_hex(out, digest, digest_len);
	return ERR_OK;
}

int
aliyun_fingerprint(struct pool *pool, const struct kvlist *params, char *out)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	const struct kv **sorted;
	size_t i, n;

	sorted = aliyun_sorted(pool, params, &n);
	if (sorted == NULL)
		return ERR_NOMEM;
	crypto_hash_sha256_init(&st);
	for (i = 0; i < n; i++) {
		/* A NUL after each name and value: neither can hold one. */
		crypto_hash_sha256_update(&st, (const unsigned char *)sorted[i]->name,
		    strlen(sorted[i]->name) + 1);
		crypto_hash_sha256_update(&st, (const unsigned char *)sorted[i]->value,
		    sorted[i]->value_len);
		crypto_hash_sha256_update(&st, (const unsigned char *)"", 1);
	}
	crypto_hash_sha256_final(&st, digest);
	text_hex(out, digest, sizeof(digest));
	return ERR_OK;
}

int
aliyun_token_check(struct request *r, const struct kvlist *params)
{
	char expected[ALIYUN_TOKEN_LEN + 1];
	const char *token = kvlist_get(params, "token");
	int rc;

	if (token == NULL)
		return ERR_ALIYUN_TOKEN;
	rc = aliyun_token(r->pool, params, r->cfg->aliyun.isv_key, expected);
	if (rc != ERR_OK)
		return rc;
	return text_equal_ct(token, expected) ? ERR_OK : ERR_ALIYUN_TOKEN;
}

/* ----------------------------------------------------------------- times */

static long long
aliyun_days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static unsigned
aliyun_number(const char *s, size_t n)
{
	unsigned v = 0;

	while (n-- > 0)
		v = v * 10 + (unsigned)(*s++ - '0');
	return v;
}

bool
aliyun_parse_time(const char *s, time_t *out)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	static const unsigned char month_days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned year, month, day, hour, minute, second;
	bool leap;
	size_t i;

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	year = aliyun_number(s, 4);
	month = aliyun_number(s + 5, 2);
	day = aliyun_number(s + 8, 2);
	hour = aliyun_number(s + 11, 2);
	minute = aliyun_number(s + 14, 2);
	second = aliyun_number(s + 17, 2);
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (year < 1970 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] ||
	    (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 59)
		return false;
	*out = (time_t)(aliyun_days_from_civil(year, month, day) * 86400 + hour * 3600 +
	    minute * 60 + second - ALIYUN_BEIJING);
	return true;
}

/* ------------------------------------------------------------ parameters */

bool
aliyun_valid_id(const char *s)
{
	return text_chars(s, ALIYUN_ID_MAX, "._-");
}

int
aliyun_params(struct request *r, struct kvlist *out)
{
	size_t nquery = r->query_params.count, nbody = r->form.count, i;

	if (nquery + nbody > (size_t)r->cfg->max_fields)
		return ERR_TOO_MANY_FIELDS;
	out->count = nquery + nbody;
	out->items = pool_alloc(r->pool, (out->count + 1) * sizeof(*out->items));
	if (out->items == NULL)
		return ERR_NOMEM;
	if (nquery > 0)
		memcpy(out->items, r->query_params.items, nquery * sizeof(*out->items));
	if (nbody > 0)
		memcpy(out->items + nquery, r->form.items, nbody * sizeof(*out->items));
	for (i = 0; i < out->count; i++) {
		if (kvlist_count(out, out->items[i].name) == 1)
			continue;
		request_set_error_field(r, out->items[i].name);
		return ERR_FIELD;
	}
	return ERR_OK;
}
