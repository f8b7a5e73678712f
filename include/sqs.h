/* SPDX-License-Identifier: MIT */
/*
 * sqs.h: the two Amazon SQS calls mpbind-meterd needs to read marketplace
 * notifications from a queue (AWS JSON 1.0, SigV4 service "sqs", the
 * listing's credentials and region).
 */
#ifndef MPBIND_SQS_H
#define MPBIND_SQS_H

#include <stdatomic.h>
#include <stddef.h>

struct config_aws;
struct worker;

#define SQS_BATCH 10

struct sqs_message {
	const char *message_id;
	const char *receipt;
	const char *body;	/* the SNS envelope (raw delivery off) */
	size_t len;
};

/*
 * Long-polls the listing's queue for up to wait seconds and fills
 * out[0..*n). Strings live in the worker's pool. Returns ERR_OK (possibly
 * with *n == 0), ERR_UNAVAILABLE or ERR_UPSTREAM. Stops early when cancel
 * turns true.
 */
int sqs_receive(struct worker *w, const struct config_aws *listing, long wait, long visibility,
    const atomic_bool *cancel, struct sqs_message *out, size_t *n);

/* Deletes a handled message. ERR_OK, ERR_UNAVAILABLE or ERR_UPSTREAM. */
int sqs_delete(struct worker *w, const struct config_aws *listing, const char *receipt);

#endif
