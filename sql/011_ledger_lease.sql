-- 011_ledger_lease: a ledger row's lease names its holder. Every lease
-- taken gets a random token; a sender settles a row only while the row is
-- still "sent" under its own token, so an answer that comes back after
-- the lease ran out (and another mpbind-meterd took the row) changes
-- nothing. Rows sent before this migration have no token: they are put
-- back by the usual recovery once their lease is over.

ALTER TABLE ledger
  ADD COLUMN lease_token CHAR(32) CHARACTER SET ascii NULL AFTER lease_until;
