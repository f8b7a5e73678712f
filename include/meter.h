/* SPDX-License-Identifier: MIT */
/*
 * meter.h: from usage to the metering ledger. Once an hour has closed (its
 * end plus metering.settle_seconds have passed; at once for a subscription
 * whose unsubscribe-pending asked for a flush), each org's hour becomes one
 * org_hours row: what its usage cost, what free credit covered (any grant
 * not expired at the hour's start, soonest expiry first), and which
 * subscription pays the rest. That subscription
 * is the one whose binding was in force at the start of the hour, else the
 * first binding starting within it; with none, the hour stays unbilled.
 *
 * A paid hour becomes one ledger row in the marketplace's unit (struct
 * marketplace's meter_dimension and meter_unit_micros). What is left below
 * one unit carries into the subscription's next hour, so no fraction of
 * money is lost between hours. Every bound hour gets a row, zero when idle.
 *
 * Several mpbind-meterd may build at once: an org being built is locked
 * with SKIP LOCKED, and an org-hour is closed once (primary key).
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
 * Closes every org-hour that is due and not closed yet (at most a batch
 * per call). Returns ERR_OK or the error that stopped it.
 */
int meter_build(struct worker *w);

/* "123" (pico) as a whole-number decimal; false if s is not one. */
bool meter_parse_pico(const char *s, unsigned __int128 *out);

/* Writes v as decimal into out (at least 40 bytes). */
void meter_format_pico(unsigned __int128 v, char *out);

#endif
