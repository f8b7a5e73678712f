/* SPDX-License-Identifier: MIT */
/*
 * meter.h: from usage to the metering ledger, in two steps.
 *
 * Org-hours. Once an hour has closed (its end plus metering.settle_seconds
 * have passed), each org's hour becomes one org_hours row: what its usage
 * cost, what free credit covered (any grant not expired at the hour's
 * start, soonest expiry first), and which subscription pays the rest. Usage
 * arriving for a closed hour is refused (hour_closed, usage.h).
 *
 * Who pays an org's hour: exactly one subscription, the one whose binding
 * was in force at the start of the hour, else the one whose binding starts
 * first within it; with none, the hour stays unbilled. One exception: when
 * the binding in force at the start ended within the hour because its
 * subscription ended (unsubscribe-success, Alibaba's releaseInstance, a
 * subscribe-fail, or a switch at the hour brought forward by one of them)
 * and another binding starts later in that hour, the later one pays the
 * whole hour, as the marketplace refuses records of an ended subscription.
 * A user's or an operator's unbind keeps the rule (the unbound subscription
 * pays that hour). A failed subscription pays nothing.
 *
 * The final hours. AWS takes a cancelled subscription's records from
 * unsubscribe-pending until unsubscribe-success, about an hour later. So the
 * hours of an org bound to a subscription in unsubscribe_pending close as
 * soon as they end, without the settle time, and are sent at once: the
 * hours that ended before the message, and the one open when it came at its
 * end. Usage arriving late for an hour closed this way is refused
 * (hour_closed) like any other. The hour in which unsubscribe-success
 * arrives cannot be billed to anyone: its record can only be sent once the
 * hour is over, and by then the marketplace refuses it (CustomerNotSubscribed,
 * a final state in the ledger), unless a binding starting later in that hour
 * pays it (above). A seller should expect to lose that part of an hour.
 *
 * Subscription-hours. A subscription's hour becomes one ledger row, in the
 * marketplace's unit (struct marketplace's meter_dimension and
 * meter_unit_micros), summing every org-hour it pays for: one subscription
 * moved from one org to another within an hour pays both orgs' parts in one
 * row. It is built once every org bound to the subscription in that hour
 * or before has closed its hours. What is left below one unit carries into
 * the subscription's next hour, so no fraction of money is lost between
 * hours. Every bound hour gets a row, zero when idle.
 *
 * Several mpbind-meterd may build at once: an org-hour is closed under the
 * org's row lock, a subscription-hour under the subscription's, both taken
 * with SKIP LOCKED, and each is built once (primary and unique keys). An
 * hour that fails to close is logged and tried again next pass; only the
 * later hours of that org (credit is spent in hour order) or subscription
 * (carries chain in hour order) wait with it, every other one closes.
 */
#ifndef MPBIND_METER_H
#define MPBIND_METER_H

#include <stdbool.h>
#include <time.h>

struct worker;

#define METER_HOUR 3600

/* The start of the UTC hour holding t. */
time_t meter_hour_of(time_t t);

/*
 * Closes the org-hours and then the subscription-hours that are due and
 * not closed yet (at most a batch of each per call). An hour that fails is
 * logged and left for the next call. Returns ERR_OK, or the error that
 * stopped the call: a query for due hours failed, or the database
 * connection was lost.
 */
int meter_build(struct worker *w);

/* "123" (pico) as a whole-number decimal; false if s is not one. */
bool meter_parse_pico(const char *s, unsigned __int128 *out);

/* Writes v as decimal into out (at least 40 bytes). */
void meter_format_pico(unsigned __int128 v, char *out);

#endif
