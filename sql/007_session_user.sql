-- 007_session_user: a session carries its user's e-mail and creation time,
-- which never change, so every signed-in request is one primary-key read
-- (no join). Closing an account revokes its sessions in the same
-- transaction, so a live session never belongs to a closed account.

ALTER TABLE sessions
  ADD COLUMN email VARCHAR(254) NOT NULL DEFAULT '',
  ADD COLUMN user_created_at DATETIME(6) NULL;

UPDATE sessions s JOIN users u ON u.id = s.user_id
  SET s.email = u.email, s.user_created_at = u.created_at;
