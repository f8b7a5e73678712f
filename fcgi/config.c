/* SPDX-License-Identifier: MIT */
/*
 * config.c: the configuration table, the file and environment readers and
 * the validators. Adding an option means one line in config_options[] and
 * one field in struct config.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "banned.h"

enum config_type {
	CONFIG_STRING,	/* min/max bound the length */
	CONFIG_URL,	/* http:// or https://, or empty when min is 0 */
	CONFIG_LISTEN,	/* unix:/path or host:port */
	CONFIG_INT,	/* min/max bound the value */
	CONFIG_MODE,	/* octal file mode */
	CONFIG_BOOL,
};

struct config_option {
	const char *name;
	enum config_type type;
	long min, max;
	const char *def;
	bool secret;
	size_t offset;
	const char *help;
};

#define OPT(name, type, min, max, def, field, help) \
	{ name, type, min, max, def, false, offsetof(struct config, field), help }
#define SECRET(name, min, max, field, help) \
	{ name, CONFIG_STRING, min, max, "", true, offsetof(struct config, field), help }
#define AWS(prefix, member) offsetof(struct config, prefix.member)
#define AWS_OPTIONS(p, key, default_region, listing) \
	{ p ".enabled", CONFIG_BOOL, 0, 1, "no", false, AWS(key, enabled), \
	  "serve the " listing " listing (landing, notifications, metering)" }, \
	{ p ".product_code", CONFIG_STRING, 0, 255, "", false, AWS(key, product_code), \
	  "our product code; ResolveCustomer answers for any other are refused" }, \
	{ p ".region", CONFIG_STRING, 1, 32, default_region, false, AWS(key, region), \
	  "SigV4 region of the Marketplace APIs" }, \
	{ p ".metering_url", CONFIG_URL, 0, 512, "", false, AWS(key, metering_url), \
	  "Metering endpoint (ResolveCustomer, BatchMeterUsage)" }, \
	{ p ".entitlement_url", CONFIG_URL, 0, 512, "", false, AWS(key, entitlement_url), \
	  "Entitlement endpoint (GetEntitlements)" }, \
	{ p ".access_key_id", CONFIG_STRING, 0, 128, "", false, AWS(key, access_key_id), \
	  "credentials of the seller account that published the product" }, \
	{ p ".secret_access_key", CONFIG_STRING, 0, 256, "", true, AWS(key, secret_access_key), \
	  "its secret key" }, \
	{ p ".session_token", CONFIG_STRING, 0, 4096, "", true, AWS(key, session_token), \
	  "for temporary credentials: sent as X-Amz-Security-Token" }, \
	{ p ".listing_url", CONFIG_URL, 0, 1024, "", false, AWS(key, listing_url), \
	  "where a buyer subscribes (shown on 账单概览 when nothing is bound)" }, \
	{ p ".topic_arns", CONFIG_STRING, 0, 2048, "", false, AWS(key, topic_arns), \
	  "comma-separated SNS topics whose messages are accepted" }, \
	{ p ".sqs_url", CONFIG_URL, 0, 512, "", false, AWS(key, sqs_url), \
	  "SQS endpoint, when notifications come through a queue" }, \
	{ p ".sqs_queue_url", CONFIG_URL, 0, 1024, "", false, AWS(key, sqs_queue_url), \
	  "the queue mpbind-meterd polls" }, \
	{ p ".sqs_region", CONFIG_STRING, 0, 32, "", false, AWS(key, sqs_region), \
	  "SigV4 region of the queue; empty: from the queue URL's host (sqs.REGION.amazonaws.com[.cn]), " \
	  "else the listing's region" }, \
	{ p ".sns_cert_host", CONFIG_STRING, 1, 256, \
	  "^sns\\.[a-zA-Z0-9-]{3,}\\.amazonaws\\.com(\\.cn)?$", false, AWS(key, sns_cert_host), \
	  "extended regex the host of an SNS SigningCertURL or SubscribeURL must match (host:port when " \
	  "the URL names a port)" }, \
	{ p ".dimension", CONFIG_STRING, 1, 255, "usage", false, AWS(key, dimension), \
	  "the listing's metering dimension" }, \
	{ p ".unit_price_micros", CONFIG_INT, 1, 1000000000, "10000", false, AWS(key, unit_price_micros), \
	  "price of one unit of it, micro-currency (10000 = 0.01)" }

static const struct config_option config_options[] = {
	OPT("listen", CONFIG_LISTEN, 1, 200, "unix:var/run/mpbind.sock", listen,
	    "where mpbind-fcgi takes FastCGI connections: unix:PATH or HOST:PORT"),
	OPT("listen_mode", CONFIG_MODE, 0, 0777, "0660", listen_mode, "mode of the unix socket"),
	OPT("workers", CONFIG_INT, 1, 64, "2", workers, "worker processes"),
	OPT("threads", CONFIG_INT, 1, 64, "4", threads, "threads per worker, each with its own MySQL connection"),
	OPT("drain_timeout", CONFIG_INT, 1, 300, "10", drain_timeout,
	    "seconds SIGTERM waits for requests in flight"),
	OPT("pid_file", CONFIG_STRING, 0, 1024, "", pid_file, "the master's pid file"),
	OPT("log_file", CONFIG_STRING, 0, 1024, "-", log_file, "log file; - for stderr"),
	OPT("log_level", CONFIG_STRING, 4, 5, "info", log_level, "warn, info or debug"),

	OPT("db.host", CONFIG_STRING, 0, 255, "localhost", db_host, "MySQL host"),
	OPT("db.port", CONFIG_INT, 0, 65535, "3306", db_port, "MySQL port"),
	OPT("db.socket", CONFIG_STRING, 0, 1024, "", db_socket, "MySQL unix socket; used instead of host and port"),
	OPT("db.name", CONFIG_STRING, 1, 64, "mpbind", db_name, "database"),
	OPT("db.user", CONFIG_STRING, 1, 80, "mpbind", db_user,
	    "application user (SELECT, INSERT, UPDATE, DELETE only)"),
	SECRET("db.password", 0, 256, db_password, "its password"),
	OPT("db.timeout", CONFIG_INT, 1, 60, "5", db_timeout, "seconds to connect, read or write"),

	OPT("public_url", CONFIG_URL, 1, 512, "http://127.0.0.1:8080", public_url,
	    "the address buyers see; https makes every cookie Secure"),
	OPT("max_body", CONFIG_INT, 1024, 1048576, "65536", max_body, "largest request body, bytes"),
	OPT("max_fields", CONFIG_INT, 1, 1000, "64", max_fields, "most fields in a form or query string"),
	OPT("max_field_len", CONFIG_INT, 64, 65536, "8192", max_field_len, "longest field, bytes"),
	SECRET("internal_token", 0, 256, internal_token,
	    "bearer token of the control plane for /internal/ (empty: refused)"),

	OPT("ticket.keys", CONFIG_STRING, 1, 1024, "var/keys/tickets.key", ticket_keys,
	    "Ed25519 ticket key file (mpbindctl keygen); the same on every host"),
	OPT("ticket.ttl", CONFIG_INT, 60, 86400, "3600", ticket_ttl, "seconds a binding attempt lives"),

	OPT("session.ttl", CONFIG_INT, 300, 2592000, "604800", session_ttl, "seconds a console session lives"),
	OPT("session.sso_ttl", CONFIG_INT, 60, 86400, "3600", sso_session_ttl,
	    "seconds a session opened by an Alibaba 免登 link lives"),
	OPT("orgs.invitation_ttl", CONFIG_INT, 300, 2592000, "604800", invitation_ttl,
	    "seconds an invitation stays usable"),
	OPT("auth.pwhash_ops", CONFIG_INT, 1, 10, "2", pwhash_ops, "Argon2id operations limit"),
	OPT("auth.pwhash_mem_kib", CONFIG_INT, 8192, 1048576, "65536", pwhash_mem_kib,
	    "Argon2id memory limit, KiB"),
	OPT("auth.max_failures_account", CONFIG_INT, 1, 1000, "5", max_failures_account,
	    "sign-in failures before an account slows down"),
	OPT("auth.max_failures_address", CONFIG_INT, 1, 100000, "20", max_failures_address,
	    "sign-in failures before an address slows down"),
	OPT("orgs.allow_creation", CONFIG_BOOL, 0, 1, "yes", allow_org_creation,
	    "users may create organizations (else operators do: mpbindctl org-create)"),
	OPT("support_url", CONFIG_URL, 0, 1024, "", support_url, "where pages send people for support"),

	OPT("billing.grace_seconds", CONFIG_INT, 60, 604800, "3600", grace_seconds,
	    "grace window after a binding ends"),
	OPT("billing.timezone", CONFIG_STRING, 1, 64, "Asia/Shanghai", timezone,
	    "billing periods run from the 1st to the 1st here"),
	OPT("billing.currency", CONFIG_STRING, 3, 3, "CNY", currency, "currency of prices and bills"),

	OPT("http.ca_file", CONFIG_STRING, 0, 1024, "", ca_file,
	    "CA bundle for outbound TLS to the marketplace APIs (not SNS: sns.ca_file); empty for the system's"),
	OPT("http.timeout", CONFIG_INT, 1, 120, "10", http_timeout, "seconds per outbound call"),
	OPT("http.retries", CONFIG_INT, 0, 10, "3", http_retries,
	    "retries of a throttled or failing marketplace call"),

	OPT("metering.settle_seconds", CONFIG_INT, 0, 3540, "600", metering_settle,
	    "seconds after an hour ends before it is closed and sent"),
	OPT("metering.lookback_hours", CONFIG_INT, 2, 168, "48", metering_lookback_hours,
	    "oldest usage taken, in hours"),
	OPT("metering.retry_seconds", CONFIG_INT, 1, 3600, "30", metering_retry,
	    "first backoff after a failed send (doubles each time)"),
	OPT("metering.lease_seconds", CONFIG_INT, 2, 3600, "300", metering_lease,
	    "seconds a sender owns the rows it is sending"),
	OPT("sns.ca_file", CONFIG_STRING, 0, 1024, "", sns_ca_file,
	    "CA bundle for SNS signing certificates and SubscribeURLs only; empty for the system's"),
	OPT("sns.rejected_days", CONFIG_INT, 1, 3650, "30", sns_rejected_days,
	    "days a refused notification is kept for operators before mpbind-meterd deletes it"),
	OPT("sqs.wait_seconds", CONFIG_INT, 0, 20, "20", sqs_wait, "SQS long poll"),
	OPT("sqs.visibility_timeout", CONFIG_INT, 5, 43200, "120", sqs_visibility,
	    "seconds a received message stays hidden"),
	OPT("sqs.max_receives", CONFIG_INT, 1, 1000, "10", sqs_max_receives,
	    "receives of a message that keeps failing before it is recorded as refused and deleted"),
	OPT("meterd.interval", CONFIG_INT, 1, 3600, "30", meterd_interval,
	    "seconds between mpbind-meterd passes"),

	AWS_OPTIONS("aws_cn", aws_cn, "cn-northwest-1", "AWS Marketplace (China)"),
	AWS_OPTIONS("aws", aws, "us-east-1", "AWS Marketplace (global)"),

	OPT("aliyun.enabled", CONFIG_BOOL, 0, 1, "no", aliyun.enabled,
	    "serve Alibaba Cloud Marketplace (SPI, 免登, metering)"),
	SECRET("aliyun.isv_key", 0, 256, aliyun.isv_key, "the key of SPI and 免登 tokens"),
	OPT("aliyun.product_code", CONFIG_STRING, 0, 64, "", aliyun.product_code, "our 云市场 product code"),
	OPT("aliyun.listing_url", CONFIG_URL, 0, 1024, "", aliyun.listing_url,
	    "where a buyer subscribes (账单概览, 创建集群)"),
	OPT("aliyun.bill_url", CONFIG_URL, 0, 1024, "https://usercenter2.aliyun.com/finance/expense-report",
	    aliyun.bill_url, "the buyer's Alibaba bill (查看阿里云账单)"),
	OPT("aliyun.verify_window", CONFIG_INT, 30, 3600, "300", aliyun.verify_window,
	    "seconds a 免登 timeStamp may be from now"),
	OPT("aliyun.market_url", CONFIG_URL, 0, 512, "https://market.aliyuncs.com/", aliyun.market_url,
	    "Market API endpoint (PushMeteringData)"),
	OPT("aliyun.access_key_id", CONFIG_STRING, 0, 128, "", aliyun.access_key_id,
	    "AccessKey of the seller's Alibaba Cloud account"),
	SECRET("aliyun.access_key_secret", 0, 256, aliyun.access_key_secret, "its secret"),
	OPT("aliyun.metering_key", CONFIG_STRING, 1, 32, "Unit", aliyun.metering_key,
	    "the metering Entity Key (dimension)"),
	OPT("aliyun.metering_assit", CONFIG_STRING, 0, 128, "", aliyun.metering_assit,
	    "meteringAssit of the billing item (required for new products)"),
	OPT("aliyun.unit_price_micros", CONFIG_INT, 1, 1000000000, "10000", aliyun.unit_price_micros,
	    "price of one unit, micro-currency"),
	OPT("aliyun.metering_interval", CONFIG_INT, 1, 3600, "60", aliyun.metering_interval,
	    "seconds between pushes for one instance"),
};

#define CONFIG_OPTION_COUNT (sizeof(config_options) / sizeof(config_options[0]))
#define CONFIG_LINE_MAX 8192

static char **
config_string_slot(struct config *cfg, const struct config_option *opt)
{
	return (char **)(void *)((char *)cfg + opt->offset);
}

static long *
config_long_slot(struct config *cfg, const struct config_option *opt)
{
	return (long *)(void *)((char *)cfg + opt->offset);
}

static bool *
config_bool_slot(struct config *cfg, const struct config_option *opt)
{
	return (bool *)(void *)((char *)cfg + opt->offset);
}

static const struct config_option *
config_find(const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_OPTION_COUNT; i++)
		if (strcmp(config_options[i].name, name) == 0)
			return &config_options[i];
	return NULL;
}

static bool
config_parse_long(const char *s, int base, long *out)
{
	char *end;
	long v;

	if (*s == '\0' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtol(s, &end, base);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

static bool
config_valid_listen(const char *s)
{
	const char *colon;
	long port;

	if (strncmp(s, "unix:", 5) == 0)
		return s[5] != '\0';
	colon = strrchr(s, ':');
	if (colon == NULL || colon == s)
		return false;
	return config_parse_long(colon + 1, 10, &port) && port > 0 && port <= 65535;
}

static bool
config_valid_url(const char *s)
{
	const char *host;

	if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else
		return false;
	if (*host == '\0' || *host == '/')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == '"' || *s == '<' || *s == '>' || *s == '\\')
			return false;
	return true;
}

/*
 * Stores text as the value of opt. Returns NULL when it is acceptable, or a
 * static reason.
 */
static const char *
config_set(struct config *cfg, const struct config_option *opt, const char *text)
{
	size_t len = strlen(text);
	char **slot;
	long v;
	char *copy;

	switch (opt->type) {
	case CONFIG_INT:
		if (!config_parse_long(text, 10, &v))
			return "not an integer";
		if (v < opt->min || v > opt->max)
			return "out of range";
		*config_long_slot(cfg, opt) = v;
		return NULL;
	case CONFIG_MODE:
		if (!config_parse_long(text, 8, &v) || v < opt->min || v > opt->max)
			return "not an octal file mode";
		*config_long_slot(cfg, opt) = v;
		return NULL;
	case CONFIG_BOOL:
		if (strcmp(text, "yes") == 0 || strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
			*config_bool_slot(cfg, opt) = true;
		else if (strcmp(text, "no") == 0 || strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
			*config_bool_slot(cfg, opt) = false;
		else
			return "not yes or no";
		return NULL;
	case CONFIG_STRING:
	case CONFIG_URL:
	case CONFIG_LISTEN:
		break;
	}
	if (len < (size_t)opt->min)
		return len == 0 ? "must be set" : "too short";
	if (len > (size_t)opt->max)
		return "too long";
	if (len > 0 && opt->type == CONFIG_URL && !config_valid_url(text))
		return "not an http(s) URL";
	if (opt->type == CONFIG_LISTEN && !config_valid_listen(text))
		return "not unix:/path or host:port";
	copy = strdup(text);
	if (copy == NULL)
		return "out of memory";
	slot = config_string_slot(cfg, opt);
	free(*slot);
	*slot = copy;
	return NULL;
}

static char *
config_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int
config_read_file(struct config *cfg, const char *path, FILE *errors)
{
	char line[CONFIG_LINE_MAX];
	const struct config_option *opt;
	bool has_secret = false;
	struct stat st;
	unsigned lineno = 0;
	char *name, *value, *eq;
	const char *why;
	int rc = 0;
	FILE *f;

	f = fopen(path, "re");
	if (f == NULL) {
		if (errors != NULL)
			fprintf(errors, "%s: %s\n", path, log_strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			if (errors != NULL)
				fprintf(errors, "%s:%u: line too long\n", path, lineno);
			rc = -1;
			break;
		}
		name = config_trim(line);
		if (*name == '\0' || *name == '#')
			continue;
		eq = strchr(name, '=');
		if (eq == NULL) {
			if (errors != NULL)
				fprintf(errors, "%s:%u: expected \"name = value\"\n", path, lineno);
			rc = -1;
			continue;
		}
		*eq = '\0';
		name = config_trim(name);
		value = config_trim(eq + 1);
		opt = config_find(name);
		if (opt == NULL) {
			if (errors != NULL)
				fprintf(errors, "%s:%u: unknown option \"%s\"\n", path, lineno, name);
			rc = -1;
			continue;
		}
		if (opt->secret && *value != '\0')
			has_secret = true;
		why = config_set(cfg, opt, value);
		if (why != NULL) {
			if (errors != NULL)
				fprintf(errors, "%s:%u: \"%s\": %s\n", path, lineno, name, why);
			rc = -1;
		}
	}
	if (has_secret && fstat(fileno(f), &st) == 0 && (st.st_mode & 0077) != 0) {
		if (errors != NULL)
			fprintf(errors, "%s: holds secrets but is readable by group or others (chmod 600)\n", path);
		rc = -1;
	}
	fclose(f);
	return rc;
}

static void
config_env_name(const char *name, char *out, size_t size)
{
	size_t i = 0, j;

	j = (size_t)snprintf(out, size, "MPBIND_");
	for (; name[i] != '\0' && j + 1 < size; i++, j++)
		out[j] = name[i] == '.' ? '_' : (char)toupper((unsigned char)name[i]);
	out[j] = '\0';
}

static int
config_read_env(struct config *cfg, FILE *errors)
{
	char env[96];
	const char *value, *why;
	size_t i;
	int rc = 0;

	for (i = 0; i < CONFIG_OPTION_COUNT; i++) {
		config_env_name(config_options[i].name, env, sizeof(env));
		value = getenv(env);
		if (value == NULL)
			continue;
		why = config_set(cfg, &config_options[i], value);
		if (why != NULL) {
			if (errors != NULL)
				fprintf(errors, "environment %s: %s\n", env, why);
			rc = -1;
		}
	}
	return rc;
}

/* True when name is a zone in the system's tz database (no "..", no leading '/'). */
static bool
config_valid_timezone(const char *name)
{
	char path[160];
	struct stat st;

	if (name[0] == '/' || strstr(name, "..") != NULL ||
	    (size_t)snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name) >= sizeof(path))
		return false;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int
config_check_aws(const struct config_aws *aws, const char *prefix, FILE *errors)
{
	static const struct { const char *name; size_t offset; } required[] = {
		{ "product_code", offsetof(struct config_aws, product_code) },
		{ "metering_url", offsetof(struct config_aws, metering_url) },
		{ "access_key_id", offsetof(struct config_aws, access_key_id) },
		{ "secret_access_key", offsetof(struct config_aws, secret_access_key) },
	};
	const char *value;
	size_t i;
	int rc = 0;

	if (!aws->enabled)
		return 0;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		value = *(char *const *)(const void *)((const char *)aws + required[i].offset);
		if (value == NULL || *value == '\0') {
			if (errors != NULL)
				fprintf(errors, "\"%s.%s\": must be set when %s.enabled = yes\n",
				    prefix, required[i].name, prefix);
			rc = -1;
		}
	}
	return rc;
}

static int
config_check_aliyun(const struct config_aliyun *aliyun, FILE *errors)
{
	int rc = 0;

	if (!aliyun->enabled)
		return 0;
	if (aliyun->isv_key[0] == '\0') {
		if (errors != NULL)
			fprintf(errors, "\"aliyun.isv_key\": must be set when aliyun.enabled = yes\n");
		rc = -1;
	}
	if (aliyun->product_code[0] == '\0') {
		if (errors != NULL)
			fprintf(errors, "\"aliyun.product_code\": must be set when aliyun.enabled = yes\n");
		rc = -1;
	}
	return rc;
}

int
config_load(struct config *cfg, const char *path, FILE *errors)
{
	const char *why;
	size_t i;
	int rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < CONFIG_OPTION_COUNT; i++) {
		why = config_set(cfg, &config_options[i], config_options[i].def);
		if (why != NULL && config_options[i].min > 0 && *config_options[i].def == '\0')
			continue;	/* required without a default: checked below */
		if (why != NULL) {
			if (errors != NULL)
				fprintf(errors, "default of \"%s\": %s\n", config_options[i].name, why);
			rc = -1;
		}
	}
	if (path != NULL && config_read_file(cfg, path, errors) == -1)
		rc = -1;
	if (config_read_env(cfg, errors) == -1)
		rc = -1;
	if (strcmp(cfg->log_level, "warn") != 0 && strcmp(cfg->log_level, "info") != 0 &&
	    strcmp(cfg->log_level, "debug") != 0) {
		if (errors != NULL)
			fprintf(errors, "\"log_level\": not warn, info or debug\n");
		rc = -1;
	}
	if (!config_valid_timezone(cfg->timezone)) {
		if (errors != NULL)
			fprintf(errors, "\"billing.timezone\": no such time zone in /usr/share/zoneinfo\n");
		rc = -1;
	}
	if (config_check_aws(&cfg->aws_cn, "aws_cn", errors) == -1)
		rc = -1;
	if (config_check_aws(&cfg->aws, "aws", errors) == -1)
		rc = -1;
	if (config_check_aliyun(&cfg->aliyun, errors) == -1)
		rc = -1;
	return rc;
}

void
config_release(struct config *cfg)
{
	size_t i;

	for (i = 0; i < CONFIG_OPTION_COUNT; i++) {
		switch (config_options[i].type) {
		case CONFIG_STRING:
		case CONFIG_URL:
		case CONFIG_LISTEN:
			free(*config_string_slot(cfg, &config_options[i]));
			*config_string_slot(cfg, &config_options[i]) = NULL;
			break;
		default:
			break;
		}
	}
}

void
config_dump(const struct config *cfg, FILE *out)
{
	const struct config_option *opt;
	const char *base = (const char *)cfg, *s;
	size_t i;

	for (i = 0; i < CONFIG_OPTION_COUNT; i++) {
		opt = &config_options[i];
		switch (opt->type) {
		case CONFIG_INT:
			fprintf(out, "%s = %ld\n", opt->name, *(const long *)(const void *)(base + opt->offset));
			break;
		case CONFIG_MODE:
			fprintf(out, "%s = %04lo\n", opt->name, *(const long *)(const void *)(base + opt->offset));
			break;
		case CONFIG_BOOL:
			fprintf(out, "%s = %s\n", opt->name,
			    *(const bool *)(const void *)(base + opt->offset) ? "yes" : "no");
			break;
		default:
			s = *(char *const *)(const void *)(base + opt->offset);
			if (opt->secret)
				fprintf(out, "%s = %s\n", opt->name, s != NULL && *s != '\0' ? "(set)" : "");
			else
				fprintf(out, "%s = %s\n", opt->name, s != NULL ? s : "");
			break;
		}
	}
}

int
config_apply_timezone(const struct config *cfg)
{
	if (setenv("TZ", cfg->timezone, 1) != 0)
		return -1;
	tzset();
	return 0;
}

void
config_reference(FILE *out)
{
	const struct config_option *opt;
	size_t i;

	fprintf(out, "| option | default | meaning |\n|---|---|---|\n");
	for (i = 0; i < CONFIG_OPTION_COUNT; i++) {
		opt = &config_options[i];
		fprintf(out, "| `%s` | %s%s%s | %s%s |\n", opt->name, opt->def[0] != '\0' ? "`" : "",
		    opt->def, opt->def[0] != '\0' ? "`" : "", opt->help, opt->secret ? " (secret)" : "");
	}
}

void
config_example(FILE *out)
{
	const struct config_option *opt;
	size_t i;

	fprintf(out, "# mpbind configuration: every option with its default, commented out.\n"
	    "# Uncomment what you change. Any option can also come from the environment\n"
	    "# as MPBIND_<NAME> (db.password -> MPBIND_DB_PASSWORD). A file holding a\n"
	    "# secret must be mode 0600. Check it: mpbind-fcgi -c FILE --check-config\n");
	for (i = 0; i < CONFIG_OPTION_COUNT; i++) {
		opt = &config_options[i];
		fprintf(out, "\n# %s%s\n#%s = %s\n", opt->help, opt->secret ? " (secret)" : "", opt->name,
		    opt->def);
	}
}

const struct config_aws *
config_aws_listing(const struct config *cfg, const char *partition)
{
	if (strcmp(partition, "aws-cn") == 0)
		return &cfg->aws_cn;
	if (strcmp(partition, "aws") == 0)
		return &cfg->aws;
	return NULL;
}
