/* SPDX-License-Identifier: MIT */
/*
 * sns.c: SNS envelopes and their signatures (OpenSSL's libcrypto for RSA,
 * which libsodium lacks).
 */
#include "sns.h"

#include <ctype.h>
#include <regex.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "error.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "text.h"
#include "worker.h"
#include "banned.h"

#define SNS_FIELD_MAX (256 * 1024)
#define SNS_CERT_MAX (64 * 1024)
#define SNS_CERT_TTL_SECONDS (24 * 3600)

static const char *
sns_field(struct pool *pool, struct json_object *root, const char *key, bool required, bool *ok)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(root, key, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			*ok = false;
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) > SNS_FIELD_MAX) {
		*ok = false;
		return NULL;
	}
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v)) {
		*ok = false;	/* an embedded NUL */
		return NULL;
	}
	return pool_strdup(pool, s);
}

int
sns_parse(struct pool *pool, const char *body, size_t len, struct sns_message *m, const char **why)
{
	struct json_tokener *tok;
	struct json_object *root;
	bool ok = true, confirmation;

	memset(m, 0, sizeof(*m));
	tok = json_tokener_new_ex(8);
	if (tok == NULL)
		return ERR_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, body, (int)len);
	if (root == NULL || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(root, json_type_object)) {
		json_tokener_free(tok);
		json_object_put(root);
		*why = "not a JSON object";
		return ERR_SNS_REJECTED;
	}
	json_tokener_free(tok);
	m->type = sns_field(pool, root, "Type", true, &ok);
	confirmation = ok && (strcmp(m->type, "SubscriptionConfirmation") == 0 ||
	    strcmp(m->type, "UnsubscribeConfirmation") == 0);
	m->message_id = sns_field(pool, root, "MessageId", true, &ok);
	m->topic_arn = sns_field(pool, root, "TopicArn", true, &ok);
	m->message = sns_field(pool, root, "Message", true, &ok);
	m->subject = sns_field(pool, root, "Subject", false, &ok);
	m->timestamp = sns_field(pool, root, "Timestamp", true, &ok);
	m->signature_version = sns_field(pool, root, "SignatureVersion", true, &ok);
	m->signature = sns_field(pool, root, "Signature", true, &ok);
	m->signing_cert_url = sns_field(pool, root, "SigningCertURL", true, &ok);
	m->subscribe_url = sns_field(pool, root, "SubscribeURL", confirmation, &ok);
	m->token = sns_field(pool, root, "Token", confirmation, &ok);
	json_object_put(root);
	if (!ok) {
		*why = "a field is missing or not a string";
		return ERR_SNS_REJECTED;
	}
	if (strcmp(m->type, "Notification") != 0 && !confirmation) {
		*why = "unknown message type";
		return ERR_SNS_REJECTED;
	}
	if (strlen(m->message_id) > 128 || sns_mysql_time(pool, m->timestamp) == NULL) {
		*why = "malformed MessageId or Timestamp";
		return ERR_SNS_REJECTED;
	}
	return ERR_OK;
}

const char *
sns_mysql_time(struct pool *pool, const char *timestamp)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	const char *t = timestamp;
	char frac[7] = "000000";
	size_t i, n;

	if (strlen(t) < sizeof(shape))
		return NULL;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)t[i]) : t[i] != shape[i])
			return NULL;
	t += sizeof(shape) - 1;
	if (*t == '.') {
		for (n = 0, t++; isdigit((unsigned char)*t); t++, n++)
			if (n < 6)
				frac[n] = *t;
		if (n == 0)
			return NULL;
	}
	if (strcmp(t, "Z") != 0)
		return NULL;
	/* "2026-11-22" + " " + "05:52:40" + "." + microseconds */
	return pool_printf(pool, "%.10s %.8s.%s", timestamp, timestamp + 11, frac);
}

/*
 * Checks that url is https, has no user info, ends in ".pem" when pem is
 * set, and that its host matches pattern. Returns the static reason, or
 * NULL when it is acceptable.
 */
static const char *
sns_check_url(const char *url, const char *pattern, bool pem)
{
	char host[256];
	const char *p, *end, *path;
	regex_t re;
	size_t n;
	int rc;

	if (strncmp(url, "https://", 8) != 0)
		return "not an https URL";
	p = url + 8;
	path = p + strcspn(p, "/?#");
	end = p + strcspn(p, ":/?#");
	n = (size_t)(end - p);
	if (n == 0 || n >= sizeof(host) || memchr(p, '@', (size_t)(path - p)) != NULL)
		return "malformed URL host";
	for (const char *c = url; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
			return "malformed URL";
	memcpy(host, p, n);
	host[n] = '\0';
	if (pem) {
		size_t plen = strcspn(path, "?#");

		if (plen < 5 || strncmp(path + plen - 4, ".pem", 4) != 0)
			return "certificate path does not end in .pem";
	}
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return "sns_cert_host is not a valid pattern";
	rc = regexec(&re, host, 0, NULL, 0);
	regfree(&re);
	return rc == 0 ? NULL : "host does not match sns_cert_host";
}

static void
sns_url_hash(const char *url, char hex[65])
{
	unsigned char digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, (const unsigned char *)url, strlen(url));
	text_hex(hex, digest, sizeof(digest));
}

/* The PEM certificate at url: from MySQL when fresh, else fetched and stored. */
static int
sns_certificate(struct worker *w, const char *url, const char **pem)
{
	struct http_call call = { .method = "GET", .url = url, .max_response = SNS_CERT_MAX };
	struct http_reply reply;
	struct db_result res;
	char hash[65];
	int rc;

	sns_url_hash(url, hash);
	rc = db_run(&w->db, &w->pool, STMT_SNS_CERT_GET, &res,
	    DB_ARGS(DB_TEXT(hash), DB_INT(SNS_CERT_TTL_SECONDS)));
	if (rc != ERR_OK)
		return rc;
	if (res.nrows == 1) {
		*pem = db_text(&res, 0, 0);
		return ERR_OK;
	}
	rc = http_perform(&w->http, &call, &reply);
	if (rc != ERR_OK || reply.status != 200 ||
	    strstr(buf_cstr(&reply.body), "-----BEGIN CERTIFICATE-----") == NULL) {
		log_warnx("sns: certificate fetch failed (HTTP %ld)", reply.status);
		http_reply_release(&reply);
		return ERR_UNAVAILABLE;
	}
	*pem = pool_strdup(&w->pool, buf_cstr(&reply.body));
	http_reply_release(&reply);
	if (*pem == NULL)
		return ERR_NOMEM;
	return db_run(&w->db, &w->pool, STMT_SNS_CERT_PUT, NULL,
	    DB_ARGS(DB_TEXT(hash), DB_TEXT(url), DB_TEXT(*pem)));
}

static int
sns_append(struct buf *b, const char *key, const char *value)
{
	if (value == NULL)
		return 0;
	return buf_appendf(b, "%s\n%s\n", key, value);
}

/* The exact text SNS signed for m. */
static int
sns_string_to_sign(const struct sns_message *m, struct buf *out)
{
	int rc = 0;

	rc |= sns_append(out, "Message", m->message);
	rc |= sns_append(out, "MessageId", m->message_id);
	if (strcmp(m->type, "Notification") == 0) {
		rc |= sns_append(out, "Subject", m->subject);
		rc |= sns_append(out, "Timestamp", m->timestamp);
	} else {
		rc |= sns_append(out, "SubscribeURL", m->subscribe_url);
		rc |= sns_append(out, "Timestamp", m->timestamp);
		rc |= sns_append(out, "Token", m->token);
	}
	rc |= sns_append(out, "TopicArn", m->topic_arn);
	rc |= sns_append(out, "Type", m->type);
	return rc == 0 ? ERR_OK : ERR_NOMEM;
}

/* Verifies sig over text with the certificate in pem; true if it holds. */
static bool
sns_signature_ok(const char *pem, const EVP_MD *md, const unsigned char *sig, size_t siglen,
    const struct buf *text)
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	BIO *bio;
	bool ok = false;

	bio = BIO_new_mem_buf(pem, -1);
	if (bio == NULL)
		return false;
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (cert == NULL || (key = X509_get_pubkey(cert)) == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
	    EVP_DigestVerifyUpdate(ctx, text->data, text->len) == 1 &&
	    EVP_DigestVerifyFinal(ctx, sig, siglen) == 1)
		ok = true;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	X509_free(cert);
	BIO_free(bio);
	return ok;
}

/* True when arn is one of the comma-separated ARNs in list. */
static bool
sns_topic_allowed(const char *list, const char *arn)
{
	size_t n = strlen(arn), len;
	const char *p = list;

	while (*p != '\0') {
		while (*p == ',' || *p == ' ')
			p++;
		len = strcspn(p, ", ");
		if (len == n && len > 0 && strncmp(p, arn, n) == 0)
			return true;
		p += len;
	}
	return false;
}

int
sns_verify(struct worker *w, const struct config_aws *listing, const struct sns_message *m,
    const char **why)
{
	unsigned char sig[1024];
	struct buf text = BUF_INIT(SNS_FIELD_MAX * 2);
	const EVP_MD *md;
	const char *pem, *end;
	size_t siglen;
	int rc;

	if (strcmp(m->signature_version, "1") == 0) {
		md = EVP_sha1();
	} else if (strcmp(m->signature_version, "2") == 0) {
		md = EVP_sha256();
	} else {
		*why = "unsupported SignatureVersion";
		return ERR_SNS_REJECTED;
	}
	if (!sns_topic_allowed(listing->topic_arns, m->topic_arn)) {
		*why = "TopicArn is not ours";
		return ERR_SNS_REJECTED;
	}
	*why = sns_check_url(m->signing_cert_url, listing->sns_cert_host, true);
	if (*why != NULL)
		return ERR_SNS_REJECTED;
	if (sodium_base642bin(sig, sizeof(sig), m->signature, strlen(m->signature), NULL, &siglen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || *end != '\0') {
		*why = "Signature is not base64";
		return ERR_SNS_REJECTED;
	}
	rc = sns_certificate(w, m->signing_cert_url, &pem);
	if (rc != ERR_OK) {
		*why = "signing certificate unavailable";
		return rc;
	}
	rc = sns_string_to_sign(m, &text);
	if (rc == ERR_OK && !sns_signature_ok(pem, md, sig, siglen, &text)) {
		*why = "bad signature";
		rc = ERR_SNS_REJECTED;
	}
	buf_release(&text);
	return rc;
}

int
sns_confirm(struct worker *w, const struct config_aws *listing, const struct sns_message *m,
    const char **why)
{
	struct http_call call = { .method = "GET", .url = m->subscribe_url, .max_response = 64 * 1024 };
	struct http_reply reply;
	int rc;

	*why = sns_check_url(m->subscribe_url, listing->sns_cert_host, false);
	if (*why != NULL)
		return ERR_SNS_REJECTED;
	rc = http_perform(&w->http, &call, &reply);
	if (rc == ERR_OK && reply.status != 200) {
		*why = "SubscribeURL answered with an error";
		rc = ERR_UNAVAILABLE;
	} else if (rc != ERR_OK) {
		*why = "SubscribeURL did not answer";
		rc = ERR_UNAVAILABLE;
	}
	http_reply_release(&reply);
	return rc;
}
