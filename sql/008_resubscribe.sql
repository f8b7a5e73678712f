-- 008_resubscribe: an ended subscription no longer holds its marketplace key,
-- so the same AWS account subscribing again to an older (CustomerIdentifier
-- + ProductCode) listing gets a fresh subscription row; the ended row, its
-- binding and its ledger stay as history. A legacy listing's subscription
-- has no AWS account id: account_id is NULL for it and the customer
-- identifier is shown instead.

-- MariaDB refuses generated columns over CHAR values: the key is hex of a
-- fixed length, so VARCHAR holds exactly the same values.
ALTER TABLE subscriptions
  MODIFY COLUMN external_key VARCHAR(64) CHARACTER SET ascii NOT NULL;

ALTER TABLE subscriptions
  -- NULL once ended: one live subscription per marketplace key
  ADD COLUMN live_key VARCHAR(64) CHARACTER SET ascii AS (IF(status = 'ended', NULL, external_key)) STORED,
  DROP INDEX subscriptions_external,
  ADD UNIQUE KEY subscriptions_live_key (live_key),
  ADD KEY subscriptions_external (external_key),
  -- the buyer's account id when the marketplace gave one (AWS
  -- CustomerAWSAccountId, Alibaba aliUid); NULL for an older AWS listing
  MODIFY COLUMN account_id VARCHAR(255) NULL;

-- Older AWS listings stored their CustomerIdentifier as the account id.
UPDATE subscriptions SET account_id = NULL
  WHERE marketplace IN ('aws-cn', 'aws') AND customer_aws_account_id IS NULL
  AND customer_identifier IS NOT NULL AND account_id = customer_identifier;
