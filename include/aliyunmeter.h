/* SPDX-License-Identifier: MIT */
/*
 * aliyunmeter.h: the Alibaba Cloud Marketplace (阿里云云市场) metering
 * sender: ledger rows of marketplace "aliyun" go to Market's
 * PushMeteringData (2015-11-01, RPC style, POST, the Metering JSON in the
 * query, ACS3-HMAC-SHA256; ../shared/protocols/aliyun-marketplace.md §3).
 *
 * One record per ledger row: {"InstanceId", "StartTime": hour,
 * "EndTime": hour + 3600, "Entities": [{"Key": the row's dimension (written
 * by meter.c from aliyun.metering_key), "Value": quantity, "meteringAssit":
 * aliyun.metering_assit}]}; times and numbers as strings, like the
 * documentation's examples. A request holds at most 100 records, of one
 * product; each instance is in one request a pass and is pushed at most
 * once per aliyun.metering_interval seconds (ledger_lease's min_interval,
 * stamped again once the exchange is over).
 *
 * Alibaba does not de-duplicate, so nothing is ever sent twice: a row whose
 * send may have landed (a timeout or a connection lost after sending, a
 * malformed answer, a lease that expired while sending) ends "unknown" for
 * mpbindctl reconcile, never back in "pending". A push ends (http.timeout,
 * cut short if need be) a second before the rows' lease (metering.
 * lease_seconds) does, so another meterd's ledger_recover() never takes
 * rows whose answer is still coming; libcurl is told never to resend.
 */
#ifndef MPBIND_ALIYUNMETER_H
#define MPBIND_ALIYUNMETER_H

#include <stdbool.h>

struct http_reply;
struct pool;
struct worker;

#define ALIYUN_METER_RECORDS 100	/* records per request */

/*
 * What a PushMeteringData answer means for the rows it carried:
 *   ACCEPT   Success: true; record_id is the RequestId (may be NULL).
 *   RETRY    nothing was billed and a resend is safe: throttled
 *            (Service.Flow.Control, Throttling.*, 429), a 5xx or
 *            InternalError, SignatureNonceUsed, or nothing was sent.
 *   HOLD     our credentials, signature, permission or endpoint were
 *            refused before anything was metered: codes beginning
 *            SignatureDoesNotMatch, IncompleteSignature, InvalidSignature,
 *            UnsupportedSignature, InvalidAccessKeyId, InvalidSecurityToken,
 *            MissingSecurityToken, InvalidTimeStamp (our clock), Forbidden,
 *            Permission.Denied (the account is not on the API's list, or a
 *            RAM user), NoPermission, InvalidAction, InvalidVersion; any
 *            other code with 401 or 403; an answer without a code other
 *            than those below (a gateway's or a proxy's page, a wrong
 *            market_url). Never final: the rows stay pending with ten
 *            times the backoff, a warning is logged, the pass stops; fixed
 *            in time, they are pushed (else they end "late").
 *   REJECT   refused for good with the marketplace's code: any other code
 *            (4xx or Success: false); 413, 414 or 431 without a code for
 *            a request of one instance.
 *   SPLIT    refused whole for what may be one record's fault
 *            (Invalid.Parameter*, Metering.Data.Exceeded; 413, 414, 431
 *            without a code): send each instance alone; a request of one
 *            instance is REJECT.
 *   UNKNOWN  it may have been billed: a timeout or a connection lost after
 *            the request left, a 2xx that is not the expected JSON, a 502
 *            or 504 without a code (a gateway lost the service's answer).
 * RETRY also covers 408 without a code; a 5xx without a code other than
 * 502 and 504 is RETRY.
 */
enum aliyun_meter_verdict {
	ALIYUN_METER_ACCEPT,
	ALIYUN_METER_RETRY,
	ALIYUN_METER_REJECT,
	ALIYUN_METER_SPLIT,
	ALIYUN_METER_UNKNOWN,
	ALIYUN_METER_HOLD,
};

struct aliyun_meter_outcome {
	enum aliyun_meter_verdict verdict;
	const char *code;		/* the marketplace's Code or ours; in pool */
	const char *record_id;		/* ACCEPT: the RequestId, in pool, or NULL */
};

/*
 * Judges one exchange: http_rc is what http_perform() returned for reply.
 * several_instances tells SPLIT from REJECT. Strings come from pool.
 * Returns ERR_OK or ERR_NOMEM.
 */
int aliyun_meter_judge(struct pool *pool, int http_rc, const struct http_reply *reply,
    bool several_instances, struct aliyun_meter_outcome *out);

/*
 * mpbind-meterd's pass for "aliyun" (struct marketplace's meter_send): rows
 * left "sent" past their lease become unknown (ledger_recover, never
 * resent); then due rows are leased, rows past their deadline (the hour's
 * start + 1:59, less a minute's margin) rejected "late" without a request,
 * rows of an hour not yet over put back, and the rest pushed and settled
 * with the answer; after a HOLD the pass pushes nothing more. Returns
 * ERR_OK, or the database error that stopped the pass (rows it could not
 * settle stay "sent" and end unknown).
 */
int aliyun_meter_send(struct worker *w);

#endif
