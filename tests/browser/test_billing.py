# SPDX-License-Identifier: MIT
"""账单概览 and 历史账单 in a real Chromium, showing figures the app computed:
usage posted to /internal/usage with the internal token, hours closed by
mpbind-meterd, free credit granted with `mpbindctl credits`, a past month
made by moving closed hours there (tests/integration/test_bills.py).
Amounts are chosen at the rounding edge (a bill of 0.839999 shows ¥0.83:
the page rounds down like the server, never up). Screenshots go to
var/test/screenshots/."""

import datetime
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))

from test_bills import (  # noqa: E402
    PICO_PER_MICRO, billed_then_grace, billing_zone, clear_of_the_hour_end, closed_hours, grant, move_hours,
    period, pico, quiet_meterd,
)
from test_metering import HOUR, Meter, hour_now, record, usage  # noqa: E402

# The fixtures this module uses from test_bills (pytest finds them by name here).
FIXTURES = (clear_of_the_hour_end, quiet_meterd)

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def yuan(micros):
    """What the page must show for micros: rounded down to the cent."""
    cents = micros // 10000
    return f"¥{cents // 100:,}.{cents % 100:02d}"


def zh_day(zone, t):
    d = datetime.datetime.fromtimestamp(t, zone)
    return f"{d.year}年{d.month}月{d.day}日"


def en_day(zone, t):
    d = datetime.datetime.fromtimestamp(t, zone)
    return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"


def local_minute(t):
    """A UTC instant as the page shows times: the browser's local time to the minute."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def in_bill(zone, amounts, t):
    """The sum of {hour: amount} over the hours in the bill holding t."""
    start, following = period(zone, t)
    return sum(v for hour, v in amounts.items() if start <= hour < following)


def rows_of(b, css):
    return [[td.text for td in tr.find_elements("css selector", "td")] for tr in b.all(css)]


def test_overview_and_history_show_the_amounts_the_app_computed(stack, user, quiet_meterd, browser, shot):
    zone = billing_zone(stack)
    m = Meter(stack, user, hours_back=3)
    org_id = m.org["id"]
    h = hour_now()
    start, following = period(zone, h)
    before, _ = period(zone, start - 1)

    # Last month: an hour billed through AWS, closed while the hours after it stay open
    # (settle_seconds holds h-1 back), then moved into the month before this one.
    assert usage(stack, [record(org_id, h - 3 * HOUR + 60, quantity="20.083333")]).json()["accepted"] == 1
    quiet_meterd(MPBIND_METERING_SETTLE_SECONDS="3540")
    assert closed_hours(stack, org_id) == [h - 3 * HOUR, h - 2 * HOUR]
    past = before + 5 * 86400
    move_hours(stack, org_id, {h - 3 * HOUR: past})
    stack.sql(f"SET time_zone = '+00:00'; UPDATE bindings SET starts_at = FROM_UNIXTIME({h - 2 * HOUR}) "
              f"WHERE org_id = '{org_id}'; UPDATE orgs SET created_at = FROM_UNIXTIME({before + 86400}) "
              f"WHERE id = '{org_id}'")

    # This month: 1.00 of free credit, then an hour of 1.83999996 and usage in the open hour.
    grant(stack, org_id, "1.00", 30)
    body = usage(stack, [record(org_id, h - HOUR + 60, quantity="5"),
                         record(org_id, h - HOUR + 120, quantity="10.333333"),
                         record(org_id, h, seconds=1, quantity="1")]).json()
    assert body["accepted"] == 3, body
    quiet_meterd()
    assert closed_hours(stack, org_id) == [past, h - 2 * HOUR, h - HOUR]
    grant(stack, org_id, "2.00", 90)

    cost = pico(stack, "5") + pico(stack, "10.333333")
    spent = min(cost // PICO_PER_MICRO, 1000000)
    billable = {past: pico(stack, "20.083333"), h - HOUR: cost - spent * PICO_PER_MICRO}
    credit = {h - HOUR: spent}
    due_now = in_bill(zone, billable, h) // PICO_PER_MICRO
    due_before = in_bill(zone, billable, before) // PICO_PER_MICRO
    assert due_before % 10000 >= 5000                  # rounding to the nearest cent would show more
    expiries = [int(float(r[0])) for r in stack.sql(f"SELECT UNIX_TIMESTAMP(expires_at) FROM credit_grants "
                                             f"WHERE org_id = '{org_id}' ORDER BY expires_at")]

    b = browser()
    b.adopt(user)
    b.open(f"/console/billing?org={org_id}")
    b.wait_text("#payment-tag", "已绑定")
    assert b.text_of("#current-bill .card-title") == "当月账单"
    assert [e.text for e in b.all("#current-bill .stat-label")] == ["应付总额", "账单周期", "下个账单日"]
    assert b.text_of("#amount-due") == yuan(due_now)
    assert b.text_of("#bill-period") == f"{zh_day(zone, start)} - {zh_day(zone, following)}"
    assert b.text_of("#next-bill") == zh_day(zone, following)
    assert b.text_of("#credit-used") == yuan(in_bill(zone, credit, h))
    assert b.text_of("#open-usage") == yuan(pico(stack, "1") // PICO_PER_MICRO)
    assert not b.all("#unbilled-text")

    assert b.text_of("#free-credits .card-title") == "免费额度"
    assert b.text_of("#free-credits-value") == yuan(3000000 - spent) == "¥2.00"
    assert b.text_of("#credits-granted") == "¥3.00"
    assert b.text_of("#credits-expiry") == local_minute(expiries[1])    # the first grant is spent
    assert [e.text for e in b.all("#credit-grants th")] == ["发放额度", "剩余额度", "有效期至"]
    assert rows_of(b, "#credit-grants tbody tr") == [
        ["¥1.00", yuan(1000000 - spent), local_minute(expiries[0])],
        ["¥2.00", "¥2.00", local_minute(expiries[1])],
    ]
    shot(b, "01-overview")

    b.click("#tab-history")
    b.wait_text("#bills-table tbody tr", "年")
    assert [e.text for e in b.all("#bills-table th")] == ["账单周期", "应付总额", "免费额度抵扣", "未扣费用量"]
    assert rows_of(b, "#bills-table tbody tr") == [[
        f"{zh_day(zone, before)} - {zh_day(zone, start)}", yuan(due_before),
        yuan(in_bill(zone, credit, before)), "¥0.00"]]
    shot(b, "02-history")


def test_usage_in_a_grace_window_is_shown_unbilled_in_english(stack, user, quiet_meterd, browser, shot):
    zone = billing_zone(stack)
    m, h = billed_then_grace(stack, user, quiet_meterd)
    org_id = m.org["id"]
    due = in_bill(zone, {h - 2 * HOUR: pico(stack, "2")}, h) // PICO_PER_MICRO
    unbilled = in_bill(zone, {h - HOUR: pico(stack, "3.333333")}, h) // PICO_PER_MICRO
    start, following = period(zone, h)

    b = browser(lang="en")
    b.adopt(user)
    b.open(f"/console/billing?org={org_id}")
    b.wait_text("#billing-status", "Grace window left")
    assert b.text_of("#current-bill .card-title") == "This month"
    assert b.text_of("#amount-due") == yuan(due)
    assert b.text_of("#bill-period") == f"{en_day(zone, start)} – {en_day(zone, following)}"
    assert b.text_of("#next-bill") == en_day(zone, following)
    assert b.text_of("#credit-used") == "¥0.00" and b.text_of("#open-usage") == "¥0.00"
    if unbilled > 0:
        assert unbilled == 399999 and yuan(unbilled) == "¥0.39"
        assert b.text_of("#current-bill .alert-title") == "Unbilled usage"
        assert b.text_of("#unbilled-text") == (
            "Usage of ¥0.39 while no marketplace subscription was bound (for example in a grace window) "
            "was not charged through any marketplace and is not part of the amount due.")
    else:
        assert not b.all("#unbilled-text")
    assert b.text_of("#free-credits-value") == "¥0.00" and not b.all("#credit-grants")
    shot(b, "01-grace-unbilled")
