-- 014_ascii_bin_late: the two ascii columns added after 009 compare byte
-- for byte too (009's rule: CHARACTER SET ascii COLLATE ascii_bin). Both
-- hold lowercase hex, so no value or key changes.

ALTER TABLE ledger
  MODIFY COLUMN lease_token CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL;

ALTER TABLE subscriptions
  MODIFY COLUMN create_fingerprint CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL;
