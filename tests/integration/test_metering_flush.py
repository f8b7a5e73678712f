# SPDX-License-Identifier: MIT
"""unsubscribe-pending flushes at once: on a stack whose hours close only
59 minutes after they end, the cancelled subscription's last hour is
closed and sent right away, while another org's waits."""

import shutil
import tempfile
import time

import pytest
import requests

from stackopts import TEST_OPTIONS
from api import new_user
from stack import Stack
from test_metering import HOUR, hour_now, record, usage, wait_for

P = "aws-cn"


@pytest.fixture(scope="module")
def slow_stack():
    var = tempfile.mkdtemp(prefix="mpbind-flush-")
    options = dict(TEST_OPTIONS)
    options["config"] = dict(options["config"], **{"metering.settle_seconds": "3540"})
    s = Stack(var, options=options)
    try:
        s.up()
        yield s
    finally:
        s.down()
        shutil.rmtree(var, ignore_errors=True)


def bound_org(stack, user, account):
    org = user.create_org("Flush " + account)
    tok = requests.post(f"{stack.sim_url}/_sim/aws/{P}/tokens", json={"account_id": account}).json()
    user.s.post(f"{stack.url}/marketplace/{P}/landing", data={"x-amzn-marketplace-token": tok["token"]},
                allow_redirects=False)
    assert user.post("/api/binding/confirm", {"org_id": org["id"]}).status_code == 200
    stack.sql(f"UPDATE bindings SET starts_at = FROM_UNIXTIME({hour_now() - 2 * HOUR}) WHERE org_id = '{org['id']}'")
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
