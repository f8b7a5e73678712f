-- 006_metering: usage in, money, and the metering ledger out.
--
-- Money is exact: usage quantities are integer micro-units, prices integer
-- micro-currency per unit, and their products DECIMAL(38,0) "pico"
-- (10^-12 of a currency unit), so no fraction is ever rounded away.

-- Price of one whole unit of each usage dimension, in micro-currency.
CREATE TABLE prices (
  dimension VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  unit VARCHAR(32) NOT NULL,
  price_micros BIGINT UNSIGNED NOT NULL,
  description VARCHAR(255) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO prices (dimension, unit, price_micros, description) VALUES
  ('compute', 'vCPU-hour', 120000, 'compute capacity, per vCPU-hour'),
  ('memory', 'GiB-hour', 15000, 'memory, per GiB-hour'),
  ('storage', 'GiB-hour', 300, 'stored data, per GiB-hour'),
  ('egress', 'GiB', 500000, 'data transferred out, per GiB');

-- What the control plane reported, once per idempotency id.
CREATE TABLE usage_records (
  id VARCHAR(128) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  org_id VARCHAR(26) CHARACTER SET ascii NOT NULL,
  cloud VARCHAR(32) NOT NULL,
  region VARCHAR(64) NOT NULL,
  dimension VARCHAR(64) CHARACTER SET ascii NOT NULL,
  quantity_micros BIGINT UNSIGNED NOT NULL,
  start_at DATETIME(6) NOT NULL,
  end_at DATETIME(6) NOT NULL,
  hour DATETIME NOT NULL,                          -- the UTC hour the record lies in
  cost_pico DECIMAL(38,0) NOT NULL,                -- quantity_micros * price_micros
  fingerprint CHAR(64) CHARACTER SET ascii NOT NULL, -- SHA-256 of the record's content
  received_at DATETIME(6) NOT NULL,
  KEY usage_org_hour (org_id, hour),
  KEY usage_hour (hour)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per org and closed UTC hour: what it cost, what free credit
-- covered, and which subscription (the binding in force) pays the rest.
CREATE TABLE org_hours (
  org_id VARCHAR(26) CHARACTER SET ascii NOT NULL,
  hour DATETIME NOT NULL,
  cost_pico DECIMAL(38,0) NOT NULL,
  credit_micros BIGINT UNSIGNED NOT NULL,
  billable_pico DECIMAL(38,0) NOT NULL,
  subscription_id BIGINT UNSIGNED NULL,            -- NULL: no binding, unbilled
  built_at DATETIME(6) NOT NULL,
  PRIMARY KEY (org_id, hour),
  KEY org_hours_subscription (subscription_id, hour)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Free credit: granted amounts, and what each hour spent of them.
CREATE TABLE credit_grants (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  org_id VARCHAR(26) CHARACTER SET ascii NOT NULL,
  amount_micros BIGINT UNSIGNED NOT NULL,
  granted_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  note VARCHAR(255) NOT NULL,
  KEY credit_grants_org (org_id, expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE credit_spends (
  grant_id BIGINT UNSIGNED NOT NULL,
  hour DATETIME NOT NULL,
  org_id VARCHAR(26) CHARACTER SET ascii NOT NULL,
  amount_micros BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (grant_id, hour),
  KEY credit_spends_org (org_id, hour)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The metering ledger: one row per subscription, marketplace dimension and
-- usage hour. pending -> sent -> accepted, or a final rejected state with
-- the marketplace's code; unknown when a send's outcome cannot be known and
-- resending could bill twice (Alibaba does not de-duplicate).
CREATE TABLE ledger (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  subscription_id BIGINT UNSIGNED NOT NULL,
  marketplace VARCHAR(16) CHARACTER SET ascii NOT NULL,
  dimension VARCHAR(255) NOT NULL,
  hour DATETIME NOT NULL,
  quantity BIGINT UNSIGNED NOT NULL,               -- marketplace units
  carry_in_pico DECIMAL(38,0) NOT NULL,            -- what earlier hours left below one unit
  carry_out_pico DECIMAL(38,0) NOT NULL,           -- what this hour leaves for the next
  state ENUM('pending', 'sent', 'accepted', 'rejected', 'unknown') NOT NULL,
  solo TINYINT(1) NOT NULL DEFAULT 0,              -- send alone (its batch was refused whole)
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(6) NOT NULL,
  lease_until DATETIME(6) NULL,
  result_code VARCHAR(128) NULL,
  record_id VARCHAR(255) NULL,                     -- the marketplace's id for the record
  built_at DATETIME(6) NOT NULL,
  sent_at DATETIME(6) NULL,
  settled_at DATETIME(6) NULL,
  UNIQUE KEY ledger_key (subscription_id, dimension, hour),
  KEY ledger_due (marketplace, state, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE subscriptions
  ADD COLUMN last_metered_at DATETIME(6) NULL;     -- Alibaba: one push per instance per minute
