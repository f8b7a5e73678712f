# SPDX-License-Identifier: MIT
"""unsubscribe-pending flushes at once: on a stack whose hours close only
59 minutes after they end, the cancelled subscription's last hour is
closed and sent right away, while another org's waits."""

import time

import pytest
import requests

from stackopts import TEST_OPTIONS
from api import new_user
from stack import temporary_stack
from test_metering import HOUR, hour_now, record, usage, wait_for

P = "aws-cn"


@pytest.fixture(scope="module")
def slow_stack():
    options = dict(TEST_OPTIONS)
    options["config"] = dict(options["config"], **{"metering.settle_seconds": "3540"})
    with temporary_stack("mpbind-flush-", options) as s:
        yield s


def bound_org(stack, user, account, hours_back=2):
    org = user.create_org("Flush " + account)
    tok = requests.post(f"{stack.sim_url}/_sim/aws/{P}/tokens", json={"account_id": account}).json()
    user.s.post(f"{stack.url}/marketplace/{P}/landing", data={"x-amzn-marketplace-token": tok["token"]},
                allow_redirects=False)
    assert user.post("/api/binding/confirm", {"org_id": org["id"]}).status_code == 200
    if hours_back:
        stack.sql(f"UPDATE bindings SET starts_at = FROM_UNIXTIME({hour_now() - hours_back * HOUR}) "
                  f"WHERE org_id = '{org['id']}'")
    return org, tok["subscription"]


def hours_sent(stack, org_id):
    return stack.sql(f"SELECT UNIX_TIMESTAMP(l.hour), l.state FROM ledger l JOIN bindings b ON "
                     f"b.subscription_id = l.subscription_id WHERE b.org_id = '{org_id}' ORDER BY l.hour")


def test_unsubscribe_pending_closes_and_sends_the_last_hour_now(slow_stack):
    stack = slow_stack
    if time.time() % HOUR > HOUR - 90:
        time.sleep(HOUR - time.time() % HOUR + 5)     # keep clear of the minute the hour closes anyway
    user = new_user(stack.url)
    cancelling, sub = bound_org(stack, user, "310000000001")
    staying, _ = bound_org(stack, user, "310000000002")
    last = hour_now() - HOUR
    for org in (cancelling, staying):
        assert usage(stack, [record(org["id"], last + 60, quantity="3")]).json()["accepted"] == 1
    # Two hours back is closed already; the last one waits for the settle time...
    assert wait_for(lambda: len(hours_sent(stack, staying["id"])) == 1)
    time.sleep(2)
    assert [int(h) for h, _ in hours_sent(stack, cancelling["id"])] == [last - HOUR]
    # ...unless the subscription is being cancelled: then at once.
    r = requests.post(f"{stack.sim_url}/_sim/aws/{P}/sns/push",
                      json={"action": "unsubscribe-pending", "subscription_id": sub["id"]}).json()
    assert r["deliveries"][0]["status"] == 200
    assert wait_for(lambda: [(int(h), s) for h, s in hours_sent(stack, cancelling["id"])] ==
                    [(last - HOUR, "accepted"), (last, "accepted")])
    assert [int(h) for h, _ in hours_sent(stack, staying["id"])] == [last - HOUR]
    accepted = requests.get(f"{stack.sim_url}/_sim/aws/{P}/metering").json()["accepted"]
    mine = [(a["timestamp"], a["quantity"]) for a in accepted if a["customer_aws_account_id"] == "310000000001"]
    assert sorted(mine) == [(last - HOUR, 0), (last, 36)]


def shift_back_an_hour(stack, org_ids, sub_ids):
    """Moves everything of these orgs an hour into the past: their bindings, usage and the
    subscriptions' lifecycle times. The database then reads as if it had all happened an hour
    earlier, so the hour it happened in has just ended."""
    orgs = ", ".join(f"'{o}'" for o in org_ids)
    stack.sql(f"UPDATE bindings SET starts_at = starts_at - INTERVAL 1 HOUR, bound_at = bound_at - INTERVAL 1 HOUR "
              f"WHERE org_id IN ({orgs})")
    stack.sql(f"UPDATE usage_records SET hour = hour - INTERVAL 1 HOUR, start_at = start_at - INTERVAL 1 HOUR, "
              f"end_at = end_at - INTERVAL 1 HOUR WHERE org_id IN ({orgs})")
    stack.sql(f"UPDATE subscriptions SET flush_requested_at = flush_requested_at - INTERVAL 1 HOUR, "
              f"notified_at = notified_at - INTERVAL 1 HOUR WHERE id IN ({', '.join(sub_ids)})")


def test_the_hour_open_at_unsubscribe_pending_is_sent_as_soon_as_it_ends(slow_stack):
    """The hour open when unsubscribe-pending arrives keeps taking usage, then closes and is sent
    the moment it ends (AWS takes final records only until unsubscribe-success, about an hour
    later), not after the settle time; a subscription subscribed again waits as usual."""
    stack = slow_stack
    if time.time() % HOUR > HOUR - 180:
        time.sleep(HOUR - time.time() % HOUR + 5)     # the settle time must not pass during the test
    h = hour_now()
    user = new_user(stack.url)
    orgs, subs = {}, {}
    for name, account in (("cancelling", "310000000011"), ("staying", "310000000012"),
                          ("resubscribed", "310000000013")):
        org, subs[name] = bound_org(stack, user, account, hours_back=0)
        orgs[name] = org
        assert usage(stack, [record(org["id"], h, seconds=1, quantity="3")]).json()["accepted"] == 1
    push = f"{stack.sim_url}/_sim/aws/{P}/sns/push"
    for name, action in (("cancelling", "unsubscribe-pending"), ("resubscribed", "unsubscribe-pending"),
                         ("resubscribed", "subscribe-success")):
        r = requests.post(push, json={"action": action, "subscription_id": subs[name]["id"]}).json()
        assert r["deliveries"][0]["status"] == 200
    ids = {name: stack.sql(f"SELECT subscription_id FROM bindings WHERE org_id = '{o['id']}'")[0][0]
           for name, o in orgs.items()}
    assert stack.sql(f"SELECT status FROM subscriptions WHERE id = {ids['resubscribed']}") == [["active"]]
    # The open hour is not closed early: it still takes usage.
    time.sleep(2)
    assert usage(stack, [record(orgs["cancelling"]["id"], h + 1, seconds=1, quantity="3")]).json()["accepted"] == 1
    assert stack.sql(f"SELECT COUNT(*) FROM org_hours WHERE org_id IN "
                     f"({', '.join(repr(o['id']) for o in orgs.values())})") == [["0"]]
    # Then that hour ends.
    stack.meterd_stop()
    try:
        shift_back_an_hour(stack, [o["id"] for o in orgs.values()], list(ids.values()))
    finally:
        stack.meterd_start()
    assert wait_for(lambda: [(int(hr), s) for hr, s in hours_sent(stack, orgs["cancelling"]["id"])] ==
                    [(h - HOUR, "accepted")])
    accepted = requests.get(f"{stack.sim_url}/_sim/aws/{P}/metering").json()["accepted"]
    mine = [(a["timestamp"], a["quantity"], a["sends"]) for a in accepted
            if a["license_arn"] == subs["cancelling"]["license_arn"]]
    assert mine == [(h - HOUR, 72, 1)]
    late = usage(stack, [record(orgs["cancelling"]["id"], h - HOUR + 120)]).json()["results"][0]
    assert late["error"]["code"] == "hour_closed"
    # The others' ended hour waits for the settle time.
    time.sleep(2)
    for name in ("staying", "resubscribed"):
        assert stack.sql(f"SELECT COUNT(*) FROM org_hours WHERE org_id = '{orgs[name]['id']}'") == [["0"]]
