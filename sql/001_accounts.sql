-- 001_accounts: users, their sessions, and sign-in throttling.
-- Times are UTC (every connection sets time_zone = '+00:00').

CREATE TABLE users (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(254) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  password_changed_at DATETIME(6) NULL,
  closed_at DATETIME(6) NULL,
  -- NULL once the account is closed, so the address can register again
  active_email VARCHAR(254) AS (IF(closed_at IS NULL, email, NULL)) STORED,
  UNIQUE KEY users_active_email (active_email),
  KEY users_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sessions (
  id_hash CHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,  -- hex SHA-256 of the cookie's id
  user_id BIGINT UNSIGNED NOT NULL,
  kind ENUM('password', 'sso') NOT NULL,
  created_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  revoked_at DATETIME(6) NULL,
  KEY sessions_user (user_id),
  CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Failed sign-ins per account ("e:" + email) and per address ("a:" + ip).
CREATE TABLE auth_throttle (
  throttle_key VARCHAR(300) NOT NULL PRIMARY KEY,
  failures INT UNSIGNED NOT NULL,
  last_failure_at DATETIME(6) NOT NULL,
  locked_until DATETIME(6) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
