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
#define SNS_CONFIRM_MAX (64 * 1024)
#define SNS_CERT_MAX (64 * 1024)
#define SNS_CERT_TTL_SECONDS (24 * 3600)

enum sns_url_kind { SNS_URL_CERT, SNS_URL_SUBSCRIBE };

/* The shape of an SNS Timestamp: "2026-11-22T05:52:40.642Z" (fraction optional). */
static bool
sns_time_ok(const char *t)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i, n;

	if (strlen(t) < sizeof(shape))
		return false;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)t[i]) : t[i] != shape[i])
			return false;
	t += sizeof(shape) - 1;
	if (*t == '.') {
		for (n = 0, t++; isdigit((unsigned char)*t); t++, n++)
			continue;
		if (n == 0)
			return false;
	}
	return strcmp(t, "Z") == 0;
}

/*
 * A string member of root copied into pool, or NULL when it is absent or
 * null. Sets *ok to false when it is required and absent, or not a string,
 * or too long, or holds a NUL; sets *nomem when the copy failed.
 */
static const char *
sns_field(struct pool *pool, struct json_object *root, const char *key, bool required, bool *ok,
    bool *nomem)
{
	struct json_object *v;
	const char *s, *copy;

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
	copy = pool_strdup(pool, s);
	if (copy == NULL) {
		*ok = false;
		*nomem = true;
	}
	return copy;
}

int
sns_parse(struct pool *pool, const char *body, size_t len, struct sns_message *m, const char **why)
{
	struct json_tokener *tok;
	struct json_object *root;
	bool ok = true, nomem = false, confirmation;

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
	m->type = sns_field(pool, root, "Type", true, &ok, &nomem);
	confirmation = m->type != NULL && (strcmp(m->type, "SubscriptionConfirmation") == 0 ||
	    strcmp(m->type, "UnsubscribeConfirmation") == 0);
	m->message_id = sns_field(pool, root, "MessageId", true, &ok, &nomem);
	m->topic_arn = sns_field(pool, root, "TopicArn", true, &ok, &nomem);
	m->message = sns_field(pool, root, "Message", true, &ok, &nomem);
	m->subject = sns_field(pool, root, "Subject", false, &ok, &nomem);
	m->timestamp = sns_field(pool, root, "Timestamp", true, &ok, &nomem);
	m->signature_version = sns_field(pool, root, "SignatureVersion", true, &ok, &nomem);
	m->signature = sns_field(pool, root, "Signature", true, &ok, &nomem);
	m->signing_cert_url = sns_field(pool, root, "SigningCertURL", true, &ok, &nomem);
	m->subscribe_url = sns_field(pool, root, "SubscribeURL", confirmation, &ok, &nomem);
	m->token = sns_field(pool, root, "Token", confirmation, &ok, &nomem);
	json_object_put(root);
	if (nomem)
		return ERR_NOMEM;
	if (!ok) {
		*why = "a field is missing or not a string";
		return ERR_SNS_REJECTED;
	}
	if (strcmp(m->type, "Notification") != 0 && !confirmation) {
		*why = "unknown message type";
		return ERR_SNS_REJECTED;
	}
	if (strlen(m->message_id) == 0 || strlen(m->message_id) > 128 || !sns_time_ok(m->timestamp)) {
		*why = "malformed MessageId or Timestamp";
		return ERR_SNS_REJECTED;
	}
	return ERR_OK;
}

const char *
sns_mysql_time(struct pool *pool, const char *timestamp)
{
	const char *t;
	char frac[7] = "000000";
	size_t n;

	if (!sns_time_ok(timestamp))
		return NULL;
	t = timestamp + 19;	/* after "2026-11-22T05:52:40" */
	if (*t == '.')
		for (n = 0, t++; n < 6 && isdigit((unsigned char)*t); t++, n++)
			frac[n] = *t;
	/* "2026-11-22" + " " + "05:52:40" + "." + microseconds */
	return pool_printf(pool, "%.10s %.8s.%s", timestamp, timestamp + 11, frac);
}

static int
sns_url_refused(const char **why, const char *reason)
{
	*why = reason;
	return ERR_SNS_REJECTED;
}

/*
 * Checks an SNS URL and returns its canonical form in *canonical (in pool):
 * https, no user info, no fragment, an authority (host, or host:port when
 * the URL names a port) that matches pattern once lower-cased, and
 *   SNS_URL_CERT       a plain path ("/Name.pem": letters, digits, "._-/",
 *                      no empty or dot segment) and no query;
 *   SNS_URL_SUBSCRIBE  the path "/" and a query with Action=ConfirmSubscription.
 * The canonical form is "https://" + the lower-cased authority + the rest,
 * so one certificate has one cache key. Returns ERR_OK, ERR_SNS_REJECTED
 * with the static reason in *why, or ERR_NOMEM.
 */
static int
sns_check_url(struct pool *pool, const char *url, const char *pattern, enum sns_url_kind kind,
    const char **canonical, const char **why)
{
	char authority[256];
	const char *p, *path, *query, *c;
	regex_t re;
	size_t n, i;
	int rc;

	*canonical = NULL;
	for (c = url; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
			return sns_url_refused(why, "malformed URL");
	if (strncmp(url, "https://", 8) != 0)
		return sns_url_refused(why, "not an https URL");
	p = url + 8;
	n = strcspn(p, "/?#");
	if (n == 0 || n >= sizeof(authority))
		return sns_url_refused(why, "malformed URL host");
	if (memchr(p, '@', n) != NULL)
		return sns_url_refused(why, "URL has user info");
	if (strchr(url, '#') != NULL)
		return sns_url_refused(why, "URL has a fragment");
	for (i = 0; i < n; i++)
		authority[i] = (char)tolower((unsigned char)p[i]);
	authority[n] = '\0';
	path = p + n;
	query = strchr(path, '?');
	if (kind == SNS_URL_CERT) {
		if (query != NULL)
			return sns_url_refused(why, "certificate URL has a query");
		n = strlen(path);
		if (n < 6 || path[0] != '/' || strcmp(path + n - 4, ".pem") != 0)
			return sns_url_refused(why, "certificate path does not end in .pem");
		if (strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") != n ||
		    strstr(path, "//") != NULL || strstr(path, "/.") != NULL)
			return sns_url_refused(why, "malformed certificate path");
	} else {
		if (query == NULL || query != path + 1 || path[0] != '/')
			return sns_url_refused(why, "SubscribeURL path is not /");
		for (c = query + 1; *c != '\0'; c += strcspn(c, "&"), c += *c == '&')
			if (strncmp(c, "Action=ConfirmSubscription", 26) == 0 && (c[26] == '&' || c[26] == '\0'))
				break;
		if (*c == '\0')
			return sns_url_refused(why, "SubscribeURL is not a ConfirmSubscription");
	}
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return sns_url_refused(why, "sns_cert_host is not a valid pattern");
	rc = regexec(&re, authority, 0, NULL, 0);
	regfree(&re);
	if (rc != 0)
		return sns_url_refused(why, "host does not match sns_cert_host");
	*canonical = pool_printf(pool, "https://%s%s", authority, path);
	return *canonical != NULL ? ERR_OK : ERR_NOMEM;
}

static void
sns_url_hash(const char *url, char hex[TEXT_SHA256_HEX])
{
	text_sha256_hex(hex, url, strlen(url));
}

/* True when pem holds an X.509 certificate OpenSSL can read. */
static bool
sns_pem_is_certificate(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	bool ok = cert != NULL;

	X509_free(cert);
	BIO_free(bio);
	return ok;
}

/*
 * Sorts the outcome of fetching an SNS URL (a certificate or a
 * SubscribeURL): ERR_OK for a 200; ERR_SNS_REJECTED when the server's TLS
 * certificate does not verify against sns.ca_file (someone else answers for
 * the SNS host: a forgery signal); ERR_UNAVAILABLE for a transport failure,
 * a timeout or a 5xx (a genuine message comes again); ERR_UPSTREAM for any
 * other answer (a 4xx: retrying cannot cure it).
 */
static int
sns_fetch(struct worker *w, const char *url, size_t max, struct http_reply *reply, const char **why)
{
	struct http_call call = { .method = "GET", .url = url, .max_response = max,
		.ca_file = w->app->cfg.sns_ca_file };
	int rc;

	rc = http_perform(&w->http, &call, reply);
	if (rc == ERR_NOMEM)
		return rc;
	if (rc != ERR_OK && reply->untrusted) {
		*why = "TLS certificate of the SNS host is not trusted";
		return ERR_SNS_REJECTED;
	}
	if (rc != ERR_OK) {
		*why = "SNS host did not answer";
		return ERR_UNAVAILABLE;
	}
	if (reply->status == 200)
		return ERR_OK;
	*why = pool_printf(&w->pool, "SNS host answered HTTP %ld", reply->status);
	if (*why == NULL)
		*why = "SNS host answered with an error";
	return reply->status >= 500 ? ERR_UNAVAILABLE : ERR_UPSTREAM;
}

/*
 * The PEM certificate at the canonical url: from MySQL when fresh, else
 * fetched and stored. ERR_OK; ERR_SNS_REJECTED with *why when the URL
 * serves no certificate or is not trusted; ERR_UNAVAILABLE, ERR_DB,
 * ERR_NOMEM.
 */
static int
sns_certificate(struct worker *w, const char *url, const char **pem, const char **why)
{
	struct http_reply reply;
	struct db_result res;
	char hash[TEXT_SHA256_HEX];
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
	rc = sns_fetch(w, url, SNS_CERT_MAX, &reply, why);
	if (rc == ERR_UPSTREAM)
		rc = ERR_SNS_REJECTED;	/* a 4xx: there is no certificate there */
	if (rc == ERR_OK && !sns_pem_is_certificate(buf_cstr(&reply.body))) {
		*why = "certificate URL serves no certificate";
		rc = ERR_SNS_REJECTED;
	}
	if (rc != ERR_OK) {
		log_warnx("sns: signing certificate: %s", *why);
		http_reply_release(&reply);
		return rc;
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

int
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
	const char *pem, *end, *url;
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
	rc = sns_check_url(&w->pool, m->signing_cert_url, listing->sns_cert_host, SNS_URL_CERT, &url, why);
	if (rc != ERR_OK)
		return rc;
	if (sodium_base642bin(sig, sizeof(sig), m->signature, strlen(m->signature), NULL, &siglen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || *end != '\0') {
		*why = "Signature is not base64";
		return ERR_SNS_REJECTED;
	}
	rc = sns_certificate(w, url, &pem, why);
	if (rc != ERR_OK)
		return rc;
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
	struct http_reply reply;
	const char *url;
	int rc;

	rc = sns_check_url(&w->pool, m->subscribe_url, listing->sns_cert_host, SNS_URL_SUBSCRIBE, &url, why);
	if (rc != ERR_OK)
		return rc;
	rc = sns_fetch(w, url, SNS_CONFIRM_MAX, &reply, why);
	http_reply_release(&reply);
	return rc;
}
