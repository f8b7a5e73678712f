-- 003_binding: marketplace subscriptions, their bindings to organizations,
-- binding attempts (the wizard's one-hour tickets), and each org's billing
-- status as the control plane reads it.

CREATE TABLE subscriptions (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  marketplace VARCHAR(16) CHARACTER SET ascii NOT NULL,       -- 'aws-cn', 'aws', 'aliyun'
  -- SHA-256 of the marketplace's own key: AWS partition + LicenseArn (new
  -- listings) or partition + CustomerIdentifier + ProductCode (older ones);
  -- Alibaba instanceId (= orderBizId). Never the buyer account alone.
  external_key CHAR(64) CHARACTER SET ascii NOT NULL,
  account_id VARCHAR(255) NOT NULL,                           -- shown to the buyer: AWS account id or aliUid
  customer_aws_account_id VARCHAR(255) NULL,
  license_arn VARCHAR(1024) NULL,
  customer_identifier VARCHAR(255) NULL,
  product_code VARCHAR(255) NULL,
  status ENUM('pending', 'active', 'failed', 'unsubscribe_pending', 'ended') NOT NULL,
  free_trial TINYINT(1) NOT NULL DEFAULT 0,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  ended_at DATETIME(6) NULL,
  UNIQUE KEY subscriptions_external (external_key),
  KEY subscriptions_customer (marketplace, customer_identifier)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE bindings (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  -- VARCHAR, not CHAR: MariaDB refuses generated columns over CHAR values
  org_id VARCHAR(26) CHARACTER SET ascii NOT NULL,
  subscription_id BIGINT UNSIGNED NOT NULL,
  bound_by BIGINT UNSIGNED NULL,
  bound_at DATETIME(6) NOT NULL,
  starts_at DATETIME(6) NOT NULL,          -- usage hours from here belong to this binding
  ended_at DATETIME(6) NULL,               -- usage hours from here do not
  end_reason VARCHAR(64) NULL,
  -- NULL once a binding has ended: one active binding per org and per subscription
  active_org VARCHAR(26) CHARACTER SET ascii AS (IF(ended_at IS NULL, org_id, NULL)) STORED,
  active_subscription BIGINT UNSIGNED AS (IF(ended_at IS NULL, subscription_id, NULL)) STORED,
  UNIQUE KEY bindings_active_org (active_org),
  UNIQUE KEY bindings_active_subscription (active_subscription),
  KEY bindings_org (org_id, bound_at),
  KEY bindings_subscription (subscription_id),
  CONSTRAINT bindings_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id),
  CONSTRAINT bindings_subscription_fk FOREIGN KEY (subscription_id) REFERENCES subscriptions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE binding_attempts (
  id CHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY,       -- hex of 16 random bytes
  subscription_id BIGINT UNSIGNED NOT NULL,
  created_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  used_at DATETIME(6) NULL,
  used_by BIGINT UNSIGNED NULL,
  binding_id BIGINT UNSIGNED NULL,
  KEY binding_attempts_subscription (subscription_id),
  CONSTRAINT binding_attempts_subscription_fk FOREIGN KEY (subscription_id) REFERENCES subscriptions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE orgs
  ADD COLUMN billing_status ENUM('none', 'marketplace', 'grace', 'suspended') NOT NULL DEFAULT 'none',
  ADD COLUMN grace_deadline DATETIME(6) NULL,
  ADD COLUMN billing_changed_at DATETIME(6) NULL;
