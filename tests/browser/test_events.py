# SPDX-License-Identifier: MIT
"""事件 after marketplace notifications, in a real browser: each subscription
transition, the switch to a new paying account, updated entitlements and a
suspension read as words in Chinese (and in English), with their details,
never as raw keys. Screenshots go to var/test/screenshots/."""

import secrets
import time

import requests

from api import new_user

P = "aws-cn"


class Market:
    """The simulator's AWS Marketplace (China), driven through its control API."""

    def __init__(self, stack):
        self.url = stack.sim_url

    def post(self, path, body=None):
        r = requests.post(self.url + path, json=body or {})
        assert r.status_code == 200, r.text
        return r.json()

    def subscription(self):
        account = str(secrets.randbelow(10**12)).zfill(12)
        r = self.post(f"/_sim/aws/{P}/subscriptions", {"notify": "none", "account_id": account})
        return r["subscription"], r["token"]

    def push(self, action, sub, **spec):
        r = self.post(f"/_sim/aws/{P}/sns/push", dict(spec, action=action, subscription_id=sub["id"]))
        assert [d["status"] for d in r["deliveries"]] == [200], r["deliveries"]


def land(stack, user, token):
    r = user.s.post(f"{stack.url}/marketplace/{P}/landing", data={"x-amzn-marketplace-token": token},
                    allow_redirects=False)
    assert r.status_code == 303, r.text


def bind(stack, user, token, org_id):
    land(stack, user, token)
    assert user.post("/api/binding/confirm", {"org_id": org_id}).status_code == 200


def walk_notifications(stack, user):
    """An org bound to A: A subscribes and cancels, B is bound (switching at the hour), B's
    entitlements change, A's cancellation completes before the hour. A second org is suspended
    after its grace window. Returns both orgs and the two accounts."""
    market = Market(stack)
    org = user.create_org("事件 Events")
    sub_a, token_a = market.subscription()
    bind(stack, user, token_a, org["id"])
    market.push("subscribe-success", sub_a)
    market.push("unsubscribe-pending", sub_a)
    sub_b, token_b = market.subscription()
    bind(stack, user, token_b, org["id"])
    market.post(f"/_sim/aws/{P}/entitlements", {"entitlements": [
        {"subscription_id": sub_b["id"], "Dimension": "nodes", "Value": {"IntegerValue": 4}},
        {"subscription_id": sub_b["id"], "Dimension": "tier", "Value": {"StringValue": "pro"}}]})
    market.push("entitlement-updated", sub_b, topic="entitlement")
    market.push("unsubscribe-success", sub_a)

    lapsed = user.create_org("宽限期 Lapsed")
    sub_c, token_c = market.subscription()
    bind(stack, user, token_c, lapsed["id"])
    market.push("subscribe-fail", sub_c)
    stack.sql(f"UPDATE orgs SET grace_deadline = NOW(6) - INTERVAL 1 SECOND WHERE id = '{lapsed['id']}'")
    deadline = time.time() + 15
    while stack.sql(f"SELECT billing_status FROM orgs WHERE id = '{lapsed['id']}'") != [["suspended"]]:
        assert time.time() < deadline, "mpbind-meterd did not suspend the org"
        time.sleep(0.2)
    return org, lapsed, sub_a["account_id"], sub_c["account_id"]


def rows(b):
    """{action: (label, detail)} of the newest event of each action on the page."""
    b.find("#events-table")
    out = {}
    for tr in b.all("#events-table tbody tr"):
        action = tr.get_attribute("data-action")
        if action not in out:
            out[action] = (tr.find_element("css selector", ".event-action").text,
                           tr.find_element("css selector", ".event-detail").text)
    return out


def test_events_of_notifications_read_as_words(stack, browser, shot):
    user = new_user(stack.url)
    org, lapsed, account_a, account_c = walk_notifications(stack, user)

    zh = browser()
    zh.adopt(user)
    zh.open(f"/console/events?org={org['id']}")
    zh.wait_text("#events-table .event-action", "云市场取消订阅成功")
    seen = rows(zh)
    shot(zh, "01-events-zh")
    assert seen["subscription.active"] == ("云市场订阅成功", f"亚马逊云科技 Marketplace，账号 {account_a}")
    assert seen["subscription.cancelling"] == ("云市场取消订阅中", f"亚马逊云科技 Marketplace，账号 {account_a}")
    assert seen["subscription.ended"] == ("云市场取消订阅成功", f"亚马逊云科技 Marketplace，账号 {account_a}")
    assert seen["binding.switched"] == (
        "订阅切换立即生效", f"亚马逊云科技 Marketplace，账号 {account_a} 已取消订阅，新绑定的订阅即时接替")
    assert seen["entitlements.updated"] == ("云市场权益已更新", "亚马逊云科技 Marketplace，2 项权益")
    assert seen["binding.replaced"][0] == "切换云市场订阅"
    page = zh.text_of("#events-table tbody")
    assert "account_id" not in page and "subscription:" not in page and "subscription." not in page

    zh.open(f"/console/events?org={lapsed['id']}")
    zh.wait_text("#events-table .event-action", "服务暂停")
    seen = rows(zh)
    shot(zh, "02-events-suspended-zh")
    assert seen["billing.suspended"] == ("服务暂停（宽限期结束）", "原因：宽限期已结束，且未绑定新的订阅")
    assert seen["subscription.failed"] == ("云市场订阅失败", f"亚马逊云科技 Marketplace，账号 {account_c}")
    assert seen["binding.ended"][1] == f"亚马逊云科技 Marketplace，账号 {account_c}；云市场订阅失败"

    en = browser("en-US")
    en.adopt(user)
    en.open(f"/console/events?org={org['id']}")
    en.wait_text("#events-table .event-action", "Unsubscribed on the marketplace")
    seen = rows(en)
    shot(en, "03-events-en")
    assert seen["subscription.ended"] == ("Unsubscribed on the marketplace",
                                          f"AWS Marketplace (China), account {account_a}")
    assert seen["entitlements.updated"] == ("Marketplace entitlements updated", "AWS Marketplace (China), 2 entitlements")
    en.open(f"/console/events?org={lapsed['id']}")
    en.wait_text("#events-table .event-action", "Suspended")
    assert rows(en)["billing.suspended"] == ("Suspended (grace window over)",
                                             "Reason: the grace window ended with no new subscription bound")
    shot(en, "04-events-suspended-en")
