/* SPDX-License-Identifier: MIT */
/*
 * stmt.h: every SQL statement mpbind runs at request time, by name. Each is
 * prepared once per connection (db.c) and run with bound values only.
 * Grouped by the module that uses it; a comment says what each does.
 * Schema changes live in sql/NNN_name.sql, not here.
 */
#ifndef MPBIND_STMT_H
#define MPBIND_STMT_H

/* The two ledger leases share their columns and conditions. */
#define STMT_LEDGER_DUE_COLUMNS "SELECT l.id, l.subscription_id, UNIX_TIMESTAMP(l.hour), l.quantity, " \
	"l.dimension, l.solo, l.attempts, s.flush_requested_at IS NOT NULL, s.account_id, " \
	"s.customer_aws_account_id, s.license_arn, s.customer_identifier, s.product_code, s.instance_id "
#define STMT_LEDGER_DUE_WHERE "l.marketplace = ? AND l.state = 'pending' AND l.next_attempt_at <= NOW(6) " \
	"AND s.status <> 'failed' AND (? = 0 OR s.last_metered_at IS NULL " \
	"OR s.last_metered_at <= NOW(6) - INTERVAL ? SECOND) "

#define STMT_LIST(X) \
	/* health.c: is the connection alive */ \
	X(PING, "SELECT 1") \
	\
	/* session.c: the signed-in user of a live session (one primary-key read): user id, email, \
	 * expiry, account created */ \
	X(SESSION_LOOKUP, "SELECT user_id, email, UNIX_TIMESTAMP(expires_at), " \
	    "DATE_FORMAT(user_created_at, '%Y-%m-%dT%H:%i:%sZ') FROM sessions WHERE id_hash = ? " \
	    "AND revoked_at IS NULL AND expires_at > NOW(6)") \
	/* session.c: a new session for an open account (hash, kind, ttl seconds, user) */ \
	X(SESSION_INSERT, "INSERT INTO sessions (id_hash, user_id, kind, created_at, expires_at, email, " \
	    "user_created_at) SELECT ?, u.id, ?, NOW(6), NOW(6) + INTERVAL ? SECOND, u.email, u.created_at " \
	    "FROM users u WHERE u.id = ? AND u.closed_at IS NULL") \
	/* session.c: logout */ \
	X(SESSION_REVOKE, "UPDATE sessions SET revoked_at = NOW(6) WHERE id_hash = ? AND revoked_at IS NULL") \
	/* session.c: every session of a user but one (password change, closing) */ \
	X(SESSION_REVOKE_USER, "UPDATE sessions SET revoked_at = NOW(6) WHERE user_id = ? " \
	    "AND id_hash <> ? AND revoked_at IS NULL") \
	/* session.c: a bounded purge of sessions expired over a day ago (sessions_expiry index) */ \
	X(SESSION_PURGE, "DELETE FROM sessions WHERE expires_at < NOW(6) - INTERVAL 1 DAY LIMIT 100") \
	\
	/* auth.c: a new account (email, Argon2id hash) */ \
	X(USER_INSERT, "INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, NOW(6))") \
	/* auth.c: an open account by email: id, hash */ \
	X(USER_BY_EMAIL, "SELECT id, password_hash FROM users WHERE active_email = ?") \
	/* auth.c: an open account by id, locked: email, hash, created */ \
	X(USER_LOCK, "SELECT email, password_hash, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') " \
	    "FROM users WHERE id = ? AND closed_at IS NULL FOR UPDATE") \
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
	/* auth.c: a bounded purge of keys quiet for 15 minutes: their next failure counts from 1 \
	 * again and any lock has ended (auth_throttle_last_failure index) */ \
	X(THROTTLE_PURGE, "DELETE FROM auth_throttle WHERE last_failure_at < NOW(6) - INTERVAL 15 MINUTE " \
	    "LIMIT 100") \
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
	/* subscriptions.c: the subscription of a marketplace key, locked: the live one, else the newest \
	 * ended one (key): id, status */ \
	X(SUB_BY_KEY_LOCK, "SELECT id, status FROM subscriptions WHERE external_key = ? " \
	    "ORDER BY status = 'ended', id DESC LIMIT 1 FOR UPDATE") \
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
	/* binding.c: a subscription for the wizard: marketplace, account (NULL for an older AWS listing), \
	 * status, customer identifier */ \
	X(SUB_GET, "SELECT marketplace, account_id, status, customer_identifier FROM subscriptions WHERE id = ?") \
	/* binding.c: the org a subscription is actively bound to: org id, org name */ \
	X(BINDING_OF_SUB, "SELECT b.org_id, o.name FROM bindings b JOIN orgs o ON o.id = b.org_id " \
	    "WHERE b.active_subscription = ?") \
	/* binding.c: the same, locked */ \
	X(BINDING_OF_SUB_LOCK, "SELECT id, org_id FROM bindings WHERE active_subscription = ? FOR UPDATE") \
	/* binding.c: the subscription an org is actively bound to, not locked: it is locked next, \
	 * before the org (the lock order, db.h) (org): subscription */ \
	X(BINDING_SUB_OF_ORG, "SELECT subscription_id FROM bindings WHERE active_org = ?") \
	/* binding.c: an org's active binding, locked (the binding row only, never its subscription: \
	 * that comes before the org in the lock order): id, subscription */ \
	X(BINDING_OF_ORG_LOCK, "SELECT id, subscription_id FROM bindings WHERE active_org = ? FOR UPDATE") \
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
	/* billing.c: an org's active binding: marketplace, account (NULL for an older AWS listing), \
	 * subscription status, bound at, bound by (email), when it starts paying if that is still ahead \
	 * (a switch at the hour), customer identifier */ \
	X(BINDING_OF_ORG, "SELECT s.marketplace, s.account_id, s.status, " \
	    "DATE_FORMAT(b.bound_at, '%Y-%m-%dT%H:%i:%sZ'), u.email, " \
	    "IF(b.starts_at > NOW(6), DATE_FORMAT(b.starts_at, '%Y-%m-%dT%H:%i:%sZ'), NULL), " \
	    "s.customer_identifier FROM bindings b " \
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
	/* notify.c: a message refused before it could be trusted, or given up after failing too often \
	 * (source, via, reason, body excerpt, its full length) */ \
	X(INBOX_REJECT, "INSERT INTO inbox_rejected (source, via, reason, body, body_length, received_at) " \
	    "VALUES (?, ?, ?, ?, ?, NOW(6))") \
	/* meterd.c: refused messages older than a number of days, a batch at a time (days) */ \
	X(INBOX_REJECTED_PRUNE, "DELETE FROM inbox_rejected WHERE received_at < NOW(6) - INTERVAL ? DAY " \
	    "ORDER BY id LIMIT 1000") \
	/* notify.c: the org a subscription was last bound to, even if that binding has ended (id): org */ \
	X(ORG_OF_SUB_LAST, "SELECT org_id FROM bindings WHERE subscription_id = ? ORDER BY id DESC LIMIT 1") \
	/* notify.c: the org a customer's subscriptions were last bound to (marketplace, customer): org */ \
	X(ORG_OF_CUSTOMER_LAST, "SELECT b.org_id FROM bindings b JOIN subscriptions s ON s.id = b.subscription_id " \
	    "WHERE s.marketplace = ? AND s.customer_identifier = ? ORDER BY b.ended_at IS NULL DESC, b.id DESC LIMIT 1") \
	/* notify.c: the subscriptions of a customer, newest first, locked: id, status, time of the last \
	 * lifecycle message applied */ \
	X(SUB_BY_CUSTOMER_LOCK, "SELECT id, status, DATE_FORMAT(notified_at, '%Y-%m-%d %H:%i:%s.%f') " \
	    "FROM subscriptions WHERE marketplace = ? AND customer_identifier = ? " \
	    "ORDER BY id DESC LIMIT 20 FOR UPDATE") \
	/* notify.c: when the customer's last ended subscription got its last message (marketplace, \
	 * customer): time or NULL */ \
	X(SUB_CUSTOMER_ENDED_AT, "SELECT DATE_FORMAT(MAX(notified_at), '%Y-%m-%d %H:%i:%s.%f') FROM subscriptions " \
	    "WHERE marketplace = ? AND customer_identifier = ? AND status = 'ended'") \
	/* notify.c: the Timestamp of the last lifecycle message applied (time, id) */ \
	X(SUB_NOTIFIED, "UPDATE subscriptions SET notified_at = ? WHERE id = ?") \
	/* notify.c: unsubscribe-pending: send this subscription's unsent usage now (id) */ \
	X(SUB_REQUEST_FLUSH, "UPDATE subscriptions SET flush_requested_at = NOW(6) WHERE id = ?") \
	/* notify.c: the orgs of a subscription's open bindings, to lock first (subscription) */ \
	X(BINDINGS_OPEN_OF_SUB_ORGS, "SELECT DISTINCT org_id FROM bindings WHERE subscription_id = ? " \
	    "AND (ended_at IS NULL OR ended_at > NOW(6)) ORDER BY org_id") \
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
	/* aliyunspi.c: an Alibaba subscription by instanceId, locked: id, account (aliUid), status, sku, \
	 * fingerprint of its createInstance parameters (NULL: created before migration 013) */ \
	X(ALIYUN_SUB_LOCK, "SELECT id, account_id, status, sku_id, create_fingerprint FROM subscriptions " \
	    "WHERE marketplace = 'aliyun' AND instance_id = ? FOR UPDATE") \
	/* aliyunspi.c: what an SPI call tells about a subscription; NULL keeps a value, and the expiry \
	 * never moves back (instanceId, skuId, orderId, expiredOn in UTC twice, id) */ \
	X(ALIYUN_SUB_UPDATE, "UPDATE subscriptions SET instance_id = COALESCE(?, instance_id), " \
	    "sku_id = COALESCE(?, sku_id), order_id = COALESCE(?, order_id), " \
	    "expired_on = GREATEST(COALESCE(?, expired_on), COALESCE(expired_on, ?)), updated_at = NOW(6) " \
	    "WHERE id = ?") \
	/* aliyunspi.c: the fingerprint of a subscription's createInstance parameters (fingerprint, id) */ \
	X(ALIYUN_SUB_FINGERPRINT, "UPDATE subscriptions SET create_fingerprint = ? WHERE id = ? " \
	    "AND create_fingerprint IS NULL") \
	/* aliyunspi.c: an SPI call applied (instanceId, action, orderId or NULL, subscription); \
	 * a duplicate key means a replay of a call with that orderId */ \
	X(ALIYUN_SPI_LOG, "INSERT INTO aliyun_spi_calls (instance_id, action, order_id, subscription_id, " \
	    "received_at) VALUES (?, ?, ?, ?, NOW(6))") \
	/* aliyunsso.c: forget 免登 tokens whose window has closed */ \
	X(ALIYUN_VERIFY_PURGE, "DELETE FROM aliyun_verify_tokens WHERE expires_at < NOW(6) LIMIT 100") \
	/* aliyunsso.c: a 免登 token used (token hash, seconds to keep it); a duplicate key means reuse */ \
	X(ALIYUN_VERIFY_USE, "INSERT INTO aliyun_verify_tokens (token_hash, expires_at) " \
	    "VALUES (?, NOW(6) + INTERVAL ? SECOND)") \
	/* aliyunsso.c: who bound a subscription, for 免登: org id, org name, user, email, \
	 * the user can still sign in to the org (1/0) */ \
	X(ALIYUN_SSO_BINDING, "SELECT b.org_id, o.name, b.bound_by, u.email, " \
	    "u.closed_at IS NULL AND m.user_id IS NOT NULL FROM bindings b JOIN orgs o ON o.id = b.org_id " \
	    "LEFT JOIN users u ON u.id = b.bound_by LEFT JOIN memberships m ON m.org_id = b.org_id " \
	    "AND m.user_id = b.bound_by WHERE b.active_subscription = ?") \
	/* aliyunspi.c: the org's marketplace froze its instance: service stops, data stays (org) */ \
	X(ORG_BILLING_FREEZE, "UPDATE orgs SET billing_status = 'suspended', grace_deadline = NULL, " \
	    "billing_changed_at = NOW(6) WHERE id = ?") \
	\
	/* meter.c: org-hours due and not closed, oldest first (from, to, settled, from, settled, limit): \
	 * org, hour. Due: an hour up to the settled one with usage, or bound (some binding of the org \
	 * overlaps it); also a later ended hour bound to a subscription in unsubscribe_pending (its \
	 * hours close as they end). */ \
	X(METER_ORG_HOURS, "WITH RECURSIVE hours (h) AS (SELECT FROM_UNIXTIME(?) UNION ALL " \
	    "SELECT h + INTERVAL 1 HOUR FROM hours WHERE h < FROM_UNIXTIME(?)) " \
	    "SELECT b.org_id AS org_id, UNIX_TIMESTAMP(hours.h) AS hour FROM hours JOIN bindings b " \
	    "ON b.starts_at < hours.h + INTERVAL 1 HOUR AND (b.ended_at IS NULL OR b.ended_at > hours.h) " \
	    "JOIN subscriptions s ON s.id = b.subscription_id " \
	    "LEFT JOIN org_hours o ON o.org_id = b.org_id AND o.hour = hours.h WHERE o.org_id IS NULL " \
	    "AND (hours.h <= FROM_UNIXTIME(?) OR s.status = 'unsubscribe_pending') " \
	    "UNION SELECT u.org_id, UNIX_TIMESTAMP(u.hour) FROM usage_records u " \
	    "LEFT JOIN org_hours o ON o.org_id = u.org_id AND o.hour = u.hour WHERE o.org_id IS NULL " \
	    "AND u.hour BETWEEN FROM_UNIXTIME(?) AND FROM_UNIXTIME(?) ORDER BY hour, org_id LIMIT ?") \
	/* meter.c, usage.c: an org row locked, skipping one another process holds (org) */ \
	X(ORG_LEASE, "SELECT id FROM orgs WHERE id = ? FOR UPDATE SKIP LOCKED") \
	/* meter.c, usage.c: is an org-hour closed (org, hour) */ \
	X(ORG_HOUR_EXISTS, "SELECT 1 FROM org_hours WHERE org_id = ? AND hour = FROM_UNIXTIME(?)") \
	/* meter.c: what an org's usage in an hour cost, in pico (org, hour) */ \
	X(METER_HOUR_COST, "SELECT CAST(COALESCE(SUM(cost_pico), 0) AS CHAR) FROM usage_records " \
	    "WHERE org_id = ? AND hour = FROM_UNIXTIME(?)") \
	/* meter.c: the binding in force at the start of an hour (hour, org, hour, hour): subscription, \
	 * status, it gave way (1/0): it ended within the hour because its subscription ended (its end, \
	 * or a switch brought forward by it), so a binding starting later in the hour pays instead */ \
	X(METER_PAYER_AT_START, "SELECT b.subscription_id, s.status, b.ended_at < FROM_UNIXTIME(?) + INTERVAL 1 HOUR " \
	    "AND b.end_reason IN ('unsubscribed', 'released', 'subscribe_failed', 'replaced') " \
	    "AND s.status IN ('ended', 'failed') FROM bindings b " \
	    "JOIN subscriptions s ON s.id = b.subscription_id WHERE b.org_id = ? " \
	    "AND b.starts_at <= FROM_UNIXTIME(?) AND (b.ended_at IS NULL OR b.ended_at > FROM_UNIXTIME(?)) " \
	    "ORDER BY b.starts_at DESC LIMIT 1") \
	/* meter.c: else the first binding starting within the hour (org, hour, hour): subscription, status */ \
	X(METER_PAYER_WITHIN, "SELECT b.subscription_id, s.status FROM bindings b " \
	    "JOIN subscriptions s ON s.id = b.subscription_id WHERE b.org_id = ? " \
	    "AND b.starts_at > FROM_UNIXTIME(?) AND b.starts_at < FROM_UNIXTIME(?) + INTERVAL 1 HOUR " \
	    "ORDER BY b.starts_at LIMIT 1") \
	/* meter.c: an org's free credit usable for an hour being closed (not expired at its start), \
	 * soonest expiry first, locked (org, hour): grant, remaining micros */ \
	X(METER_CREDITS_LOCK, "SELECT g.id, g.amount_micros - COALESCE((SELECT SUM(c.amount_micros) " \
	    "FROM credit_spends c WHERE c.grant_id = g.id), 0) FROM credit_grants g WHERE g.org_id = ? " \
	    "AND g.expires_at > FROM_UNIXTIME(?) ORDER BY g.expires_at, g.id FOR UPDATE") \
	/* meter.c: free credit spent (grant, hour, org, micros) */ \
	X(METER_CREDIT_SPEND, "INSERT INTO credit_spends (grant_id, hour, org_id, amount_micros) " \
	    "VALUES (?, FROM_UNIXTIME(?), ?, ?)") \
	/* meter.c: a closed org-hour (org, hour, cost pico, credit micros, billable pico, subscription) */ \
	X(METER_ORG_HOUR_INSERT, "INSERT INTO org_hours (org_id, hour, cost_pico, credit_micros, billable_pico, " \
	    "subscription_id, built_at) VALUES (?, FROM_UNIXTIME(?), CAST(? AS DECIMAL(38,0)), ?, " \
	    "CAST(? AS DECIMAL(38,0)), ?, NOW(6))") \
	/* meter.c: subscription-hours to build (from, to, from, to, limit): subscription, marketplace, hour. \
	 * Some closed org-hour is paid by the subscription and it has no ledger row yet; and every org \
	 * bound to it has closed that hour and each earlier one, so the row sums all the org-hours it \
	 * pays for and carries chain in hour order. */ \
	X(METER_SUB_HOURS, "WITH RECURSIVE hours (h) AS (SELECT FROM_UNIXTIME(?) UNION ALL " \
	    "SELECT h + INTERVAL 1 HOUR FROM hours WHERE h < FROM_UNIXTIME(?)), " \
	    "open_hours (subscription_id, h) AS (SELECT b.subscription_id, MIN(hours.h) FROM hours JOIN bindings b " \
	    "ON b.starts_at < hours.h + INTERVAL 1 HOUR AND (b.ended_at IS NULL OR b.ended_at > hours.h) " \
	    "LEFT JOIN org_hours o ON o.org_id = b.org_id AND o.hour = hours.h WHERE o.org_id IS NULL " \
	    "GROUP BY b.subscription_id) " \
	    "SELECT o.subscription_id, s.marketplace, UNIX_TIMESTAMP(o.hour) FROM org_hours o " \
	    "JOIN subscriptions s ON s.id = o.subscription_id " \
	    "LEFT JOIN ledger l ON l.subscription_id = o.subscription_id AND l.hour = o.hour " \
	    "LEFT JOIN open_hours p ON p.subscription_id = o.subscription_id " \
	    "WHERE o.hour BETWEEN FROM_UNIXTIME(?) AND FROM_UNIXTIME(?) AND l.id IS NULL " \
	    "AND (p.h IS NULL OR o.hour < p.h) GROUP BY o.subscription_id, s.marketplace, o.hour " \
	    "ORDER BY 3, 1 LIMIT ?") \
	/* meter.c: a subscription row locked, skipping one another process holds; it guards the \
	 * subscription's carry chain (subscription) */ \
	X(METER_SUB_LEASE, "SELECT id FROM subscriptions WHERE id = ? FOR UPDATE SKIP LOCKED") \
	/* meter.c: has a subscription-hour its ledger row (subscription, hour) */ \
	X(METER_LEDGER_EXISTS, "SELECT 1 FROM ledger WHERE subscription_id = ? AND hour = FROM_UNIXTIME(?) LIMIT 1") \
	/* meter.c: an earlier hour the subscription pays for with no ledger row (subscription, from, hour) */ \
	X(METER_SUB_EARLIER_OPEN, "SELECT 1 FROM org_hours o LEFT JOIN ledger l ON l.subscription_id = o.subscription_id " \
	    "AND l.hour = o.hour WHERE o.subscription_id = ? AND o.hour >= FROM_UNIXTIME(?) " \
	    "AND o.hour < FROM_UNIXTIME(?) AND l.id IS NULL LIMIT 1") \
	/* meter.c: what a subscription pays for an hour, in pico: every org-hour it pays (subscription, hour) */ \
	X(METER_SUB_HOUR_BILLABLE, "SELECT CAST(COALESCE(SUM(billable_pico), 0) AS CHAR) FROM org_hours " \
	    "WHERE subscription_id = ? AND hour = FROM_UNIXTIME(?)") \
	/* meter.c: what the previous hour left below one unit (subscription, dimension, hour) */ \
	X(METER_CARRY, "SELECT CAST(carry_out_pico AS CHAR) FROM ledger WHERE subscription_id = ? AND dimension = ? " \
	    "AND hour < FROM_UNIXTIME(?) ORDER BY hour DESC LIMIT 1") \
	/* meter.c: a ledger row (subscription, marketplace, dimension, hour, quantity, carry in, carry out) */ \
	X(METER_LEDGER_INSERT, "INSERT INTO ledger (subscription_id, marketplace, dimension, hour, quantity, " \
	    "carry_in_pico, carry_out_pico, state, next_attempt_at, built_at) VALUES (?, ?, ?, FROM_UNIXTIME(?), ?, " \
	    "CAST(? AS DECIMAL(38,0)), CAST(? AS DECIMAL(38,0)), 'pending', NOW(6), NOW(6))") \
	/* usage.c: the price of a usage dimension (dimension): micro-currency per unit */ \
	X(PRICE_GET, "SELECT price_micros FROM prices WHERE dimension = ?") \
	/* usage.c: a usage record (id, org, cloud, region, dimension, quantity micros, start, end, hour, \
	 * quantity micros, price micros, fingerprint); the id's duplicate key means it was sent before */ \
	X(USAGE_INSERT, "INSERT INTO usage_records (id, org_id, cloud, region, dimension, quantity_micros, start_at, " \
	    "end_at, hour, cost_pico, fingerprint, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?), " \
	    "CAST(? AS DECIMAL(38,0)) * CAST(? AS DECIMAL(38,0)), ?, NOW(6))") \
	/* usage.c: what was stored under an id (id): fingerprint */ \
	X(USAGE_FINGERPRINT, "SELECT fingerprint FROM usage_records WHERE id = ?") \
	/* billing.c: an org's closed hours in a period (org, from, to): pico billed through a \
	 * marketplace (the hour has a paying subscription), pico billed nowhere (no binding), credit micros */ \
	X(BILL_CLOSED, "SELECT CAST(COALESCE(SUM(IF(subscription_id IS NULL, 0, billable_pico)), 0) AS CHAR), " \
	    "CAST(COALESCE(SUM(IF(subscription_id IS NULL, billable_pico, 0)), 0) AS CHAR), " \
	    "COALESCE(SUM(credit_micros), 0) FROM org_hours WHERE org_id = ? " \
	    "AND hour >= FROM_UNIXTIME(?) AND hour < FROM_UNIXTIME(?)") \
	/* billing.c: usage of hours not closed yet in a period (org, from, to): cost pico */ \
	X(BILL_OPEN, "SELECT CAST(COALESCE(SUM(u.cost_pico), 0) AS CHAR) FROM usage_records u " \
	    "LEFT JOIN org_hours h ON h.org_id = u.org_id AND h.hour = u.hour WHERE u.org_id = ? " \
	    "AND u.hour >= FROM_UNIXTIME(?) AND u.hour < FROM_UNIXTIME(?) AND h.org_id IS NULL") \
	/* billing.c: free credit not expired now (org): micros left, micros granted, the soonest expiry \
	 * of a grant with credit left */ \
	X(CREDITS_LEFT, "SELECT COALESCE(SUM(x.left_micros), 0), COALESCE(SUM(x.amount_micros), 0), " \
	    "DATE_FORMAT(MIN(IF(x.left_micros > 0, x.expires_at, NULL)), '%Y-%m-%dT%H:%i:%sZ') FROM " \
	    "(SELECT g.amount_micros, g.expires_at, g.amount_micros - COALESCE((SELECT SUM(c.amount_micros) " \
	    "FROM credit_spends c WHERE c.grant_id = g.id), 0) AS left_micros FROM credit_grants g " \
	    "WHERE g.org_id = ? AND g.expires_at > NOW(6)) x") \
	/* billing.c: an org's grants not expired now, soonest expiry first (org, limit): micros granted, \
	 * micros left, granted at, expires at */ \
	X(CREDIT_GRANTS_OF_ORG, "SELECT g.amount_micros, g.amount_micros - COALESCE((SELECT SUM(c.amount_micros) " \
	    "FROM credit_spends c WHERE c.grant_id = g.id), 0), DATE_FORMAT(g.granted_at, '%Y-%m-%dT%H:%i:%sZ'), " \
	    "DATE_FORMAT(g.expires_at, '%Y-%m-%dT%H:%i:%sZ') FROM credit_grants g " \
	    "WHERE g.org_id = ? AND g.expires_at > NOW(6) ORDER BY g.expires_at, g.id LIMIT ?") \
	/* ctl.c reconcile: closed org-hours in a range with their usage and ledger, one org or all (''), \
	 * a page after (org, hour) in that order (from, to, org, org, after org, after org, after hour, limit): \
	 * org, hour, cost, credit, billable, subscription, marketplace, usage cost, quantity, carry in, \
	 * carry out, state, code, billable of every org-hour the subscription pays that hour, carry out of \
	 * the subscription's previous ledger row (NULL: none) */ \
	X(RECONCILE_HOURS, "SELECT o.org_id, UNIX_TIMESTAMP(o.hour), CAST(o.cost_pico AS CHAR), o.credit_micros, " \
	    "CAST(o.billable_pico AS CHAR), o.subscription_id, s.marketplace, (SELECT CAST(COALESCE(SUM(u.cost_pico), 0) " \
	    "AS CHAR) FROM usage_records u WHERE u.org_id = o.org_id AND u.hour = o.hour), l.quantity, " \
	    "CAST(l.carry_in_pico AS CHAR), CAST(l.carry_out_pico AS CHAR), l.state, l.result_code, " \
	    "(SELECT CAST(COALESCE(SUM(p.billable_pico), 0) AS CHAR) FROM org_hours p " \
	    "WHERE p.subscription_id = o.subscription_id AND p.hour = o.hour), " \
	    "(SELECT CAST(c.carry_out_pico AS CHAR) FROM ledger c WHERE c.subscription_id = l.subscription_id " \
	    "AND c.dimension = l.dimension AND c.hour < l.hour ORDER BY c.hour DESC LIMIT 1) FROM org_hours o " \
	    "LEFT JOIN subscriptions s ON s.id = o.subscription_id LEFT JOIN ledger l ON l.subscription_id = " \
	    "o.subscription_id AND l.hour = o.hour WHERE o.hour >= FROM_UNIXTIME(?) AND o.hour < FROM_UNIXTIME(?) " \
	    "AND (? = '' OR o.org_id = ?) AND (o.org_id > ? OR (o.org_id = ? AND o.hour > FROM_UNIXTIME(?))) " \
	    "ORDER BY o.org_id, o.hour LIMIT ?") \
	/* ctl.c reconcile: usage hours that should be closed and are not, one org or all (''), a page \
	 * (from, to, closed before, org, org, after org, after org, after hour, limit): org, hour */ \
	X(RECONCILE_OPEN, "SELECT DISTINCT u.org_id, UNIX_TIMESTAMP(u.hour) FROM usage_records u LEFT JOIN org_hours o " \
	    "ON o.org_id = u.org_id AND o.hour = u.hour WHERE o.org_id IS NULL AND u.hour >= FROM_UNIXTIME(?) " \
	    "AND u.hour < FROM_UNIXTIME(?) AND u.hour < FROM_UNIXTIME(?) AND (? = '' OR u.org_id = ?) " \
	    "AND (u.org_id > ? OR (u.org_id = ? AND u.hour > FROM_UNIXTIME(?))) ORDER BY 1, 2 LIMIT ?") \
	/* ctl.c reconcile: bound hours never closed (no org-hour, so no ledger row, not even a zero one) in a \
	 * window of at most 168 hours (MySQL's recursion limit is 1000), one org or all (''), a page \
	 * (from, to, closed before, org, org, after org, after org, after hour, limit): org, hour. An hour \
	 * is bound as meter.c has it: a binding of a subscription that has not failed overlaps it. */ \
	X(RECONCILE_BOUND_OPEN, "WITH RECURSIVE hours (h) AS (SELECT FROM_UNIXTIME(?) UNION ALL " \
	    "SELECT h + INTERVAL 1 HOUR FROM hours WHERE h + INTERVAL 1 HOUR < FROM_UNIXTIME(?)) " \
	    "SELECT DISTINCT b.org_id, UNIX_TIMESTAMP(hours.h) FROM hours JOIN bindings b " \
	    "ON b.starts_at < hours.h + INTERVAL 1 HOUR AND (b.ended_at IS NULL OR b.ended_at > hours.h) " \
	    "JOIN subscriptions s ON s.id = b.subscription_id " \
	    "LEFT JOIN org_hours o ON o.org_id = b.org_id AND o.hour = hours.h " \
	    "WHERE o.org_id IS NULL AND s.status <> 'failed' AND hours.h < FROM_UNIXTIME(?) " \
	    "AND (? = '' OR b.org_id = ?) AND (b.org_id > ? OR (b.org_id = ? AND hours.h > FROM_UNIXTIME(?))) " \
	    "ORDER BY 1, 2 LIMIT ?") \
	/* ctl.c: an org's ledger, newest first (org, limit): id, hour, marketplace, account (the customer \
	 * identifier of an older AWS listing), quantity, state, code, attempts */ \
	X(LEDGER_OF_ORG, "SELECT l.id, DATE_FORMAT(l.hour, '%Y-%m-%dT%H:00Z'), l.marketplace, " \
	    "COALESCE(s.account_id, s.customer_identifier), l.quantity, " \
	    "l.state, l.result_code, l.attempts FROM ledger l JOIN org_hours o ON o.subscription_id = l.subscription_id " \
	    "AND o.hour = l.hour JOIN subscriptions s ON s.id = l.subscription_id WHERE o.org_id = ? " \
	    "ORDER BY l.hour DESC LIMIT ?") \
	/* ctl.c: an operator settles a send whose outcome was unknown (id) */ \
	X(LEDGER_RESOLVE_ACCEPTED, "UPDATE ledger SET state = 'accepted', result_code = 'confirmed by an operator', " \
	    "settled_at = NOW(6) WHERE id = ? AND state = 'unknown'") \
	X(LEDGER_RESOLVE_RESEND, "UPDATE ledger SET state = 'pending', result_code = 'resent by an operator', " \
	    "next_attempt_at = NOW(6) WHERE id = ? AND state = 'unknown'") \
	/* ctl.c: free credit for an org (org, micros, days, note) */ \
	X(CREDIT_GRANT, "INSERT INTO credit_grants (org_id, amount_micros, granted_at, expires_at, note) " \
	    "VALUES (?, ?, NOW(6), NOW(6) + INTERVAL ? DAY, ?)") \
	/* notify.c replay: a message kept unmatched, locked (id): source, action, customer, time, state */ \
	X(INBOX_LOCK, "SELECT source, action, customer_identifier, DATE_FORMAT(message_time, '%Y-%m-%d %H:%i:%s.%f'), " \
	    "state FROM inbox WHERE id = ? FOR UPDATE") \
	/* ledger.c: due rows of a marketplace's subscriptions with a flush request, oldest first, \
	 * leased (marketplace, min interval seconds, min interval seconds, limit): id, subscription, \
	 * hour (epoch), quantity, dimension, solo, attempts, flush, account, aws account, \
	 * license, customer id, product, instance */ \
	X(LEDGER_DUE_LEASE_FLUSH, STMT_LEDGER_DUE_COLUMNS "FROM subscriptions s JOIN ledger l " \
	    "ON l.subscription_id = s.id WHERE s.flush_requested_at IS NOT NULL AND " STMT_LEDGER_DUE_WHERE \
	    "ORDER BY l.hour, l.id LIMIT ? FOR UPDATE SKIP LOCKED") \
	/* ledger.c: the other due rows of a marketplace, oldest first, read in ledger_order's order \
	 * so only the rows taken are locked (arguments and columns as LEDGER_DUE_LEASE_FLUSH) */ \
	X(LEDGER_DUE_LEASE, STMT_LEDGER_DUE_COLUMNS "FROM ledger l FORCE INDEX (ledger_order) " \
	    "JOIN subscriptions s ON s.id = l.subscription_id WHERE s.flush_requested_at IS NULL AND " \
	    STMT_LEDGER_DUE_WHERE "ORDER BY l.hour, l.id LIMIT ? FOR UPDATE SKIP LOCKED") \
	/* ledger.c: a leased row is being sent, under the lease's token (lease seconds, token, id) */ \
	X(LEDGER_MARK_SENT, "UPDATE ledger SET state = 'sent', attempts = attempts + 1, sent_at = NOW(6), " \
	    "lease_until = NOW(6) + INTERVAL ? SECOND, lease_token = ? WHERE id = ? AND state = 'pending'") \
	/* ledger.c: a subscription was just sent to (id) */ \
	X(SUB_METERED, "UPDATE subscriptions SET last_metered_at = NOW(6) WHERE id = ?") \
	/* ledger.c: final answers, only while the row is still sent under the settling lease \
	 * (record id or code, id, token) */ \
	X(LEDGER_ACCEPT, "UPDATE ledger SET state = 'accepted', record_id = ?, result_code = 'Success', " \
	    "settled_at = NOW(6), lease_until = NULL, lease_token = NULL WHERE id = ? AND state = 'sent' " \
	    "AND lease_token = ?") \
	X(LEDGER_REJECT, "UPDATE ledger SET state = 'rejected', result_code = ?, settled_at = NOW(6), " \
	    "lease_until = NULL, lease_token = NULL WHERE id = ? AND state = 'sent' AND lease_token = ?") \
	X(LEDGER_UNKNOWN, "UPDATE ledger SET state = 'unknown', result_code = ?, lease_until = NULL, " \
	    "lease_token = NULL WHERE id = ? AND state = 'sent' AND lease_token = ?") \
	/* ledger.c: try again later, backing off base * 2^(attempts - 1) seconds up to an hour \
	 * (code, solo, base, id, token) */ \
	X(LEDGER_RETRY, "UPDATE ledger SET state = 'pending', result_code = ?, solo = solo OR ?, lease_until = NULL, " \
	    "lease_token = NULL, next_attempt_at = NOW(6) + INTERVAL LEAST(? * POW(2, LEAST(attempts, 11) - 1), 3600) " \
	    "SECOND WHERE id = ? AND state = 'sent' AND lease_token = ?") \
	/* ledger.c: refused for our credentials or configuration: pending, backing off ten times longer, \
	 * base * 10 * 2^(attempts - 1) seconds up to an hour (code, base, id, token) */ \
	X(LEDGER_HOLD, "UPDATE ledger SET state = 'pending', result_code = ?, lease_until = NULL, lease_token = NULL, " \
	    "next_attempt_at = NOW(6) + INTERVAL LEAST(? * 10 * POW(2, LEAST(attempts, 11) - 1), 3600) SECOND " \
	    "WHERE id = ? AND state = 'sent' AND lease_token = ?") \
	/* ledger.c: a leased row that was not sent: pending and due again, the attempt not counted \
	 * (solo, id, token) */ \
	X(LEDGER_RELEASE, "UPDATE ledger SET state = 'pending', attempts = GREATEST(attempts, 1) - 1, " \
	    "solo = solo OR ?, lease_until = NULL, lease_token = NULL WHERE id = ? AND state = 'sent' " \
	    "AND lease_token = ?") \
	/* ledger.c: rows left sent past their lease: back to pending (marketplace) */ \
	X(LEDGER_RECOVER_PENDING, "UPDATE ledger SET state = 'pending', result_code = 'lease expired', " \
	    "lease_until = NULL, lease_token = NULL WHERE marketplace = ? AND state = 'sent' " \
	    "AND lease_until < NOW(6)") \
	/* ledger.c: ... or unknown where resending could bill twice (marketplace) */ \
	X(LEDGER_RECOVER_UNKNOWN, "UPDATE ledger SET state = 'unknown', result_code = 'lease expired while sending', " \
	    "lease_until = NULL, lease_token = NULL WHERE marketplace = ? AND state = 'sent' " \
	    "AND lease_until < NOW(6)")

enum stmt_id {
#define X(name, sql) STMT_##name,
	STMT_LIST(X)
#undef X
	STMT_COUNT
};

#endif
