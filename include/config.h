/* SPDX-License-Identifier: MIT */
/*
 * config.h: mpbind's configuration, declared as one table in config.c
 * (name, type, bounds, default, secret?) after Redis's config.c.
 *
 * Values come from a file of "name = value" lines ('#' starts a comment
 * line) and then from the environment: MPBIND_<NAME>, upper case, with '.'
 * written as '_' (db.password -> MPBIND_DB_PASSWORD). Secrets come only from
 * there, never from the repository, and are never logged. A file that holds
 * a secret must not be readable by group or others.
 *
 * struct config owns every string in it; config_release() frees them.
 */
#ifndef MPBIND_CONFIG_H
#define MPBIND_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

/* One AWS Marketplace listing (partition "aws" or "aws-cn"). */
struct config_aws {
	bool enabled;
	char *product_code;
	char *region;
	char *metering_url;
	char *entitlement_url;
	char *access_key_id;
	char *secret_access_key;	/* secret */
	char *session_token;		/* secret, optional (temporary credentials) */
	char *listing_url;		/* where a buyer subscribes */
	char *topic_arns;		/* comma-separated SNS topics we accept */
	char *sqs_url;			/* SQS endpoint; empty when SNS comes over HTTPS */
	char *sqs_queue_url;
	char *sqs_region;		/* SigV4 region of the queue; empty: from the queue URL */
	char *sns_cert_host;		/* extended regex the SigningCertURL host[:port] must match */
	char *dimension;		/* the listing's metering dimension */
	long unit_price_micros;		/* price of one unit of it */
};

/* Alibaba Cloud Marketplace (阿里云云市场). */
struct config_aliyun {
	bool enabled;
	char *isv_key;			/* secret: the key of the SPI and 免登 MD5 tokens */
	char *product_code;		/* our 云市场 product code */
	char *listing_url;		/* where a buyer subscribes (账单概览, 创建集群) */
	char *bill_url;			/* the buyer's Alibaba bill (查看阿里云账单) */
	long verify_window;		/* seconds a 免登 timeStamp may be from now, either way */
	char *market_url;		/* Market API endpoint (PushMeteringData) */
	char *access_key_id;
	char *access_key_secret;	/* secret */
	char *metering_key;		/* PushMeteringData entity Key (Unit, Frequency, ...) */
	char *metering_assit;		/* its meteringAssit (the billing item's id); "" to omit */
	long unit_price_micros;		/* price of one unit of it */
	long metering_interval;		/* seconds between pushes for one instance */
};

struct config {
	/* process */
	char *listen;			/* "unix:/path" or "host:port" */
	long listen_mode;		/* unix socket mode */
	long workers;
	long threads;
	long drain_timeout;		/* seconds */
	char *pid_file;
	char *log_file;
	char *log_level;

	/* database */
	char *db_host;
	long db_port;
	char *db_socket;
	char *db_name;
	char *db_user;
	char *db_password;		/* secret */
	long db_timeout;		/* seconds: connect, read, write */

	/* requests */
	char *public_url;		/* https:// makes cookies Secure */
	long max_body;
	long max_fields;
	long max_field_len;
	char *internal_token;		/* secret: service credential for /internal/ */

	/* tickets */
	char *ticket_keys;		/* key file: "kid base64-secret-key" lines, first signs */
	long ticket_ttl;		/* seconds */

	/* accounts */
	long session_ttl;		/* seconds */
	long sso_session_ttl;		/* seconds, sessions opened by a marketplace link */
	long invitation_ttl;		/* seconds */
	long pwhash_ops;		/* Argon2id opslimit */
	long pwhash_mem_kib;		/* Argon2id memlimit, KiB */
	long max_failures_account;	/* sign-in failures before an account slows down */
	long max_failures_address;	/* ... and an address */
	bool allow_org_creation;
	char *support_url;

	/* billing */
	long grace_seconds;
	char *timezone;			/* IANA name: billing periods run 1st to 1st here */
	char *currency;

	/* outbound HTTP (marketplaces) */
	char *ca_file;			/* CA bundle; empty for the system default */
	long http_timeout;		/* seconds per call */
	long http_retries;		/* attempts after the first, for throttling and 5xx */

	/* metering */
	long metering_settle;		/* seconds after an hour ends before it closes */
	long metering_lookback_hours;	/* how far back usage is taken and hours are closed */
	long metering_retry;		/* first backoff after a failed send, seconds */
	long metering_lease;		/* seconds a sender owns the rows it is sending */

	/* notifications and mpbind-meterd */
	char *sns_ca_file;		/* CA bundle for SNS certificates and SubscribeURLs; empty: the system's */
	long sns_rejected_days;		/* days a refused notification is kept */
	long sqs_wait;			/* ReceiveMessage long poll, seconds */
	long sqs_visibility;		/* seconds a received message stays hidden */
	long sqs_max_receives;		/* receives of a failing message before it is given up */
	long meterd_interval;		/* seconds between background passes */

	/* marketplaces */
	struct config_aws aws_cn;
	struct config_aws aws;
	struct config_aliyun aliyun;
};

/*
 * Sets every option to its default, reads path (NULL: no file), then the
 * environment, and validates. Each problem is written to errors (may be
 * NULL) as one line naming the option and, for the file, the line number.
 * Returns 0 when the configuration is usable, -1 otherwise; either way
 * call config_release() afterwards.
 */
int config_load(struct config *cfg, const char *path, FILE *errors);

/* Frees every string the configuration owns. */
void config_release(struct config *cfg);

/* Writes the options as a Markdown table (name, default, meaning) to out. */
void config_reference(FILE *out);

/* Writes a commented example file: every option, its default, its meaning. */
void config_example(FILE *out);

/* Writes every option with its current value (secrets as "(set)") to out. */
void config_dump(const struct config *cfg, FILE *out);

/*
 * Makes billing.timezone the process's local time (TZ), so localtime_r and
 * mktime compute billing periods. Call once, before any thread starts.
 */
int config_apply_timezone(const struct config *cfg);

/* The listing for partition "aws" or "aws-cn", or NULL. Borrowed. */
const struct config_aws *config_aws_listing(const struct config *cfg, const char *partition);

#endif
