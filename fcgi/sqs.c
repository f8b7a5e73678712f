/* SPDX-License-Identifier: MIT */
/*
 * sqs.c: ReceiveMessage and DeleteMessage over awsapi.c, signed for the
 * queue's region.
 */
#include "sqs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "awsapi.h"
#include "config.h"
#include "error.h"
#include "jsonw.h"
#include "worker.h"
#include "banned.h"

/* Copies a region name of n bytes at p into out when it looks like one. */
static bool
sqs_region_copy(const char *p, size_t n, char *out, size_t size)
{
	size_t i;

	if (n == 0 || n >= size || n >= SQS_REGION_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)p[i]) && !isdigit((unsigned char)p[i]) && p[i] != '-')
			return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* The region named by the host of url, or false. */
static bool
sqs_region_of_url(const char *url, char *out, size_t size)
{
	static const char *const suffixes[] = { ".amazonaws.com", ".amazonaws.com.cn" };
	static const char *const prefixes[] = { "sqs.", "sqs-fips." };
	char host[256];
	const char *p = strstr(url, "://"), *label;
	size_t n, i, len;

	if (p == NULL)
		return false;
	p += 3;
	n = strcspn(p, ":/?#");
	if (n == 0 || n >= sizeof(host) || memchr(p, '@', strcspn(p, "/?#")) != NULL)
		return false;
	for (i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)p[i]);
	host[n] = '\0';
	for (i = 0, len = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (n > strlen(suffixes[i]) && strcmp(host + n - strlen(suffixes[i]), suffixes[i]) == 0)
			len = n - strlen(suffixes[i]);
	if (len == 0)
		return false;
	host[len] = '\0';	/* "sqs.REGION", "REGION.queue" or "queue" */
	if (strcmp(host, "queue") == 0)
		return sqs_region_copy("us-east-1", 9, out, size);
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(host, prefixes[i], strlen(prefixes[i])) == 0) {
			label = host + strlen(prefixes[i]);
			return sqs_region_copy(label, strlen(label), out, size);
		}
	if (len > 6 && strcmp(host + len - 6, ".queue") == 0)
		return sqs_region_copy(host, len - 6, out, size);
	return false;
}

const char *
sqs_region(const struct config_aws *listing, char *out, size_t size)
{
	const char *region = listing->sqs_region[0] != '\0' ? listing->sqs_region : NULL;

	if (region == NULL && sqs_region_of_url(listing->sqs_queue_url, out, size))
		return out;
	if (region == NULL)
		region = listing->region;
	if (size > 0)
		snprintf(out, size, "%s", region);
	return out;
}

int
sqs_receive(struct worker *w, const struct config_aws *listing, long wait, long visibility,
    const atomic_bool *cancel, struct sqs_message *out, size_t *n)
{
	struct json_object *body = json_object_new_object(), *names = json_object_new_array(), *messages, *m,
	    *attributes;
	struct awsapi_reply reply;
	struct awsapi_call call;
	const char *id, *receipt, *text, *count;
	struct config_aws queue;	/* the listing, signing for the queue's region */
	char region[SQS_REGION_MAX];
	size_t i;
	int rc;

	*n = 0;
	if (body == NULL || names == NULL) {
		json_object_put(body);
		json_object_put(names);
		return ERR_NOMEM;
	}
	json_object_object_add(body, "QueueUrl", json_object_new_string(listing->sqs_queue_url));
	json_object_object_add(body, "MaxNumberOfMessages", json_object_new_int(SQS_BATCH));
	json_object_object_add(body, "WaitTimeSeconds", json_object_new_int((int)wait));
	json_object_object_add(body, "VisibilityTimeout", json_object_new_int((int)visibility));
	json_object_array_add(names, json_object_new_string("ApproximateReceiveCount"));
	json_object_object_add(body, "MessageSystemAttributeNames", names);	/* takes ownership */
	queue = *listing;
	sqs_region(listing, region, sizeof(region));
	queue.region = region;
	call = (struct awsapi_call){ &queue, listing->sqs_url, "sqs", "AmazonSQS.ReceiveMessage", "1.0",
	    body, 0, (wait + 10) * 1000, cancel };
	rc = awsapi_perform(&w->http, &w->pool, &call, &reply);
	json_object_put(body);
	if (rc == ERR_OK && json_object_object_get_ex(reply.json, "Messages", &messages) &&
	    json_object_is_type(messages, json_type_array)) {
		for (i = 0; i < json_object_array_length(messages) && *n < SQS_BATCH; i++) {
			m = json_object_array_get_idx(messages, i);
			id = jr_str(m, "MessageId");
			receipt = jr_str(m, "ReceiptHandle");
			text = jr_str(m, "Body");
			if (receipt == NULL)
				continue;
			out[*n].message_id = pool_strdup(&w->pool, id != NULL ? id : "");
			out[*n].receipt = pool_strdup(&w->pool, receipt);
			out[*n].body = pool_strdup(&w->pool, text != NULL ? text : "");
			out[*n].len = text != NULL ? strlen(text) : 0;
			count = json_object_object_get_ex(m, "Attributes", &attributes) ?
			    jr_str(attributes, "ApproximateReceiveCount") : NULL;
			out[*n].receive_count = count != NULL ? strtol(count, NULL, 10) : 0;
			if (out[*n].message_id == NULL || out[*n].receipt == NULL || out[*n].body == NULL) {
				rc = ERR_NOMEM;
				break;
			}
			(*n)++;
		}
	}
	awsapi_reply_release(&reply);
	return rc;
}

int
sqs_delete(struct worker *w, const struct config_aws *listing, const char *receipt)
{
	struct json_object *body = json_object_new_object();
	struct awsapi_reply reply;
	struct awsapi_call call;
	struct config_aws queue;	/* the listing, signing for the queue's region */
	char region[SQS_REGION_MAX];
	int rc;

	if (body == NULL)
		return ERR_NOMEM;
	json_object_object_add(body, "QueueUrl", json_object_new_string(listing->sqs_queue_url));
	json_object_object_add(body, "ReceiptHandle", json_object_new_string(receipt));
	queue = *listing;
	sqs_region(listing, region, sizeof(region));
	queue.region = region;
	call = (struct awsapi_call){ &queue, listing->sqs_url, "sqs", "AmazonSQS.DeleteMessage", "1.0",
	    body, w->app->cfg.http_retries, 0, NULL };
	rc = awsapi_perform(&w->http, &w->pool, &call, &reply);
	json_object_put(body);
	awsapi_reply_release(&reply);
	return rc;
}
