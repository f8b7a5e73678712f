/* SPDX-License-Identifier: MIT */
/*
 * awsmeter.h: sending the ledger to AWS Marketplace with BatchMeterUsage:
 * at most 25 records a call, one product a call, each record stamped with
 * the start of its UTC hour (never "now"), identified by
 * CustomerAWSAccountId + LicenseArn (new listings) or CustomerIdentifier
 * (older ones). Each record's own Status settles its row: Success is
 * accepted; DuplicateRecord and CustomerNotSubscribed are final rejections
 * carrying the code; UnprocessedRecords and records AWS did not mention are
 * retried. An identical resend is de-duplicated by AWS (it answers the
 * original result), so whatever may not have been metered is resent.
 *
 * An error answering the whole call is judged by awsmeter_judge():
 *
 *   error (or HTTP status)                              what the rows get
 *   ThrottlingException, InternalServiceErrorException,  retried in the call while the
 *   InternalFailure, ServiceUnavailable*,                lease allows (http.retries,
 *   RequestThrottled, any 5xx or 429, a timeout, no      200 ms doubling), then pending
 *   answer, a malformed answer                           with the usual backoff
 *
 *   InvalidLicenseException (e.g. usage outside the      SPLIT: the batch is halved and
 *   license's active period), InvalidCustomerIdentifier- each half sent again (in the
 *   Exception, InvalidUsageDimensionException,           same lease), down to single
 *   InvalidTagException, InvalidUsageAllocations-        records; a record refused
 *   Exception, ValidationException, CustomerNotEntitled- alone is rejected for good with
 *   Exception, TimestampOutOfBoundsException, and any    the code, the others are
 *   other 4xx error we do not know                       metered
 *
 *   UnrecognizedClientException, InvalidClientTokenId,   HOLD: never final. Pending with
 *   InvalidSignatureException, SignatureDoesNotMatch,    ten times the backoff (up to an
 *   IncompleteSignature*, MissingAuthenticationToken*,   hour), logged as a warning per
 *   AccessDenied*, ExpiredToken*, RequestExpired,        call; the pass stops sending,
 *   NotAuthorized, InvalidAccessKeyId, OptInRequired,    so fixing the configuration
 *   DisabledApiException, InvalidProductCodeException,   resends them. AWS keeps taking
 *   InvalidEndpointRegionException, InvalidRegion-       an hour for 6 h (the protocol
 *   Exception, UnknownOperationException, Serialization- note's target), after which
 *   Exception, any 401 or 403                            TimestampOutOfBounds ends them
 *
 * InvalidProductCodeException is a HOLD, not a SPLIT: ProductCode is a
 * field of the call taken from aws_*.product_code, not of a record.
 *
 * Leases: each lease's calls end a second before the lease does (the
 * call's timeout is cut short, in-call retries stop, and nothing new is
 * started with less than half a second left); rows not sent for want of
 * time are released (due again at once, the attempt not counted). A row
 * is settled only under its own lease (ledger.h), so a late answer never
 * overwrites what another mpbind-meterd recorded.
 */
#ifndef MPBIND_AWSMETER_H
#define MPBIND_AWSMETER_H

struct worker;

/* What an error answering a whole BatchMeterUsage call means for its rows (table above). */
enum awsmeter_verdict {
	AWSMETER_RETRY,		/* nothing was metered: resend */
	AWSMETER_SPLIT,		/* refused for what may be one record: halve; alone, final */
	AWSMETER_HOLD,		/* our credentials or configuration: pending, long backoff */
};

/*
 * Judges an error: type is the AWS error code ("InvalidLicenseException";
 * NULL or "" when there was none), status the HTTP status (0 without an
 * answer).
 */
enum awsmeter_verdict awsmeter_judge(const char *type, long status);

/* Sends what is due for partition ("aws-cn", "aws"). ERR_OK or an error. */
int awsmeter_send(struct worker *w, const char *partition);

#endif
