-- 013_aliyun_create: a createInstance retried for an orderBizId must carry
-- the parameters of the first call, so the subscription keeps their
-- fingerprint; and the SPI log's replay key counts only calls for an
-- instance that exists.

ALTER TABLE subscriptions
  -- hex SHA-256 of every signed createInstance parameter but token
  -- (aliyun.h); NULL for AWS, and for Alibaba instances created before
  -- this migration until their next createInstance retry
  ADD COLUMN create_fingerprint CHAR(64) CHARACTER SET ascii NULL;

-- Lifecycle calls for an unknown instanceId are refused now and no longer
-- logged. The ones logged before (subscription_id NULL) stay as history,
-- but must not pass a later real call with the same instanceId, action
-- and orderId off as a replay: with subscription_id in the key, NULL rows
-- constrain nothing. Every instanceId has one subscription, so for logged
-- calls of real instances the key is (instanceId, action, orderId) as
-- before.
ALTER TABLE aliyun_spi_calls
  DROP INDEX aliyun_spi_calls_once,
  ADD UNIQUE KEY aliyun_spi_calls_once (instance_id, action, order_id, subscription_id);
