# SPDX-License-Identifier: MIT
"""Notifications on stacks configured apart from the shared one: the SNS
certificate is checked against sns.ca_file only (not http.ca_file), nginx
limits posts to the SNS endpoint, a forged message is refused before any
lookup, and mpbind-meterd polls a queue in another region, keeps a message
that fails for now and gives up one that keeps failing."""

import contextlib
import time

import pytest
import requests

from stack import temporary_stack
from stackopts import TEST_OPTIONS
from test_notifications import Sim, delivered, inbox, land, status_of, wait_for
from api import new_user

P = "aws-cn"


@contextlib.contextmanager
def own_stack(prefix, config, trust_sim_for_apis=False, **options):
    """A stack of its own with config over the test options, torn down even on failure."""
    opts = dict(TEST_OPTIONS, **options)
    opts["config"] = dict(TEST_OPTIONS["config"], **config)
    with temporary_stack(prefix, opts, start=False) as s:
        if trust_sim_for_apis:
            s.options["config"]["http.ca_file"] = s.path("sim", "ca.pem")
        s.up()
        yield s


@pytest.fixture(scope="module")
def strict_stack():
    """SNS trusts the system's CAs only; the rest trusts the simulator's CA. A low SNS rate."""
    with own_stack("mpbind-sns-strict-", {"sns.ca_file": ""}, trust_sim_for_apis=True,
                   sns_rate="2r/s", sns_burst=4) as s:
        yield s


@pytest.fixture(scope="module")
def queue_stack():
    """aws-cn notifications come through a queue in cn-north-1; failing ones are retried
    every 5 s, three times at most."""
    with own_stack("mpbind-sns-queue-",
                   {"sqs.visibility_timeout": "5", "sqs.max_receives": "3", "aws_cn.sqs_region": "cn-north-1"},
                   sim_aws={P: {"sqs_region": "cn-north-1", "sns_delivery": "sqs"}}) as s:
        yield s


def quiet(stack):
    """Lets the SNS rate limit's bucket drain."""
    time.sleep(3)


def rejected(stack, via="https"):
    return stack.sql(f"SELECT reason FROM inbox_rejected WHERE via = '{via}' ORDER BY id")


# ----- trust and limits ----------------------------------------------------------------------

def test_a_certificate_host_the_sns_ca_does_not_trust_is_refused(strict_stack):
    stack = strict_stack
    quiet(stack)
    sim, user = Sim(stack), new_user(stack.url)
    sub, token = sim.subscription()
    land(stack, user, token)
    result = sim.push("subscribe-success", sub)
    status, body = delivered(result)[0]
    assert status == 403 and body["error"]["code"] == "notification_rejected"
    assert status_of(stack, sub) == "pending"
    assert inbox(stack, result["messages"][0]["message_id"]) == []
    assert rejected(stack)[-1] == ["TLS certificate of the SNS host is not trusted"]
    assert stack.sql("SELECT COUNT(*) FROM sns_certs") == [["0"]]
    assert requests.get(stack.sim_url + "/_sim/sns").json()["cert_fetches"] == []
    # http.ca_file still serves the marketplace calls: the landing resolved its token above.


def test_posts_over_the_sns_rate_get_a_503_sns_retries(strict_stack):
    stack = strict_stack
    quiet(stack)
    before = len(rejected(stack))
    answers = [requests.post(f"{stack.url}/marketplace/{P}/sns", data=f"junk {i}") for i in range(20)]
    statuses = [r.status_code for r in answers]
    assert statuses[:4] == [403] * 4 and 503 in statuses
    limited = [r for r in answers if r.status_code == 503]
    assert all(r.json()["error"]["code"] == "unavailable" and r.headers["Retry-After"] == "1" for r in limited)
    assert len(rejected(stack)) - before == statuses.count(403)
    # Other paths are not limited by it.
    assert requests.get(stack.url + "/healthz").status_code == 200


def test_a_forged_message_is_refused_before_any_lookup(strict_stack):
    """Even with the database down, a message naming a topic not ours gets a 403 (never
    retried), not the 503 a lookup before the checks would give it."""
    stack = strict_stack
    quiet(stack)
    sim = Sim(stack)
    body = sim.push(None, corrupt="wrong_topic", customer_identifier="FORGED1", deliver=False)["messages"][0]["body"]
    stack.db_stop()
    try:
        r = requests.post(f"{stack.url}/marketplace/{P}/sns", data=body.encode())
        assert r.status_code == 403 and r.json()["error"]["code"] == "notification_rejected"
    finally:
        stack.db_start()


# ----- the queue -------------------------------------------------------------------------------

def queue(stack):
    return requests.get(f"{stack.sim_url}/_sim/aws/{P}/sqs").json()


def queued(stack, message_id):
    """The queue's record of the SNS message message_id ({} until it is queued)."""
    for m in queue(stack)["messages"]:
        if isinstance(m["body"], dict) and m["body"].get("MessageId") == message_id:
            return m
    return {}


def test_a_queue_in_another_region_is_polled(queue_stack):
    stack = queue_stack
    sim, user = Sim(stack), new_user(stack.url)
    sub, token = sim.subscription()
    land(stack, user, token)
    mid = sim.push("subscribe-success", sub)["messages"][0]["message_id"]
    assert wait_for(lambda: status_of(stack, sub) == "active")
    assert wait_for(lambda: queued(stack, mid).get("deleted"))
    assert inbox(stack, mid) == [["applied", "sqs"]]
    assert sim.violations() == []      # signed for cn-north-1, where the queue is


def test_a_message_failing_for_now_stays_queued_and_is_applied_later(queue_stack):
    stack = queue_stack
    sim, user = Sim(stack), new_user(stack.url)
    sub, token = sim.subscription()
    land(stack, user, token)
    sim.post(f"/_sim/aws/{P}/entitlements", {
        "entitlements": [{"subscription_id": sub["id"], "Dimension": "nodes", "Value": {"IntegerValue": 7}}]})
    sim.post("/_sim/faults", {"operation": "GetEntitlements", "fault": "error500", "partition": P, "count": 4})
    mid = sim.push("entitlement-updated", sub, topic="entitlement")["messages"][0]["message_id"]
    assert wait_for(lambda: queued(stack, mid).get("receive_count") == 1 and queued(stack, mid)["in_flight"])
    time.sleep(1)
    assert inbox(stack, mid) == [] and not queued(stack, mid).get("deleted")
    assert wait_for(lambda: inbox(stack, mid) == [["applied", "sqs"]], timeout=20)
    assert wait_for(lambda: queued(stack, mid).get("deleted"))
    assert queued(stack, mid)["receive_count"] == 2
    assert sim.violations() == []


def test_a_message_that_keeps_failing_is_recorded_and_deleted_after_the_maximum(queue_stack):
    stack = queue_stack
    sim, user = Sim(stack), new_user(stack.url)
    sub, token = sim.subscription()
    land(stack, user, token)
    sim.post("/_sim/faults", {"operation": "GetEntitlements", "fault": "error500", "partition": P, "count": 1000})
    try:
        mid = sim.push("entitlement-updated", sub, topic="entitlement")["messages"][0]["message_id"]
        assert wait_for(lambda: queued(stack, mid).get("deleted"), timeout=40)
    finally:
        sim.post("/_sim/faults/clear")
    assert queued(stack, mid)["receive_count"] == 3
    assert inbox(stack, mid) == []
    rows = stack.sql("SELECT reason, JSON_VALUE(body, '$.MessageId') FROM inbox_rejected "
                     "WHERE via = 'sqs' AND reason LIKE 'still failing%' ORDER BY id DESC LIMIT 1")
    assert rows == [["still failing after 3 receives: unavailable", mid]]    # kept whole: it can be replayed


def test_a_message_failing_for_good_is_recorded_and_deleted_at_once(queue_stack):
    stack = queue_stack
    sim, user = Sim(stack), new_user(stack.url)
    sub, token = sim.subscription()
    land(stack, user, token)
    sim.post("/_sim/faults", {"operation": "GetEntitlements", "fault": "access_denied", "partition": P})
    mid = sim.push("entitlement-updated", sub, topic="entitlement")["messages"][0]["message_id"]
    assert wait_for(lambda: queued(stack, mid).get("deleted"))
    assert queued(stack, mid)["receive_count"] == 1
    assert stack.sql(f"SELECT state, note FROM inbox WHERE message_id = '{mid}'") == \
        [["failed", "GetEntitlements: AccessDeniedException"]]
