/* SPDX-License-Identifier: MIT */
/*
 * marketplace.h: the small interface each marketplace implements (aws.c for
 * the "aws-cn" and "aws" partitions, aliyun.c for "aliyun") and the
 * registry of them. The binding wizard, the billing overview and metering
 * work through this interface and know no marketplace by name.
 *
 * Adding a marketplace: implement one file with its routes and a struct
 * marketplace, add it to marketplace_registry[] in marketplace.c (README,
 * "Adding a marketplace").
 */
#ifndef MPBIND_MARKETPLACE_H
#define MPBIND_MARKETPLACE_H

#include <stdbool.h>
#include <stddef.h>

#include "page.h"

struct config;
struct worker;

struct marketplace {
	const char *id;			/* "aws-cn", "aws", "aliyun" */
	struct page_text name;		/* as buyers know it: 亚马逊云科技 Marketplace ... */
	bool (*enabled)(const struct config *cfg);
	/* Where a buyer subscribes; "" when not configured. */
	const char *(*listing_url)(const struct config *cfg);
	/* Where the buyer sees the marketplace's bill; "" when there is none. */
	const char *(*bill_url)(const struct config *cfg);
	/*
	 * Metering (ledger.h): the marketplace dimension hours are reported
	 * under, the price of one of its units in micro-currency, and the
	 * sender mpbind-meterd calls each pass (leases due rows, sends,
	 * settles; returns ERR_OK or the error that stopped it).
	 */
	const char *(*meter_dimension)(const struct config *cfg);
	long (*meter_unit_micros)(const struct config *cfg);
	int (*meter_send)(struct worker *w);
};

/* The marketplace with this id, or NULL. */
const struct marketplace *marketplace_find(const char *id);

/* The i-th registered marketplace, or NULL past the end. */
const struct marketplace *marketplace_at(size_t i);

#endif
