# SPDX-License-Identifier: MIT
"""The billing overview's figures through the real stack: the amount due is
what a marketplace bills, usage billed nowhere (a grace window) is shown
apart, open usage and free credit grants, and monthly bills that run from
the 1st to the 1st in the billing time zone (an hour at 16:00Z on a month's
last day is the 1st in Asia/Shanghai). mpbind-meterd is stopped while a
test arranges its hours, and one pass of it (--once) closes them."""

import datetime
import os
import subprocess
import time
import zoneinfo

import pytest

from stack import ROOT, binary
from test_metering import HOUR, Meter, hour_now, record, usage

PICO_PER_MICRO = 10**6


@pytest.fixture(autouse=True)
def clear_of_the_hour_end():
    """A test closes the hours before this one: it starts with time to spare in the hour."""
    left = HOUR - time.time() % HOUR
    if left < 240:
        time.sleep(left + 5)


@pytest.fixture
def quiet_meterd(stack):
    """No mpbind-meterd runs during the test; meterd_once(**env) runs one pass of it, with
    configuration overrides in the environment. The stack's meterd comes back afterwards."""
    stack.meterd_stop()

    def meterd_once(**env):
        r = subprocess.run([binary("mpbind-meterd"), "-c", stack.config_path, "--once"], cwd=ROOT,
                           env=dict(os.environ, **env), capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]

    yield meterd_once
    stack.meterd_start()


def billing_zone(stack):
    """The configured billing time zone, as mpbindctl reads the stack's configuration."""
    out = subprocess.run([binary("mpbindctl"), "-c", stack.config_path, "config"],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        name, _, value = line.partition(" = ")
        if name == "billing.timezone":
            return zoneinfo.ZoneInfo(value.strip())
    raise AssertionError("no billing.timezone in mpbindctl config")


def period(zone, t):
    """The bill holding UTC time t: (first instant, first instant of the next) as UNIX times."""
    start = datetime.datetime.fromtimestamp(t, zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + datetime.timedelta(days=32)).replace(day=1)
    return int(start.timestamp()), int(following.timestamp())


def day(zone, t):
    return datetime.datetime.fromtimestamp(t, zone).strftime("%Y-%m-%d")


def price(stack, dimension="compute"):
    return int(stack.sql(f"SELECT price_micros FROM prices WHERE dimension = '{dimension}'")[0][0])


def pico(stack, quantity, dimension="compute"):
    """The exact cost of a quantity ("3.333333"), in pico: quantity micros times price micros."""
    whole, _, frac = quantity.partition(".")
    return (int(whole) * 10**6 + int(frac.ljust(6, "0"))) * price(stack, dimension)


def move_hours(stack, org_id, moves):
    """Moves closed hours of org_id, with their usage, to other UTC hours ({from: to}): the app
    computed them, the test only places them in another month. Parked a century ahead first, so
    one move cannot land on a row another has still to make."""
    where = " OR ".join(f"hour = FROM_UNIXTIME({src})" for src in moves)
    statements = ["SET time_zone = '+00:00';",
                  f"UPDATE org_hours SET hour = hour + INTERVAL 100 YEAR WHERE org_id = '{org_id}' AND ({where});",
                  f"UPDATE usage_records SET hour = hour + INTERVAL 100 YEAR WHERE org_id = '{org_id}' AND ({where});"]
    for src, dst in moves.items():
        parked = f"FROM_UNIXTIME({src}) + INTERVAL 100 YEAR"
        statements.append(f"UPDATE org_hours SET hour = FROM_UNIXTIME({dst}) WHERE org_id = '{org_id}' "
                          f"AND hour = {parked};")
        statements.append(f"UPDATE usage_records SET hour = FROM_UNIXTIME({dst}), "
                          f"start_at = start_at + INTERVAL {dst - src} SECOND, "
                          f"end_at = end_at + INTERVAL {dst - src} SECOND "
                          f"WHERE org_id = '{org_id}' AND hour = {parked};")
    stack.sql("\n".join(statements))


def closed_hours(stack, org_id):
    return [int(r[0]) for r in stack.sql(f"SET time_zone = '+00:00'; SELECT UNIX_TIMESTAMP(hour) FROM org_hours "
                                         f"WHERE org_id = '{org_id}' ORDER BY hour")]


def grant(stack, org_id, amount, days):
    r = subprocess.run([binary("mpbindctl"), "-c", stack.config_path, "credits", org_id, amount, str(days)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def billed_then_grace(stack, user, meterd_once):
    """An org bound to AWS since h-3 and unbound at h-1 (a grace window since): hour h-2 used
    2 vCPU-hours, billed through AWS; hour h-1 used 3.333333, billed nowhere. Returns the
    Meter and h once one pass of mpbind-meterd closed the hours."""
    m = Meter(stack, user, hours_back=3)
    org_id = m.org["id"]
    h = hour_now()
    assert user.post(f"/api/orgs/{org_id}/billing/unbind", {}).status_code == 200
    stack.sql(f"SET time_zone = '+00:00'; UPDATE bindings SET ended_at = FROM_UNIXTIME({h - HOUR}) "
              f"WHERE org_id = '{org_id}'")
    body = usage(stack, [record(org_id, h - 2 * HOUR + 60, quantity="2"),
                         record(org_id, h - HOUR + 60, quantity="3.333333")]).json()
    assert body["accepted"] == 2, body
    meterd_once()
    assert closed_hours(stack, org_id) == [h - 3 * HOUR, h - 2 * HOUR, h - HOUR]
    return m, h


def test_amount_due_is_what_a_marketplace_bills_and_a_grace_window_is_unbilled(stack, user, quiet_meterd):
    zone = billing_zone(stack)
    m, h = billed_then_grace(stack, user, quiet_meterd)
    org_id = m.org["id"]
    assert [int(r[0]) for r in m.ledger()] == [h - 3 * HOUR, h - 2 * HOUR]     # nothing sent for h-1

    billed, unbilled = pico(stack, "2"), pico(stack, "3.333333")
    assert unbilled % PICO_PER_MICRO != 0                                     # a fraction of a micro
    now_start, _ = period(zone, h)
    bill = user.get(f"/api/orgs/{org_id}/billing").json()["current_bill"]
    expect_due = billed if h - 2 * HOUR >= now_start else 0
    expect_unbilled = unbilled if h - HOUR >= now_start else 0
    assert bill["amount_due_micros"] == expect_due // PICO_PER_MICRO         # rounded down
    assert bill["unbilled_micros"] == expect_unbilled // PICO_PER_MICRO
    assert bill["credit_used_micros"] == 0 and bill["open_usage_micros"] == 0


def test_open_usage_and_free_credit_grants(stack, user, quiet_meterd):
    m = Meter(stack, user, hours_back=1)
    org_id = m.org["id"]
    grant(stack, org_id, "1.00", 30)
    grant(stack, org_id, "2.50", 90)
    grant(stack, org_id, "7", 10)
    stack.sql(f"UPDATE credit_grants SET expires_at = NOW(6) - INTERVAL 3 DAY "
              f"WHERE org_id = '{org_id}' AND amount_micros = 7000000")       # expired: neither spent nor shown
    h = hour_now()
    body = usage(stack, [record(org_id, h - HOUR + 5, quantity="5"),          # closed: 0.60 from the credit
                         record(org_id, h, seconds=1, quantity="1.5")]).json()  # this hour: open
    assert body["accepted"] == 2, body
    quiet_meterd()
    o = user.get(f"/api/orgs/{org_id}/billing").json()
    spent = pico(stack, "5") // PICO_PER_MICRO
    bill = o["current_bill"]
    if h - HOUR >= period(billing_zone(stack), h)[0]:
        assert bill["credit_used_micros"] == spent and bill["amount_due_micros"] == 0
    assert bill["open_usage_micros"] == pico(stack, "1.5") // PICO_PER_MICRO
    rows = stack.sql(f"SELECT amount_micros, DATE_FORMAT(expires_at, '%Y-%m-%dT%H:%i:%sZ'), "
                     f"DATE_FORMAT(granted_at, '%Y-%m-%dT%H:%i:%sZ') FROM credit_grants "
                     f"WHERE org_id = '{org_id}' AND amount_micros < 7000000 ORDER BY expires_at")
    first, second = [(int(a), e, g) for a, e, g in rows]
    c = o["free_credits"]
    assert c["currency"] == "CNY"
    assert c["granted_micros"] == first[0] + second[0]
    assert c["remaining_micros"] == first[0] + second[0] - spent
    assert c["expires_at"] == first[1]                                        # soonest expiry with credit left
    assert c["grants"] == [
        {"granted_micros": first[0], "remaining_micros": first[0] - spent, "granted_at": first[2],
         "expires_at": first[1]},
        {"granted_micros": second[0], "remaining_micros": second[0], "granted_at": second[2],
         "expires_at": second[1]},
    ]
    # once the first grant is spent, the soonest expiry is the second's
    stack.sql(f"SET time_zone = '+00:00'; INSERT INTO credit_spends (grant_id, hour, org_id, amount_micros) "
              f"SELECT id, FROM_UNIXTIME({h - 30 * HOUR}), org_id, amount_micros - {spent} FROM credit_grants "
              f"WHERE org_id = '{org_id}' AND amount_micros = {first[0]}")
    c = user.get(f"/api/orgs/{org_id}/billing").json()["free_credits"]
    assert c["remaining_micros"] == second[0] and c["expires_at"] == second[1]
    assert c["grants"][0]["remaining_micros"] == 0


def test_an_hour_belongs_to_the_bill_of_its_month_in_the_billing_time_zone(stack, user, quiet_meterd):
    zone = billing_zone(stack)
    m = Meter(stack, user, hours_back=2)
    org_id = m.org["id"]
    h = hour_now()
    body = usage(stack, [record(org_id, h - 2 * HOUR + 60, quantity="1"),
                         record(org_id, h - HOUR + 60, quantity="2")]).json()
    assert body["accepted"] == 2, body
    quiet_meterd()
    assert closed_hours(stack, org_id) == [h - 2 * HOUR, h - HOUR]
    # The binding now starts at h: the moved hours are not bound again, nothing re-closes them.
    stack.sql(f"SET time_zone = '+00:00'; UPDATE bindings SET starts_at = FROM_UNIXTIME({h}) "
              f"WHERE org_id = '{org_id}'")
    start, following = period(zone, h)
    before, _ = period(zone, start - 1)
    if zone.key == "Asia/Shanghai":
        # the month's first hour in Shanghai is 16:00Z on the last day of the month before
        first = datetime.datetime.fromtimestamp(start, datetime.timezone.utc)
        assert first.hour == 16 and (first + datetime.timedelta(days=1)).day == 1
    # The last hour of last month (15:00Z) and the first of this one (16:00Z in Shanghai).
    move_hours(stack, org_id, {h - 2 * HOUR: start - HOUR, h - HOUR: start})
    stack.sql(f"SET time_zone = '+00:00'; UPDATE orgs SET created_at = FROM_UNIXTIME({start - 10 * 86400}) "
              f"WHERE id = '{org_id}'")
    assert closed_hours(stack, org_id) == [start - HOUR, start]

    bill = user.get(f"/api/orgs/{org_id}/billing").json()["current_bill"]
    assert (bill["period_start"], bill["period_end"], bill["next_bill_date"]) == \
        (day(zone, start), day(zone, following), day(zone, following))
    assert bill["amount_due_micros"] == pico(stack, "2") // PICO_PER_MICRO
    bills = user.get(f"/api/orgs/{org_id}/billing/history").json()["bills"]
    assert [(b["period_start"], b["period_end"], b["amount_due_micros"], b["unbilled_micros"]) for b in bills] == \
        [(day(zone, before), day(zone, start), pico(stack, "1") // PICO_PER_MICRO, 0)]
