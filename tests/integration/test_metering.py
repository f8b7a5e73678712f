# SPDX-License-Identifier: MIT
"""Usage in, money, the ledger and exactly-once metering to AWS Marketplace
through the real stack and the simulator: validation and idempotency,
exact prices and free credit, remainders carried between hours, every
marketplace answer, two mpbind-meterd racing, kill -9 at random points,
the final flush, and mpbindctl reconcile."""

import contextlib
import datetime
import os
import random
import secrets
import signal
import subprocess
import time

import pytest
import requests

from api import new_user
from stack import binary, read_pid

P = "aws-cn"
HOUR = 3600


def hour_now():
    now = int(time.time())
    return now - now % HOUR


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def usage(stack, records, token="default"):
    token = stack.internal_token if token == "default" else token
    headers = {"Authorization": "Bearer " + token} if token is not None else {}
    return requests.post(stack.url + "/internal/usage", json={"records": records}, headers=headers)


def record(org_id, start, seconds=60, quantity="1", dimension="compute", rid=None):
    return {"id": rid or "u-" + secrets.token_hex(8), "org_id": org_id, "cloud": "aws", "region": "cn-northwest-1",
            "dimension": dimension, "quantity": quantity, "start": iso(start), "end": iso(start + seconds)}


def wait_for(check, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def bind(stack, user, org_id, **token):
    """Lands with a registration token for a subscription (a new one, or token's subscription_id)
    and binds it to org_id; returns the simulator's subscription."""
    tok = requests.post(f"{stack.sim_url}/_sim/aws/{P}/tokens", json=token).json()
    r = user.s.post(f"{stack.url}/marketplace/{P}/landing", data={"x-amzn-marketplace-token": tok["token"]},
                    allow_redirects=False)
    assert r.status_code == 303
    r = user.post("/api/binding/confirm", {"org_id": org_id})
    assert r.status_code == 200, r.text
    return tok["subscription"]


def sub_id_of(stack, sim_sub):
    return stack.sql(f"SELECT id FROM subscriptions WHERE license_arn = '{sim_sub['license_arn']}'")[0][0]


class Meter:
    """A bound org whose binding started hours ago, and the simulator's view of it."""

    def __init__(self, stack, user, hours_back=3):
        self.stack = stack
        self.user = user
        self.org = user.create_org("Metered " + secrets.token_hex(3))
        self.account = str(secrets.randbelow(10**12)).zfill(12)
        self.sim_sub = bind(stack, user, self.org["id"], account_id=self.account)
        self.license = self.sim_sub["license_arn"]
        self.sub_id = sub_id_of(stack, self.sim_sub)
        stack.sql(f"UPDATE bindings SET starts_at = FROM_UNIXTIME({hour_now() - hours_back * HOUR}), "
                  f"bound_at = starts_at WHERE org_id = '{self.org['id']}'")

    def ledger(self):
        return self.stack.sql(f"SELECT UNIX_TIMESTAMP(hour), quantity, state, result_code FROM ledger "
                              f"WHERE subscription_id = {self.sub_id} ORDER BY hour")

    def settled(self, hours):
        rows = self.ledger()
        return len(rows) >= hours and all(r[2] in ("accepted", "rejected", "unknown") for r in rows)

    def accepted_at_sim(self):
        rows = requests.get(f"{self.stack.sim_url}/_sim/aws/{P}/metering").json()["accepted"]
        return [a for a in rows if a["license_arn"] == self.license]


class SimWatch:
    """The simulator; a test lists the violations it provokes on purpose in allowed."""

    def __init__(self, url):
        self.url = url
        self.allowed = set()


@pytest.fixture(autouse=True)
def clear_of_the_hour_end():
    """These tests count ledger hours, which a new hour would add to while they
    run: a test that starts in an hour's last two minutes waits for the next."""
    left = HOUR - time.time() % HOUR
    if left < 120:
        time.sleep(left + 5)


@pytest.fixture
def sim(stack):
    since = requests.get(stack.sim_url + "/_sim/log?since=999999999").json()["last_seq"]
    watch = SimWatch(stack.sim_url)
    yield watch
    requests.post(stack.sim_url + "/_sim/faults/clear")
    violations = requests.get(f"{stack.sim_url}/_sim/violations?since={since}").json()["violations"]
    assert [v for v in violations if v["code"] not in watch.allowed] == []


# ----- usage in ------------------------------------------------------------------

def test_usage_is_stored_once_and_a_changed_record_is_refused(stack, user):
    org = user.create_org("Usage")
    rec = record(org["id"], hour_now() - 600)
    first = usage(stack, [rec]).json()
    assert first["accepted"] == 1 and first["results"] == [{"id": rec["id"], "status": "accepted"}]
    again = usage(stack, [rec]).json()
    assert again["duplicates"] == 1 and again["results"][0]["status"] == "duplicate"
    changed = dict(rec, quantity="2")
    result = usage(stack, [changed]).json()["results"][0]
    assert result["status"] == "rejected" and result["error"]["code"] == "conflict"
    assert stack.sql(f"SELECT COUNT(*), MAX(quantity_micros) FROM usage_records WHERE id = '{rec['id']}'") == \
        [["1", "1000000"]]


@pytest.mark.parametrize("change,code,field", [
    ({"id": "bad id!"}, "invalid_record", "id"),
    ({"id": "ok\u0000cut"}, "invalid_record", "id"),          # a NUL would cut the id short
    ({"quantity": "5\u0000"}, "invalid_record", "quantity"),
    ({"org_id": "org-x"}, "invalid_record", "org_id"),
    ({"org_id": "org-" + "q" * 22}, "unknown_org", "org_id"),
    ({"cloud": "AWS"}, "invalid_record", "cloud"),
    ({"region": ""}, "invalid_record", "region"),
    ({"dimension": "gpu"}, "unknown_dimension", "dimension"),
    ({"quantity": 1.5}, "invalid_record", "quantity"),
    ({"quantity": -1}, "invalid_record", "quantity"),
    ({"quantity": "1.1234567"}, "invalid_record", "quantity"),
    ({"quantity": "1e3"}, "invalid_record", "quantity"),
    ({"quantity": 10**10}, "invalid_record", "quantity"),
    ({"start": "yesterday"}, "invalid_record", "start"),
    ({"end": "2026-11-22T05:00:00+08:00"}, "invalid_record", "end"),
    ({"extra": 1}, "invalid_record", None),
])
def test_each_bad_record_gets_its_own_error(stack, user, change, code, field):
    org = user.create_org("Bad usage")
    good = record(org["id"], hour_now() - 900)
    bad = dict(record(org["id"], hour_now() - 900), **change)
    r = usage(stack, [good, bad])
    assert r.status_code == 200
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    err = body["results"][1]["error"]
    assert err["code"] == code and err.get("field") == field and err["message"]
    assert stack.sql(f"SELECT COUNT(*) FROM usage_records WHERE org_id = '{org['id']}'") == [["1"]]


def test_records_must_lie_in_one_past_hour(stack, user):
    org = user.create_org("Hours")
    h = hour_now()
    # The future record starts two hours on: the API allows five minutes of
    # clock skew, and the next hour is within that near the end of this one.
    results = usage(stack, [record(org["id"], h - 30, seconds=60),
                            record(org["id"], h + 2 * HOUR),
                            record(org["id"], h - 49 * HOUR)]).json()["results"]
    assert [x["error"]["code"] for x in results] == ["not_in_one_hour", "in_future", "too_old"]


def test_usage_batches_are_bounded_and_authenticated(stack, user):
    org = user.create_org("Batches")
    assert usage(stack, []).status_code == 400
    assert usage(stack, [record(org["id"], hour_now() - 60)] * 1001).status_code in (400, 413)
    assert usage(stack, [record(org["id"], hour_now() - 60)], token=None).status_code == 401
    assert usage(stack, [record(org["id"], hour_now() - 60)], token="wrong").status_code == 401
    r = requests.post(stack.url + "/internal/usage", data="{", headers={
        "Authorization": "Bearer " + stack.internal_token, "Content-Type": "application/json"})
    assert r.status_code == 400


# ----- money ---------------------------------------------------------------------

def test_hours_are_priced_exactly_and_sent_once(stack, sim, user):
    m = Meter(stack, user, hours_back=3)
    h = hour_now() - 2 * HOUR
    # 3 x 2.5 vCPU-hours at 0.12 = 0.90: 90 units of 0.01
    body = usage(stack, [record(m.org["id"], h + i * 60, quantity="2.5") for i in range(3)]).json()
    assert body["accepted"] == 3
    assert wait_for(lambda: m.settled(3))
    rows = {r[0]: r for r in m.ledger()}
    assert rows[str(h)][1:3] == ["90", "accepted"]
    assert all(r[2] == "accepted" for r in rows.values())
    assert rows[str(h - HOUR)][1] == "0"                   # idle bound hours are sent as zero
    accepted = m.accepted_at_sim()
    assert sorted((a["timestamp"], a["quantity"], a["sends"]) for a in accepted) == \
        sorted((int(r[0]), int(r[1]), 1) for r in rows.values())
    assert all(a["dimension"] == "usage" and a["customer_aws_account_id"] == m.account for a in accepted)
    o = user.get(f"/api/orgs/{m.org['id']}/billing").json()
    assert o["current_bill"]["amount_due_micros"] == 900000 and o["current_bill"]["unbilled_micros"] == 0


def test_remainders_carry_into_the_next_hour(stack, sim, user):
    m = Meter(stack, user, hours_back=3)
    h = hour_now() - 2 * HOUR
    # 0.125 an hour: 12 units and 0.005 left, then 0.13: 13 units and nothing left
    usage(stack, [record(m.org["id"], h, quantity="1.041667"),
                  record(m.org["id"], h + HOUR, quantity="1.041667")])
    assert wait_for(lambda: m.settled(3))
    by_hour = {int(r[0]): int(r[1]) for r in m.ledger()}
    assert (by_hour[h], by_hour[h + HOUR]) == (12, 13)
    carries = stack.sql(f"SELECT CAST(carry_out_pico AS CHAR) FROM ledger WHERE subscription_id = {m.sub_id} "
                        f"AND hour = FROM_UNIXTIME({h})")
    assert carries == [["5000040000"]]                    # 1.041667 * 0.12 = 0.12500004


def test_free_credit_is_spent_first(stack, sim, user):
    m = Meter(stack, user, hours_back=3)
    ctl = [binary("mpbindctl"), "-c", stack.config_path]
    r = subprocess.run(ctl + ["credits", m.org["id"], "0.50", "30", "welcome"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    h = hour_now() - 2 * HOUR
    usage(stack, [record(m.org["id"], h, quantity="5"),            # 0.60: 0.50 credit, 0.10 billed
                  record(m.org["id"], h + HOUR, quantity="5")])    # 0.60 billed
    assert wait_for(lambda: m.settled(3))
    by_hour = {int(r[0]): int(r[1]) for r in m.ledger()}
    assert (by_hour[h], by_hour[h + HOUR]) == (10, 60)
    o = user.get(f"/api/orgs/{m.org['id']}/billing").json()
    assert o["free_credits"]["remaining_micros"] == 0
    assert o["current_bill"]["amount_due_micros"] == 700000
    assert o["current_bill"]["credit_used_micros"] == 500000


def test_usage_of_an_unbound_org_is_billed_nowhere_but_shown(stack, sim, user):
    org = user.create_org("Unbound usage")
    h = hour_now() - 2 * HOUR
    usage(stack, [record(org["id"], h, quantity="10")])
    assert wait_for(lambda: stack.sql(f"SELECT COUNT(*) FROM org_hours WHERE org_id = '{org['id']}'") == [["1"]])
    assert stack.sql(f"SELECT subscription_id FROM org_hours WHERE org_id = '{org['id']}'") == [["NULL"]]
    bill = user.get(f"/api/orgs/{org['id']}/billing").json()["current_bill"]
    assert bill["amount_due_micros"] == 0 and bill["unbilled_micros"] == 1200000     # billed nowhere
    # a closed hour takes no more usage
    late = usage(stack, [record(org["id"], h + 120)]).json()["results"][0]
    assert late["error"]["code"] == "hour_closed"


# ----- the marketplace's answers ------------------------------------------------

def fault(stack, operation, kind, count=1, **extra):
    r = requests.post(stack.sim_url + "/_sim/faults", json=dict(operation=operation, fault=kind, count=count,
                                                                partition=P, **extra))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("kind", ["throttle", "error500", "unprocessed", "timeout", "malformed"])
def test_transient_failures_are_retried_until_accepted_once(stack, sim, user, kind):
    fault(stack, "BatchMeterUsage", kind, count=2)
    m = Meter(stack, user, hours_back=2)
    usage(stack, [record(m.org["id"], hour_now() - HOUR, quantity="1")])
    assert wait_for(lambda: m.settled(2) and all(r[2] == "accepted" for r in m.ledger()), timeout=40)
    keys = [(a["timestamp"], a["quantity"]) for a in m.accepted_at_sim()]
    assert len(keys) == len(set(keys)) == 2


def test_customer_not_subscribed_is_a_final_rejection(stack, sim, user):
    m = Meter(stack, user, hours_back=2)
    requests.post(f"{stack.sim_url}/_sim/aws/{P}/subscriptions/"
                  f"{[s for s in requests.get(f'{stack.sim_url}/_sim/aws/{P}/subscriptions').json()['subscriptions'] if s['license_arn'] == m.license][0]['id']}/cancel",
                  json={"pending_delay_seconds": 0, "success_delay_seconds": 0, "wait": True})
    assert wait_for(lambda: m.settled(2))
    assert {r[2] for r in m.ledger()} == {"rejected"}
    assert {r[3] for r in m.ledger()} == {"CustomerNotSubscribed"}
    assert m.accepted_at_sim() == []


def test_a_duplicate_record_is_never_counted_as_success(stack, sim, user):
    sim.allowed.add("metering.duplicate_quantity")     # provoked: a changed quantity resent
    m = Meter(stack, user, hours_back=2)
    assert wait_for(lambda: m.settled(2))
    h = int(m.ledger()[0][0])
    stack.sql(f"UPDATE ledger SET state = 'pending', quantity = 7 WHERE subscription_id = {m.sub_id} "
              f"AND hour = FROM_UNIXTIME({h})")
    assert wait_for(lambda: m.ledger()[0][2] == "rejected")
    assert m.ledger()[0][3] == "DuplicateRecord"


def test_an_out_of_bounds_batch_is_split(stack, sim, user):
    sim.allowed.add("metering.timestamp_out_of_bounds")  # provoked: hours older than the window
    requests.post(stack.sim_url + "/_sim/settings", json={"aws.metering_window_seconds": 2 * HOUR})
    try:
        m = Meter(stack, user, hours_back=4)
        assert wait_for(lambda: m.settled(4), timeout=40)
        states = {int(r[0]): (r[2], r[3]) for r in m.ledger()}
        old = [s for h, s in states.items() if h < time.time() - 2 * HOUR]
        new = [s for h, s in states.items() if h >= time.time() - 2 * HOUR]
        assert old and all(s == ("rejected", "TimestampOutOfBoundsException") for s in old)
        assert new and all(s[0] == "accepted" for s in new)
    finally:
        requests.post(stack.sim_url + "/_sim/settings", json={"aws.metering_window_seconds": 21600})


# ----- several meterd, and kill -9 -------------------------------------------------

def test_two_meterd_racing_send_each_record_once(stack, sim, user):
    stack.meterd_start("meterd-race")
    try:
        meters = [Meter(stack, user, hours_back=5) for _ in range(6)]
        assert wait_for(lambda: all(m.settled(5) for m in meters), timeout=60)
    finally:
        stack.meterd_stop("meterd-race")
    for m in meters:
        accepted = m.accepted_at_sim()
        assert len(accepted) == 5 and all(a["sends"] == 1 for a in accepted)
        assert {r[2] for r in m.ledger()} == {"accepted"}


def test_killing_meterd_at_random_points_loses_and_duplicates_nothing(stack, sim, user):
    """Several meterd, SIGKILLed at random while a few hundred subscription-hours are built and sent."""
    requests.post(stack.sim_url + "/_sim/settings", json={"aws.metering_window_seconds": 40 * HOUR})
    stack.meterd_stop()
    names = ["meterd-k1", "meterd-k2", "meterd-k3"]
    try:
        meters = [Meter(stack, user, hours_back=30) for _ in range(10)]     # 300 subscription-hours
        for m in meters:
            recs = [record(m.org["id"], hour_now() - k * HOUR + 5, quantity=str(random.randint(0, 40)))
                    for k in range(1, 31)]
            assert usage(stack, recs).json()["accepted"] == 30
        deadline = time.time() + 90
        rng = random.Random(7)
        while time.time() < deadline and not all(m.settled(30) for m in meters):
            for name in names:
                stack.meterd_start(name)
            time.sleep(rng.uniform(0.05, 0.8))
            victim = stack.path("run", f"{rng.choice(names)}.pid")
            pid = read_pid(victim)
            if pid:
                os.kill(pid, signal.SIGKILL)
                wait_for(lambda: not os.path.exists(f"/proc/{pid}/status") or
                         "State:\tZ" in open(f"/proc/{pid}/status").read(), timeout=5)
                os.unlink(victim)
        for name in names:
            stack.meterd_start(name)
        assert wait_for(lambda: all(m.settled(30) for m in meters), timeout=60)
    finally:
        for name in names:
            stack.meterd_stop(name)
        stack.meterd_start()
        requests.post(stack.sim_url + "/_sim/settings", json={"aws.metering_window_seconds": 21600})
    for m in meters:
        rows = m.ledger()
        assert len(rows) == 30 and {r[2] for r in rows} == {"accepted"}      # no gaps
        accepted = m.accepted_at_sim()
        stamps = [a["timestamp"] for a in accepted]
        assert len(stamps) == len(set(stamps)) == 30                           # no duplicates
        assert {(a["timestamp"], a["quantity"]) for a in accepted} == {(int(r[0]), int(r[1])) for r in rows}
    start = iso(hour_now() - 31 * HOUR)
    orgs = [arg for m in meters for arg in ("--org", m.org["id"])]
    r = subprocess.run([binary("mpbindctl"), "-c", stack.config_path, "reconcile",
                        "--from", start, "--to", iso(hour_now())] + orgs, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    assert "checked 300 org-hours: 0 unbilled, 0 differences" in r.stdout


# ----- the final flush, and reconcile ------------------------------------------------

def test_reconcile_reports_differences_and_exits_non_zero(stack, sim, user):
    m = Meter(stack, user, hours_back=2)
    assert wait_for(lambda: m.settled(2))
    ctl = [binary("mpbindctl"), "-c", stack.config_path, "reconcile",
           "--from", iso(hour_now() - 3 * HOUR), "--to", iso(hour_now()), "--org", m.org["id"]]
    clean = subprocess.run(ctl, capture_output=True, text=True)
    assert clean.returncode == 0 and "checked 2 org-hours: 0 unbilled, 0 differences" in clean.stdout
    stack.sql(f"UPDATE ledger SET state = 'rejected', result_code = 'CustomerNotSubscribed' "
              f"WHERE subscription_id = {m.sub_id} LIMIT 1")
    r = subprocess.run(ctl, capture_output=True, text=True)
    assert r.returncode == 1
    assert m.org["id"] in r.stdout and "DIFFERENCE: not accepted by the marketplace" in r.stdout
    lookup = subprocess.run([binary("mpbindctl"), "-c", stack.config_path, "ledger",
                             m.org["id"]], capture_output=True, text=True)
    assert lookup.returncode == 0 and "CustomerNotSubscribed" in lookup.stdout and m.account in lookup.stdout


# ----- one hour, several orgs or subscriptions -------------------------------------

@contextlib.contextmanager
def meterd_paused(stack):
    """No meterd runs while a test sets bindings and usage in past hours, so nothing closes
    half-way through; the state is then as if it had happened at those times."""
    stack.meterd_stop()
    try:
        yield
    finally:
        stack.meterd_start()


def set_binding(stack, org_id, sub_id, starts=None, ended=None):
    sets = ([f"starts_at = FROM_UNIXTIME({starts}), bound_at = starts_at"] if starts is not None else []) + \
        ([f"ended_at = FROM_UNIXTIME({ended})"] if ended is not None else [])
    stack.sql(f"UPDATE bindings SET {', '.join(sets)} WHERE org_id = '{org_id}' AND subscription_id = {sub_id}")


def payers(stack, org_id):
    """Who pays each closed hour of an org: {hour: subscription id or 'NULL'}."""
    return {int(h): s for h, s in stack.sql(f"SELECT UNIX_TIMESTAMP(hour), subscription_id FROM org_hours "
                                            f"WHERE org_id = '{org_id}'")}


def accepted_of(stack, sim_sub):
    """What the simulator accepted for a subscription: {timestamp: (quantity, sends)}."""
    rows = requests.get(f"{stack.sim_url}/_sim/aws/{P}/metering").json()["accepted"]
    return {a["timestamp"]: (a["quantity"], a["sends"]) for a in rows if a["license_arn"] == sim_sub["license_arn"]}


def test_a_subscription_rebound_to_another_org_mid_hour_bills_both_orgs_in_one_row(stack, sim, user):
    """Org A unbinds S at :20 and org B binds S at :30: the hour is S's for both orgs (in force at
    the start for A, the first starting within it for B), so S's one ledger row sums both, its
    remainders carried together, also with two meterd building at once; every other org and later
    hour keeps closing."""
    h = hour_now()
    with meterd_paused(stack):
        a = Meter(stack, user, hours_back=3)
        assert user.post(f"/api/orgs/{a.org['id']}/billing/unbind").status_code == 200
        other = new_user(stack.url)
        b_org = other.create_org("Rebound")
        bind(stack, other, b_org["id"], subscription_id=a.sim_sub["id"])
        set_binding(stack, a.org["id"], a.sub_id, ended=h - HOUR + 20 * 60)
        set_binding(stack, b_org["id"], a.sub_id, starts=h - HOUR + 30 * 60)
        # 1.041667 vCPU-hours = 0.12500004 each: 12 units and a remainder apiece, 25 together
        assert usage(stack, [record(a.org["id"], h - 2 * HOUR + 60, quantity="1"),
                             record(a.org["id"], h - HOUR + 5 * 60, quantity="1.041667"),
                             record(b_org["id"], h - HOUR + 40 * 60, quantity="1.041667")]).json()["accepted"] == 3
        control = Meter(stack, user, hours_back=3)
        stack.meterd_start("meterd-second")
    try:
        assert wait_for(lambda: a.settled(3) and control.settled(3), timeout=40)
    finally:
        stack.meterd_stop("meterd-second")
    assert payers(stack, a.org["id"]) == {h - 3 * HOUR: a.sub_id, h - 2 * HOUR: a.sub_id, h - HOUR: a.sub_id}
    assert payers(stack, b_org["id"])[h - HOUR] == a.sub_id
    row = stack.sql(f"SELECT quantity, CAST(carry_in_pico AS CHAR), CAST(carry_out_pico AS CHAR), state FROM ledger "
                    f"WHERE subscription_id = {a.sub_id} AND hour = FROM_UNIXTIME({h - HOUR})")
    assert row == [["25", "0", "80000", "accepted"]]       # 0.25000008: 25 units, 0.00000008 carried
    sent = accepted_of(stack, a.sim_sub)
    assert {t: sent[t] for t in (h - 3 * HOUR, h - 2 * HOUR, h - HOUR)} == \
        {h - 3 * HOUR: (0, 1), h - 2 * HOUR: (12, 1), h - HOUR: (25, 1)}
    assert {r[2] for r in control.ledger()} == {"accepted"}
    # later passes keep building: an org bound afterwards is metered as usual
    later = Meter(stack, user, hours_back=2)
    assert wait_for(lambda: later.settled(2))


def test_a_mid_hour_switch_between_two_subscriptions_bills_each_hour_once(stack, sim, user):
    """The org unbinds S1 at :20 and binds S2 at :30: that hour is S1's (in force at its start,
    and a user's unbind keeps the rule), the next ones S2's; each hour reaches the marketplace once,
    from exactly one subscription."""
    h = hour_now()
    switch = h - 2 * HOUR
    with meterd_paused(stack):
        m = Meter(stack, user, hours_back=4)
        assert user.post(f"/api/orgs/{m.org['id']}/billing/unbind").status_code == 200
        s2 = bind(stack, user, m.org["id"])
        s2_id = sub_id_of(stack, s2)
        set_binding(stack, m.org["id"], m.sub_id, ended=switch + 20 * 60)
        set_binding(stack, m.org["id"], s2_id, starts=switch + 30 * 60)
        assert usage(stack, [record(m.org["id"], switch + 10 * 60, quantity="1"),      # 12 units
                             record(m.org["id"], switch + 40 * 60, quantity="2"),      # 24 units
                             record(m.org["id"], h - HOUR + 60, quantity="0.5")]).json()["accepted"] == 3
    assert wait_for(lambda: m.settled(3) and len(accepted_of(stack, s2)) >= 1, timeout=40)
    paid = payers(stack, m.org["id"])
    assert {t: paid[t] for t in range(h - 4 * HOUR, h, HOUR)} == \
        {h - 4 * HOUR: m.sub_id, h - 3 * HOUR: m.sub_id, switch: m.sub_id, h - HOUR: s2_id}
    first, second = accepted_of(stack, m.sim_sub), accepted_of(stack, s2)
    assert first == {h - 4 * HOUR: (0, 1), h - 3 * HOUR: (0, 1), switch: (36, 1)}
    assert {t: second[t] for t in second if t < h} == {h - HOUR: (6, 1)}
    assert not set(first) & set(second)


@pytest.mark.parametrize("way", ["rebound in the grace window", "switch brought forward"])
def test_the_hour_a_subscription_ends_in_goes_to_the_binding_that_follows(stack, sim, user, way):
    """S1's binding, in force at the hour's start, ends at :10 because S1 ended; S2's starts later in
    that hour. The marketplace would refuse S1's record (CustomerNotSubscribed), so S2 pays the hour."""
    h = hour_now()
    hour = h - 2 * HOUR
    s2_at = hour + (30 if way == "rebound in the grace window" else 10) * 60
    with meterd_paused(stack):
        m = Meter(stack, user, hours_back=2)
        push = f"{stack.sim_url}/_sim/aws/{P}/sns/push"
        if way == "rebound in the grace window":
            r = requests.post(f"{stack.sim_url}/_sim/aws/{P}/subscriptions/{m.sim_sub['id']}/cancel",
                              json={"pending_delay_seconds": 0, "success_delay_seconds": 0, "wait": True})
            assert r.status_code == 200, r.text
            assert user.get(f"/api/orgs/{m.org['id']}/billing").json()["status"] == "grace"
            s2 = bind(stack, user, m.org["id"])
        else:
            for action in ("unsubscribe-pending", None, "unsubscribe-success"):
                if action is None:
                    s2 = bind(stack, user, m.org["id"])      # switches at the next hour...
                    continue
                r = requests.post(push, json={"action": action, "subscription_id": m.sim_sub["id"]}).json()
                assert r["deliveries"][0]["status"] == 200  # ...brought forward by unsubscribe-success
        s2_id = sub_id_of(stack, s2)
        reason = "unsubscribed" if way == "rebound in the grace window" else "replaced"
        assert stack.sql(f"SELECT end_reason FROM bindings WHERE subscription_id = {m.sub_id}") == [[reason]]
        set_binding(stack, m.org["id"], m.sub_id, ended=hour + 10 * 60)
        set_binding(stack, m.org["id"], s2_id, starts=s2_at)
        assert usage(stack, [record(m.org["id"], hour + 5 * 60, quantity="1"),
                             record(m.org["id"], hour + 40 * 60, quantity="1"),
                             record(m.org["id"], h - HOUR + 60, quantity="0.5")]).json()["accepted"] == 3
    assert wait_for(lambda: len(accepted_of(stack, s2)) >= 2, timeout=40)
    paid = payers(stack, m.org["id"])
    assert (paid[hour], paid[h - HOUR]) == (s2_id, s2_id)
    sent = accepted_of(stack, s2)
    assert {t: sent[t] for t in (hour, h - HOUR)} == {hour: (24, 1), h - HOUR: (6, 1)}
    assert m.ledger() == [] and accepted_of(stack, m.sim_sub) == {}


def test_an_hour_that_cannot_close_holds_back_only_its_own_org_or_subscription(stack, sim, user):
    """An org-hour whose usage cannot be read, and a subscription whose carry cannot be: each waits,
    logged, with the later hours of that org or subscription (credit and carries go in hour order);
    every other org and subscription closes, and both are closed once repaired."""
    h = hour_now()
    poison = "-1"                                           # no amount is negative
    with meterd_paused(stack):
        sick_org, sick_sub, well = (Meter(stack, user, hours_back=3) for _ in range(3))
        rec = record(sick_org.org["id"], h - 2 * HOUR + 60, quantity="1")
        assert usage(stack, [rec]).json()["accepted"] == 1
        stack.sql(f"UPDATE usage_records SET cost_pico = {poison} WHERE id = '{rec['id']}'")
        stack.sql(f"INSERT INTO ledger (subscription_id, marketplace, dimension, hour, quantity, carry_in_pico, "
                  f"carry_out_pico, state, next_attempt_at, built_at) VALUES ({sick_sub.sub_id}, '{P}', 'usage', "
                  f"FROM_UNIXTIME({h - 4 * HOUR}), 0, 0, {poison}, 'accepted', NOW(6), NOW(6))")
    try:
        assert wait_for(lambda: well.settled(3), timeout=40)
        time.sleep(2)                                       # a few more passes
        assert sorted(payers(stack, sick_org.org["id"])) == [h - 3 * HOUR]
        assert [int(r[0]) for r in sick_org.ledger()] == [h - 3 * HOUR]
        assert [t for t in sorted(payers(stack, sick_sub.org["id"])) if t < h] == [h - 3 * HOUR, h - 2 * HOUR, h - HOUR]
        assert [int(r[0]) for r in sick_sub.ledger()] == [h - 4 * HOUR]
        log = open(stack.path("log", "mpbind.log"), errors="replace").read()
        assert f'meter: org "{sick_org.org["id"]}" hour ' in log
        assert f'meter: subscription "{sick_sub.sub_id}" hour ' in log
    finally:
        stack.sql(f"UPDATE usage_records SET cost_pico = 120000000000 WHERE id = '{rec['id']}'")
        stack.sql(f"DELETE FROM ledger WHERE subscription_id = {sick_sub.sub_id} AND hour = FROM_UNIXTIME({h - 4 * HOUR})")
    assert wait_for(lambda: sick_org.settled(3) and sick_sub.settled(3), timeout=40)
    assert {int(r[0]): r[1] for r in sick_org.ledger() if int(r[0]) < h} == \
        {h - 3 * HOUR: "0", h - 2 * HOUR: "12", h - HOUR: "0"}
    assert [r[2] for r in sick_sub.ledger() if int(r[0]) < h] == ["accepted"] * 3
