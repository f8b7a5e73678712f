# SPDX-License-Identifier: MIT
"""How mpbind-meterd sends the ledger and what it does with each answer,
through the real stack and the simulator: a batch AWS refuses whole for one
record is split so only that record ends rejected; refusals of our own
credentials never end a row; a lease bounds the calls made under it; a
meterd killed between sending and recording; PushMeteringData's 60 s rule
counting every request; a backlog leased oldest first, reading only the rows taken; and mpbindctl reconcile over many org-hours, bound
hours never closed, broken carry chains, and amounts too large for credit.

Most tests stop the stack's mpbind-meterd and run passes themselves
(mpbind-meterd --once), so each step is known to have happened."""

import os
import signal
import subprocess
import time

import pytest
import requests

from stack import binary, pid_alive, read_pid, wait_until
from test_aliyun_metering import insert_rows, ledger, sendable_hour, subscription_id
from test_metering import HOUR, Meter, clear_of_the_hour_end, hour_now, iso, record, sim, usage, wait_for

# The fixtures this module uses from test_metering (pytest finds them by name here).
FIXTURES = (clear_of_the_hour_end, sim)

P = "aws-cn"


# ----- helpers ---------------------------------------------------------------------

@pytest.fixture
def quiet(stack):
    """The stack's meterd stopped: the test runs passes itself; given back afterwards."""
    stack.meterd_stop()
    yield
    stack.meterd_start()


def once(stack, **env):
    """One mpbind-meterd pass (--once), with configuration overrides as MPBIND_* variables."""
    r = subprocess.run([binary("mpbind-meterd"), "-c", stack.config_path, "--once"], capture_output=True,
                       text=True, timeout=90, env=dict(os.environ, **env))
    assert r.returncode == 0, r.stderr[-2000:]


def settings(stack, **values):
    requests.post(stack.sim_url + "/_sim/settings", json=values).raise_for_status()


def fault(stack, operation, kind, count=1):
    requests.post(stack.sim_url + "/_sim/faults", json={"operation": operation, "fault": kind, "count": count,
                                                         "partition": P}).raise_for_status()


def received(stack, license_arn=None):
    """What the simulator received in BatchMeterUsage calls: (records, sends per key)."""
    query = {"license_arn": license_arn} if license_arn else {}
    body = requests.get(f"{stack.sim_url}/_sim/aws/{P}/metering/received", params=query).json()
    return body["received"], body["sends"]


def end_license(stack, meter, ends_at):
    r = requests.post(f"{stack.sim_url}/_sim/aws/{P}/metering/license",
                      json={"license_arn": meter.license, "ends_at": ends_at})
    assert r.status_code == 200, r.text


def ctl(stack, *args):
    return subprocess.run([binary("mpbindctl"), "-c", stack.config_path, *args], capture_output=True, text=True)


def reconcile(stack, start, *orgs):
    return ctl(stack, "reconcile", "--from", iso(start), "--to", iso(hour_now()),
               *[a for org in orgs for a in ("--org", org)])


def rows_of(meters):
    return {(m.sub_id, int(r[0])): (r[2], r[3]) for m in meters for r in m.ledger()}


def log_text(stack):
    with open(stack.path("log", "mpbind.log"), encoding="utf-8", errors="replace") as f:
        return f.read()


# ----- one record's refusal --------------------------------------------------------

def test_a_record_refused_whole_is_rejected_alone_and_the_rest_of_its_batch_is_metered(stack, sim, user, quiet):
    """25 hours in one lease, the last after its license ended: AWS refuses the
    whole call with InvalidLicenseException; the batch is halved until that
    record is alone, so 24 are metered and only it is rejected."""
    good = [Meter(stack, user, hours_back=4) for _ in range(6)]
    ended = Meter(stack, user, hours_back=1)
    end_license(stack, ended, hour_now() - HOUR)          # the license ended as its last hour began
    once(stack)
    states = rows_of(good + [ended])
    assert len(states) == 25
    assert states.pop((ended.sub_id, hour_now() - HOUR)) == ("rejected", "InvalidLicenseException")
    assert set(states.values()) == {("accepted", "Success")}
    for m in good:
        accepted = m.accepted_at_sim()
        assert len(accepted) == 4 and all(a["sends"] == 1 for a in accepted)
    assert ended.accepted_at_sim() == []
    # The call of all 25 was refused, then halves, down to the record alone (bisection: 11 calls).
    raw, _ = received(stack)
    licenses = {m.license for m in good + [ended]}
    calls = {}
    for r in raw:
        if r["record"].get("LicenseArn") in licenses:
            calls.setdefault(r["call"], []).append(r)
    first, last = calls[min(calls)], calls[max(calls)]
    assert len(first) == 25 and {r["status"] for r in first} == {"InvalidLicenseException"}
    assert [(r["record"]["LicenseArn"], r["status"]) for r in last] == [(ended.license, "InvalidLicenseException")]
    assert len(calls) <= 11, sorted((c, len(v)) for c, v in calls.items())


@pytest.mark.parametrize("refusal", ["UnrecognizedClientException", "InvalidSignatureException"])
def test_a_refusal_of_our_credentials_keeps_rows_pending_until_it_is_fixed(stack, sim, user, quiet, refusal):
    settings(stack, **{"aws.metering_refusal": refusal})
    try:
        m = Meter(stack, user, hours_back=2)
        once(stack)
        assert [(r[2], r[3]) for r in m.ledger()] == [("pending", refusal)] * 2
        # held ten times the usual backoff (metering.retry_seconds is 1 here)
        waits = stack.sql(f"SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(6), next_attempt_at) FROM ledger "
                          f"WHERE subscription_id = {m.sub_id}")
        assert all(int(w[0]) >= 5 for w in waits), waits
        sent, _ = received(stack, m.license)
        assert len(sent) == 2 and {r["status"] for r in sent} == {refusal}
        once(stack)                                        # not due yet: nothing is sent
        assert len(received(stack, m.license)[0]) == 2
        assert "refused our credentials or configuration: " + refusal in log_text(stack)
    finally:
        settings(stack, **{"aws.metering_refusal": "none"})
    stack.meterd_start()
    assert wait_for(lambda: {r[2] for r in m.ledger()} == {"accepted"}, timeout=40), m.ledger()
    accepted = m.accepted_at_sim()
    assert len(accepted) == 2 and all(a["sends"] == 1 for a in accepted)


# ----- leases ------------------------------------------------------------------------

def test_a_lease_bounds_the_calls_made_under_it(stack, sim, user, quiet):
    """Every call takes a second (the simulator sleeps before answering) and 20
    of 25 hours are out of AWS's window, so they must each be sent alone: far
    more calls than one 3 s lease holds. A second meterd, started once the
    first is sending, finds the rows leased; whenever it takes some, no record
    is ever in flight in two calls at once, and each hour ends metered once."""
    sim.allowed.add("metering.timestamp_out_of_bounds")   # provoked: hours older than the window
    settings(stack, **{"aws.metering_window_seconds": 2 * HOUR - 60, "fault_timeout_seconds": 1})
    fault(stack, "BatchMeterUsage", "timeout", count=200)
    try:
        meters = [Meter(stack, user, hours_back=5) for _ in range(5)]
        licenses = {m.license for m in meters}
        stack.meterd_start()
        wait_until(lambda: len({r["call"] for r in received(stack)[0] if r["record"].get("LicenseArn") in licenses})
                   >= 2, 30, "the first meterd to be sending")
        stack.meterd_start("meterd-lease2")
        assert wait_for(lambda: all(m.settled(5) for m in meters), timeout=150), rows_of(meters)
    finally:
        stack.meterd_stop("meterd-lease2")
        requests.post(stack.sim_url + "/_sim/faults/clear")
        settings(stack, **{"aws.metering_window_seconds": 21600, "fault_timeout_seconds": 30})
    states = rows_of(meters)
    assert {s for (_, h), s in states.items() if h < hour_now() - HOUR} == \
        {("rejected", "TimestampOutOfBoundsException")}
    assert {s for (_, h), s in states.items() if h == hour_now() - HOUR} == {("accepted", "Success")}
    for m in meters:
        assert [a["timestamp"] for a in m.accepted_at_sim()] == [hour_now() - HOUR]
        raw, _ = received(stack, m.license)
        by_key = {}
        for r in raw:
            assert r["answered_ts"] is not None
            by_key.setdefault(r["key"], []).append((r["received_ts"], r["answered_ts"]))
        for key, spans in by_key.items():
            spans.sort()
            overlaps = [(a, b) for a, b in zip(spans, spans[1:]) if b[0] < a[1]]
            assert overlaps == [], (key, spans)


# ----- a backlog is leased in order, reading only what it takes -----------------------

def rows_read(stack):
    return int(stack.sql("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                         "WHERE VARIABLE_NAME = 'ROWS_READ'")[0][0])


def test_a_backlog_is_leased_oldest_first_reading_only_the_rows_taken(stack, sim, quiet):
    """600 subscriptions AWS does not know, one pending hour each (two hours
    for ten of them), drained by one pass. Oldest hours go first; and each
    lease of 25 reads about 25 rows from the ledger's index instead of
    sorting (and locking, FOR UPDATE) the whole backlog each time. Measured:
    about 4 reads per row sent; the sorting plan read 17 per row here, and
    more the longer the backlog (it is quadratic), locking all of it.

    The hours are older than other tests' rows (which an index scan in hour
    order would otherwise meet first), yet inside AWS's six hours; what a
    pass reads besides its leases (closing hours over everything the session
    stored) is measured by an empty pass and taken off."""
    n, hour = 600, hour_now() - 3 * HOUR
    tag = f"bk{int(time.time() * 1000) % 10**9}"
    once(stack)                                     # whatever else was due is done first
    before = rows_read(stack)
    once(stack)
    idle = rows_read(stack) - before                # a pass with nothing to send
    values = ", ".join(f"('aws-cn', '{tag}{i:040d}', 'CUST{tag}{i}', 'prodcn0mpbind', 'active', "
                       f"UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))" for i in range(n))
    stack.sql("INSERT INTO subscriptions (marketplace, external_key, customer_identifier, product_code, "
              f"status, created_at, updated_at) VALUES {values}")
    try:
        subs = [int(r[0]) for r in stack.sql(f"SELECT id FROM subscriptions WHERE external_key LIKE '{tag}%' "
                                             "ORDER BY id")]
        specs = [(sub, hour) for sub in subs] + [(sub, hour - HOUR) for sub in subs[-10:]]
        stack.sql("INSERT INTO ledger (subscription_id, marketplace, dimension, hour, quantity, carry_in_pico, "
                  "carry_out_pico, state, next_attempt_at, built_at) VALUES " +
                  ", ".join(f"({sub}, 'aws-cn', 'usage', FROM_UNIXTIME({h}), 1, 0, 0, 'pending', "
                            "UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))" for sub, h in specs))
        before = rows_read(stack)
        once(stack)
        read = rows_read(stack) - before - idle
        got = stack.sql("SELECT l.state, IFNULL(l.result_code, '-'), COUNT(*) FROM ledger l JOIN subscriptions s "
                        f"ON s.id = l.subscription_id WHERE s.external_key LIKE '{tag}%' GROUP BY 1, 2")
        assert got == [["rejected", "CustomerNotSubscribed", str(n + 10)]]
        calls = {}
        for r in received(stack)[0]:
            if r["record"].get("CustomerIdentifier", "").startswith("CUST" + tag):
                calls.setdefault(r["call"], set()).add(r["record"]["Timestamp"])
        with_older = sorted(call for call, hours in calls.items() if hour - HOUR in hours)
        assert with_older == [min(calls)], calls                # the older hour went first, together
        print(f"backlog pass: {read} rows read beyond an idle pass's {idle}")
        assert read < 6 * (n + 10), f"one pass read {read} rows (beyond an idle pass's {idle}) to send {n + 10}"
    finally:
        stack.sql(f"DELETE l FROM ledger l JOIN subscriptions s ON s.id = l.subscription_id "
                  f"WHERE s.external_key LIKE '{tag}%'")
        stack.sql(f"DELETE FROM subscriptions WHERE external_key LIKE '{tag}%'")


# ----- kill -9 between sending and recording -------------------------------------------

def test_a_meterd_killed_between_send_and_record_is_resent_and_metered_once(stack, sim, user, quiet):
    """The simulator meters the record, then holds its answer; meterd is killed
    while waiting for it, so the row stays "sent" although AWS has it. Once the
    lease is over another meterd sends the identical record again, AWS answers
    with the original result, and the hour is accepted exactly once."""
    settings(stack, fault_timeout_seconds=20)
    fault(stack, "BatchMeterUsage", "late_answer")
    pidfile = stack.path("run", "meterd-kill.pid")
    try:
        m = Meter(stack, user, hours_back=1)
        hour = hour_now() - HOUR
        env = dict(os.environ, MPBIND_METERING_LEASE_SECONDS="8", MPBIND_HTTP_TIMEOUT="10")
        stack._spawn([binary("mpbind-meterd"), "-c", stack.config_path, "-p", pidfile], "meterd-kill.out", env=env)
        wait_until(lambda: received(stack, m.license)[0], 15, "the record to reach the simulator")
        pid = read_pid(pidfile)
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), 5, "meterd to die")
        os.unlink(pidfile)
        # Sent and metered, not recorded.
        [first] = received(stack, m.license)[0]
        assert first["late_answer"] and first["status"] == "Success" and first["send"] == 1
        [kept] = m.accepted_at_sim()
        assert [(int(r[0]), r[2]) for r in m.ledger()] == [(hour, "sent")]
        stack.meterd_start()
        assert wait_for(lambda: [r[2] for r in m.ledger()] == ["accepted"], timeout=40), m.ledger()
    finally:
        settings(stack, fault_timeout_seconds=30)
    raw, sends = received(stack, m.license)
    assert [(r["send"], r["status"], r["late_answer"]) for r in raw] == [(1, "Success", True),
                                                                          (2, "Success", False)]
    assert sends == {first["key"]: 2}
    [again] = m.accepted_at_sim()
    assert again["metering_record_id"] == kept["metering_record_id"] and again["sends"] == 2
    assert stack.sql(f"SELECT record_id, attempts FROM ledger WHERE subscription_id = {m.sub_id}") == \
        [[kept["metering_record_id"], "2"]]
    r = reconcile(stack, hour - HOUR, m.org["id"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "checked 1 org-hours: 0 unbilled, 0 differences" in r.stdout


# ----- Alibaba ---------------------------------------------------------------------------

def aliyun_instance(stack):
    inst = requests.post(stack.sim_url + "/_sim/aliyun/instances", json={}).json()["instance"]
    return inst, subscription_id(stack, inst)


def aliyun_pushes(stack, instance_id, since):
    entries = requests.get(f"{stack.sim_url}/_sim/log?since={since}&channel=aliyun.market").json()["entries"]
    return [e for e in entries if e.get("direction") == "in" and instance_id in str(e["request"]["path"])]


def last_seq(stack):
    return requests.get(stack.sim_url + "/_sim/log?since=999999999").json()["last_seq"]


@pytest.mark.parametrize("refusal,code", [("InvalidAccessKeyId.NotFound", "InvalidAccessKeyId.NotFound"),
                                          ("gateway_403", "http_403")])
def test_alibaba_refusals_of_our_credentials_keep_rows_pending(stack, sim, quiet, refusal, code):
    inst, sub = aliyun_instance(stack)
    settings(stack, **{"aliyun.metering_refusal": refusal})
    try:
        [row] = insert_rows(stack, [(sub, "Unit", sendable_hour(), 5)])
        once(stack, MPBIND_ALIYUN_METERING_INTERVAL="1")
        assert ledger(stack, [row])[row][:2] == ("pending", code)
        wait = stack.sql(f"SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(6), next_attempt_at) FROM ledger "
                         f"WHERE id = {row}")
        assert int(wait[0][0]) >= 5, wait
        assert "refused our credentials or configuration: " + code in log_text(stack)
    finally:
        settings(stack, **{"aliyun.metering_refusal": "none"})

    def pushed():
        once(stack, MPBIND_ALIYUN_METERING_INTERVAL="1")
        return ledger(stack, [row])[row][0] == "accepted"
    assert wait_for(pushed, timeout=40), ledger(stack, [row])
    accepted = [a for a in requests.get(stack.sim_url + "/_sim/aliyun/metering").json()["accepted"]
                if a["instance_id"] == inst["instance_id"]]
    assert len(accepted) == 1 and accepted[0]["entities"][0]["Value"] == "5"


def test_alibaba_counts_every_request_for_the_one_push_per_interval_rule(stack, sim, quiet):
    """A request 云市场 refuses (an unknown entity Key) still counts for its
    instance: a meterd configured to push again a second later is refused
    with Service.Flow.Control."""
    sim.allowed.update({"aliyun.metering.entities", "aliyun.metering.flow_control"})  # both provoked
    settings(stack, **{"aliyun.metering_min_interval_seconds": 8})
    try:
        inst, sub = aliyun_instance(stack)
        hour = sendable_hour()
        since = last_seq(stack)
        [bad] = insert_rows(stack, [(sub, "Bogus", hour, 1)])
        once(stack, MPBIND_ALIYUN_METERING_INTERVAL="1")
        assert ledger(stack, [bad])[bad][:2] == ("rejected", "Invalid.Parameter.Metering")
        time.sleep(1.5)
        [good] = insert_rows(stack, [(sub, "Unit", hour, 2)])
        once(stack, MPBIND_ALIYUN_METERING_INTERVAL="1")
        assert ledger(stack, [good])[good][:2] == ("pending", "Service.Flow.Control")
        pushes = aliyun_pushes(stack, inst["instance_id"], since)
        assert [(p["status"], p.get("error")) for p in pushes] == [(400, "Invalid.Parameter.Metering"),
                                                                   (400, "Service.Flow.Control")]
        time.sleep(8.5)
        once(stack, MPBIND_ALIYUN_METERING_INTERVAL="1")
        assert ledger(stack, [good])[good][:2] == ("accepted", "Success")
    finally:
        settings(stack, **{"aliyun.metering_min_interval_seconds": 60})


# ----- mpbindctl -------------------------------------------------------------------------

SYNTHETIC = "org-aaaaaaaaaaaaaaaaaa"   # + 4 letters: org ids that sort before any real one


def test_reconcile_pages_through_every_org_hour_and_filters_by_org_in_sql(stack, sim, user):
    m = Meter(stack, user, hours_back=2)
    assert wait_for(lambda: m.settled(2))
    stack.sql(f"UPDATE ledger SET state = 'rejected', result_code = 'CustomerNotSubscribed' "
              f"WHERE subscription_id = {m.sub_id} AND hour = FROM_UNIXTIME({hour_now() - HOUR})")
    digits = "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL " \
             "SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
    letter = "CHAR(97 + ({}) % 26 USING ascii)"
    stack.sql(f"INSERT INTO org_hours (org_id, hour, cost_pico, credit_micros, billable_pico, subscription_id, "
              f"built_at) SELECT CONCAT('{SYNTHETIC}', {letter.format('n DIV 17576')}, {letter.format('n DIV 676')}, "
              f"{letter.format('n DIV 26')}, {letter.format('n')}), FROM_UNIXTIME({hour_now() - 2 * HOUR}), 0, 0, 0, "
              f"NULL, UTC_TIMESTAMP(6) FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n "
              f"FROM {digits} a, {digits} b, {digits} c, {digits} e, (SELECT 0 d UNION ALL SELECT 1) f) x "
              f"WHERE n < 11000")
    try:
        assert stack.sql(f"SELECT COUNT(*) FROM org_hours WHERE org_id LIKE '{SYNTHETIC}%'") == [["11000"]]
        one = reconcile(stack, hour_now() - 3 * HOUR, m.org["id"])
        assert one.returncode == 1, one.stdout + one.stderr
        assert "checked 2 org-hours: 0 unbilled, 1 differences" in one.stdout
        assert f"{m.org['id']} {iso(hour_now() - HOUR)[:13]}:00Z" in one.stdout
        every = reconcile(stack, hour_now() - 3 * HOUR)
        assert every.returncode == 1
        checked = int(every.stdout.rsplit("checked ", 1)[1].split(" ")[0])
        assert checked >= 11002, every.stdout[-500:]
        assert f"{m.org['id']} {iso(hour_now() - HOUR)[:13]}:00Z" in every.stdout
        assert SYNTHETIC not in every.stdout              # idle unbound hours are no difference
    finally:
        stack.sql(f"DELETE FROM org_hours WHERE org_id LIKE '{SYNTHETIC}%'")


def test_reconcile_finds_bound_hours_that_were_never_closed(stack, sim, user):
    """Bound 50 hours ago: the two oldest hours are older than metering.lookback_hours
    (48), so no pass closes them: no ledger row, not even a zero record."""
    settings(stack, **{"aws.metering_window_seconds": 52 * HOUR})
    try:
        m = Meter(stack, user, hours_back=50)
        assert wait_for(lambda: m.settled(48), timeout=60)
    finally:
        settings(stack, **{"aws.metering_window_seconds": 21600})
    assert {r[2] for r in m.ledger()} == {"accepted"} and len(m.ledger()) == 48
    r = reconcile(stack, hour_now() - 51 * HOUR, m.org["id"])
    assert r.returncode == 1, r.stdout + r.stderr
    assert "checked 48 org-hours: 0 unbilled, 2 differences" in r.stdout
    for back in (50, 49):
        assert f"{m.org['id']} {iso(hour_now() - back * HOUR)[:13]}:00Z  DIFFERENCE: a bound hour never closed" \
            in r.stdout


def test_reconcile_finds_a_broken_carry_chain(stack, sim, user):
    m = Meter(stack, user, hours_back=3)
    h = hour_now() - 2 * HOUR
    usage(stack, [record(m.org["id"], h, quantity="1.041667"), record(m.org["id"], h + HOUR, quantity="1.041667")])
    assert wait_for(lambda: m.settled(3))
    clean = reconcile(stack, h - 2 * HOUR, m.org["id"])
    assert clean.returncode == 0 and "checked 3 org-hours: 0 unbilled, 0 differences" in clean.stdout, clean.stdout
    # The hour still adds up on its own, but no longer carries what the hour before it left.
    stack.sql(f"UPDATE ledger SET carry_in_pico = carry_in_pico + 7, carry_out_pico = carry_out_pico + 7 "
              f"WHERE subscription_id = {m.sub_id} AND hour = FROM_UNIXTIME({h})")
    r = reconcile(stack, h - 2 * HOUR, m.org["id"])
    assert r.returncode == 1
    assert "checked 3 org-hours: 0 unbilled, 2 differences" in r.stdout, r.stdout
    broken = [line for line in r.stdout.splitlines() if "carry_in is not what" in line]
    assert [line.split()[1] for line in broken] == [iso(h)[:13] + ":00Z", iso(h + HOUR)[:13] + ":00Z"]


@pytest.mark.parametrize("amount", ["9999999999999", "9223372036855", "1000000000000", "1000000000000.5"])
def test_credits_refuse_an_amount_too_large_to_count_in_micros(stack, user, amount):
    org = user.create_org("Credit")
    r = ctl(stack, "credits", org["id"], amount, "30")
    assert r.returncode == 2
    assert f'"{amount}" is not an amount from 0.000001 to 999999999999.999999' in r.stderr
    assert "runtime error" not in r.stderr                # no signed overflow (UBSan in the sanitizer build)
    assert stack.sql(f"SELECT COUNT(*) FROM credit_grants WHERE org_id = '{org['id']}'") == [["0"]]


def test_credits_take_the_largest_amount(stack, user):
    org = user.create_org("Credit")
    r = ctl(stack, "credits", org["id"], "999999999999.999999", "30")
    assert r.returncode == 0, r.stderr
    assert "runtime error" not in r.stderr
    assert stack.sql(f"SELECT amount_micros FROM credit_grants WHERE org_id = '{org['id']}'") == \
        [["999999999999999999"]]
