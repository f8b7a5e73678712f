-- 004_notifications: marketplace notifications (SNS over HTTPS or through
-- SQS), applied once each whatever order they arrive in.

-- Every authentic notification, once: the marketplace's own MessageId is
-- the key, so a redelivery finds its row and changes nothing.
CREATE TABLE inbox (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  source VARCHAR(16) CHARACTER SET ascii NOT NULL,            -- 'aws-cn', 'aws'
  message_id VARCHAR(128) CHARACTER SET ascii NOT NULL,
  via ENUM('https', 'sqs', 'replay') NOT NULL,
  type VARCHAR(32) NOT NULL,                                  -- Notification, SubscriptionConfirmation, ...
  action VARCHAR(64) NULL,
  customer_identifier VARCHAR(255) NULL,
  message_time DATETIME(6) NOT NULL,                          -- the message's own Timestamp
  subscription_id BIGINT UNSIGNED NULL,
  -- applied: changed the subscription; stale: older than what was applied;
  -- unmatched: no subscription yet (applied when the landing creates it);
  -- confirmed: a subscription confirmation fetched; ignored: nothing to do
  state ENUM('applied', 'stale', 'unmatched', 'confirmed', 'ignored') NOT NULL,
  note VARCHAR(255) NULL,
  body MEDIUMTEXT NOT NULL,                                   -- the verified envelope, for replay
  received_at DATETIME(6) NOT NULL,
  applied_at DATETIME(6) NULL,
  UNIQUE KEY inbox_message (source, message_id),
  KEY inbox_unmatched (source, customer_identifier, state)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Messages refused before they could be trusted (forged, malformed, not
-- ours). Kept for operators; never retried, never keyed by their claimed id.
CREATE TABLE inbox_rejected (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  source VARCHAR(16) CHARACTER SET ascii NOT NULL,
  via ENUM('https', 'sqs', 'replay') NOT NULL,
  reason VARCHAR(255) NOT NULL,
  body MEDIUMTEXT NOT NULL,
  received_at DATETIME(6) NOT NULL,
  KEY inbox_rejected_time (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- SNS signing certificates, fetched over verified TLS and shared by every
-- worker on every host.
CREATE TABLE sns_certs (
  url_hash CHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  url VARCHAR(1024) NOT NULL,
  pem MEDIUMTEXT NOT NULL,
  fetched_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- What GetEntitlements last said for a customer (contract products).
CREATE TABLE entitlements (
  marketplace VARCHAR(16) CHARACTER SET ascii NOT NULL,
  customer_identifier VARCHAR(255) NOT NULL,
  dimension VARCHAR(255) NOT NULL,
  value VARCHAR(1024) NOT NULL,                               -- the Value object, JSON
  expires_at DATETIME(6) NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (marketplace, customer_identifier, dimension)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE subscriptions
  ADD COLUMN notified_at DATETIME(6) NULL,         -- Timestamp of the last lifecycle message applied
  ADD COLUMN flush_requested_at DATETIME(6) NULL;  -- unsubscribe-pending: send unsent usage now
