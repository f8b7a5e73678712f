/* SPDX-License-Identifier: MIT */
/*
 * awsmeter.h: sending the ledger to AWS Marketplace with BatchMeterUsage:
 * at most 25 records a call, one product a call, each record stamped with
 * the start of its UTC hour (never "now"), identified by
 * CustomerAWSAccountId + LicenseArn (new listings) or CustomerIdentifier
 * (older ones). Success is accepted; DuplicateRecord, CustomerNotSubscribed
 * and Invalid* are final rejections carrying the code; UnprocessedRecords,
 * throttling, 5xx and timeouts are retried (an identical resend is
 * de-duplicated by AWS, so a send that died is resent); a batch refused
 * whole with TimestampOutOfBoundsException is split and each record sent
 * alone, so only the out-of-bounds ones end rejected.
 */
#ifndef MPBIND_AWSMETER_H
#define MPBIND_AWSMETER_H

struct worker;

/* Sends what is due for partition ("aws-cn", "aws"). ERR_OK or an error. */
int awsmeter_send(struct worker *w, const char *partition);

#endif
