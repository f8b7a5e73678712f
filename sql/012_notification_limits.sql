-- 012_notification_limits: notifications that fail for good are recorded
-- and answered, not retried forever; refused messages are kept as a
-- bounded excerpt and pruned; the suspension reason is a code the pages
-- translate.

-- failed: a verified message whose effect cannot be made (a GetEntitlements
-- error retrying does not cure, a SubscribeURL answering 4xx); kept for
-- operators, never retried.
ALTER TABLE inbox
  MODIFY state ENUM('applied', 'stale', 'unmatched', 'confirmed', 'ignored', 'failed') NOT NULL;

-- body keeps the first 2 KiB of a refused message from now on (older rows
-- keep theirs); body_length is the size it arrived with.
ALTER TABLE inbox_rejected
  ADD COLUMN body_length INT UNSIGNED NULL AFTER body;

-- billing.suspended said why in English; it now names a reason code.
UPDATE events SET detail = JSON_SET(detail, '$.reason', 'grace_ended')
  WHERE action = 'billing.suspended'
    AND JSON_UNQUOTE(JSON_EXTRACT(detail, '$.reason')) = 'grace window ended without a new binding';
