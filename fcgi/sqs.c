/* SPDX-License-Identifier: MIT */
/*
 * sqs.c: ReceiveMessage and DeleteMessage over awsapi.c.
 */
#include "sqs.h"

#include <string.h>

#include <json-c/json.h>

#include "awsapi.h"
#include "config.h"
#include "error.h"
#include "worker.h"
#include "banned.h"

int
sqs_receive(struct worker *w, const struct config_aws *listing, long wait, long visibility,
    const atomic_bool *cancel, struct sqs_message *out, size_t *n)
{
	struct json_object *body = json_object_new_object(), *messages, *m;
	struct awsapi_reply reply;
	struct awsapi_call call;
	const char *id, *receipt, *text;
	size_t i;
	int rc;

	*n = 0;
	if (body == NULL)
		return ERR_NOMEM;
	json_object_object_add(body, "QueueUrl", json_object_new_string(listing->sqs_queue_url));
	json_object_object_add(body, "MaxNumberOfMessages", json_object_new_int(SQS_BATCH));
	json_object_object_add(body, "WaitTimeSeconds", json_object_new_int((int)wait));
	json_object_object_add(body, "VisibilityTimeout", json_object_new_int((int)visibility));
	call = (struct awsapi_call){ listing, listing->sqs_url, "sqs", "AmazonSQS.ReceiveMessage", "1.0",
	    body, 0, (wait + 10) * 1000, cancel };
	rc = awsapi_perform(&w->http, &w->pool, &call, &reply);
	json_object_put(body);
	if (rc == ERR_OK && json_object_object_get_ex(reply.json, "Messages", &messages) &&
	    json_object_is_type(messages, json_type_array)) {
		for (i = 0; i < json_object_array_length(messages) && *n < SQS_BATCH; i++) {
			m = json_object_array_get_idx(messages, i);
			id = awsapi_string(m, "MessageId");
			receipt = awsapi_string(m, "ReceiptHandle");
			text = awsapi_string(m, "Body");
			if (receipt == NULL)
				continue;
			out[*n].message_id = pool_strdup(&w->pool, id != NULL ? id : "");
			out[*n].receipt = pool_strdup(&w->pool, receipt);
			out[*n].body = pool_strdup(&w->pool, text != NULL ? text : "");
			out[*n].len = text != NULL ? strlen(text) : 0;
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
	int rc;

	if (body == NULL)
		return ERR_NOMEM;
	json_object_object_add(body, "QueueUrl", json_object_new_string(listing->sqs_queue_url));
	json_object_object_add(body, "ReceiptHandle", json_object_new_string(receipt));
	call = (struct awsapi_call){ listing, listing->sqs_url, "sqs", "AmazonSQS.DeleteMessage", "1.0",
	    body, w->app->cfg.http_retries, 0, NULL };
	rc = awsapi_perform(&w->http, &w->pool, &call, &reply);
	json_object_put(body);
	awsapi_reply_release(&reply);
	return rc;
}
