/* SPDX-License-Identifier: MIT */
/*
 * sns.h: Amazon SNS messages as AWS Marketplace sends them (over HTTPS, or
 * inside SQS messages): parsing the envelope, verifying its signature
 * before anything is trusted, and confirming a subscription.
 *
 * Verification follows AWS's own validators: SignatureVersion "1"
 * (SHA1withRSA) or "2" (SHA256withRSA); SigningCertURL over https, ending in
 * .pem, on a host matching the listing's sns_cert_host pattern; TopicArn on
 * the listing's allow-list; the exact string to sign per message type. The
 * certificate is fetched with TLS verification against sns.ca_file (the
 * system's store by default; http.ca_file is not used here) and cached in
 * MySQL.
 *
 * Decisions. Nothing is fetched for a URL that is not plainly an SNS one:
 * user info, a fragment, a port the sns_cert_host pattern does not allow
 * (it sees "host:port" when a port is named, so the default allows none), a
 * certificate URL with a query or an unusual path, a SubscribeURL whose
 * path is not "/" or that is not a ConfirmSubscription are all refused. The
 * cache is keyed on the canonical URL (lower-cased host), so varying a URL
 * cannot force fetches of one certificate. A certificate host whose TLS
 * certificate does not verify is a forgery signal: the message is refused,
 * not retried. A 4xx from the certificate URL is permanent (refused); a
 * timeout, a transport failure or a 5xx is transient (delivered again).
 */
#ifndef MPBIND_SNS_H
#define MPBIND_SNS_H

#include <stddef.h>

struct buf;
struct config_aws;
struct pool;
struct worker;

struct sns_message {
	const char *type;
	const char *message_id;
	const char *topic_arn;
	const char *message;
	const char *subject;		/* may be NULL */
	const char *timestamp;		/* 2026-11-22T05:52:40.642Z */
	const char *signature_version;
	const char *signature;
	const char *signing_cert_url;
	const char *subscribe_url;	/* confirmations only */
	const char *token;		/* confirmations only */
};

/*
 * Parses body into m (strings in pool). Returns ERR_OK, or
 * ERR_SNS_REJECTED with *why set when it is not an SNS envelope.
 */
int sns_parse(struct pool *pool, const char *body, size_t len, struct sns_message *m, const char **why);

/*
 * Verifies m for listing. Returns ERR_OK; ERR_SNS_REJECTED with *why for a
 * message that must not be trusted; ERR_UNAVAILABLE when the certificate
 * could not be fetched now (a genuine message will be delivered again);
 * ERR_DB or ERR_NOMEM.
 */
int sns_verify(struct worker *w, const struct config_aws *listing, const struct sns_message *m,
    const char **why);

/*
 * Confirms a verified SubscriptionConfirmation by fetching its SubscribeURL
 * (checked as above). ERR_OK; ERR_SNS_REJECTED with *why for a URL that is
 * refused or a host that is not trusted; ERR_UPSTREAM with *why when SNS
 * answered a 4xx (an expired or unknown token: retrying cannot cure it);
 * ERR_UNAVAILABLE for a timeout, a transport failure or a 5xx; ERR_NOMEM.
 */
int sns_confirm(struct worker *w, const struct config_aws *listing, const struct sns_message *m,
    const char **why);

/*
 * Appends to out the exact text SNS signed for a parsed m: "key\nvalue\n"
 * for Message, MessageId, Subject (Notifications, when present),
 * SubscribeURL (confirmations), Timestamp, Token (confirmations),
 * TopicArn, Type, in that order. ERR_OK or ERR_NOMEM.
 */
int sns_string_to_sign(const struct sns_message *m, struct buf *out);

/* "2026-11-22T05:52:40.642Z" as "2026-11-22 05:52:40.642000" for MySQL, or NULL. */
const char *sns_mysql_time(struct pool *pool, const char *timestamp);

#endif
