# SPDX-License-Identifier: MIT
"""AWS Marketplace notifications through the real stack: SNS over HTTPS and
through SQS (mpbind-meterd), signature verification, idempotency, any
arrival order, the lifecycle's effect on bindings, grace and suspension,
and switching the paying account from A to B."""

import json
import os
import secrets
import signal
import subprocess
import time

import pytest
import requests

from api import error_code
from stack import binary, read_pid, pid_alive

P = "aws-cn"


class Sim:
    def __init__(self, stack):
        self.stack = stack
        self.url = stack.sim_url
        self.since = requests.get(self.url + "/_sim/log?since=999999999").json()["last_seq"]

    def post(self, path, body=None):
        r = requests.post(self.url + path, json=body or {})
        assert r.status_code == 200, r.text
        return r.json()

    def subscription(self, account_id=None, notify="none"):
        """A subscription on the marketplace and its registration token; no notification sent.
        SNS names a subscription only by the customer identifier, one per buyer account and
        product, so each test buys from its own account unless it means to share one."""
        body = {"notify": notify, "account_id": account_id or str(secrets.randbelow(10**12)).zfill(12)}
        r = self.post(f"/_sim/aws/{P}/subscriptions", body)
        return r["subscription"], r["token"]

    def push(self, action, sub=None, **spec):
        spec["action"] = action
        if sub is not None:
            spec["subscription_id"] = sub["id"]
        return self.post(f"/_sim/aws/{P}/sns/push", spec)

    def deliver(self, message_ids):
        return self.post(f"/_sim/aws/{P}/sns/deliver", {"message_ids": message_ids})["deliveries"]

    def violations(self):
        return requests.get(f"{self.url}/_sim/violations?since={self.since}").json()["violations"]


@pytest.fixture
def sim(stack):
    s = Sim(stack)
    yield s
    requests.post(stack.sim_url + "/_sim/settings", json={"sns_delivery." + P: "https"})
    assert s.violations() == []


def land(stack, client, token, partition=P):
    r = client.s.post(f"{stack.url}/marketplace/{partition}/landing",
                      data={"x-amzn-marketplace-token": token}, allow_redirects=False)
    assert r.status_code == 303, r.text
    return r


def bind(stack, user, token, org_id):
    land(stack, user, token)
    r = user.post("/api/binding/confirm", {"org_id": org_id})
    assert r.status_code == 200, r.text


def status_of(stack, sub):
    rows = stack.sql(f"SELECT status FROM subscriptions WHERE license_arn = '{sub['license_arn']}'")
    return rows[0][0] if rows else None


def inbox(stack, message_id):
    return stack.sql(f"SELECT state, via FROM inbox WHERE message_id = '{message_id}'")


def delivered(result):
    return [(d["status"], json.loads(d["body"]) if d["body"] else None) for d in result["deliveries"]]


def events(user, org_id):
    return [e["action"] for e in user.get(f"/api/orgs/{org_id}/events").json()["events"]]


def event(user, org_id, action):
    """The newest event action of the org, with its actor and detail."""
    found = [e for e in user.get(f"/api/orgs/{org_id}/events").json()["events"] if e["action"] == action]
    assert found, f"no {action} event"
    return found[0]


# ----- lifecycle over HTTPS ----------------------------------------------------

@pytest.mark.parametrize("version", ["1", "2"])
def test_subscribe_success_activates_a_landed_subscription(stack, sim, user, version):
    """SignatureVersion 1 signs with SHA1withRSA, 2 with SHA256withRSA: both are verified."""
    sub, token = sim.subscription()
    land(stack, user, token)
    assert status_of(stack, sub) == "pending"
    result = sim.push("subscribe-success", sub, signature_version=version)
    assert json.loads(result["messages"][0]["body"])["SignatureVersion"] == version
    assert delivered(result) == [(200, {"status": "ok"})]
    assert status_of(stack, sub) == "active"
    assert inbox(stack, result["messages"][0]["message_id"]) == [["applied", "https"]]


def test_a_landing_after_the_notification_still_activates(stack, sim, user):
    sub, token = sim.subscription()
    result = sim.push("subscribe-success", sub)
    mid = result["messages"][0]["message_id"]
    assert delivered(result)[0][0] == 200
    assert inbox(stack, mid) == [["unmatched", "https"]]
    land(stack, user, token)
    assert status_of(stack, sub) == "active"
    assert inbox(stack, mid) == [["applied", "https"]]


def test_the_same_message_twice_is_applied_once(stack, sim, user):
    org = user.create_org("Twice")
    sub, token = sim.subscription()
    bind(stack, user, token, org["id"])
    mid = sim.push("unsubscribe-pending", sub)["messages"][0]["message_id"]
    before = events(user, org["id"])
    assert [d["status"] for d in sim.deliver([mid, mid, mid])] == [200, 200, 200]
    assert events(user, org["id"]) == before
    assert stack.sql(f"SELECT COUNT(*) FROM inbox WHERE message_id = '{mid}'") == [["1"]]


def test_messages_out_of_order_end_in_the_right_state(stack, sim, user):
    sub, token = sim.subscription()
    land(stack, user, token)
    success = sim.push("subscribe-success", sub, deliver=False)["messages"][0]["message_id"]
    pending = sim.push("unsubscribe-pending", sub, deliver=False)["messages"][0]["message_id"]
    ended = sim.push("unsubscribe-success", sub, deliver=False)["messages"][0]["message_id"]
    assert [d["status"] for d in sim.deliver([ended, pending, success])] == [200, 200, 200]
    assert status_of(stack, sub) == "ended"
    assert inbox(stack, ended)[0][0] == "applied"
    assert inbox(stack, pending)[0][0] == "stale"
    # A subscribe-success finding only an ended agreement is kept for the
    # next landing of that customer (a new agreement), never applied to this one.
    assert inbox(stack, success)[0][0] == "unmatched"


def test_a_stale_message_cannot_touch_a_later_agreement(stack, sim, user):
    """One account, one customer identifier, two agreements: A ended, then A2."""
    sub_a, token_a = sim.subscription()
    land(stack, user, token_a)
    sim.push("subscribe-success", sub_a)
    late_pending = sim.push("unsubscribe-pending", sub_a, deliver=False)["messages"][0]["message_id"]
    sim.push("unsubscribe-success", sub_a)
    sub_a2, token_a2 = sim.subscription(account_id=sub_a["account_id"])
    assert sub_a2["customer_identifier"] == sub_a["customer_identifier"]
    sim.deliver([late_pending])
    assert inbox(stack, late_pending)[0][0] == "stale"
    sim.push("subscribe-success", sub_a2)          # before A2's landing: waits for it
    land(stack, user, token_a2)
    assert status_of(stack, sub_a2) == "active" and status_of(stack, sub_a) == "ended"


def test_resubscribing_before_unsubscribe_success_keeps_it_active(stack, sim, user):
    sub, token = sim.subscription()
    land(stack, user, token)
    sim.push("subscribe-success", sub)
    sim.push("unsubscribe-pending", sub)
    assert status_of(stack, sub) == "unsubscribe_pending"
    sim.push("subscribe-success", sub)
    assert status_of(stack, sub) == "active"


def test_subscribe_fail_blocks_binding(stack, sim, user):
    org = user.create_org("Failed")
    sub, token = sim.subscription()
    land(stack, user, token)
    sim.push("subscribe-fail", sub)
    assert status_of(stack, sub) == "failed"
    r = user.post("/api/binding/confirm", {"org_id": org["id"]})
    assert r.status_code == 409 and error_code(r) == "subscription_inactive"
    r = user.s.post(f"{stack.url}/marketplace/{P}/landing", data={"x-amzn-marketplace-token": token},
                    allow_redirects=False)
    assert r.status_code == 409


def test_unsubscribe_pending_asks_for_the_final_flush(stack, sim, user):
    org = user.create_org("Cancelling")
    sub, token = sim.subscription()
    bind(stack, user, token, org["id"])
    sim.push("unsubscribe-pending", sub)
    rows = stack.sql(f"SELECT status, flush_requested_at IS NOT NULL FROM subscriptions "
                     f"WHERE license_arn = '{sub['license_arn']}'")
    assert rows == [["unsubscribe_pending", "1"]]
    assert events(user, org["id"])[0] == "subscription.cancelling"
    o = user.get(f"/api/orgs/{org['id']}/billing").json()
    assert o["status"] == "marketplace" and o["payment"]["subscription_status"] == "unsubscribe_pending"


def test_unsubscribe_success_ends_the_binding_into_grace(stack, sim, user):
    org = user.create_org("Unsubscribed")
    sub, token = sim.subscription()
    bind(stack, user, token, org["id"])
    sim.push("unsubscribe-pending", sub)
    sim.push("unsubscribe-success", sub)
    assert status_of(stack, sub) == "ended"
    assert stack.sql(f"SELECT end_reason FROM bindings WHERE org_id = '{org['id']}'") == [["unsubscribed"]]
    o = user.get(f"/api/orgs/{org['id']}/billing").json()
    assert o["status"] == "grace" and o["payment"] is None and 3590 <= o["grace_seconds_left"] <= 3600
    assert events(user, org["id"])[:2] == ["subscription.ended", "binding.ended"]


# ----- what must not be trusted -------------------------------------------------

@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("corrupt", ["tamper_message", "truncate_signature", "bad_signature", "foreign_key",
                                     "cert_host", "cert_http", "cert_not_pem", "cert_query",
                                     "bad_signature_version", "wrong_topic"])
def test_forged_messages_are_refused_and_change_nothing(stack, sim, user, corrupt, version):
    sub, token = sim.subscription()
    land(stack, user, token)
    rejected = int(stack.sql("SELECT COUNT(*) FROM inbox_rejected")[0][0])
    result = sim.push("subscribe-success", sub, corrupt=corrupt, signature_version=version)
    status, body = delivered(result)[0]
    assert status == 403 and body["error"]["code"] == "notification_rejected"
    assert status_of(stack, sub) == "pending"
    assert inbox(stack, result["messages"][0]["message_id"]) == []
    assert int(stack.sql("SELECT COUNT(*) FROM inbox_rejected")[0][0]) == rejected + 1


def test_a_forged_copy_cannot_block_the_genuine_message(stack, sim, user):
    sub, token = sim.subscription()
    land(stack, user, token)
    message = sim.push("subscribe-success", sub, deliver=False)["messages"][0]
    forged = json.loads(message["body"])
    forged["Message"] = forged["Message"].replace("subscribe-success", "subscribe-fail")
    url = f"{stack.url}/marketplace/{P}/sns"
    headers = {"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification"}
    r = requests.post(url, data=json.dumps(forged), headers=headers)
    assert r.status_code == 403
    r = requests.post(url, data=message["body"].encode(), headers=headers)
    assert r.status_code == 200 and status_of(stack, sub) == "active"


@pytest.mark.parametrize("body", ["", "not json", "[]", '{"Type": "Notification"}',
                                  '{"Type": "Weird", "MessageId": "1"}'])
def test_malformed_bodies_are_refused(stack, body):
    r = requests.post(f"{stack.url}/marketplace/{P}/sns", data=body, headers={"Content-Type": "text/plain"})
    assert r.status_code == 403 and error_code(r) == "notification_rejected"


def test_unknown_actions_and_customers_are_recorded_not_applied(stack, sim, user):
    sub, token = sim.subscription()
    land(stack, user, token)
    odd = sim.push("subscribe-maybe", sub)
    assert delivered(odd)[0][0] == 200
    assert stack.sql(f"SELECT state, note FROM inbox WHERE message_id = '{odd['messages'][0]['message_id']}'") == \
        [["ignored", "unknown action"]]
    stranger = sim.push("unsubscribe-success", sub, corrupt="unknown_customer")
    assert delivered(stranger)[0][0] == 200
    assert inbox(stack, stranger["messages"][0]["message_id"])[0][0] == "unmatched"
    assert status_of(stack, sub) == "pending"
    assert requests.post(f"{stack.url}/marketplace/azure/sns", data="{}").status_code == 404


def test_signing_certificates_are_fetched_once(stack, sim, user):
    sub, token = sim.subscription()
    land(stack, user, token)
    before = len(requests.get(stack.sim_url + "/_sim/sns").json()["cert_fetches"])
    for action in ("subscribe-success", "unsubscribe-pending", "subscribe-success"):
        sim.push(action, sub)
    after = len(requests.get(stack.sim_url + "/_sim/sns").json()["cert_fetches"])
    assert after - before <= 1
    assert stack.sql("SELECT COUNT(*) FROM sns_certs") == [["1"]]


def test_a_subscription_confirmation_is_confirmed(stack, sim):
    result = sim.push(None, type="SubscriptionConfirmation")
    assert delivered(result)[0][0] == 200
    confirmations = requests.get(stack.sim_url + "/_sim/sns").json()["confirmations"]
    assert confirmations and confirmations[-1]["partition"] == P
    assert inbox(stack, result["messages"][0]["message_id"])[0][0] == "confirmed"


def test_entitlement_updates_page_through_get_entitlements(stack, sim, user):
    sub, token = sim.subscription()
    land(stack, user, token)
    sim.post(f"/_sim/aws/{P}/entitlements", {
        "entitlements": [{"subscription_id": sub["id"], "Dimension": "nodes", "Value": {"IntegerValue": 5}},
                         {"subscription_id": sub["id"], "Dimension": "tier", "Value": {"StringValue": "pro"},
                          "ExpirationDate": 2000000000}],
        "page_size": 1, "empty_pages": 2})
    result = sim.push("entitlement-updated", sub, topic="entitlement")
    assert delivered(result)[0][0] == 200
    rows = stack.sql(f"SELECT dimension, value, expires_at IS NOT NULL FROM entitlements "
                     f"WHERE customer_identifier = '{sub['customer_identifier']}' ORDER BY dimension")
    assert rows == [["nodes", '{"IntegerValue":5}', "0"], ["tier", '{"StringValue":"pro"}', "1"]]
    calls = requests.get(f"{stack.sim_url}/_sim/log?since={sim.since}&channel=aws.{P}.entitlement").json()["entries"]
    assert len(calls) == 3      # two empty pages with a NextToken, then the page with both


def test_entitlement_updates_show_on_the_bound_org(stack, sim, user):
    org = user.create_org("Entitled")
    sub, token = sim.subscription()
    bind(stack, user, token, org["id"])
    sim.post(f"/_sim/aws/{P}/entitlements", {
        "entitlements": [{"subscription_id": sub["id"], "Dimension": "nodes", "Value": {"IntegerValue": 5}},
                         {"subscription_id": sub["id"], "Dimension": "tier", "Value": {"StringValue": "pro"}}]})
    assert delivered(sim.push("entitlement-updated", sub, topic="entitlement"))[0][0] == 200
    e = event(user, org["id"], "entitlements.updated")
    assert e["actor"] == P and e["detail"] == {"marketplace": P, "customer": sub["customer_identifier"], "count": "2"}


# ----- through SQS and mpbind-meterd -------------------------------------------

def wait_for(check, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_notifications_through_sqs_are_applied_then_deleted(stack, sim, user):
    requests.post(stack.sim_url + "/_sim/settings", json={"sns_delivery." + P: "sqs"})
    org = user.create_org("Via SQS")
    sub, token = sim.subscription()
    bind(stack, user, token, org["id"])
    sim.push("subscribe-success", sub)
    assert wait_for(lambda: status_of(stack, sub) == "active")
    sim.push("unsubscribe-success", sub)
    assert wait_for(lambda: status_of(stack, sub) == "ended")
    ids = [m["message_id"] for m in requests.get(f"{stack.sim_url}/_sim/aws/{P}/sns/messages").json()["messages"]
           if m["subscription_id"] == sub["id"]]
    assert stack.sql(f"SELECT via FROM inbox WHERE subscription_id = (SELECT id FROM subscriptions "
                     f"WHERE license_arn = '{sub['license_arn']}') ORDER BY id") == [["sqs"], ["sqs"]]

    def ours_deleted():
        queue = requests.get(f"{stack.sim_url}/_sim/aws/{P}/sqs").json()
        mine = [m for m in queue["messages"] if isinstance(m["body"], dict) and m["body"].get("MessageId") in ids]
        return len(mine) == 2 and all(m["deleted"] for m in mine)
    assert len(ids) == 2 and wait_for(ours_deleted)


def test_malformed_sqs_messages_are_recorded_and_not_retried_forever(stack, sim):
    before = int(stack.sql("SELECT COUNT(*) FROM inbox_rejected WHERE via = 'sqs'")[0][0])
    sim.post(f"/_sim/aws/{P}/sqs/send", {"body": "this is not an SNS envelope"})
    assert wait_for(lambda: int(stack.sql("SELECT COUNT(*) FROM inbox_rejected WHERE via = 'sqs'")[0][0]) == before + 1)
    assert wait_for(lambda: all(m["deleted"] for m in requests.get(f"{stack.sim_url}/_sim/aws/{P}/sqs").json()["messages"]))


# ----- grace, suspension, and switching the paying account ------------------------

def test_an_ended_grace_window_suspends_the_org_and_binding_restores_it(stack, sim, user):
    org = user.create_org("Suspended")
    sub, token = sim.subscription()
    bind(stack, user, token, org["id"])
    sim.push("unsubscribe-success", sub)
    stack.sql(f"UPDATE orgs SET grace_deadline = NOW(6) - INTERVAL 1 SECOND WHERE id = '{org['id']}'")
    assert wait_for(lambda: stack.sql(f"SELECT billing_status FROM orgs WHERE id = '{org['id']}'") == [["suspended"]])
    assert events(user, org["id"])[0] == "billing.suspended"
    assert event(user, org["id"], "billing.suspended")["detail"] == {"reason": "grace_ended"}
    headers = {"Authorization": "Bearer " + stack.internal_token}
    status = requests.get(f"{stack.url}/internal/orgs/{org['id']}/billing-status", headers=headers).json()
    assert status["status"] == "suspended"
    sub_b, token_b = sim.subscription()
    bind(stack, user, token_b, org["id"])
    status = requests.get(f"{stack.url}/internal/orgs/{org['id']}/billing-status", headers=headers).json()
    assert status == {"org_id": org["id"], "status": "marketplace", "grace_deadline": None,
                      "marketplace": P, "account_id": sub_b["account_id"],
                      "customer_identifier": sub_b["customer_identifier"]}


def test_switching_the_paying_account_within_the_grace_window(stack, sim, user):
    """The seed: A cancels, B subscribes and sets up the account, B is bound within the hour."""
    org = user.create_org("Switch A to B")
    sub_a, token_a = sim.subscription()
    bind(stack, user, token_a, org["id"])
    sim.push("unsubscribe-pending", sub_a)
    sim.push("unsubscribe-success", sub_a)
    assert user.get(f"/api/orgs/{org['id']}/billing").json()["status"] == "grace"
    sub_b, token_b = sim.subscription()
    bind(stack, user, token_b, org["id"])
    o = user.get(f"/api/orgs/{org['id']}/billing").json()
    assert o["status"] == "marketplace" and o["grace_deadline"] is None
    assert o["payment"]["account_id"] == sub_b["account_id"] != sub_a["account_id"]


def test_binding_b_while_a_is_only_cancelling_switches_at_the_hour(stack, sim, user):
    org = user.create_org("Switch at the hour")
    sub_a, token_a = sim.subscription()
    bind(stack, user, token_a, org["id"])
    sim.push("unsubscribe-pending", sub_a)
    sub_b, token_b = sim.subscription()
    land(stack, user, token_b)
    choice = [o for o in user.get("/api/binding").json()["orgs"] if o["id"] == org["id"]][0]
    assert choice["eligible"] is True and choice["reason"] == "current_cancelling"
    assert user.post("/api/binding/confirm", {"org_id": org["id"]}).status_code == 200
    rows = stack.sql(f"SELECT s.account_id, b.starts_at, b.ended_at, b.end_reason FROM bindings b "
                     f"JOIN subscriptions s ON s.id = b.subscription_id WHERE b.org_id = '{org['id']}' ORDER BY b.id")
    (a_acct, _, a_end, a_reason), (b_acct, b_start, b_end, _) = rows
    assert (a_acct, b_acct, a_reason, b_end) == (sub_a["account_id"], sub_b["account_id"], "replaced", "NULL")
    assert a_end == b_start and a_end.endswith(":00:00.000000")
    assert user.get(f"/api/orgs/{org['id']}/billing").json()["payment"]["account_id"] == sub_b["account_id"]
    # A's unsubscribe-success before the hour: B takes over at once, no gap, no grace
    sim.push("unsubscribe-success", sub_a)
    (_, _, a_end, _), (_, b_start, _, _) = stack.sql(
        f"SELECT s.account_id, b.starts_at, b.ended_at, b.end_reason FROM bindings b "
        f"JOIN subscriptions s ON s.id = b.subscription_id WHERE b.org_id = '{org['id']}' ORDER BY b.id")
    assert a_end == b_start and not a_end.endswith(":00:00.000000")
    assert user.get(f"/api/orgs/{org['id']}/billing").json()["status"] == "marketplace"
    # Both show on the org's events though A's binding had already ended (replaced at the hour).
    assert events(user, org["id"])[:2] == ["subscription.ended", "binding.switched"]
    ended = event(user, org["id"], "subscription.ended")
    assert ended["actor"] == P and ended["detail"]["account_id"] == sub_a["account_id"]
    switched = event(user, org["id"], "binding.switched")["detail"]
    assert (switched["account_id"], switched["reason"], switched["marketplace"]) == (sub_a["account_id"], "unsubscribed", P)
    assert switched["at"].replace("T", " ").startswith(a_end[:19])


def test_meterd_stops_promptly_during_a_long_poll(stack):
    pidfile = stack.path("run", "meterd-extra.pid")
    stack.meterd_start("meterd-extra")
    pid = read_pid(pidfile)
    time.sleep(0.5)
    started = time.time()
    os.kill(pid, signal.SIGTERM)
    assert wait_for(lambda: not pid_alive(pid), timeout=5)
    assert time.time() - started < 3
    assert not os.path.exists(pidfile)


# ----- the lifecycle's two ends, each delivered again, out of order, corrupted, re-signed ------

def lifecycle_setup(stack, sim, user, action):
    """A bound subscription, and the message for action (not delivered yet)."""
    org = user.create_org("Ends " + action)
    sub, token = sim.subscription()
    bind(stack, user, token, org["id"])
    if action == "unsubscribe-success":
        sim.push("subscribe-success", sub)
    return org, sub


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("action, state", [("subscribe-success", "active"), ("unsubscribe-success", "ended")])
def test_each_end_sent_again_is_applied_once(stack, sim, user, action, state, version):
    org, sub = lifecycle_setup(stack, sim, user, action)
    mid = sim.push(action, sub, deliver=False, signature_version=version)["messages"][0]["message_id"]
    assert [d["status"] for d in sim.deliver([mid])] == [200]
    assert status_of(stack, sub) == state
    before = events(user, org["id"])
    assert [d["status"] for d in sim.deliver([mid, mid])] == [200, 200]
    assert events(user, org["id"]) == before and status_of(stack, sub) == state
    assert stack.sql(f"SELECT COUNT(*), MIN(state) FROM inbox WHERE message_id = '{mid}'") == [["1", "applied"]]


def test_the_two_ends_reordered_leave_the_subscription_ended(stack, sim, user):
    org, sub = lifecycle_setup(stack, sim, user, "subscribe-success")
    success = sim.push("subscribe-success", sub, deliver=False)["messages"][0]["message_id"]
    ended = sim.push("unsubscribe-success", sub, deliver=False)["messages"][0]["message_id"]
    assert [d["status"] for d in sim.deliver([ended, success])] == [200, 200]
    assert status_of(stack, sub) == "ended"
    assert inbox(stack, ended)[0][0] == "applied" and inbox(stack, success)[0][0] != "applied"
    assert user.get(f"/api/orgs/{org['id']}/billing").json()["status"] == "grace"


@pytest.mark.parametrize("corrupt", ["tamper_message", "bad_signature", "foreign_key", "cert_host"])
@pytest.mark.parametrize("action, before", [("subscribe-success", "pending"), ("unsubscribe-success", "active")])
def test_each_end_corrupted_or_resigned_changes_nothing(stack, sim, user, action, before, corrupt):
    org, sub = lifecycle_setup(stack, sim, user, action)
    assert status_of(stack, sub) == before
    seen = events(user, org["id"])
    result = sim.push(action, sub, corrupt=corrupt)
    assert delivered(result)[0][0] == 403
    assert status_of(stack, sub) == before and events(user, org["id"]) == seen
    assert stack.sql(f"SELECT COUNT(*) FROM bindings WHERE org_id = '{org['id']}' AND ended_at IS NULL") == [["1"]]


# ----- certificate and SubscribeURL checks ---------------------------------------------------

def sns_status(stack):
    return requests.get(stack.sim_url + "/_sim/sns").json()


def cert_rows(stack):
    return int(stack.sql("SELECT COUNT(*) FROM sns_certs")[0][0])


@pytest.mark.parametrize("change, reason", [
    (lambda u: u + "?x=1", "certificate URL has a query"),
    (lambda u: u + "#x", "URL has a fragment"),
    (lambda u: u.replace("https://", "https://user:pw@"), "URL has user info"),
    (lambda u: u.replace(".pem", ".pem/"), "certificate path does not end in .pem"),
    (lambda u: u.replace("/Simple", "//Simple"), "malformed certificate path"),
    (lambda u: u.replace("/Simple", "/%53imple"), "malformed certificate path"),
    (lambda u: u.replace("localhost:", "localhost.:"), "host does not match sns_cert_host"),
])
def test_certificate_urls_with_extras_are_refused_without_a_fetch(stack, sim, user, change, reason):
    sub, token = sim.subscription()
    land(stack, user, token)
    fetches, rows = len(sns_status(stack)["cert_fetches"]), cert_rows(stack)
    url = change(sns_status(stack)["cert_url"])
    result = sim.push("subscribe-success", sub, signing_cert_url=url)
    assert delivered(result)[0][0] == 403
    assert status_of(stack, sub) == "pending"
    assert len(sns_status(stack)["cert_fetches"]) == fetches and cert_rows(stack) == rows
    assert stack.sql("SELECT reason FROM inbox_rejected ORDER BY id DESC LIMIT 1") == [[reason]]


def test_many_spellings_of_one_certificate_url_cost_one_fetch(stack, sim, user):
    """The cache is keyed on the checked URL: varying it cannot force new fetches or rows."""
    url = sns_status(stack)["cert_url"]
    fetches = len(sns_status(stack)["cert_fetches"])
    for spelling in (url, url.replace("localhost", "LOCALHOST"), url.replace("localhost", "LocalHost")):
        sub, token = sim.subscription()
        land(stack, user, token)
        assert delivered(sim.push("subscribe-success", sub, signing_cert_url=spelling))[0][0] == 200
        assert status_of(stack, sub) == "active"
    for n in range(5):
        sim.push("subscribe-success", corrupt="cert_query", customer_identifier=f"NOBODY{n}")
    assert cert_rows(stack) == 1
    assert len(sns_status(stack)["cert_fetches"]) - fetches <= 1    # none when an earlier test cached it


def test_a_certificate_url_that_answers_404_is_refused_not_retried(stack, sim, user):
    sub, token = sim.subscription()
    land(stack, user, token)
    url = sns_status(stack)["cert_url"].rsplit("/", 1)[0] + "/SimpleNotificationService-" + "0" * 32 + ".pem"
    result = sim.push("subscribe-success", sub, signing_cert_url=url)
    assert delivered(result)[0][0] == 403
    assert status_of(stack, sub) == "pending"
    assert stack.sql("SELECT reason FROM inbox_rejected ORDER BY id DESC LIMIT 1") == [["SNS host answered HTTP 404"]]


@pytest.mark.parametrize("corrupt, url", [
    ("subscribe_host", None),
    ("subscribe_http", None),
    (None, "https://localhost:{port}/confirm?Action=ConfirmSubscription&Token=x"),
    (None, "https://localhost:{port}/?Action=Unsubscribe&SubscriptionArn=x"),
    (None, "https://localhost:{port}/?Action=ConfirmSubscription&Token=x#frag"),
    (None, "https://evil@localhost:{port}/?Action=ConfirmSubscription&Token=x"),
])
def test_subscribe_urls_elsewhere_are_refused(stack, sim, corrupt, url):
    confirmations = len(sns_status(stack)["confirmations"])
    spec = {"type": "SubscriptionConfirmation"}
    if corrupt:
        spec["corrupt"] = corrupt
    if url:
        spec["subscribe_url"] = url.format(port=stack.state["ports"]["sim_https"])
    result = sim.push(None, **spec)
    assert delivered(result)[0][0] == 403
    assert len(sns_status(stack)["confirmations"]) == confirmations
    assert inbox(stack, result["messages"][0]["message_id"]) == []


def test_an_unsubscribe_confirmation_is_recorded_and_never_resubscribes(stack, sim):
    confirmations = len(sns_status(stack)["confirmations"])
    result = sim.push(None, type="UnsubscribeConfirmation")
    assert delivered(result) == [(200, {"status": "ok"})]
    mid = result["messages"][0]["message_id"]
    assert stack.sql(f"SELECT state, note FROM inbox WHERE message_id = '{mid}'") == \
        [["ignored", "unsubscribe confirmation"]]
    assert len(sns_status(stack)["confirmations"]) == confirmations   # its SubscribeURL was not visited
    forged = sim.push(None, type="UnsubscribeConfirmation", corrupt="bad_signature")
    assert delivered(forged)[0][0] == 403 and inbox(stack, forged["messages"][0]["message_id"]) == []


# ----- what is kept of refused messages -------------------------------------------------------

def test_an_oversized_post_gets_the_json_413(stack):
    r = requests.post(f"{stack.url}/marketplace/{P}/sns", data=b"x" * (200 * 1024))
    assert r.status_code == 413 and error_code(r) == "body_too_large"


def test_a_refused_message_keeps_only_an_excerpt_and_its_size(stack):
    body = '{"Type": "Notification", "Message": "' + "组" * 20000 + '"}'
    size = len(body.encode())
    r = requests.post(f"{stack.url}/marketplace/{P}/sns", data=body.encode(), headers={"Content-Type": "text/plain"})
    assert r.status_code == 403 and error_code(r) == "notification_rejected"
    (reason, kept, length, chars), = stack.sql(
        "SELECT reason, LENGTH(body), body_length, CHAR_LENGTH(body) FROM inbox_rejected ORDER BY id DESC LIMIT 1")
    assert reason == "a field is missing or not a string"
    assert int(length) == size and 2040 <= int(kept) <= 2048 and int(chars) < int(kept)
    r = requests.post(f"{stack.url}/marketplace/{P}/sns", data=b"\xff\xfe not text \x00 at all",
                      headers={"Content-Type": "text/plain"})
    assert r.status_code == 403
    assert stack.sql("SELECT body, body_length FROM inbox_rejected ORDER BY id DESC LIMIT 1") == \
        [["?? not text ? at all", "20"]]


def test_meterd_prunes_refused_messages_after_their_keeping_time(stack):
    stack.sql("INSERT INTO inbox_rejected (source, via, reason, body, received_at) VALUES "
              "('aws-cn', 'https', 'old', 'x', NOW(6) - INTERVAL 31 DAY), "
              "('aws-cn', 'https', 'young', 'x', NOW(6) - INTERVAL 29 DAY)")
    assert wait_for(lambda: stack.sql("SELECT COUNT(*) FROM inbox_rejected WHERE reason = 'old'") == [["0"]])
    assert stack.sql("SELECT COUNT(*) FROM inbox_rejected WHERE reason = 'young'") == [["1"]]


# ----- GetEntitlements: failing for good, failing for now --------------------------------------

def entitlement_calls(stack, sim):
    return len(requests.get(f"{stack.sim_url}/_sim/log?since={sim.since}&channel=aws.{P}.entitlement").json()["entries"])


@pytest.mark.parametrize("fault, error", [("access_denied", "AccessDeniedException"),
                                          ("disabled", "DisabledApiException")])
def test_a_permanent_get_entitlements_error_is_recorded_and_not_retried(stack, sim, user, fault, error):
    sub, token = sim.subscription()
    land(stack, user, token)
    sim.post("/_sim/faults", {"operation": "GetEntitlements", "fault": fault, "partition": P, "count": 1})
    message = sim.push("entitlement-updated", sub, topic="entitlement", deliver=False)["messages"][0]
    calls = entitlement_calls(stack, sim)
    assert [d["status"] for d in sim.deliver([message["message_id"]])] == [200]
    assert inbox(stack, message["message_id"]) == [["failed", "https"]]
    assert stack.sql(f"SELECT note FROM inbox WHERE message_id = '{message['message_id']}'") == \
        [[f"GetEntitlements: {error}"]]
    assert entitlement_calls(stack, sim) == calls + 1          # not retried by awsapi either
    assert [d["status"] for d in sim.deliver([message["message_id"]])] == [200]
    assert entitlement_calls(stack, sim) == calls + 1          # a redelivery finds it handled


def test_a_transient_get_entitlements_failure_is_retried_then_applied(stack, sim, user):
    sub, token = sim.subscription()
    land(stack, user, token)
    sim.post(f"/_sim/aws/{P}/entitlements", {
        "entitlements": [{"subscription_id": sub["id"], "Dimension": "nodes", "Value": {"IntegerValue": 3}}]})
    sim.post("/_sim/faults", {"operation": "GetEntitlements", "fault": "error500", "partition": P, "count": 4})
    mid = sim.push("entitlement-updated", sub, topic="entitlement", deliver=False)["messages"][0]["message_id"]
    first = sim.deliver([mid])[0]
    assert first["status"] == 503 and json.loads(first["body"])["error"]["code"] == "unavailable"
    assert inbox(stack, mid) == []
    assert [d["status"] for d in sim.deliver([mid])] == [200]
    assert inbox(stack, mid) == [["applied", "https"]]
    assert stack.sql(f"SELECT dimension FROM entitlements WHERE customer_identifier = '{sub['customer_identifier']}'") == \
        [["nodes"]]


# ----- mpbindctl replay ---------------------------------------------------------------------

def replay(stack, *args):
    return subprocess.run([binary("mpbindctl"), "-c", stack.config_path, "replay", *args],
                          capture_output=True, text=True)


def inbox_id(stack, message_id):
    (row,), = stack.sql(f"SELECT id FROM inbox WHERE message_id = '{message_id}'")
    return row


def test_a_failed_entitlement_update_is_replayed_once_its_cause_is_fixed(stack, sim, user):
    """GetEntitlements refused for a missing permission: once it is granted, the operator replays
    the message; while AWS still refuses, a replay changes nothing; a second replay is refused."""
    sub, token = sim.subscription()
    land(stack, user, token)
    customer = sub["customer_identifier"]
    sim.post(f"/_sim/aws/{P}/entitlements", {
        "entitlements": [{"subscription_id": sub["id"], "Dimension": "nodes", "Value": {"IntegerValue": 7}}]})
    sim.post("/_sim/faults", {"operation": "GetEntitlements", "fault": "access_denied", "partition": P, "count": 2})
    mid = sim.push("entitlement-updated", sub, topic="entitlement")["messages"][0]["message_id"]
    assert inbox(stack, mid) == [["failed", "https"]]
    row = inbox_id(stack, mid)

    still = replay(stack, row)
    assert still.returncode == 1, still
    assert f"inbox {row}:" in still.stderr and "GetEntitlements: AccessDeniedException" in still.stderr
    assert stack.sql(f"SELECT state, note, applied_at IS NULL FROM inbox WHERE id = {row}") == \
        [["failed", "GetEntitlements: AccessDeniedException", "1"]]
    assert stack.sql(f"SELECT COUNT(*) FROM entitlements WHERE customer_identifier = '{customer}'") == [["0"]]

    fixed = replay(stack, row)
    assert fixed.returncode == 0, fixed
    assert fixed.stdout == f"inbox {row}: applied (1 entitlements, replayed by an operator)\n"
    assert stack.sql(f"SELECT state, via, note, applied_at IS NOT NULL FROM inbox WHERE id = {row}") == \
        [["applied", "https", "1 entitlements, replayed by an operator", "1"]]
    assert stack.sql("SELECT dimension, value FROM entitlements "
                     f"WHERE customer_identifier = '{customer}'") == [["nodes", '{"IntegerValue":7}']]

    again = replay(stack, row)
    assert again.returncode == 1 and "is applied: only unmatched messages" in again.stderr, again
    assert stack.sql(f"SELECT COUNT(*) FROM entitlements WHERE customer_identifier = '{customer}'") == [["1"]]


def test_an_unmatched_message_is_replayed_once_its_subscription_is_known(stack, sim, user):
    """The lost race replay is for: the landing registered the subscription without seeing a
    message that was still being recorded as unmatched."""
    sub, token = sim.subscription()
    mid = sim.push("subscribe-success", sub)["messages"][0]["message_id"]
    assert inbox(stack, mid) == [["unmatched", "https"]]
    row = inbox_id(stack, mid)
    assert replay(stack, row).stdout == f"inbox {row}: unmatched\n"     # no subscription yet

    stack.sql(f"UPDATE inbox SET state = 'ignored' WHERE id = {row}")  # hidden from the landing
    land(stack, user, token)
    stack.sql(f"UPDATE inbox SET state = 'unmatched' WHERE id = {row}")
    assert status_of(stack, sub) == "pending"

    done = replay(stack, row)
    assert done.returncode == 0 and done.stdout == f"inbox {row}: applied (replayed by an operator)\n", done
    assert status_of(stack, sub) == "active"
    assert stack.sql(f"SELECT state, note FROM inbox WHERE id = {row}") == [["applied", "replayed by an operator"]]


@pytest.mark.parametrize("arg, code", [("999999999", 1), ("0", 2), ("12x", 2), ("-3", 2)])
def test_replay_refuses_an_unknown_or_malformed_inbox_id(stack, arg, code):
    before = stack.sql("SELECT COUNT(*), COALESCE(MAX(applied_at), '') FROM inbox")
    r = replay(stack, arg)
    assert r.returncode == code, r
    if code == 1:
        assert "not found" in r.stderr.lower(), r.stderr
    assert stack.sql("SELECT COUNT(*), COALESCE(MAX(applied_at), '') FROM inbox") == before
