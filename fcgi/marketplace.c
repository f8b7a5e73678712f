/* SPDX-License-Identifier: MIT */
/*
 * marketplace.c: the registry of marketplaces.
 */
#include "marketplace.h"

#include <string.h>

#include "aliyun.h"
#include "aws.h"
#include "banned.h"

static const struct marketplace *const marketplace_registry[] = {
	&aws_cn_marketplace,
	&aws_marketplace,
	&aliyun_marketplace,
};

const struct marketplace *
marketplace_find(const char *id)
{
	size_t i;

	for (i = 0; id != NULL && i < sizeof(marketplace_registry) / sizeof(marketplace_registry[0]); i++)
		if (strcmp(marketplace_registry[i]->id, id) == 0)
			return marketplace_registry[i];
	return NULL;
}

const struct marketplace *
marketplace_at(size_t i)
{
	return i < sizeof(marketplace_registry) / sizeof(marketplace_registry[0]) ?
	    marketplace_registry[i] : NULL;
}
