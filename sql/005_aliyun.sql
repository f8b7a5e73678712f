-- 005_aliyun: what Alibaba Cloud Marketplace (阿里云云市场) adds to a
-- subscription (instance, SKU, order, expiry, the frozen 'expired' state),
-- the log of SPI calls that makes lifecycle replays harmless, and the 免登
-- tokens already used.

ALTER TABLE subscriptions
  -- 'expired': 云市场 froze the instance (unpaid bills); data is kept and
  -- renewInstance makes it 'active' again
  MODIFY COLUMN status ENUM('pending', 'active', 'failed', 'unsubscribe_pending', 'ended', 'expired') NOT NULL,
  ADD COLUMN instance_id VARCHAR(64) CHARACTER SET ascii NULL,   -- Alibaba instanceId (= orderBizId)
  ADD COLUMN sku_id VARCHAR(128) NULL,                           -- Alibaba skuId, the latest upgrade's
  ADD COLUMN order_id VARCHAR(64) CHARACTER SET ascii NULL,      -- Alibaba orderId, the latest order's
  ADD COLUMN expired_on DATETIME NULL,                           -- Alibaba expiredOn, converted to UTC
  ADD UNIQUE KEY subscriptions_instance (marketplace, instance_id);

-- Every SPI call that passed the token check and reached its action. A call
-- with an orderId is applied once: a replay hits the unique key and changes
-- nothing. Calls without one (expiredInstance, releaseInstance) have a NULL
-- order_id, which the key does not constrain; they are idempotent by state.
CREATE TABLE aliyun_spi_calls (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  instance_id VARCHAR(64) CHARACTER SET ascii NOT NULL,
  action VARCHAR(32) CHARACTER SET ascii NOT NULL,
  order_id VARCHAR(64) CHARACTER SET ascii NULL,
  subscription_id BIGINT UNSIGNED NULL,                          -- NULL: an instance we never created
  received_at DATETIME(6) NOT NULL,
  UNIQUE KEY aliyun_spi_calls_once (instance_id, action, order_id),
  KEY aliyun_spi_calls_subscription (subscription_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- 免登 (verify) links already used: SHA-256 of the token, kept until the
-- link's time window has closed, so each link signs in once.
CREATE TABLE aliyun_verify_tokens (
  token_hash CHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  expires_at DATETIME(6) NOT NULL,
  KEY aliyun_verify_tokens_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
