# SPDX-License-Identifier: MIT
"""Metering to Alibaba Cloud Marketplace (阿里云云市场 PushMeteringData), end to
end: usage posted to /internal/usage for an Alibaba-bound org becomes, once
its hour closes, one PushMeteringData record in the listing's unit; and
ledger rows written here with SQL are sent by a real mpbind-meterd to the
simulator, which checks the ACS3 signature, the 100-record and one-product
limits, the window and deadline rules, the one-push-per-instance rule, and
counts a window accepted twice as a violation (Alibaba does not de-duplicate).

The module runs its own mpbind-meterd with aliyun.metering_interval lowered
to INTERVAL seconds and the simulator's rule set to the same, and gives the
stack's meterd back afterwards."""

import calendar
import datetime
import decimal
import json
import os
import signal
import subprocess
import time
import urllib.parse

import pytest
import requests

from api import new_user
from stack import binary, pid_alive, read_pid, wait_until
from test_aliyun import AliyunSim

INTERVAL = 3                 # seconds between pushes for one instance, ours and the sim's
KEYS = ["Unit", "Frequency", "Period", "PeriodMin", "Storage", "NetworkOut", "NetworkIn",
        "Character", "DailyActiveUser", "VirtualCpu", "Memory"]     # the sim's entity Keys
MARKET = "aliyun.market"
ASSIT = "cmjj00mpbind-Unit-1"  # scripts/stack.py: aliyun.metering_assit


# ----- the module's meterd ---------------------------------------------------

def start_meterd(stack, name="meterd-aliyun"):
    pidfile = stack.path("run", f"{name}.pid")
    env = dict(os.environ, MPBIND_ALIYUN_METERING_INTERVAL=str(INTERVAL))
    stack._spawn([binary("mpbind-meterd"), "-c", stack.config_path, "-p", pidfile],
                 f"{name}.out", env=env)
    wait_until(lambda: pid_alive(read_pid(pidfile) or 0), 10, name)
    return pidfile


@pytest.fixture(scope="module")
def meterd(stack):
    """A meterd pushing to Alibaba every INTERVAL seconds per instance; the sim agrees."""
    stack.meterd_stop("meterd")
    requests.post(stack.sim_url + "/_sim/settings",
                  json={"aliyun.metering_min_interval_seconds": INTERVAL}).raise_for_status()
    pidfile = start_meterd(stack)
    yield pidfile
    stack.meterd_stop("meterd-aliyun")
    requests.post(stack.sim_url + "/_sim/settings",
                  json={"aliyun.metering_min_interval_seconds": 60, "fault_timeout_seconds": 30})
    requests.post(stack.sim_url + "/_sim/faults/clear")
    stack.meterd_start()


# ----- the simulator ---------------------------------------------------------

class MeteringSim(AliyunSim):
    """AliyunSim, with what the simulator accepted of PushMeteringData and its faults."""

    def get(self, path):
        r = requests.get(self.url + path, timeout=30)
        r.raise_for_status()
        return r.json()

    def fault(self, fault, count=1):
        self.post("/_sim/faults", {"operation": "PushMeteringData", "fault": fault, "count": count})

    def accepted(self, instance_id):
        """What the sim accepted for an instance: [(start, end, entity, request_id, received)]."""
        return [(int(a["start"]), int(a["end"]), e, a["request_id"], a["received"])
                for a in self.get("/_sim/aliyun/metering")["accepted"]
                if a["instance_id"] == instance_id for e in a["entities"]]

    def pushes(self):
        """PushMeteringData requests received during this test (log entries)."""
        return [e for e in self.get(f"/_sim/log?since={self.since}&channel={MARKET}")["entries"]
                if e.get("direction") == "in"]

    def violations(self):
        """Every channel's, less the expected."""
        found = self.get(f"/_sim/violations?since={self.since}")["violations"]
        return [v for v in found if v["code"] not in self.expected]


@pytest.fixture
def sim(stack, meterd):
    """The simulator's control API; the test fails on any violation it did not expect."""
    s = MeteringSim(stack)
    yield s
    assert s.violations() == []


# ----- the ledger --------------------------------------------------------------

def utc(ts):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def sendable_hour():
    """A closed hour 云市场 still takes: the last one, or near the end of an hour the
    current one (its end is within 5 minutes, and the last one's deadline is near)."""
    now = int(time.time())
    hour = now - now % 3600
    return hour - 3600 if now - hour < 56 * 60 else hour


def subscription_id(stack, inst):
    return int(stack.sql("SELECT id FROM subscriptions WHERE marketplace = 'aliyun' "
                         f"AND instance_id = '{inst['instance_id']}'")[0][0])


def insert_rows(stack, specs, state="pending", extra=""):
    """specs: [(subscription id, dimension, hour, quantity)]; returns the rows' ids in order."""
    values = ", ".join(f"({sub}, 'aliyun', '{dim}', '{utc(hour)}', {qty}, 0, 0, '{state}', "
                       f"UTC_TIMESTAMP(6), UTC_TIMESTAMP(6){extra})" for sub, dim, hour, qty in specs)
    cols = "subscription_id, marketplace, dimension, hour, quantity, carry_in_pico, carry_out_pico, " \
           "state, next_attempt_at, built_at"
    if extra:
        cols += ", attempts, sent_at, lease_until"
    stack.sql(f"INSERT INTO ledger ({cols}) VALUES {values}")
    ids = []
    for sub, dim, hour, _ in specs:
        ids.append(int(stack.sql(f"SELECT id FROM ledger WHERE subscription_id = {sub} AND dimension = '{dim}' "
                                 f"AND hour = '{utc(hour)}'")[0][0]))
    return ids


def ledger(stack, ids):
    """{id: (state, result_code, record_id, attempts)}"""
    got = stack.sql("SELECT id, state, IFNULL(result_code, '-'), IFNULL(record_id, '-'), attempts FROM ledger "
                    f"WHERE id IN ({', '.join(map(str, ids))})")
    return {int(r[0]): (r[1], r[2], r[3], int(r[4])) for r in got}


def wait_rows(stack, ids, check, timeout=30, what="ledger rows", hurried=False):
    """Waits until check(row) holds for each of ids; returns the rows. hurried:
    rows waiting for a retry are made due at once (whatever metering.retry_seconds is)."""
    deadline = time.monotonic() + timeout
    while True:
        if hurried:
            hurry(stack, ids)
        got = ledger(stack, ids)
        if all(check(got[i]) for i in ids):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: {got}")
        time.sleep(0.2)


def hurry(stack, ids):
    """Skips a retry's backoff (30 s * 2^attempts): the rows are due now."""
    stack.sql(f"UPDATE ledger SET next_attempt_at = UTC_TIMESTAMP(6) WHERE state = 'pending' "
              f"AND id IN ({', '.join(map(str, ids))})")


def settled(row):
    return row[0] != "sent" and not (row[0] == "pending" and row[1] == "-")


def records_of(push):
    """The Metering records a push carried, as sent (also when a fault answered it)."""
    query = urllib.parse.urlsplit(push["request"]["path"]).query
    return json.loads(urllib.parse.parse_qs(query)["Metering"][0])


def instances_of(push):
    return {r.get("InstanceId") for r in records_of(push) if isinstance(r, dict)}


def seconds(iso):
    """The sim's "2026-01-02T03:04:05.678Z" as epoch seconds."""
    return calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")) + int(iso[20:23]) / 1000


# ----- subscriptions -------------------------------------------------------------

@pytest.fixture
def bound(stack, sim):
    """An instance opened on the sim and bound to a new org through 免登 and 确认绑定."""
    def make():
        user = new_user(stack.url)
        org = user.create_org("Zilliz")
        inst = sim.instance()
        r = user.s.get(sim.sso_url(inst), allow_redirects=False)
        assert r.status_code == 303 and r.headers["Location"] == stack.url + "/bind", r.text
        r = user.post("/api/binding/confirm", {"org_id": org["id"]})
        assert r.status_code == 200, r.text
        assert r.json()["binding"]["marketplace"] == "aliyun"
        return inst, subscription_id(stack, inst)
    return make


# ----- tests ---------------------------------------------------------------------

def test_a_bound_hour_is_pushed_once_signed_and_recorded(stack, sim, bound):
    inst, sub = bound()
    hour = sendable_hour()
    [row] = insert_rows(stack, [(sub, "Unit", hour, 7)])
    got = wait_rows(stack, [row], lambda r: r[0] == "accepted")[row]
    assert got[1] == "Success" and got[3] == 1
    accepted = sim.accepted(inst["instance_id"])
    assert [(a[0], a[1], a[2], a[3]) for a in accepted] == [
        (hour, hour + 3600, {"Key": "Unit", "Value": "7", "meteringAssit": ASSIT}, got[2])]
    [push] = sim.pushes()
    assert push["status"] == 200 and push["checks"] == {"acs3": "ok"}, push
    assert push["request"]["method"] == "POST" and push["request"]["path"].startswith("/aliyun/market/?Metering=")
    assert records_of(push) == [{"InstanceId": inst["instance_id"], "StartTime": str(hour),
                                 "EndTime": str(hour + 3600),
                                 "Entities": [{"Key": "Unit", "Value": "7", "meteringAssit": ASSIT}]}]
    # Later passes send nothing more.
    time.sleep(2 * INTERVAL)
    assert len(sim.accepted(inst["instance_id"])) == 1
    assert ledger(stack, [row])[row][0] == "accepted"


def config_value(stack, name):
    """An option as mpbind reads it (the default when the stack does not set it)."""
    out = subprocess.run([binary("mpbindctl"), "-c", stack.config_path, "config"], capture_output=True,
                         text=True, check=True).stdout
    return dict(line.split(" = ", 1) for line in out.splitlines() if " = " in line)[name]


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_usage_of_an_alibaba_bound_org_is_pushed_in_the_listings_unit(stack, sim, bound):
    """Usage from several clouds for the last hour, posted to /internal/usage: the
    hour closes, and PushMeteringData carries its cost in aliyun.unit_price_micros
    units under aliyun.metering_key, what is left below one unit carried on."""
    left = 3600 - time.time() % 3600
    if left < 180:                  # the hour must close and be sent before the next one's :59
        time.sleep(left + 5)
    inst, sub = bound()
    [[org_id]] = stack.sql(f"SELECT org_id FROM bindings WHERE subscription_id = {sub}")
    now = int(time.time())
    hour = now - now % 3600 - 3600
    stack.sql(f"UPDATE bindings SET starts_at = FROM_UNIXTIME({hour}), bound_at = starts_at "
              f"WHERE subscription_id = {sub}")
    used = [("aws", "cn-northwest-1", "compute", "2.5"), ("aliyun", "cn-hangzhou", "compute", "1.25"),
            ("aliyun", "cn-hangzhou", "memory", "4"), ("tencent", "ap-guangzhou", "egress", "0.3"),
            ("aliyun", "cn-hangzhou", "storage", "10")]
    records = [{"id": f"ali-{sub}-{i}", "org_id": org_id, "cloud": cloud, "region": region, "dimension": dim,
                "quantity": qty, "start": iso(hour + 60 * i), "end": iso(hour + 60 * i + 60)}
               for i, (cloud, region, dim, qty) in enumerate(used)]
    r = requests.post(stack.url + "/internal/usage", json={"records": records},
                      headers={"Authorization": "Bearer " + stack.internal_token})
    assert r.status_code == 200 and r.json()["accepted"] == len(used), r.text

    prices = {dim: int(micros) for dim, micros in stack.sql("SELECT dimension, price_micros FROM prices")}
    cost_micros = sum(decimal.Decimal(qty) * prices[dim] for _, _, dim, qty in used)
    unit = int(config_value(stack, "aliyun.unit_price_micros"))
    key = config_value(stack, "aliyun.metering_key")
    units, rest = divmod(cost_micros, unit)
    units, rest_pico = int(units), int(rest * 10 ** 6)
    assert units > 0 and rest_pico > 0          # the case carries a remainder

    def row():
        got = stack.sql("SELECT id, state, quantity, CAST(carry_out_pico AS CHAR) FROM ledger "
                        f"WHERE subscription_id = {sub} AND hour = '{utc(hour)}'")
        return got[0] if got and got[0][1] == "accepted" else None
    wait_until(row, 30, "the hour's ledger row to be accepted")
    _, _, quantity, carry = row()
    assert (int(quantity), int(carry)) == (units, rest_pico)
    pushed = [(a[0], a[1], a[2]) for a in sim.accepted(inst["instance_id"]) if a[0] == hour]
    assert pushed == [(hour, hour + 3600, {"Key": key, "Value": str(units), "meteringAssit": ASSIT})]
    [[hour_cost]] = stack.sql(f"SELECT CAST(cost_pico AS CHAR) FROM org_hours WHERE org_id = '{org_id}' "
                              f"AND hour = '{utc(hour)}'")
    assert int(hour_cost) == int(cost_micros * 10 ** 6)


def test_more_than_100_rows_go_in_requests_of_at_most_100_records(stack, sim):
    """110 rows over 10 instances (11 entity Keys each): one request of 100, the
    rest after the instance split across them may be pushed again."""
    hour = sendable_hour()
    insts = [sim.instance() for _ in range(10)]
    subs = [subscription_id(stack, i) for i in insts]
    specs = [(sub, key, hour, n) for n, sub in enumerate(subs) for key in KEYS]
    ids = insert_rows(stack, specs)
    wait_rows(stack, ids, lambda r: r[0] == "accepted", timeout=60)
    pushes = [p for p in sim.pushes() if instances_of(p) & {i["instance_id"] for i in insts}]
    sizes = sorted(len(records_of(p)) for p in pushes if p["status"] == 200)
    assert sizes[-1] == 100 and sum(sizes) == 110 and all(s <= 100 for s in sizes), sizes
    assert all(p["status"] == 200 for p in pushes), [p["summary"] for p in pushes]
    for n, inst in enumerate(insts):
        got = sim.accepted(inst["instance_id"])
        assert sorted(g[2]["Key"] for g in got) == sorted(KEYS)
        assert {(g[0], g[1], g[2]["Value"]) for g in got} == {(hour, hour + 3600, str(n))}
        # one push per instance per INTERVAL, counted by the sim's clock
        times = sorted({seconds(g[4]) for g in got})
        assert all(b - a >= INTERVAL for a, b in zip(times, times[1:])), times


def test_one_push_per_instance_per_interval(stack, sim, bound):
    inst, sub = bound()
    hour = sendable_hour()
    [first] = insert_rows(stack, [(sub, "Unit", hour, 1)])
    wait_rows(stack, [first], lambda r: r[0] == "accepted")
    # Due at once, but the instance was just pushed to: they wait their turn.
    later = insert_rows(stack, [(sub, "Frequency", hour, 2)])
    later += insert_rows(stack, [(sub, "Period", hour, 3)])
    wait_rows(stack, later, lambda r: r[0] == "accepted")
    got = sim.accepted(inst["instance_id"])
    assert sorted((g[2]["Key"], g[2]["Value"]) for g in got) == [("Frequency", "2"), ("Period", "3"), ("Unit", "1")]
    times = sorted({seconds(g[4]) for g in got})
    assert len(times) >= 2 and all(b - a >= INTERVAL for a, b in zip(times, times[1:])), times
    assert not [p for p in sim.pushes() if p["status"] != 200]


def test_throttling_and_server_errors_are_retried(stack, sim, bound):
    inst, sub = bound()
    hour = sendable_hour()
    sim.fault("throttle")
    sim.fault("error500")
    [row] = insert_rows(stack, [(sub, "Unit", hour, 5)])
    got = wait_rows(stack, [row], lambda r: r[0] == "accepted", hurried=True)[row]
    assert got[3] == 3
    pushes = [p for p in sim.pushes() if inst["instance_id"] in instances_of(p)]
    assert [(p["status"], p.get("error")) for p in pushes] == [(400, "Throttling.User"),
                                                               (500, "InternalError"), (200, None)]
    assert len(sim.accepted(inst["instance_id"])) == 1


def test_a_timeout_ends_unknown_and_is_never_resent(stack, sim, bound):
    """The sim sleeps past our http.timeout, then bills the push anyway: the
    answer was lost, and sending again would bill twice."""
    inst, sub = bound()
    hour = sendable_hour()
    sim.settings(fault_timeout_seconds=6)
    sim.fault("timeout")
    [row] = insert_rows(stack, [(sub, "Unit", hour, 9)])
    got = wait_rows(stack, [row], lambda r: r[0] == "unknown", timeout=20)[row]
    assert got[1] == "timeout_after_send" and got[2] == "-"
    wait_until(lambda: sim.accepted(inst["instance_id"]), 15, "the sim to process the lost push")
    time.sleep(3 * INTERVAL)
    assert len(sim.accepted(inst["instance_id"])) == 1
    assert ledger(stack, [row])[row][:2] == ("unknown", "timeout_after_send")
    assert len([p for p in sim.pushes() if inst["instance_id"] in instances_of(p)]) == 1
    sim.settings(fault_timeout_seconds=30)


def test_late_hours_are_rejected_and_open_hours_wait_without_a_request(stack, sim, bound):
    inst, sub = bound()
    now = int(time.time())
    this_hour = now - now % 3600
    specs = [(sub, "Unit", this_hour - 3 * 3600, 4)]          # its deadline passed an hour ago
    if now - this_hour < 50 * 60:
        specs.append((sub, "Frequency", this_hour, 4))        # not over yet
    ids = insert_rows(stack, specs)
    got = wait_rows(stack, ids, settled)
    assert got[ids[0]][:2] == ("rejected", "late")
    if len(ids) > 1:
        assert got[ids[1]][:2] == ("pending", "hour_not_over")
        stack.sql(f"DELETE FROM ledger WHERE id = {ids[1]}")
    time.sleep(INTERVAL)
    assert [p for p in sim.pushes() if inst["instance_id"] in instances_of(p)] == []
    assert sim.accepted(inst["instance_id"]) == []


def test_refusals_are_final_with_the_marketplace_code(stack, sim, bound):
    """A released instance: Invalid.Parameter.Instance. Alone it is rejected at
    once; with another instance the request was refused whole, so each is sent
    alone and only the released one is rejected. Permission.Denied (our own
    account's access) is held pending, never final, and sent once access is back."""
    released, released_sub = bound()
    active, active_sub = bound()
    answer = sim.spi("releaseInstance", released)
    assert answer["status"] == 200, answer
    hour = sendable_hour()
    [alone] = insert_rows(stack, [(released_sub, "Unit", hour, 1)])
    got = wait_rows(stack, [alone], settled)[alone]
    assert got[:2] == ("rejected", "Invalid.Parameter.Instance")

    time.sleep(INTERVAL + 0.5)        # both instances may be pushed to: one lease takes both rows
    pair = insert_rows(stack, [(released_sub, "Frequency", hour, 2), (active_sub, "Unit", hour, 3)])
    got = wait_rows(stack, pair, lambda r: r[0] in ("accepted", "rejected"), hurried=True)
    assert got[pair[0]][:2] == ("rejected", "Invalid.Parameter.Instance")
    assert got[pair[1]][0] == "accepted"
    assert [(a[0], a[2]["Value"]) for a in sim.accepted(active["instance_id"])] == [(hour, "3")]
    assert sim.accepted(released["instance_id"]) == []
    assert stack.sql(f"SELECT COUNT(*) FROM ledger WHERE solo = 1 AND id IN ({pair[0]}, {pair[1]})") == [["2"]]
    # refused together, then each alone
    pushes = [(sorted(instances_of(p)), p["status"], p.get("error")) for p in sim.pushes()]
    both = sorted([released["instance_id"], active["instance_id"]])
    assert pushes[1] == (both, 400, "Invalid.Parameter.Instance"), pushes
    assert sorted(pushes[2:]) == sorted([([released["instance_id"]], 400, "Invalid.Parameter.Instance"),
                                         ([active["instance_id"]], 200, None)]), pushes

    time.sleep(INTERVAL)
    sim.fault("disabled")
    [denied] = insert_rows(stack, [(active_sub, "Frequency", hour, 4)])
    got = wait_rows(stack, [denied], settled)[denied]
    assert got[:2] == ("pending", "Permission.Denied")      # our account's access: held, never final
    assert len(sim.accepted(active["instance_id"])) == 1
    time.sleep(INTERVAL)                                      # the fault answered once; access is back
    got = wait_rows(stack, [denied], lambda r: r[0] == "accepted", hurried=True)[denied]
    assert [(a[0], a[2]["Key"], a[2]["Value"]) for a in sim.accepted(active["instance_id"])][-1] == \
        (hour, "Frequency", "4")


def test_a_malformed_answer_ends_unknown(stack, sim, bound):
    inst, sub = bound()
    sim.fault("malformed")
    [row] = insert_rows(stack, [(sub, "Unit", sendable_hour(), 6)])
    got = wait_rows(stack, [row], settled)[row]
    assert got[:2] == ("unknown", "malformed_answer")
    time.sleep(2 * INTERVAL)
    assert len([p for p in sim.pushes() if inst["instance_id"] in instances_of(p)]) == 1


def test_rows_left_sent_by_a_dead_meterd_end_unknown_and_are_never_resent(stack, sim, bound, meterd):
    """kill -9 while a push is in flight (the sim holds it, then bills it), and
    rows some earlier meterd left "sent": once their lease is over they become
    unknown; none is sent (again)."""
    inst, sub = bound()
    hour = sendable_hour()
    # A row a dead meterd left behind, its lease over.
    [left] = insert_rows(stack, [(sub, "Frequency", hour, 2)], state="sent",
                         extra=", 1, UTC_TIMESTAMP(6) - INTERVAL 400 SECOND, "
                               "UTC_TIMESTAMP(6) - INTERVAL 100 SECOND")
    got = wait_rows(stack, [left], lambda r: r[0] != "sent")[left]
    assert got[:2] == ("unknown", "lease expired while sending")

    # kill -9 in the middle of a push.
    time.sleep(INTERVAL)
    sim.settings(fault_timeout_seconds=4)
    sim.fault("timeout")
    [row] = insert_rows(stack, [(sub, "Unit", hour, 8)])
    wait_until(lambda: ledger(stack, [row])[row][0] == "sent", 10, "the push to start")
    os.kill(read_pid(meterd), signal.SIGKILL)
    wait_until(lambda: not pid_alive(read_pid(meterd)), 5, "meterd to die")
    wait_until(lambda: sim.accepted(inst["instance_id"]), 15, "the sim to bill the push")
    assert ledger(stack, [row])[row][0] == "sent"
    start_meterd(stack)
    # as if metering.lease_seconds had passed
    stack.sql("UPDATE ledger SET lease_until = LEAST(lease_until, UTC_TIMESTAMP(6) - INTERVAL 1 SECOND) "
              f"WHERE id = {row} AND state = 'sent'")
    got = wait_rows(stack, [row], lambda r: r[0] != "sent")[row]
    assert got[:2] == ("unknown", "lease expired while sending")
    time.sleep(2 * INTERVAL)
    assert [(a[2]["Key"], a[2]["Value"]) for a in sim.accepted(inst["instance_id"])] == [("Unit", "8")]
    assert len([p for p in sim.pushes() if inst["instance_id"] in instances_of(p)]) == 1
    sim.settings(fault_timeout_seconds=30)
