/* SPDX-License-Identifier: MIT */
/*
 * sqs.h: the two Amazon SQS calls mpbind-meterd needs to read marketplace
 * notifications from a queue (AWS JSON 1.0, SigV4 service "sqs", the
 * listing's credentials).
 *
 * The queue may live in another region than the listing's Marketplace APIs,
 * so requests are signed for the queue's region (sqs_region below), never
 * the listing's region unless nothing else names one. ReceiveMessage asks
 * for ApproximateReceiveCount through MessageSystemAttributeNames (the
 * model's member for message attributes; AttributeNames is discontinued and
 * typed as queue attributes), so a message that keeps failing can be given
 * up (sqs.max_receives).
 */
#ifndef MPBIND_SQS_H
#define MPBIND_SQS_H

#include <stdatomic.h>
#include <stddef.h>

struct config_aws;
struct worker;

#define SQS_BATCH 10
#define SQS_REGION_MAX 32

struct sqs_message {
	const char *message_id;
	const char *receipt;
	const char *body;	/* the SNS envelope (raw delivery off) */
	size_t len;
	long receive_count;	/* ApproximateReceiveCount; 0 when SQS did not say */
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

/*
 * The SigV4 region of listing's queue, written to out (size bytes, at
 * least SQS_REGION_MAX): the sqs_region option when set; else the region in
 * the queue URL's host (sqs.REGION.amazonaws.com[.cn], sqs-fips.REGION...,
 * the legacy REGION.queue.amazonaws.com[.cn], and queue.amazonaws.com for
 * us-east-1); else the listing's region. Returns out.
 */
const char *sqs_region(const struct config_aws *listing, char *out, size_t size);

#endif
