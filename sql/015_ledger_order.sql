-- 015_ledger_order: leasing ledger rows reads them in the order they are
-- sent (oldest hour first) straight from an index, so a lease reads and
-- locks only the rows it takes. Before, the rows were sorted after the
-- join: every due row was read and locked (FOR UPDATE) to take 25, which
-- cost tens of milliseconds with a backlog of thousands and left nothing
-- for a second meterd to take meanwhile. Subscriptions with a flush
-- request, sent first, are found through their own index.

ALTER TABLE ledger
  ADD KEY ledger_order (marketplace, state, hour);

ALTER TABLE subscriptions
  ADD KEY subscriptions_flush (flush_requested_at);
