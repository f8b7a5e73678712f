/* SPDX-License-Identifier: MIT */
/*
 * stmt.h: every SQL statement mpbind runs at request time, by name. Each is
 * prepared once per connection (db.c) and run with bound values only.
 * Grouped by the module that uses it; a comment says what each does.
 * Schema changes live in sql/NNN_name.sql, not here.
 */
#ifndef MPBIND_STMT_H
#define MPBIND_STMT_H

#define STMT_LIST(X) \
	/* health.c: is the connection alive */ \
	X(PING, "SELECT 1") \
	\
	/* session.c: the signed-in user of a live session: user id, email, expiry */ \
	X(SESSION_LOOKUP, "SELECT s.user_id, u.email, UNIX_TIMESTAMP(s.expires_at) FROM sessions s " \
	    "JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.revoked_at IS NULL " \
	    "AND s.expires_at > NOW(6) AND u.closed_at IS NULL") \
	/* session.c: a new session (hash, user, kind, ttl seconds) */ \
	X(SESSION_INSERT, "INSERT INTO sessions (id_hash, user_id, kind, created_at, expires_at) " \
	    "VALUES (?, ?, ?, NOW(6), NOW(6) + INTERVAL ? SECOND)") \
	/* session.c: logout */ \
	X(SESSION_REVOKE, "UPDATE sessions SET revoked_at = NOW(6) WHERE id_hash = ? AND revoked_at IS NULL") \
	/* session.c: every session of a user but one (password change, closing) */ \
	X(SESSION_REVOKE_USER, "UPDATE sessions SET revoked_at = NOW(6) WHERE user_id = ? " \
	    "AND id_hash <> ? AND revoked_at IS NULL") \
	\
	/* auth.c: a new account (email, Argon2id hash) */ \
	X(USER_INSERT, "INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, NOW(6))") \
	/* auth.c: an open account by email: id, hash */ \
	X(USER_BY_EMAIL, "SELECT id, password_hash FROM users WHERE active_email = ?") \
	/* auth.c: an open account by id, locked: email, hash, created */ \
	X(USER_LOCK, "SELECT email, password_hash, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') " \
	    "FROM users WHERE id = ? AND closed_at IS NULL FOR UPDATE") \
	/* auth.c: an account's created time */ \
	X(USER_CREATED, "SELECT DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') FROM users WHERE id = ?") \
	/* auth.c: new hash (password change, or a rehash at sign-in) */ \
	X(USER_SET_PASSWORD, "UPDATE users SET password_hash = ?, password_changed_at = NOW(6) WHERE id = ?") \
	/* auth.c: closing an account */ \
	X(USER_CLOSE, "UPDATE users SET closed_at = NOW(6) WHERE id = ? AND closed_at IS NULL") \
	/* auth.c: is a throttle key locked now: seconds left (NULL or <= 0 when not) */ \
	X(THROTTLE_GET, "SELECT CEIL(TIMESTAMPDIFF(MICROSECOND, NOW(6), locked_until) / 1000000) " \
	    "FROM auth_throttle WHERE throttle_key = ?") \
	/* auth.c: one more failure for a key (key, threshold, threshold); resets after 15 quiet minutes, \
	 * locks for 2^(failures - threshold) seconds (at most 15 minutes) past the threshold */ \
	X(THROTTLE_FAIL, "INSERT INTO auth_throttle (throttle_key, failures, last_failure_at, locked_until) " \
	    "VALUES (?, 1, NOW(6), NULL) ON DUPLICATE KEY UPDATE " \
	    "failures = IF(last_failure_at < NOW(6) - INTERVAL 15 MINUTE, 1, failures + 1), " \
	    "last_failure_at = NOW(6), " \
	    "locked_until = IF(failures >= ?, NOW(6) + INTERVAL LEAST(POW(2, failures - ?), 900) SECOND, NULL)") \
	/* auth.c: a successful sign-in clears the account's failures */ \
	X(THROTTLE_CLEAR, "DELETE FROM auth_throttle WHERE throttle_key = ?") \
	\
	/* orgs.c: a user's role in an org (none when not a member) */ \
	X(ORG_ROLE, "SELECT role FROM memberships WHERE org_id = ? AND user_id = ?") \
	/* orgs.c: the same, locking the membership for a transaction */ \
	X(ORG_ROLE_LOCK, "SELECT role FROM memberships WHERE org_id = ? AND user_id = ? FOR UPDATE") \
	/* orgs.c: the admins of an org, locked: the last-admin rule counts them */ \
	X(ORG_ADMINS_LOCK, "SELECT user_id FROM memberships WHERE org_id = ? AND role = 'admin' FOR UPDATE") \
	/* orgs.c: every org of a user with role, members and creation time */ \
	X(ORG_LIST, "SELECT o.id, o.name, m.role, (SELECT COUNT(*) FROM memberships c WHERE c.org_id = o.id), " \
	    "DATE_FORMAT(o.created_at, '%Y-%m-%dT%H:%i:%sZ') FROM memberships m JOIN orgs o ON o.id = m.org_id " \
	    "WHERE m.user_id = ? ORDER BY o.created_at, o.id LIMIT 500") \
	/* orgs.c: one org of a user: name, role, members, created */ \
	X(ORG_GET, "SELECT o.name, m.role, (SELECT COUNT(*) FROM memberships c WHERE c.org_id = o.id), " \
	    "DATE_FORMAT(o.created_at, '%Y-%m-%dT%H:%i:%sZ') FROM memberships m JOIN orgs o ON o.id = m.org_id " \
	    "WHERE m.org_id = ? AND m.user_id = ?") \
	/* orgs.c: a new org (id, name, creator) */ \
	X(ORG_INSERT, "INSERT INTO orgs (id, name, created_by, created_at) VALUES (?, ?, ?, NOW(6))") \
	/* orgs.c: rename */ \
	X(ORG_RENAME, "UPDATE orgs SET name = ? WHERE id = ?") \
	/* orgs.c, members.c: a membership (org, user, role) */ \
	X(MEMBER_INSERT, "INSERT INTO memberships (org_id, user_id, role, joined_at) VALUES (?, ?, ?, NOW(6))") \
	/* members.c: change a role (role, org, user) */ \
	X(MEMBER_SET_ROLE, "UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?") \
	/* members.c, orgs.c: end a membership (org, user) */ \
	X(MEMBER_DELETE, "DELETE FROM memberships WHERE org_id = ? AND user_id = ?") \
	/* auth.c: the orgs where a user is the only admin (closing an account) */ \
	X(MEMBER_SOLE_ADMIN_ORGS, "SELECT o.id, o.name FROM memberships m JOIN orgs o ON o.id = m.org_id " \
	    "WHERE m.user_id = ? AND m.role = 'admin' AND (SELECT COUNT(*) FROM memberships a " \
	    "WHERE a.org_id = m.org_id AND a.role = 'admin') = 1 LIMIT 100") \
	/* auth.c: every membership of a user, locked (closing an account) */ \
	X(MEMBER_LOCK_USER, "SELECT org_id, role FROM memberships WHERE user_id = ? FOR UPDATE") \
	/* members.c: the members of an org: user id, email, role, joined */ \
	X(MEMBER_LIST, "SELECT m.user_id, u.email, m.role, DATE_FORMAT(m.joined_at, '%Y-%m-%dT%H:%i:%sZ') " \
	    "FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? " \
	    "ORDER BY m.joined_at, m.user_id LIMIT 1000") \
	/* members.c: a member by user id in an org, locked: role, email */ \
	X(MEMBER_LOCK, "SELECT m.role, u.email FROM memberships m JOIN users u ON u.id = m.user_id " \
	    "WHERE m.org_id = ? AND m.user_id = ? FOR UPDATE") \
	/* members.c: is an open account with this email already a member (org, email) */ \
	X(MEMBER_BY_EMAIL, "SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id " \
	    "WHERE m.org_id = ? AND u.active_email = ?") \
	/* members.c: a new invitation (id, org, email, role, inviter, ttl seconds) */ \
	X(INVITE_INSERT, "INSERT INTO invitations (id, org_id, email, role, invited_by, created_at, expires_at) " \
	    "VALUES (?, ?, ?, ?, ?, NOW(6), NOW(6) + INTERVAL ? SECOND)") \
	/* members.c: pending invitations of an org: id, email, role, expires */ \
	X(INVITE_LIST_ORG, "SELECT id, email, role, DATE_FORMAT(expires_at, '%Y-%m-%dT%H:%i:%sZ') " \
	    "FROM invitations WHERE org_id = ? AND accepted_at IS NULL AND revoked_at IS NULL " \
	    "AND declined_at IS NULL AND expires_at > NOW(6) ORDER BY created_at LIMIT 500") \
	/* members.c: pending invitations for an email: id, org, org name, role, inviter, expires */ \
	X(INVITE_LIST_EMAIL, "SELECT i.id, i.org_id, o.name, i.role, u.email, " \
	    "DATE_FORMAT(i.expires_at, '%Y-%m-%dT%H:%i:%sZ') FROM invitations i JOIN orgs o ON o.id = i.org_id " \
	    "JOIN users u ON u.id = i.invited_by WHERE i.email = ? AND i.accepted_at IS NULL " \
	    "AND i.revoked_at IS NULL AND i.declined_at IS NULL AND i.expires_at > NOW(6) " \
	    "ORDER BY i.created_at LIMIT 100") \
	/* members.c: one invitation, locked: org, email, role, usable now (1/0), org name */ \
	X(INVITE_LOCK, "SELECT i.org_id, i.email, i.role, (i.accepted_at IS NULL AND i.revoked_at IS NULL " \
	    "AND i.declined_at IS NULL AND i.expires_at > NOW(6)), o.name FROM invitations i " \
	    "JOIN orgs o ON o.id = i.org_id WHERE i.id = ? FOR UPDATE") \
	/* members.c: an invitation used up (user, id) */ \
	X(INVITE_ACCEPT, "UPDATE invitations SET accepted_at = NOW(6), accepted_by = ? WHERE id = ?") \
	/* members.c: an invitation turned down (id) */ \
	X(INVITE_DECLINE, "UPDATE invitations SET declined_at = NOW(6) WHERE id = ?") \
	/* members.c: an invitation withdrawn by an admin (id, org) */ \
	X(INVITE_REVOKE, "UPDATE invitations SET revoked_at = NOW(6) WHERE id = ? AND org_id = ? " \
	    "AND accepted_at IS NULL AND revoked_at IS NULL AND declined_at IS NULL") \
	/* members.c: an invitation of an org: email, expiry (id, org) */ \
	X(INVITE_GET, "SELECT email, DATE_FORMAT(expires_at, '%Y-%m-%dT%H:%i:%sZ') FROM invitations " \
	    "WHERE id = ? AND org_id = ?") \
	\
	/* events.c: an audit event (org or NULL, actor user or NULL, actor, action, detail JSON) */ \
	X(EVENT_INSERT, "INSERT INTO events (org_id, actor_user_id, actor, action, detail, created_at) " \
	    "VALUES (?, ?, ?, ?, ?, NOW(6))") \
	/* events.c: an org's events before an id, newest first: id, time, actor email, actor, action, detail */ \
	X(EVENT_LIST, "SELECT e.id, DATE_FORMAT(e.created_at, '%Y-%m-%dT%H:%i:%s.%fZ'), u.email, e.actor, " \
	    "e.action, e.detail FROM events e LEFT JOIN users u ON u.id = e.actor_user_id " \
	    "WHERE e.org_id = ? AND e.id < ? ORDER BY e.id DESC LIMIT ?") \
	\
	/* subscriptions.c: a new subscription (marketplace, key, account, aws account, license, \
	 * customer identifier, product, status, free trial) */ \
	X(SUB_INSERT, "INSERT INTO subscriptions (marketplace, external_key, account_id, customer_aws_account_id, " \
	    "license_arn, customer_identifier, product_code, status, free_trial, created_at, updated_at) " \
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NOW(6), NOW(6))") \
	/* subscriptions.c: a subscription by its marketplace key, locked: id, status */ \
	X(SUB_BY_KEY_LOCK, "SELECT id, status FROM subscriptions WHERE external_key = ? FOR UPDATE") \
	/* subscriptions.c: a subscription by id, locked: marketplace, account, status, customer id, license */ \
	X(SUB_LOCK, "SELECT marketplace, account_id, status, customer_identifier, license_arn, product_code, " \
	    "DATE_FORMAT(notified_at, '%Y-%m-%d %H:%i:%s.%f') FROM subscriptions WHERE id = ? FOR UPDATE") \
	/* subscriptions.c: fills in identifiers a later answer added (customer id, aws account, license) */ \
	X(SUB_FILL_KEYS, "UPDATE subscriptions SET customer_identifier = COALESCE(customer_identifier, ?), " \
	    "customer_aws_account_id = COALESCE(customer_aws_account_id, ?), license_arn = COALESCE(license_arn, ?), " \
	    "updated_at = NOW(6) WHERE id = ?") \
	/* subscriptions.c: a new status (status, ended: 1 sets ended_at, id) */ \
	X(SUB_SET_STATUS, "UPDATE subscriptions SET status = ?, ended_at = IF(? = 1, NOW(6), ended_at), " \
	    "updated_at = NOW(6) WHERE id = ?") \
	\
	/* binding.c: a new attempt (id, subscription, ttl seconds) */ \
	X(ATTEMPT_INSERT, "INSERT INTO binding_attempts (id, subscription_id, created_at, expires_at) " \
	    "VALUES (?, ?, NOW(6), NOW(6) + INTERVAL ? SECOND)") \
	/* binding.c: an attempt: subscription, used (1/0), expired (1/0), expiry */ \
	X(ATTEMPT_GET, "SELECT subscription_id, used_at IS NOT NULL, expires_at <= NOW(6), " \
	    "DATE_FORMAT(expires_at, '%Y-%m-%dT%H:%i:%sZ') FROM binding_attempts WHERE id = ?") \
	/* binding.c: the same, locked inside the confirming transaction */ \
	X(ATTEMPT_LOCK, "SELECT subscription_id, used_at IS NOT NULL, expires_at <= NOW(6), " \
	    "DATE_FORMAT(expires_at, '%Y-%m-%dT%H:%i:%sZ') FROM binding_attempts WHERE id = ? FOR UPDATE") \
	/* binding.c: an attempt used up (user, binding, id) */ \
	X(ATTEMPT_USE, "UPDATE binding_attempts SET used_at = NOW(6), used_by = ?, binding_id = ? WHERE id = ?") \
	/* binding.c: a subscription for the wizard: marketplace, account, status */ \
	X(SUB_GET, "SELECT marketplace, account_id, status FROM subscriptions WHERE id = ?") \
	/* binding.c: the org a subscription is actively bound to: org id, org name */ \
	X(BINDING_OF_SUB, "SELECT b.org_id, o.name FROM bindings b JOIN orgs o ON o.id = b.org_id " \
	    "WHERE b.active_subscription = ?") \
	/* binding.c: the same, locked */ \
	X(BINDING_OF_SUB_LOCK, "SELECT id, org_id FROM bindings WHERE active_subscription = ? FOR UPDATE") \
	/* binding.c, billing.c: an org's active binding, locked: id, subscription */ \
	X(BINDING_OF_ORG_LOCK, "SELECT b.id, b.subscription_id, s.status, s.marketplace, s.account_id " \
	    "FROM bindings b JOIN subscriptions s ON s.id = b.subscription_id WHERE b.active_org = ? FOR UPDATE") \
	/* binding.c: the start of the next hour, one value for both ends of a switch */ \
	X(NEXT_HOUR, "SELECT DATE_FORMAT(NOW(6) + INTERVAL 1 HOUR, '%Y-%m-%d %H:00:00.000000')") \
	/* binding.c: a binding replaced by another from a given time (time, id) */ \
	X(BINDING_END_AT, "UPDATE bindings SET ended_at = ?, end_reason = 'replaced' WHERE id = ? AND ended_at IS NULL") \
	/* binding.c: every org of a user for the wizard: id, name, members, role, status of the \
	 * subscription bound now (NULL when none) */ \
	X(BINDING_ORG_CHOICES, "SELECT o.id, o.name, (SELECT COUNT(*) FROM memberships c WHERE c.org_id = o.id), " \
	    "m.role, (SELECT s.status FROM bindings b JOIN subscriptions s ON s.id = b.subscription_id " \
	    "WHERE b.active_org = o.id) FROM memberships m " \
	    "JOIN orgs o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.created_at, o.id LIMIT 500") \
	/* binding.c: an org row, locked: every binding change of one org goes one at a time; name */ \
	X(ORG_LOCK, "SELECT name FROM orgs WHERE id = ? FOR UPDATE") \
	/* binding.c: a new binding (org, subscription, user, start or NULL for now) */ \
	X(BINDING_INSERT, "INSERT INTO bindings (org_id, subscription_id, bound_by, bound_at, starts_at) " \
	    "VALUES (?, ?, ?, NOW(6), COALESCE(?, NOW(6)))") \
	/* binding.c, billing.c: a binding ends now (reason, id) */ \
	X(BINDING_END, "UPDATE bindings SET ended_at = NOW(6), end_reason = ? WHERE id = ? AND ended_at IS NULL") \
	/* binding.c: the org pays through a marketplace now; grace and suspension end (org) */ \
	X(ORG_BILLING_BOUND, "UPDATE orgs SET billing_status = 'marketplace', grace_deadline = NULL, " \
	    "billing_changed_at = NOW(6) WHERE id = ?") \
	/* billing.c: the org enters its grace window (seconds, org) */ \
	X(ORG_BILLING_GRACE, "UPDATE orgs SET billing_status = 'grace', grace_deadline = NOW(6) + INTERVAL ? SECOND, " \
	    "billing_changed_at = NOW(6) WHERE id = ?") \
	/* billing.c: an org's billing state: name, status (grace past its deadline reads suspended), \
	 * deadline, seconds left, created */ \
	X(ORG_BILLING_GET, "SELECT name, IF(billing_status = 'grace' AND grace_deadline <= NOW(6), 'suspended', " \
	    "billing_status), DATE_FORMAT(grace_deadline, '%Y-%m-%dT%H:%i:%sZ'), " \
	    "GREATEST(0, TIMESTAMPDIFF(SECOND, NOW(6), grace_deadline)), UNIX_TIMESTAMP(created_at) " \
	    "FROM orgs WHERE id = ?") \
	/* billing.c: an org's active binding: marketplace, account, subscription status, bound at, \
	 * bound by (email) */ \
	X(BINDING_OF_ORG, "SELECT s.marketplace, s.account_id, s.status, " \
	    "DATE_FORMAT(b.bound_at, '%Y-%m-%dT%H:%i:%sZ'), u.email FROM bindings b " \
	    "JOIN subscriptions s ON s.id = b.subscription_id LEFT JOIN users u ON u.id = b.bound_by " \
	    "WHERE b.active_org = ?") \
	\
	/* sns.c: a cached signing certificate fetched less than ttl seconds ago (url hash, ttl) */ \
	X(SNS_CERT_GET, "SELECT pem FROM sns_certs WHERE url_hash = ? AND fetched_at > NOW(6) - INTERVAL ? SECOND") \
	/* sns.c: a freshly fetched certificate (url hash, url, pem) */ \
	X(SNS_CERT_PUT, "INSERT INTO sns_certs (url_hash, url, pem, fetched_at) VALUES (?, ?, ?, NOW(6)) " \
	    "ON DUPLICATE KEY UPDATE pem = VALUES(pem), fetched_at = VALUES(fetched_at)") \
	\
	/* notify.c: has this message been handled (source, message id): state */ \
	X(INBOX_GET, "SELECT state FROM inbox WHERE source = ? AND message_id = ?") \
	/* notify.c: claims a message id (source, id, via, type, action, customer, time, body); \
	 * a duplicate key means it was handled already */ \
	X(INBOX_CLAIM, "INSERT INTO inbox (source, message_id, via, type, action, customer_identifier, " \
	    "message_time, state, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'ignored', ?, NOW(6))") \
	/* notify.c: what became of a message (state, subscription, note, id) */ \
	X(INBOX_SET_STATE, "UPDATE inbox SET state = ?, subscription_id = ?, note = ?, " \
	    "applied_at = IF(? IN ('applied', 'confirmed', 'stale'), NOW(6), NULL) WHERE id = ?") \
	/* notify.c: messages that arrived before their subscription, oldest first, locked \
	 * (source, customer): id, action, time */ \
	X(INBOX_UNMATCHED_LOCK, "SELECT id, action, DATE_FORMAT(message_time, '%Y-%m-%d %H:%i:%s.%f') FROM inbox " \
	    "WHERE source = ? AND customer_identifier = ? AND state = 'unmatched' " \
	    "ORDER BY message_time, id LIMIT 100 FOR UPDATE") \
	/* notify.c: a message refused before it could be trusted (source, via, reason, body) */ \
	X(INBOX_REJECT, "INSERT INTO inbox_rejected (source, via, reason, body, received_at) VALUES (?, ?, ?, ?, NOW(6))") \
	/* notify.c: the subscriptions of a customer, newest first, locked: id, status */ \
	X(SUB_BY_CUSTOMER_LOCK, "SELECT id, status FROM subscriptions WHERE marketplace = ? AND customer_identifier = ? " \
	    "ORDER BY id DESC LIMIT 20 FOR UPDATE") \
	/* notify.c: the Timestamp of the last lifecycle message applied (time, id) */ \
	X(SUB_NOTIFIED, "UPDATE subscriptions SET notified_at = ? WHERE id = ?") \
	/* notify.c: unsubscribe-pending: send this subscription's unsent usage now (id) */ \
	X(SUB_REQUEST_FLUSH, "UPDATE subscriptions SET flush_requested_at = NOW(6) WHERE id = ?") \
	/* notify.c: a subscription's bindings still running or ending later, locked: id, org, open (1/0) */ \
	X(BINDINGS_OPEN_OF_SUB_LOCK, "SELECT id, org_id, ended_at IS NULL FROM bindings WHERE subscription_id = ? " \
	    "AND (ended_at IS NULL OR ended_at > NOW(6)) FOR UPDATE") \
	/* notify.c: the current instant, to use in several statements */ \
	X(NOW, "SELECT DATE_FORMAT(NOW(6), '%Y-%m-%d %H:%i:%s.%f')") \
	/* notify.c: a scheduled end brought forward (time, id, time) */ \
	X(BINDING_END_NOW, "UPDATE bindings SET ended_at = ? WHERE id = ? AND ended_at > ?") \
	/* notify.c: the org's next binding starts then instead of at the hour (time, org, time) */ \
	X(BINDING_START_NOW, "UPDATE bindings SET starts_at = ? WHERE org_id = ? AND ended_at IS NULL " \
	    "AND starts_at > ?") \
	/* notify.c: forget a customer's entitlements before storing fresh ones (marketplace, customer) */ \
	X(ENTITLEMENTS_CLEAR, "DELETE FROM entitlements WHERE marketplace = ? AND customer_identifier = ?") \
	/* notify.c: one entitlement (marketplace, customer, dimension, value JSON, expiry epoch or NULL) */ \
	X(ENTITLEMENT_PUT, "INSERT INTO entitlements (marketplace, customer_identifier, dimension, value, " \
	    "expires_at, updated_at) VALUES (?, ?, ?, ?, FROM_UNIXTIME(?), NOW(6)) ON DUPLICATE KEY UPDATE " \
	    "value = VALUES(value), expires_at = VALUES(expires_at), updated_at = VALUES(updated_at)") \
	/* meterd.c: orgs whose grace window has passed, leased (SKIP LOCKED: several meterd share) */ \
	X(GRACE_DUE_LEASE, "SELECT id FROM orgs WHERE billing_status = 'grace' AND grace_deadline <= NOW(6) " \
	    "ORDER BY grace_deadline LIMIT 100 FOR UPDATE SKIP LOCKED") \
	/* meterd.c: an org whose grace window passed with no new binding (org) */ \
	X(ORG_BILLING_SUSPEND, "UPDATE orgs SET billing_status = 'suspended', billing_changed_at = NOW(6) " \
	    "WHERE id = ? AND billing_status = 'grace'") \
	\
	/* aliyun.c: an Alibaba subscription by instanceId, locked: id, account (aliUid), status, sku */ \
	X(ALIYUN_SUB_LOCK, "SELECT id, account_id, status, sku_id FROM subscriptions " \
	    "WHERE marketplace = 'aliyun' AND instance_id = ? FOR UPDATE") \
	/* aliyun.c: what an SPI call tells about a subscription; NULL keeps a value \
	 * (instanceId, skuId, orderId, expiredOn in UTC, id) */ \
	X(ALIYUN_SUB_UPDATE, "UPDATE subscriptions SET instance_id = COALESCE(?, instance_id), " \
	    "sku_id = COALESCE(?, sku_id), order_id = COALESCE(?, order_id), " \
	    "expired_on = COALESCE(?, expired_on), updated_at = NOW(6) WHERE id = ?") \
	/* aliyun.c: an SPI call applied (instanceId, action, orderId or NULL, subscription or NULL); \
	 * a duplicate key means a replay of a call with that orderId */ \
	X(ALIYUN_SPI_LOG, "INSERT INTO aliyun_spi_calls (instance_id, action, order_id, subscription_id, " \
	    "received_at) VALUES (?, ?, ?, ?, NOW(6))") \
	/* aliyun.c: forget 免登 tokens whose window has closed */ \
	X(ALIYUN_VERIFY_PURGE, "DELETE FROM aliyun_verify_tokens WHERE expires_at < NOW(6) LIMIT 100") \
	/* aliyun.c: a 免登 token used (token hash, seconds to keep it); a duplicate key means reuse */ \
	X(ALIYUN_VERIFY_USE, "INSERT INTO aliyun_verify_tokens (token_hash, expires_at) " \
	    "VALUES (?, NOW(6) + INTERVAL ? SECOND)") \
	/* aliyun.c: who bound a subscription, for 免登: org id, org name, user, email, \
	 * the user can still sign in to the org (1/0) */ \
	X(ALIYUN_SSO_BINDING, "SELECT b.org_id, o.name, b.bound_by, u.email, " \
	    "u.closed_at IS NULL AND m.user_id IS NOT NULL FROM bindings b JOIN orgs o ON o.id = b.org_id " \
	    "LEFT JOIN users u ON u.id = b.bound_by LEFT JOIN memberships m ON m.org_id = b.org_id " \
	    "AND m.user_id = b.bound_by WHERE b.active_subscription = ?") \
	/* aliyun.c: the org's marketplace froze its instance: service stops, data stays (org) */ \
	X(ORG_BILLING_FREEZE, "UPDATE orgs SET billing_status = 'suspended', grace_deadline = NULL, " \
	    "billing_changed_at = NOW(6) WHERE id = ?")

enum stmt_id {
#define X(name, sql) STMT_##name,
	STMT_LIST(X)
#undef X
	STMT_COUNT
};

#endif
