/* SPDX-License-Identifier: MIT */
/*
 * notify.h: AWS Marketplace notifications, one handler whether they come
 * over HTTPS (POST /marketplace/{aws-cn|aws}/sns) or through SQS (polled by
 * mpbind-meterd). Each message is verified (sns.h) before anything is
 * trusted, and applied at most once: its MessageId is claimed in the inbox
 * in the same transaction as its effect.
 *
 * Lifecycle, in any arrival order (a message older than the last one
 * applied to a subscription is recorded as stale and changes nothing):
 *   subscribe-success    pending -> active (a landing may come before or after)
 *   subscribe-fail       -> failed; a binding ends into the grace window
 *   unsubscribe-pending  -> unsubscribe_pending; the final metering flush is requested
 *   unsubscribe-success  -> ended; its binding ends into the grace window (or, when
 *                           the org already bound another subscription, at once)
 *   entitlement-updated  GetEntitlements for the customer, paged, stored
 * A message for a customer not seen yet is kept "unmatched" and applied
 * when that customer's landing creates the subscription. Every transition
 * writes an event on the org the subscription was last bound to (also
 * after that binding ended), so it shows on that org's 事件.
 *
 * Failures, and what the sender is told (SNS retries a 5xx, never a 4xx;
 * mpbind-meterd deletes a queued message only for ERR_OK and
 * ERR_SNS_REJECTED):
 *   cannot be trusted      403, recorded in inbox_rejected (2 KiB of it and
 *                          the reason; pruned after sns.rejected_days)
 *   fails for good         200, recorded in the inbox as "failed" with the
 *                          reason: a GetEntitlements error retrying does
 *                          not cure, a SubscribeURL answering 4xx (an
 *                          operator replays an entitlement update once
 *                          its cause is fixed: notify_replay)
 *   fails for now          503, nothing recorded: the database, a timeout,
 *                          throttling or a 5xx; SQS redelivers it, up to
 *                          sqs.max_receives times (then notify_give_up)
 * Nothing is looked up for a message before its signature is verified.
 */
#ifndef MPBIND_NOTIFY_H
#define MPBIND_NOTIFY_H

#include <stddef.h>

struct subscription;
struct worker;

/*
 * Verifies and applies one SNS envelope for partition ("aws-cn", "aws")
 * that arrived via "https" or "sqs". Returns ERR_OK when it was applied,
 * recorded (also as failed for good), or handled before; ERR_SNS_REJECTED
 * when it must never be trusted (recorded in inbox_rejected; not worth
 * retrying); ERR_NOT_FOUND for an unknown partition; ERR_DB,
 * ERR_UNAVAILABLE or ERR_NOMEM when it should be delivered again later.
 */
int notify_handle(struct worker *w, const char *partition, const char *body, size_t len,
    const char *via);

/*
 * Records a message that kept failing (body of len bytes, why) in
 * inbox_rejected, so its sender can stop delivering it. Returns ERR_OK, or
 * a db error (then it must be kept).
 */
int notify_give_up(struct worker *w, const char *partition, const char *body, size_t len, const char *via,
    const char *why);

/*
 * Applies the unmatched messages of sub's customer to sub, oldest first,
 * inside the caller's transaction (the landing that created sub). Those
 * older than the last message of an ended subscription of the customer
 * are about that agreement: they are settled stale, never applied to sub.
 */
int notify_apply_unmatched(struct worker *w, struct subscription *sub);

/*
 * Tries a message (inbox id) again, for an operator. An unmatched one is
 * applied when its subscription is known by now (else it stays
 * unmatched); a failed entitlement update (GetEntitlements refused, say
 * for a missing permission since granted) is fetched again and stored.
 * *state gets what became of it and *note why (NULL or pool strings).
 * ERR_OK; ERR_NOT_FOUND (no such message, or its listing is not
 * enabled); ERR_CONFLICT (in a state a replay does not change: *state
 * says which); ERR_UPSTREAM (AWS refused again: the row is unchanged and
 * *note says how); ERR_UNAVAILABLE, or a db error.
 */
int notify_replay(struct worker *w, long long inbox_id, const char **state, const char **note);

#endif
