# SPDX-License-Identifier: MIT
"""Alibaba Cloud Marketplace (阿里云云市场) end to end, through nginx, mpbind and
the simulator: the SPI's MD5 token, createInstance and its retries, the
lifecycle actions and what they do to a bound org, 免登 into the binding
wizard or straight into the console, and the billing overview of an
Alibaba-bound org. Every SPI call and 免登 link comes from the simulator."""

import hashlib
import os
import re
import secrets
import subprocess
import time
import urllib.parse

import pytest
import requests

from api import PASSWORD, Api, error_code, new_user
from stack import binary, wait_until

PRODUCT = "cmjj00mpbind"
BILL_URL = "https://usercenter2.aliyun.com/finance/expense-report"


class AliyunSim:
    """The simulator's Alibaba control API, for one test: what it logged since the test began,
    and the violations it found that the test did not expect."""

    def __init__(self, stack):
        self.url = stack.sim_url
        self.since = requests.get(self.url + "/_sim/log?since=999999999").json()["last_seq"]
        self.links = 0
        self.expected = set()

    def post(self, path, body, status=200):
        r = requests.post(self.url + path, json=body, timeout=60)
        assert r.status_code == status, r.text
        return r.json()

    def instance(self, **kw):
        """开通: createInstance until mpbind answers; the instance as the sim sees it."""
        inst = self.post("/_sim/aliyun/instances", kw)["instance"]
        assert inst["instance_id"] == inst["order_biz_id"], inst
        return inst

    def spi(self, action, inst=None, **kw):
        """One signed SPI call; mpbind's answer (status, json, body, request, seq)."""
        body = dict(kw, action=action)
        if inst is not None:
            body["instance"] = inst["order_biz_id"]
        return self.post("/_sim/aliyun/spi", body)

    def replay(self, answer):
        return self.post("/_sim/aliyun/spi", {"replay": answer["seq"]})

    def sso_url(self, inst, **kw):
        """A 免登 link. timeStamp has whole seconds, so two links made in one
        second would be one link: unless told otherwise, the n-th link is
        dated n seconds ahead, which makes each later than the one before."""
        self.links += 1
        kw.setdefault("age_seconds", -self.links)
        return self.post("/_sim/aliyun/sso-url", dict(kw, instance=inst["order_biz_id"]))["url"]

    def token(self, params):
        return self.post("/_sim/aliyun/token", {"params": params})["token"]

    def settings(self, **kw):
        requests.post(self.url + "/_sim/settings", json=kw).raise_for_status()

    def calls(self, order_biz_id):
        """(action, status) of the SPI calls the sim made for an orderBizId in this test."""
        entries = requests.get(f"{self.url}/_sim/log?since={self.since}&channel=aliyun.spi").json()["entries"]
        return [(e["action"], e["status"]) for e in entries if e.get("direction") == "out"
                and e["request"]["params"].get("orderBizId") == order_biz_id]

    def violations(self):
        """The Alibaba side's (meterd's AWS polling has its own tests), less the expected."""
        found = requests.get(f"{self.url}/_sim/violations?since={self.since}").json()["violations"]
        return [v for v in found if v["channel"].startswith("aliyun") and v["code"] not in self.expected]


@pytest.fixture
def sim(stack):
    """The simulator's control API; the test fails on any protocol violation."""
    s = AliyunSim(stack)
    yield s
    assert s.violations() == []


def rows(stack, sql):
    return stack.sql(sql)


def count(stack, sql):
    return int(stack.sql(sql)[0][0])


def beijing_now(offset=0):
    """'yyyy-MM-dd HH:mm:ss' in Beijing time, offset seconds from now."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + offset + 8 * 3600))


def fresh_id():
    return str(secrets.randbelow(10 ** 12) + 10 ** 12)


def sim_instance(sim, key):
    return requests.get(f"{sim.url}/_sim/aliyun/instances/{key}").json()["instance"]


def subscription(stack, inst, cols="marketplace, account_id, status, product_code, sku_id, order_id, "
                                  "free_trial, expired_on"):
    return rows(stack, f"SELECT {cols} FROM subscriptions WHERE instance_id = '{inst['order_biz_id']}'")


def events(stack, instance_id):
    """(org, actor, action) of the events about an instance, oldest first."""
    return [tuple(r) for r in rows(stack, "SELECT IFNULL(org_id, '-'), actor, action FROM events "
                                          f"WHERE JSON_VALUE(detail, '$.instance_id') = '{instance_id}' "
                                          "ORDER BY id")]


def billing_status(stack, org_id):
    r = requests.get(f"{stack.url}/internal/orgs/{org_id}/billing-status",
                     headers={"Authorization": "Bearer " + stack.internal_token})
    assert r.status_code == 200, r.text
    return r.json()


def lead(r):
    m = re.search(r'<p class="lead">(.*?)</p>', r.text)
    return m.group(1) if m else ""


def title(r):
    m = re.search(r"<h1>(.*?)</h1>", r.text)
    return m.group(1) if m else ""


def spi_error(answer):
    """(status, code) of a refused SPI call, after checking its shape."""
    body = answer["json"]
    assert body["success"] == "false" and set(body) == {"success", "error"}, body
    assert body["error"]["message"]
    return answer["status"], body["error"]["code"]


def bind(stack, sim, inst, client, org):
    """免登 with client's browser, then 确认绑定 for org."""
    r = client.s.get(sim.sso_url(inst), allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == stack.url + "/bind", r.text
    r = client.post("/api/binding/confirm", {"org_id": org["id"]})
    assert r.status_code == 200, r.text
    return r.json()["binding"]


def create_params(inst, **overrides):
    """The parameters the simulator signs for createInstance of inst."""
    params = {"action": "createInstance", "aliUid": inst["ali_uid"], "orderBizId": inst["order_biz_id"],
              "orderId": inst["order_id"], "productCode": inst["product_code"], "skuId": inst["sku_id"],
              "trial": "true" if inst["trial"] else "false", **inst["extra"]}
    if inst.get("expired_on"):
        params["expiredOn"] = inst["expired_on"]
    params.update(overrides)
    return params


# ----- createInstance ------------------------------------------------------------

def test_create_instance_answers_at_once_with_the_instance_and_app_info(stack, sim):
    inst = sim.instance(trial=True, expired_on="2027-01-25 08:30:00")
    assert inst["attempts"] == 1
    assert inst["app_info"] == {"frontEndUrl": stack.url + "/",
                                "authUrl": stack.url + "/marketplace/aliyun/sso"}
    # package_version is not a parameter mpbind knows: it was signed and accepted.
    assert inst["extra"] == {"package_version": inst["sku_id"]}
    assert subscription(stack, inst) == [["aliyun", inst["ali_uid"], "active", PRODUCT, inst["sku_id"],
                                          inst["order_id"], "1", "2027-01-25 00:30:00"]]
    assert events(stack, inst["order_biz_id"]) == [("-", "aliyun", "subscription.created")]
    assert rows(stack, "SELECT action, order_id, subscription_id IS NOT NULL FROM aliyun_spi_calls "
                       f"WHERE instance_id = '{inst['order_biz_id']}'") == [["createInstance", inst["order_id"], "1"]]


def test_create_instance_over_post_and_without_optional_values(stack, sim):
    inst = sim.instance(method="POST", extra={})
    row = subscription(stack, inst)
    assert row == [["aliyun", inst["ali_uid"], "active", PRODUCT, inst["sku_id"], inst["order_id"], "0", "NULL"]]
    new_id = fresh_id()
    answer = sim.spi("createInstance", inst, params={"orderBizId": new_id}, omit=["skuId", "trial"])
    assert answer["status"] == 200 and answer["json"]["instanceId"] == new_id
    assert rows(stack, f"SELECT sku_id, order_id, free_trial FROM subscriptions WHERE instance_id = '{new_id}'") == \
        [["NULL", inst["order_id"], "0"]]


def test_create_instance_retries_get_the_same_answer(stack, sim):
    sim.settings(**{"aliyun.spi_duplicate_calls": 2})
    try:
        inst = sim.instance()
    finally:
        sim.settings(**{"aliyun.spi_duplicate_calls": 0})
    first = sim.spi("createInstance", inst)
    again = sim.spi("createInstance", inst, method="POST")
    assert first["status"] == again["status"] == 200
    assert first["json"] == {"instanceId": inst["order_biz_id"],
                             "appInfo": {"frontEndUrl": stack.url + "/",
                                         "authUrl": stack.url + "/marketplace/aliyun/sso"}}
    assert again["body"] == first["body"]
    assert count(stack, f"SELECT COUNT(*) FROM subscriptions WHERE instance_id = '{inst['order_biz_id']}'") == 1
    assert count(stack, "SELECT COUNT(*) FROM aliyun_spi_calls "
                        f"WHERE instance_id = '{inst['order_biz_id']}'") == 1
    assert events(stack, inst["order_biz_id"]) == [("-", "aliyun", "subscription.created")]


def test_create_instance_is_retried_until_mpbind_answers(stack, sim):
    """mpbind-fcgi is down when the buyer clicks 开通 (nginx answers 502): the
    simulator retries createInstance until an instanceId comes back, and the
    instance is created once, with one answer."""
    sim.expected.add("aliyun.spi.not_json")            # nginx's 502 page is HTML
    sim.settings(**{"aliyun.spi_retry_seconds": 0.3})
    try:
        stack.fcgi_stop()
        try:
            key = sim.post("/_sim/aliyun/instances", {"wait": False})["instance"]["order_biz_id"]
            wait_until(lambda: len(sim.calls(key)) >= 3, 20, "three failed createInstance calls")
        finally:
            stack.fcgi_start()
        wait_until(lambda: sim_instance(sim, key)["instance_id"], 20, "the instance to be created")
    finally:
        sim.settings(**{"aliyun.spi_retry_seconds": 3.0})
    inst = sim_instance(sim, key)
    calls = sim.calls(key)
    assert calls[-1] == ("createInstance", 200) and len(calls) == inst["attempts"] >= 4
    assert set(calls[:-1]) == {("createInstance", 502)}
    assert inst["instance_id"] == key and inst["last_answer"]["status"] == 200
    assert inst["app_info"] == {"frontEndUrl": stack.url + "/", "authUrl": stack.url + "/marketplace/aliyun/sso"}
    assert count(stack, f"SELECT COUNT(*) FROM subscriptions WHERE instance_id = '{key}'") == 1
    assert count(stack, f"SELECT COUNT(*) FROM aliyun_spi_calls WHERE instance_id = '{key}'") == 1
    assert events(stack, key) == [("-", "aliyun", "subscription.created")]
    assert sim.violations() == []


@pytest.mark.parametrize("params,omit", [
    ({"aliUid": "1288412345678901"}, []),
    ({"skuId": "yuncode0mpbind-pro"}, []),
    ({"orderId": "269326581310319"}, []),
    ({"trial": "true"}, []),
    ({"expiredOn": "2027-01-25 08:30:00"}, []),
    ({"package_version": "yuncode0other"}, []),
    ({"Count": "2"}, []),
    ({}, ["skuId"]),
    ({}, ["package_version"]),
])
def test_create_instance_retried_with_other_parameters_changes_nothing(stack, sim, params, omit):
    inst = sim.instance()
    cols = "account_id, product_code, sku_id, order_id, free_trial, expired_on, status, create_fingerprint, " \
           "DATE_FORMAT(updated_at, '%f')"
    before = subscription(stack, inst, cols)
    answer = sim.spi("createInstance", inst, params=params, omit=omit)
    assert spi_error(answer) == (409, "instance_conflict")
    assert subscription(stack, inst, cols) == before
    assert count(stack, "SELECT COUNT(*) FROM aliyun_spi_calls "
                        f"WHERE instance_id = '{inst['order_biz_id']}'") == 1
    assert events(stack, inst["order_biz_id"]) == [("-", "aliyun", "subscription.created")]
    # The first parameters still get the first answer.
    again = sim.spi("createInstance", inst)
    assert again["status"] == 200 and again["json"]["instanceId"] == inst["order_biz_id"]


def test_create_instance_for_another_product_is_refused(stack, sim):
    inst = sim.instance()
    before = subscription(stack, inst, "account_id, product_code, status, DATE_FORMAT(updated_at, '%f')")
    answer = sim.spi("createInstance", inst, params={"productCode": "cmjj00other"})
    assert spi_error(answer) == (400, "wrong_product")
    assert subscription(stack, inst, "account_id, product_code, status, DATE_FORMAT(updated_at, '%f')") == before
    assert len(events(stack, inst["order_biz_id"])) == 1


def test_create_instance_made_before_fingerprints_takes_the_next_retrys(stack, sim):
    """A subscription created before migration 013 has no fingerprint: a retry for
    another buyer is still refused, one for the same buyer and product is answered
    and pins its parameters."""
    inst = sim.instance()
    stack.sql(f"UPDATE subscriptions SET create_fingerprint = NULL WHERE instance_id = '{inst['order_biz_id']}'")
    answer = sim.spi("createInstance", inst, params={"aliUid": "1288412345678901"})
    assert spi_error(answer) == (409, "instance_conflict")
    assert subscription(stack, inst, "create_fingerprint IS NULL") == [["1"]]
    answer = sim.spi("createInstance", inst)
    assert answer["status"] == 200 and answer["json"]["instanceId"] == inst["order_biz_id"]
    assert subscription(stack, inst, "LENGTH(create_fingerprint)") == [["64"]]
    answer = sim.spi("createInstance", inst, params={"skuId": "yuncode0mpbind-pro"})
    assert spi_error(answer) == (409, "instance_conflict")
    assert subscription(stack, inst, "sku_id") == [[inst["sku_id"]]]


# ----- the token ------------------------------------------------------------------

@pytest.mark.parametrize("tamper", ["token", "wrong_key", "no_token", "param_after_sign"])
def test_a_bad_token_is_refused_and_changes_nothing(stack, sim, tamper):
    inst = sim.instance()
    new_id = fresh_id()
    answer = sim.spi("createInstance", inst, params={"orderBizId": new_id}, tamper=tamper)
    assert spi_error(answer) == (403, "invalid_token")
    assert count(stack, f"SELECT COUNT(*) FROM subscriptions WHERE instance_id = '{new_id}'") == 0
    answer = sim.spi("expiredInstance", inst, tamper=tamper)
    assert spi_error(answer) == (403, "invalid_token")
    assert subscription(stack, inst, "status") == [["active"]]
    assert count(stack, f"SELECT COUNT(*) FROM aliyun_spi_calls WHERE instance_id IN ('{new_id}', "
                        f"'{inst['order_biz_id']}')") == 1


def test_a_parameter_added_after_signing_is_refused(stack, sim):
    inst = sim.instance()
    new_id = fresh_id()
    token = sim.token(create_params(inst, orderBizId=new_id))
    answer = sim.spi("createInstance", inst, params={"orderBizId": new_id, "addedLater": "1"}, token=token)
    assert spi_error(answer) == (403, "invalid_token")
    assert count(stack, f"SELECT COUNT(*) FROM subscriptions WHERE instance_id = '{new_id}'") == 0
    # The same token without the added parameter is good.
    answer = sim.spi("createInstance", inst, params={"orderBizId": new_id}, token=token)
    assert answer["status"] == 200 and answer["json"]["instanceId"] == new_id


def test_query_and_body_parameters_are_signed_together_and_may_not_repeat(stack, sim):
    inst = sim.instance()
    new_id = fresh_id()
    params = create_params(inst, orderBizId=new_id)
    params["token"] = sim.token(params)
    names = sorted(params)
    query = urllib.parse.urlencode({k: params[k] for k in names[:3]}, quote_via=urllib.parse.quote)
    body = urllib.parse.urlencode({k: params[k] for k in names[3:]}, quote_via=urllib.parse.quote)
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
    url = f"{stack.url}/marketplace/aliyun/spi"
    r = requests.post(f"{url}?{query}&aliUid={params['aliUid']}", data=body, headers=form)
    assert r.status_code == 400 and r.json()["error"]["field"] == "aliUid"
    assert r.json()["success"] == "false" and error_code(r) == "invalid_field"
    r = requests.post(f"{url}?{query}", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 415
    assert count(stack, f"SELECT COUNT(*) FROM subscriptions WHERE instance_id = '{new_id}'") == 0
    r = requests.post(f"{url}?{query}", data=body, headers=form)
    assert r.status_code == 200 and r.json()["instanceId"] == new_id


def test_spi_input_is_capped(stack):
    url = f"{stack.url}/marketplace/aliyun/spi"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = requests.post(url, data="a=" + "x" * 70000, headers=form)
    assert (r.status_code, error_code(r)) == (413, "body_too_large")
    r = requests.post(url, data="a=" + "x" * 9000, headers=form)
    assert (r.status_code, error_code(r), r.json()["error"]["field"]) == (400, "invalid_field", "a")
    # 40 in the query and 40 in the body: each under max_fields (64), together over it.
    query = "&".join(f"q{i}=1" for i in range(40))
    body = "&".join(f"b{i}=1" for i in range(40))
    r = requests.post(f"{url}?{query}", data=body, headers=form)
    assert r.status_code == 400 and r.json() == {"success": "false", "error": {
        "code": "too_many_fields", "message": r.json()["error"]["message"]}}


@pytest.mark.parametrize("params,field", [
    ({"aliUid": "12ab"}, "aliUid"),
    ({"aliUid": ""}, "aliUid"),
    ({"orderId": "1 2"}, "orderId"),
    ({"skuId": "a/b"}, "skuId"),
    ({"trial": "yes"}, "trial"),
    ({"expiredOn": "2026-02-30 00:00:00"}, "expiredOn"),
    ({"expiredOn": "2026-01-25T00:00:00Z"}, "expiredOn"),
])
def test_malformed_values_are_refused(stack, sim, params, field):
    inst = sim.instance()
    new_id = fresh_id()
    answer = sim.spi("createInstance", inst, params=dict(params, orderBizId=new_id))
    assert spi_error(answer) == (400, "invalid_field") and answer["json"]["error"]["field"] == field
    assert count(stack, f"SELECT COUNT(*) FROM subscriptions WHERE instance_id = '{new_id}'") == 0


def test_missing_values_are_refused(stack, sim):
    inst = sim.instance()
    answer = sim.spi("createInstance", inst, params={"orderBizId": fresh_id()}, omit=["aliUid"])
    assert spi_error(answer) == (400, "invalid_field") and answer["json"]["error"]["field"] == "aliUid"
    answer = sim.spi("createInstance", inst, omit=["orderBizId"])
    assert answer["json"]["error"]["field"] == "orderBizId"
    answer = sim.spi("createInstance", inst, params={"orderBizId": fresh_id()}, omit=["orderId"])
    assert spi_error(answer) == (400, "invalid_field") and answer["json"]["error"]["field"] == "orderId"
    answer = sim.spi("upgradeInstance", inst, omit=["skuId"])
    assert spi_error(answer) == (400, "invalid_field") and answer["json"]["error"]["field"] == "skuId"
    answer = sim.spi("expiredInstance", inst, omit=["instanceId"])
    assert answer["json"]["error"]["field"] == "instanceId"
    assert subscription(stack, inst, "status, sku_id") == [["active", inst["sku_id"]]]
    assert count(stack, "SELECT COUNT(*) FROM subscriptions WHERE marketplace = 'aliyun' AND "
                        f"order_id = '{inst['order_id']}'") == 1


@pytest.mark.parametrize("action", ["deleteInstance", "verify", "refundRenewInstance"])
def test_other_actions_get_an_error_the_marketplace_can_read(stack, sim, action):
    inst = sim.instance()
    answer = sim.spi(action, inst, allow_unknown_action=True)
    assert spi_error(answer) == (400, "unknown_action")
    assert subscription(stack, inst, "status") == [["active"]]


# ----- lifecycle -----------------------------------------------------------------

@pytest.fixture
def bound(stack, sim, user):
    """An org bound to a fresh instance by user (its Org Admin)."""
    org = user.create_org("Zilliz")
    inst = sim.instance()
    binding = bind(stack, sim, inst, user, org)
    assert binding == {"org_id": org["id"], "org_name": "Zilliz", "marketplace": "aliyun",
                       "account_id": inst["ali_uid"], "customer_identifier": None}
    assert billing_status(stack, org["id"])["status"] == "marketplace"
    return inst, org


def test_expired_freezes_and_renewed_restores_the_bound_org(stack, sim, user, bound):
    inst, org = bound
    answer = sim.spi("expiredInstance", inst)
    assert (answer["status"], answer["json"]) == (200, {"success": "true"})
    status = billing_status(stack, org["id"])
    assert (status["status"], status["marketplace"], status["account_id"]) == ("suspended", "aliyun", inst["ali_uid"])
    assert subscription(stack, inst, "status") == [["expired"]]
    overview = user.get(f"/api/orgs/{org['id']}/billing").json()
    assert overview["status"] == "suspended" and overview["payment"]["subscription_status"] == "expired"

    # A replay of expiredInstance (no orderId) changes nothing.
    assert sim.replay(answer)["json"] == {"success": "true"}
    assert [e[2] for e in events(stack, inst["order_biz_id"])].count("subscription.expired") == 1

    renew = sim.spi("renewInstance", inst, params={"orderId": fresh_id(), "expiredOn": "2028-03-01 12:00:00"})
    assert (renew["status"], renew["json"]) == (200, {"success": "true"})
    assert billing_status(stack, org["id"])["status"] == "marketplace"
    assert subscription(stack, inst, "status, expired_on") == [["active", "2028-03-01 04:00:00"]]

    # Frozen again; the old renewal replayed (same orderId) must not thaw it.
    sim.spi("expiredInstance", inst)
    assert sim.replay(renew)["json"] == {"success": "true"}
    assert billing_status(stack, org["id"])["status"] == "suspended"
    assert count(stack, "SELECT COUNT(*) FROM aliyun_spi_calls "
                        f"WHERE instance_id = '{inst['order_biz_id']}' AND action = 'renewInstance'") == 1
    sim.spi("renewInstance", inst)
    assert billing_status(stack, org["id"])["status"] == "marketplace"

    got = user.get(f"/api/orgs/{org['id']}/events").json()["events"]
    mine = [(e["actor"], e["action"]) for e in got if e["detail"].get("instance_id") == inst["order_biz_id"]]
    assert mine == [("aliyun", "subscription.renewed"), ("aliyun", "subscription.expired"),
                    ("aliyun", "subscription.renewed"), ("aliyun", "subscription.expired")]
    restored = [e["detail"]["restored"] for e in got if e["action"] == "subscription.renewed"]
    assert restored == ["true", "true"]


def test_renew_and_upgrade_need_an_order_id(stack, sim, bound):
    """Without an orderId a replay could not be told from a new order."""
    inst, org = bound
    sim.spi("expiredInstance", inst)
    cols = "status, sku_id, order_id, expired_on, DATE_FORMAT(updated_at, '%f')"
    before = subscription(stack, inst, cols)
    for action in ("renewInstance", "upgradeInstance"):
        answer = sim.spi(action, inst, omit=["orderId"])
        assert spi_error(answer) == (400, "invalid_field") and answer["json"]["error"]["field"] == "orderId"
    assert subscription(stack, inst, cols) == before
    assert billing_status(stack, org["id"])["status"] == "suspended"
    assert [e[2] for e in events(stack, inst["order_biz_id"])] == ["subscription.created", "subscription.expired"]
    assert count(stack, "SELECT COUNT(*) FROM aliyun_spi_calls "
                        f"WHERE instance_id = '{inst['order_biz_id']}' AND action <> 'createInstance'") == 1


def test_a_late_renewal_never_moves_the_expiry_back(stack, sim, bound):
    inst, org = bound
    later = sim.spi("renewInstance", inst, params={"orderId": fresh_id(), "expiredOn": "2028-03-01 12:00:00"})
    assert later["status"] == 200
    order = fresh_id()
    earlier = sim.spi("renewInstance", inst, params={"orderId": order, "expiredOn": "2027-03-01 12:00:00"})
    assert (earlier["status"], earlier["json"]) == (200, {"success": "true"})
    assert subscription(stack, inst, "expired_on, order_id") == [["2028-03-01 04:00:00", order]]
    # Replays of either change nothing.
    for answer in (later, earlier):
        assert sim.replay(answer)["json"] == {"success": "true"}
    assert subscription(stack, inst, "expired_on") == [["2028-03-01 04:00:00"]]
    assert [e[2] for e in events(stack, inst["order_biz_id"])].count("subscription.renewed") == 2


def test_upgrade_records_the_new_sku(stack, sim, bound):
    inst, org = bound
    order = fresh_id()
    answer = sim.spi("upgradeInstance", inst, params={"skuId": "yuncode0mpbind-pro", "orderId": order})
    assert (answer["status"], answer["json"]) == (200, {"success": "true"})
    assert subscription(stack, inst, "sku_id, order_id, status") == [["yuncode0mpbind-pro", order, "active"]]
    assert billing_status(stack, org["id"])["status"] == "marketplace"
    detail = rows(stack, "SELECT org_id, JSON_VALUE(detail, '$.from_sku_id'), JSON_VALUE(detail, '$.sku_id') "
                         "FROM events WHERE action = 'subscription.upgraded' "
                         f"AND JSON_VALUE(detail, '$.instance_id') = '{inst['order_biz_id']}'")
    assert detail == [[org["id"], inst["sku_id"], "yuncode0mpbind-pro"]]
    assert sim.replay(answer)["json"] == {"success": "true"}
    assert count(stack, "SELECT COUNT(*) FROM events WHERE action = 'subscription.upgraded' "
                        f"AND JSON_VALUE(detail, '$.instance_id') = '{inst['order_biz_id']}'") == 1


def test_release_ends_the_binding_and_starts_the_grace_window(stack, sim, user, bound):
    inst, org = bound
    answer = sim.spi("releaseInstance", inst)
    assert (answer["status"], answer["json"]) == (200, {"success": "true"})
    assert subscription(stack, inst, "status, ended_at IS NOT NULL") == [["ended", "1"]]
    assert rows(stack, "SELECT b.end_reason FROM bindings b JOIN subscriptions s ON s.id = b.subscription_id "
                       f"WHERE s.instance_id = '{inst['order_biz_id']}' AND b.ended_at IS NOT NULL") == [["released"]]
    overview = user.get(f"/api/orgs/{org['id']}/billing").json()
    assert overview["status"] == "grace" and overview["payment"] is None
    assert 3500 < overview["grace_seconds_left"] <= 3600
    assert billing_status(stack, org["id"])["marketplace"] is None
    assert events(stack, inst["order_biz_id"])[-1:] == [(org["id"], "aliyun", "subscription.released")]
    ended = rows(stack, "SELECT actor, JSON_VALUE(detail, '$.reason'), JSON_VALUE(detail, '$.account_id') "
                        f"FROM events WHERE org_id = '{org['id']}' AND action = 'binding.ended'")
    assert ended == [["aliyun", "released", inst["ali_uid"]]]

    # Replayed: nothing more happens. Renewing or upgrading a released instance is refused.
    assert sim.replay(answer)["json"] == {"success": "true"}
    assert count(stack, f"SELECT COUNT(*) FROM events WHERE org_id = '{org['id']}' "
                        "AND action IN ('binding.ended', 'subscription.released')") == 2
    assert spi_error(sim.spi("renewInstance", inst)) == (409, "subscription_inactive")
    assert spi_error(sim.spi("upgradeInstance", inst)) == (409, "subscription_inactive")
    assert subscription(stack, inst, "status") == [["ended"]]

    # Its 免登 link no longer leads anywhere.
    r = requests.get(sim.sso_url(inst), allow_redirects=False)
    assert r.status_code == 409 and title(r) == "实例已失效"


def test_releasing_a_frozen_instance_leaves_its_org_suspended(stack, sim, bound):
    inst, org = bound
    sim.spi("expiredInstance", inst)
    answer = sim.spi("releaseInstance", inst, params={"isRefund": "true"})
    assert (answer["status"], answer["json"]) == (200, {"success": "true"})
    status = billing_status(stack, org["id"])
    assert (status["status"], status["grace_deadline"], status["marketplace"]) == ("suspended", None, None)
    refund = rows(stack, "SELECT JSON_VALUE(detail, '$.is_refund') FROM events WHERE action = "
                         f"'subscription.released' AND JSON_VALUE(detail, '$.instance_id') = '{inst['order_biz_id']}'")
    assert refund == [["true"]]


def test_lifecycle_of_an_unbound_instance_writes_events_without_an_org(stack, sim):
    inst = sim.instance()
    for action in ("expiredInstance", "renewInstance", "upgradeInstance", "releaseInstance"):
        answer = sim.spi(action, inst)
        assert (action, answer["status"], answer["json"]) == (action, 200, {"success": "true"})
    assert events(stack, inst["order_biz_id"]) == [
        ("-", "aliyun", "subscription.created"), ("-", "aliyun", "subscription.expired"),
        ("-", "aliyun", "subscription.renewed"), ("-", "aliyun", "subscription.upgraded"),
        ("-", "aliyun", "subscription.released")]
    assert subscription(stack, inst, "status, sku_id") == [["ended", inst["sku_id"] + "-pro"]]


@pytest.mark.parametrize("action", ["expiredInstance", "releaseInstance", "renewInstance", "upgradeInstance"])
def test_a_lifecycle_call_for_an_unknown_instance_is_refused_and_stores_nothing(stack, sim, action):
    unknown = fresh_id()
    answer = sim.spi(action, params={"instanceId": unknown, "orderId": "7", "skuId": "yuncode0mpbind-pro"})
    assert spi_error(answer) == (404, "unknown_instance")
    assert count(stack, f"SELECT COUNT(*) FROM aliyun_spi_calls WHERE instance_id = '{unknown}'") == 0
    assert count(stack, f"SELECT COUNT(*) FROM subscriptions WHERE instance_id = '{unknown}'") == 0
    assert events(stack, unknown) == []


def test_a_refused_call_for_an_unknown_instance_does_not_swallow_the_real_one(stack, sim):
    """The refused call left no log row, and one logged before migration 013
    (subscription NULL) no longer counts: once the instance exists, the call
    with that orderId is applied, not taken for a replay."""
    inst = sim.instance(extra={})
    early = fresh_id()
    new_id = fresh_id()
    stack.sql("INSERT INTO aliyun_spi_calls (instance_id, action, order_id, subscription_id, received_at) "
              f"VALUES ('{new_id}', 'renewInstance', '{early}', NULL, NOW(6))")
    params = {"instanceId": new_id, "orderId": early, "expiredOn": "2028-03-01 12:00:00"}
    assert spi_error(sim.spi("renewInstance", params=params)) == (404, "unknown_instance")
    answer = sim.spi("createInstance", inst, params={"orderBizId": new_id})
    assert answer["json"]["instanceId"] == new_id
    for _ in range(2):
        answer = sim.spi("renewInstance", params=params)
        assert (answer["status"], answer["json"]) == (200, {"success": "true"})
    assert rows(stack, f"SELECT expired_on FROM subscriptions WHERE instance_id = '{new_id}'") == \
        [["2028-03-01 04:00:00"]]
    assert events(stack, new_id) == [("-", "aliyun", "subscription.created"), ("-", "aliyun", "subscription.renewed")]
    assert rows(stack, "SELECT action, subscription_id IS NULL FROM aliyun_spi_calls "
                       f"WHERE instance_id = '{new_id}' ORDER BY id") == [
        ["renewInstance", "1"], ["createInstance", "0"], ["renewInstance", "0"]]


# ----- 免登 -----------------------------------------------------------------------

@pytest.mark.parametrize("plus", [False, True])
def test_verify_of_an_unbound_instance_leads_to_the_wizard(stack, sim, plus):
    inst = sim.instance()
    url = sim.sso_url(inst, plus=plus)
    assert ("+" in url) == plus
    browser = Api(stack.url)
    r = browser.s.get(url, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == stack.url + "/bind"
    assert re.match(r"mpb_bind=[A-Za-z0-9_.-]+; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax$",
                    r.headers["Set-Cookie"])
    ctx = browser.get("/api/binding").json()
    assert (ctx["marketplace"], ctx["account_id"], ctx["subscription_status"]) == ("aliyun", inst["ali_uid"], "active")
    assert ctx["signed_in"] is False and ctx["bound"] is None

    # 注册 in the wizard, create an org, 确认绑定.
    browser.register()
    org = browser.create_org("Zilliz")
    overview = browser.get(f"/api/orgs/{org['id']}/billing").json()
    assert overview["payment"] is None
    assert {"id": "aliyun", "listing_url": f"http://localhost:{stack.state['ports']['sim_http']}/aliyun/"} \
        in overview["marketplaces"]
    r = browser.post("/api/binding/confirm", {"org_id": org["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["binding"] == {"org_id": org["id"], "org_name": "Zilliz", "marketplace": "aliyun",
                                   "account_id": inst["ali_uid"], "customer_identifier": None}

    payment = browser.get(f"/api/orgs/{org['id']}/billing").json()["payment"]
    assert (payment["marketplace"], payment["account_id"], payment["bill_url"]) == ("aliyun", inst["ali_uid"], BILL_URL)
    assert payment["bound_by"] == browser.email and payment["subscription_status"] == "active"


def test_verify_of_a_bound_instance_signs_the_binder_straight_in(stack, sim, user, bound):
    inst, org = bound
    browser = requests.Session()
    r = browser.get(sim.sso_url(inst), allow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == f"{stack.url}/console/billing?org={org['id']}"
    assert re.match(r"mpb_session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax$",
                    r.headers["Set-Cookie"])
    me = browser.get(stack.url + "/api/auth/me")
    assert me.status_code == 200 and me.json()["user"]["email"] == user.email
    assert browser.get(f"{stack.url}/api/orgs/{org['id']}/billing").json()["payment"]["marketplace"] == "aliyun"
    newest = rows(stack, "SELECT kind, TIMESTAMPDIFF(SECOND, created_at, expires_at) FROM sessions "
                         f"WHERE user_id = {user.user_id} ORDER BY created_at DESC LIMIT 1")
    assert newest == [["sso", "3600"]]
    assert rows(stack, "SELECT actor, actor_user_id FROM events WHERE action = 'session.sso' "
                       f"AND org_id = '{org['id']}'") == [["aliyun", str(user.user_id)]]
    # The session ends like any other: logging out revokes it.
    csrf = me.json()["csrf"]
    assert browser.post(stack.url + "/api/auth/logout", json={}, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert browser.get(stack.url + "/api/auth/me").status_code == 401


def test_an_sso_session_expires_after_its_time(stack, sim, user, bound):
    inst, org = bound
    browser = requests.Session()
    assert browser.get(sim.sso_url(inst), allow_redirects=False).status_code == 303
    assert browser.get(stack.url + "/api/auth/me").status_code == 200
    stack.sql(f"UPDATE sessions SET expires_at = NOW(6) - INTERVAL 1 SECOND WHERE user_id = {user.user_id} "
              "AND kind = 'sso'")
    assert browser.get(stack.url + "/api/auth/me").status_code == 401


@pytest.mark.parametrize("kw,status,heading", [
    ({"age_seconds": 400}, 403, "链接已过期"),
    ({"age_seconds": -400}, 403, "链接已过期"),
    ({"tamper": "token"}, 403, "链接无效"),
    ({"tamper": "wrong_key"}, 403, "链接无效"),
    ({"tamper": "instanceId"}, 403, "链接无效"),
    ({"tamper": "timeStamp"}, 403, "链接无效"),
    ({"timestamp": "2026-02-30 10:00:00"}, 400, "链接不完整"),
])
def test_verify_refuses_a_stale_future_or_tampered_link(stack, sim, kw, status, heading):
    inst = sim.instance()
    r = requests.get(sim.sso_url(inst, **kw), allow_redirects=False)
    assert (r.status_code, title(r)) == (status, heading)
    assert r.headers["Content-Type"].startswith("text/html") and "Set-Cookie" not in r.headers
    assert "阿里云云市场" in lead(r)
    assert count(stack, "SELECT COUNT(*) FROM binding_attempts a JOIN subscriptions s ON s.id = a.subscription_id "
                        f"WHERE s.instance_id = '{inst['order_biz_id']}'") == 0


def test_verify_refuses_a_link_used_before(stack, sim):
    inst = sim.instance()
    url = sim.sso_url(inst)
    assert requests.get(url, allow_redirects=False).status_code == 303
    r = requests.get(url, allow_redirects=False, headers={"Accept-Language": "en"})
    assert (r.status_code, title(r)) == (403, "This link was already used")
    # Only a hash of the token is kept, until well after the link's window closed.
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"][0]
    kept = rows(stack, "SELECT TIMESTAMPDIFF(SECOND, NOW(6), expires_at) FROM aliyun_verify_tokens "
                       f"WHERE token_hash = '{hashlib.sha256(token.encode()).hexdigest()}'")
    assert len(kept) == 1 and 540 < int(kept[0][0]) <= 610
    assert count(stack, f"SELECT COUNT(*) FROM aliyun_verify_tokens WHERE token_hash = '{token}'") == 0
    assert count(stack, "SELECT COUNT(*) FROM binding_attempts a JOIN subscriptions s ON s.id = a.subscription_id "
                        f"WHERE s.instance_id = '{inst['order_biz_id']}'") == 1
    # A new click makes a new link, which works.
    assert requests.get(sim.sso_url(inst), allow_redirects=False).status_code == 303


@pytest.mark.parametrize("drop", ["token", "instanceId", "timeStamp", "action"])
def test_verify_refuses_an_incomplete_link(stack, sim, drop):
    inst = sim.instance()
    url = sim.sso_url(inst)
    base, query = url.split("?", 1)
    kept = "&".join(p for p in query.split("&") if not p.startswith(drop + "="))
    r = requests.get(f"{base}?{kept}", allow_redirects=False)
    assert (r.status_code, title(r)) == (400, "链接不完整")


def test_verify_before_create_instance_says_activation_is_in_progress(stack, sim):
    sim.settings(**{"aliyun.spi_max_attempts": 0})
    try:
        inst = sim.post("/_sim/aliyun/instances", {})["instance"]
    finally:
        sim.settings(**{"aliyun.spi_max_attempts": 120})
    assert inst["instance_id"] is None
    url = sim.sso_url(inst, auth_url=stack.url + "/marketplace/aliyun/sso")
    r = requests.get(url, allow_redirects=False)
    assert (r.status_code, title(r), r.headers["Retry-After"]) == (409, "正在开通", "30")
    assert "1 - 5 分钟" in lead(r) and "Set-Cookie" not in r.headers
    r = requests.get(url, allow_redirects=False, headers={"Accept-Language": "en"})
    assert (r.status_code, title(r)) == (409, "Activation in progress")
    # createInstance arrives: the same link now leads on.
    assert sim.spi("createInstance", inst)["status"] == 200
    r = requests.get(url, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == stack.url + "/bind"


def test_verify_of_a_frozen_unbound_instance_is_refused(stack, sim):
    inst = sim.instance()
    sim.spi("expiredInstance", inst)
    r = requests.get(sim.sso_url(inst), allow_redirects=False)
    assert (r.status_code, title(r)) == (409, "实例已失效")


@pytest.mark.parametrize("gone", ["left the org", "closed the account"])
def test_verify_when_the_binder_is_gone_names_the_org(stack, sim, user, gone):
    org = user.create_org("Acme 云")
    binder = new_user(stack.url, "billing")
    user.invite_and_join(org["id"], binder, "billing")
    inst = sim.instance()
    bind(stack, sim, inst, binder, org)
    if gone == "left the org":
        assert binder.post(f"/api/orgs/{org['id']}/leave").status_code == 200
    else:
        assert binder.post("/api/auth/close", {"password": PASSWORD}).status_code == 200
    r = requests.get(sim.sso_url(inst), allow_redirects=False)
    assert (r.status_code, title(r)) == (409, "请登录")
    assert f"组织：Acme 云（{org['id']}）" in r.text and 'href="/login"' in r.text
    assert "Set-Cookie" not in r.headers
    r = requests.get(sim.sso_url(inst), allow_redirects=False, headers={"Accept-Language": "en"})
    assert f"Organization: Acme 云 ({org['id']})" in r.text
    if gone == "closed the account":
        # A new account with the same e-mail, even in the org, is not the user who bound it.
        again = Api(stack.url)
        again.register(binder.email)
        user.invite_and_join(org["id"], again, "billing")
        r = requests.get(sim.sso_url(inst), allow_redirects=False)
        assert (r.status_code, title(r)) == (409, "请登录") and "Set-Cookie" not in r.headers
    assert count(stack, "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id "
                        f"WHERE u.email = '{binder.email}' AND s.kind = 'sso'") == 0


def test_verify_of_a_frozen_bound_instance_signs_in_where_billing_shows_the_suspension(stack, sim, user, bound):
    """The buyer whose instance 云市场 froze (unpaid bills) still gets in: the
    billing overview says the service is suspended and what to do."""
    inst, org = bound
    assert sim.spi("expiredInstance", inst)["status"] == 200
    browser = requests.Session()
    r = browser.get(sim.sso_url(inst), allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == f"{stack.url}/console/billing?org={org['id']}"
    overview = browser.get(f"{stack.url}/api/orgs/{org['id']}/billing").json()
    assert overview["status"] == "suspended"
    assert (overview["payment"]["marketplace"], overview["payment"]["subscription_status"]) == ("aliyun", "expired")
    assert rows(stack, "SELECT actor_user_id FROM events WHERE action = 'session.sso' "
                       f"AND org_id = '{org['id']}'") == [[str(user.user_id)]]


def test_verify_refuses_a_parameter_added_after_signing(stack, sim):
    """Every parameter of the link is signed, whatever its name: one added to a
    good link makes it invalid, and one 云市场 signed is accepted."""
    inst = sim.instance()
    r = requests.get(sim.sso_url(inst) + "&lang=en", allow_redirects=False)
    assert (r.status_code, title(r)) == (403, "链接无效") and "Set-Cookie" not in r.headers
    params = {"action": "verify", "instanceId": inst["instance_id"], "timeStamp": beijing_now(-60),
              "newParam": "1"}
    signed = dict(params, token=sim.token(params))
    url = f"{stack.url}/marketplace/aliyun/sso?" + urllib.parse.urlencode(signed, quote_via=urllib.parse.quote)
    r = requests.get(url.replace("&newParam=1", "&newParam=2"), allow_redirects=False)
    assert (r.status_code, title(r)) == (403, "链接无效")
    assert count(stack, "SELECT COUNT(*) FROM binding_attempts a JOIN subscriptions s ON s.id = a.subscription_id "
                        f"WHERE s.instance_id = '{inst['order_biz_id']}'") == 0
    r = requests.get(url, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == stack.url + "/bind"


# ----- configuration ---------------------------------------------------------------

def test_enabling_aliyun_needs_the_isv_key_and_product_code(stack):
    fcgi = binary("mpbind-fcgi")
    env = dict(os.environ, MPBIND_ALIYUN_ISV_KEY="", MPBIND_ALIYUN_PRODUCT_CODE="")
    r = subprocess.run([fcgi, "-c", stack.config_path, "--check-config"], capture_output=True, text=True, env=env)
    assert r.returncode == 1
    assert '"aliyun.isv_key": must be set when aliyun.enabled = yes' in r.stderr
    assert '"aliyun.product_code": must be set when aliyun.enabled = yes' in r.stderr
    r = subprocess.run([fcgi, "-c", stack.config_path, "--check-config"], capture_output=True, text=True,
                       env=dict(env, MPBIND_ALIYUN_ENABLED="no"))
    assert r.returncode == 0
