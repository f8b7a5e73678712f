-- 009_ascii_bin: every CHARACTER SET ascii column compares byte for byte
-- (COLLATE ascii_bin), and the indexes the session and sign-in purges use.
--
-- The default ascii_general_ci made ids that differ only in case the same
-- key: usage records "Run-1" and "run-1" collided, and a base64url
-- invitation id was found with its case changed. Hex hashes, org ids and
-- the fixed lowercase names (marketplace, source, action) never differ in
-- case, but they take the same collation: columns compared with one
-- another (joins on org_id, say) must agree, or MySQL refuses the mix.
-- Rule for every migration: write CHARACTER SET ascii COLLATE ascii_bin
-- (a test checks the whole schema).
--
-- ascii_bin is stricter than ascii_general_ci, so every existing unique
-- key stays unique and no row changes. The foreign keys on orgs.id are
-- dropped and added back around the change (MySQL 8 and MariaDB refuse to
-- change a column a foreign key uses); org ids are lowercase by
-- construction, so every child row still finds its parent.

ALTER TABLE memberships DROP FOREIGN KEY memberships_org_fk;
ALTER TABLE invitations DROP FOREIGN KEY invitations_org_fk;
ALTER TABLE bindings DROP FOREIGN KEY bindings_org_fk;

ALTER TABLE sessions
  MODIFY COLUMN id_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ADD KEY sessions_expiry (expires_at);

ALTER TABLE auth_throttle
  ADD KEY auth_throttle_last_failure (last_failure_at);

ALTER TABLE orgs
  MODIFY COLUMN id CHAR(26) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE memberships
  MODIFY COLUMN org_id CHAR(26) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE invitations
  MODIFY COLUMN id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  MODIFY COLUMN org_id CHAR(26) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE events
  MODIFY COLUMN org_id CHAR(26) CHARACTER SET ascii COLLATE ascii_bin NULL;

ALTER TABLE subscriptions
  MODIFY COLUMN marketplace VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  MODIFY COLUMN external_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  MODIFY COLUMN live_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin
    AS (IF(status = 'ended', NULL, external_key)) STORED,
  MODIFY COLUMN instance_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  MODIFY COLUMN order_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL;

ALTER TABLE bindings
  MODIFY COLUMN org_id VARCHAR(26) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  MODIFY COLUMN active_org VARCHAR(26) CHARACTER SET ascii COLLATE ascii_bin
    AS (IF(ended_at IS NULL, org_id, NULL)) STORED;

ALTER TABLE binding_attempts
  MODIFY COLUMN id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE inbox
  MODIFY COLUMN source VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  MODIFY COLUMN message_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE inbox_rejected
  MODIFY COLUMN source VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE sns_certs
  MODIFY COLUMN url_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE entitlements
  MODIFY COLUMN marketplace VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE aliyun_spi_calls
  MODIFY COLUMN instance_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  MODIFY COLUMN action VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  MODIFY COLUMN order_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL;

ALTER TABLE aliyun_verify_tokens
  MODIFY COLUMN token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE prices
  MODIFY COLUMN dimension VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE usage_records
  MODIFY COLUMN id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  MODIFY COLUMN org_id VARCHAR(26) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  MODIFY COLUMN dimension VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  MODIFY COLUMN fingerprint CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE org_hours
  MODIFY COLUMN org_id VARCHAR(26) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE credit_grants
  MODIFY COLUMN org_id VARCHAR(26) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE credit_spends
  MODIFY COLUMN org_id VARCHAR(26) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE ledger
  MODIFY COLUMN marketplace VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE memberships
  ADD CONSTRAINT memberships_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);
ALTER TABLE invitations
  ADD CONSTRAINT invitations_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);
ALTER TABLE bindings
  ADD CONSTRAINT bindings_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);
