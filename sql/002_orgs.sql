-- 002_orgs: organizations, memberships with roles, invitations, and the
-- audit events every change writes in its own transaction.

CREATE TABLE orgs (
  id CHAR(26) CHARACTER SET ascii NOT NULL PRIMARY KEY,      -- 'org-' + 22 lowercase letters
  name VARCHAR(100) NOT NULL,
  created_by BIGINT UNSIGNED NULL,
  created_at DATETIME(6) NOT NULL,
  CONSTRAINT orgs_created_by_fk FOREIGN KEY (created_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE memberships (
  org_id CHAR(26) CHARACTER SET ascii NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  role ENUM('admin', 'billing', 'member') NOT NULL,
  joined_at DATETIME(6) NOT NULL,
  PRIMARY KEY (org_id, user_id),
  KEY memberships_user (user_id),
  KEY memberships_org_role (org_id, role),
  CONSTRAINT memberships_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id),
  CONSTRAINT memberships_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE invitations (
  id CHAR(22) CHARACTER SET ascii NOT NULL PRIMARY KEY,       -- random, base64url
  org_id CHAR(26) CHARACTER SET ascii NOT NULL,
  email VARCHAR(254) NOT NULL,
  role ENUM('admin', 'billing', 'member') NOT NULL,
  invited_by BIGINT UNSIGNED NOT NULL,
  created_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  accepted_at DATETIME(6) NULL,
  accepted_by BIGINT UNSIGNED NULL,
  revoked_at DATETIME(6) NULL,
  declined_at DATETIME(6) NULL,
  KEY invitations_org (org_id),
  KEY invitations_email (email),
  CONSTRAINT invitations_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id),
  CONSTRAINT invitations_invited_by_fk FOREIGN KEY (invited_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE events (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  org_id CHAR(26) CHARACTER SET ascii NULL,                   -- NULL for account events
  actor_user_id BIGINT UNSIGNED NULL,                         -- NULL for marketplace and system
  actor VARCHAR(64) NOT NULL,                                 -- 'user', 'aws-cn', 'aliyun', 'system', 'operator'
  action VARCHAR(64) NOT NULL,
  detail VARCHAR(2000) NOT NULL,                              -- JSON object
  created_at DATETIME(6) NOT NULL,
  KEY events_org (org_id, id),
  KEY events_actor (actor_user_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
