# SPDX-License-Identifier: MIT
"""AWS Marketplace binding end to end, through nginx, mpbind and the
simulator: landing (urlencoded or multipart), ResolveCustomer and its
failures, the wizard's context, confirming (and racing to confirm, and
unbinding meanwhile), resubscribing on an older listing, subscribe-fail, the
ticket's own expiry, the billing overview, unbinding and the control plane's
billing status."""

import concurrent.futures
import re
import secrets
import subprocess
import time

import pytest
import requests

from api import Api, error_code, new_user
from stack import binary
from tickets import forge_ticket


@pytest.fixture
def sim(stack):
    """The simulator's control API; the test fails on any protocol violation."""
    class Sim:
        url = stack.sim_url

        def __init__(self):
            self.since = requests.get(self.url + "/_sim/log?since=999999999").json()["last_seq"]

        def token(self, partition="aws-cn", **kw):
            r = requests.post(f"{self.url}/_sim/aws/{partition}/tokens", json=kw)
            assert r.status_code == 200, r.text
            return r.json()

        def calls(self, operation):
            entries = requests.get(f"{self.url}/_sim/log?since={self.since}&channel=aws.").json()["entries"]
            return [e for e in entries if e.get("operation") == operation]

        def violations(self):
            return requests.get(f"{self.url}/_sim/violations?since={self.since}").json()["violations"]

        def settings(self, **kw):
            requests.post(self.url + "/_sim/settings", json=kw).raise_for_status()

        def post(self, path, body=None):
            r = requests.post(self.url + path, json=body or {})
            assert r.status_code == 200, r.text
            return r.json()

        def subscribe(self, account, partition="aws-cn", **kw):
            """A subscription of account on the marketplace (nothing sent unless notify says so)
            and a registration token for it."""
            r = self.post(f"/_sim/aws/{partition}/subscriptions", {"account_id": account, "notify": "none", **kw})
            return r["subscription"], r["token"]

        def push(self, action, sub, partition="aws-cn"):
            """Signs and delivers one lifecycle message for sub; mpbind must take it."""
            r = self.post(f"/_sim/aws/{partition}/sns/push", {"action": action, "subscription_id": sub["id"]})
            assert [d["status"] for d in r["deliveries"]] == [200], r
            return r["messages"][0]["message_id"]

        def cancel(self, sub, partition="aws-cn"):
            """取消订阅: unsubscribe-pending then unsubscribe-success, both delivered before it returns."""
            r = self.post(f"/_sim/aws/{partition}/subscriptions/{sub['id']}/cancel",
                          {"pending_delay_seconds": 0, "success_delay_seconds": 0, "wait": True})
            assert [d["status"] for d in r["deliveries"]] == [200, 200], r

        def fault(self, fault, count, operation="ResolveCustomer", partition="aws-cn"):
            self.post("/_sim/faults", {"operation": operation, "fault": fault, "count": count,
                                       "partition": partition})

    s = Sim()
    yield s
    requests.post(s.url + "/_sim/faults/clear")
    assert s.violations() == []


def account_id():
    """A 12-digit AWS account of its own: SNS names a subscription by its customer identifier,
    which is the same for one account and product."""
    return "8" + "".join(secrets.choice("0123456789") for _ in range(11))


def land(client, stack, token, partition="aws-cn", **extra):
    """POSTs the token as a browser would; returns the response."""
    session = client.s if isinstance(client, Api) else client
    data = {"x-amzn-marketplace-token": token, **extra}
    return session.post(f"{stack.url}/marketplace/{partition}/landing", data=data, allow_redirects=False)


def count(stack, sql):
    return int(stack.sql(sql)[0][0])


def set_cookie(client, name, value):
    """Replaces every cookie called name in client's jar."""
    for c in list(client.s.cookies):
        if c.name == name:
            client.s.cookies.clear(c.domain, c.path, c.name)
    client.s.cookies.set(name, value)


def lead(r):
    m = re.search(r'<p class="lead">(.*?)</p>', r.text)
    return m.group(1) if m else ""


# ----- landing ---------------------------------------------------------------

def test_landing_resolves_the_token_and_redirects_to_the_wizard(stack, sim, user):
    tok = sim.token()
    r = land(user, stack, tok["token"])
    assert r.status_code == 303
    assert r.headers["Location"] == stack.url + "/bind"
    cookie = r.headers["Set-Cookie"]
    assert re.match(r"mpb_bind=[A-Za-z0-9_.-]+; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax$", cookie)
    assert tok["token"] not in cookie and tok["token"] not in r.headers["Location"]
    ctx = user.get("/api/binding").json()
    assert ctx["marketplace"] == "aws-cn" and ctx["account_id"] == tok["subscription"]["account_id"]
    assert ctx["signed_in"] is True and ctx["bound"] is None and ctx["orgs"] == []
    resolved = sim.calls("ResolveCustomer")
    assert len(resolved) == 1 and resolved[0]["checks"]["sigv4"] == "ok"
    row = stack.sql(f"SELECT marketplace, customer_aws_account_id, license_arn, product_code, status "
                    f"FROM subscriptions WHERE license_arn = '{tok['subscription']['license_arn']}'")
    assert row == [["aws-cn", tok["subscription"]["account_id"], tok["subscription"]["license_arn"],
                    "prodcn0mpbind", "pending"]]


def test_the_registration_token_never_reaches_a_log(stack, sim):
    tok = sim.token()["token"]
    land(requests.Session(), stack, tok)
    land(requests.Session(), stack, "not-a-token-" + tok[:10])
    for path in (stack.path("log", "mpbind.log"), stack.path("nginx", "logs", "access.log"),
                 stack.path("nginx", "logs", "error.log")):
        with open(path) as f:
            assert tok not in f.read()
    assert count(stack, f"SELECT COUNT(*) FROM subscriptions WHERE license_arn LIKE '%{tok[:12]}%'") == 0


def test_a_get_on_the_landing_url_says_to_start_from_the_marketplace(stack):
    for partition in ("aws-cn", "aws"):
        r = requests.get(f"{stack.url}/marketplace/{partition}/landing")
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
        assert "设置您的账户" in r.text
    r = requests.get(f"{stack.url}/marketplace/aws/landing", headers={"Accept-Language": "en"})
    assert "Set up your account" in r.text
    assert requests.get(f"{stack.url}/marketplace/azure/landing").status_code == 404


MP = "multipart/form-data; boundary=xyz"


@pytest.mark.parametrize("body,content_type,status", [
    ("", "application/x-www-form-urlencoded", 400),
    ("x-amzn-marketplace-token=", "application/x-www-form-urlencoded", 400),
    ("x-amzn-marketplace-token=" + "A" * 5000, "application/x-www-form-urlencoded", 400),
    ("x-amzn-marketplace-token=abc&x-amzn-marketplace-token=def", "application/x-www-form-urlencoded", 400),
    ("x-amzn-marketplace-token=%3Cscript%3E", "application/x-www-form-urlencoded", 400),
    ("x-amzn-marketplace-token=%zz", "application/x-www-form-urlencoded", 400),
    ('{"x-amzn-marketplace-token": "abc"}', "application/json", 415),
    ("x-amzn-marketplace-token=abc", "text/plain", 415),
    # multipart/form-data is taken too (aws.h), with the same rules and caps
    ('--xyz\r\nContent-Disposition: form-data; name="x-amzn-marketplace-token"\r\n\r\nabc\r\n--xyz--',
     "multipart/form-data", 400),                                          # no boundary
    ('--xyz\r\nContent-Disposition: form-data; name="x-amzn-marketplace-token"\r\n\r\nabc\r\n', MP, 400),
    ('--xyz\r\nContent-Disposition: form-data; name="x-amzn-marketplace-token"; filename="t.txt"\r\n\r\n'
     'abc\r\n--xyz--', MP, 400),                                            # a file
    ('--xyz\r\nContent-Disposition: form-data; name="x-amzn-marketplace-token"\r\n\r\n\r\n--xyz--', MP, 400),
    ('--xyz\r\nContent-Disposition: form-data; name="x-amzn-marketplace-token"\r\n\r\n' + "A" * 5000 +
     '\r\n--xyz--', MP, 400),
    ('--xyz\r\nContent-Disposition: form-data; name="x-amzn-marketplace-token"\r\n\r\nabc\r\n'
     '--xyz\r\nContent-Disposition: form-data; name="x-amzn-marketplace-token"\r\n\r\ndef\r\n--xyz--', MP, 400),
    ('--xyz\r\nContent-Disposition: form-data; name="x-amzn-marketplace-token"\r\n\r\n<script>\r\n--xyz--', MP, 400),
    ("".join(f'--xyz\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n1\r\n' for i in range(65)) + "--xyz--",
     MP, 400),                                                               # max_fields is 64
])
def test_bad_landing_forms_get_a_page_and_change_nothing(stack, sim, body, content_type, status):
    before = count(stack, "SELECT COUNT(*) FROM subscriptions")
    r = requests.post(f"{stack.url}/marketplace/aws-cn/landing", data=body,
                      headers={"Content-Type": content_type}, allow_redirects=False)
    assert r.status_code == status
    assert r.headers["Content-Type"].startswith("text/html") and "<h1>" in r.text
    assert "mpb_bind" not in r.headers.get("Set-Cookie", "")
    assert sim.calls("ResolveCustomer") == []
    assert count(stack, "SELECT COUNT(*) FROM subscriptions") == before


@pytest.mark.parametrize("behaviour,status,words,attempts", [
    ("invalid", 400, "设置您的账户", 1),
    ("expired", 400, "设置您的账户", 1),
    ("error500:9", 503, "暂时没有响应", 4),
    ("malformed", 502, "无法识别", 1),
    ("other_product", 400, "不属于本产品", 1),
])
def test_resolve_failures_get_a_clear_page(stack, sim, behaviour, status, words, attempts):
    before = count(stack, "SELECT COUNT(*) FROM subscriptions")
    tok = sim.token(behaviour=behaviour)["token"]
    r = land(requests.Session(), stack, tok)
    assert r.status_code == status and words in lead(r)
    assert 'href="http://localhost:' in r.text    # back to the listing
    assert len(sim.calls("ResolveCustomer")) == attempts
    assert count(stack, "SELECT COUNT(*) FROM subscriptions") == before


def test_a_multipart_landing_is_taken_like_a_form(stack, sim, user):
    """protocols/aws-marketplace.md §1: the fulfillment POST is a form; multipart is accepted
    defensively. A browser's multipart body (requests builds one the same way) lands as well."""
    tok = sim.token(trial=True)
    fields = {"x-amzn-marketplace-token": (None, tok["token"]), "x-amzn-marketplace-offer-type": (None, "free-trial")}
    r = user.s.post(f"{stack.url}/marketplace/aws-cn/landing", files=fields, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == stack.url + "/bind"
    assert r.request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert user.get("/api/binding").json()["account_id"] == tok["subscription"]["account_id"]
    assert stack.sql(f"SELECT free_trial FROM subscriptions "
                     f"WHERE license_arn = '{tok['subscription']['license_arn']}'") == [["1"]]
    resolved = sim.calls("ResolveCustomer")
    assert len(resolved) == 1 and resolved[0]["request"]["body"] == {"RegistrationToken": tok["token"]}


def test_multipart_is_for_the_landing_only(stack):
    r = requests.post(f"{stack.url}/marketplace/aliyun/spi", files={"action": (None, "createInstance")})
    assert r.status_code == 415 and error_code(r) == "unsupported_media_type"


@pytest.mark.parametrize("offer", ["paid", "Free-Trial", "free-trial ", "<b>\x01",
                                   "free-trial&x-amzn-marketplace-offer-type=paid"])
def test_an_unknown_offer_type_lands_as_no_free_trial(stack, sim, offer):
    """Only x-amzn-marketplace-offer-type=free-trial means a free trial; any other value (or a
    repeated field) is recorded as not one and never turns the buyer away."""
    tok = sim.token()
    body = "x-amzn-marketplace-token=" + requests.utils.quote(tok["token"], safe="") + \
        "&x-amzn-marketplace-offer-type=" + requests.utils.quote(offer, safe="&=")
    r = requests.post(f"{stack.url}/marketplace/aws-cn/landing", data=body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, allow_redirects=False)
    assert r.status_code == 303
    assert stack.sql(f"SELECT free_trial FROM subscriptions "
                     f"WHERE license_arn = '{tok['subscription']['license_arn']}'") == [["0"]]


def test_throttling_is_retried_with_backoff(stack, sim):
    tok = sim.token(behaviour="throttle:2")
    started = time.monotonic()
    assert land(requests.Session(), stack, tok["token"]).status_code == 303
    calls = sim.calls("ResolveCustomer")
    assert [c["status"] for c in calls] == [400, 400, 200]
    assert time.monotonic() - started >= 0.6     # 200 ms, then 400 ms


@pytest.mark.parametrize("fault,attempts", [("disabled", 1), ("throttle", 4)])
def test_a_disabled_or_always_throttled_marketplace_gets_a_503_page(stack, sim, fault, attempts):
    """DisabledApiException is not retried; throttling is retried (http.retries = 3) and, when it
    never clears, the buyer gets the same 503 page: try 设置您的账户 again shortly."""
    before = count(stack, "SELECT COUNT(*) FROM subscriptions")
    sim.fault(fault, 9)
    r = land(requests.Session(), stack, sim.token()["token"])
    assert r.status_code == 503 and r.headers["Content-Type"].startswith("text/html")
    assert "暂时没有响应" in lead(r) and "设置您的账户" in lead(r)
    assert "mpb_bind" not in r.headers.get("Set-Cookie", "")
    calls = sim.calls("ResolveCustomer")
    assert len(calls) == attempts
    assert {c["error"] for c in calls} == {"DisabledApiException" if fault == "disabled" else "ThrottlingException"}
    assert count(stack, "SELECT COUNT(*) FROM subscriptions") == before


def test_a_marketplace_that_does_not_answer_gets_a_503_page(stack, sim):
    before = count(stack, "SELECT COUNT(*) FROM subscriptions")
    sim.settings(fault_timeout_seconds=6)
    try:
        tok = sim.token(behaviour="timeout")["token"]
        started = time.monotonic()
        r = land(requests.Session(), stack, tok)
        assert r.status_code == 503 and "设置您的账户" in lead(r)
        assert time.monotonic() - started < 5     # http.timeout is 3 s in the tests; no retry
    finally:
        sim.settings(fault_timeout_seconds=30)
    assert len(sim.calls("ResolveCustomer")) <= 1
    assert count(stack, "SELECT COUNT(*) FROM subscriptions") == before


def test_a_legacy_listing_is_keyed_by_customer_identifier(stack, sim, user):
    """An older listing names the buyer only by CustomerIdentifier: it is stored as such, never as
    the AWS account ID, and every answer says which one it is."""
    tok = sim.token(behaviour="legacy", account_id=account_id())
    assert land(user, stack, tok["token"]).status_code == 303
    cid = tok["subscription"]["customer_identifier"]
    rows = stack.sql(f"SELECT customer_identifier, product_code, account_id, customer_aws_account_id "
                     f"FROM subscriptions WHERE customer_identifier = '{cid}' AND license_arn IS NULL")
    assert rows == [[cid, "prodcn0mpbind", "NULL", "NULL"]]
    ctx = user.get("/api/binding").json()
    assert (ctx["account_id"], ctx["customer_identifier"]) == (None, cid)
    org = user.create_org("Legacy")
    r = user.post("/api/binding/confirm", {"org_id": org["id"]})
    assert r.status_code == 200
    assert (r.json()["binding"]["account_id"], r.json()["binding"]["customer_identifier"]) == (None, cid)
    payment = user.get(f"/api/orgs/{org['id']}/billing").json()["payment"]
    assert (payment["account_id"], payment["customer_identifier"]) == (None, cid)
    status = internal(stack, f"/internal/orgs/{org['id']}/billing-status").json()
    assert (status["account_id"], status["customer_identifier"]) == (None, cid)


def test_landing_twice_finds_the_same_subscription(stack, sim):
    tok = sim.token()
    first, second = requests.Session(), requests.Session()
    assert land(first, stack, tok["token"]).status_code == 303
    assert land(second, stack, tok["token"]).status_code == 303
    arn = tok["subscription"]["license_arn"]
    assert count(stack, f"SELECT COUNT(*) FROM subscriptions WHERE license_arn = '{arn}'") == 1
    assert count(stack, f"SELECT COUNT(*) FROM binding_attempts a JOIN subscriptions s ON s.id = a.subscription_id "
                        f"WHERE s.license_arn = '{arn}'") == 2


def test_a_free_trial_is_recorded(stack, sim):
    tok = sim.token(trial=True)
    land(requests.Session(), stack, tok["token"], **{"x-amzn-marketplace-offer-type": "free-trial"})
    assert stack.sql(f"SELECT free_trial FROM subscriptions WHERE license_arn = '{tok['subscription']['license_arn']}'") == [["1"]]


def test_the_global_partition_uses_its_own_endpoint_and_region(stack, sim, user):
    tok = sim.token("aws")
    assert land(user, stack, tok["token"], "aws").status_code == 303
    call = sim.calls("ResolveCustomer")[0]
    assert "/us-east-1/aws-marketplace/aws4_request" in call["request"]["headers"]["Authorization"]
    assert user.get("/api/binding").json()["marketplace"] == "aws"


@pytest.mark.parametrize("status", ["failed", "ended"])
def test_a_failed_or_ended_agreement_cannot_land_again(stack, sim, status):
    """A LicenseArn names one agreement: once it failed or ended, landing with it again (the token
    lives four hours) is refused with a page saying to subscribe again, which gives a new license.
    (An older listing's key is reused by a resubscription: see the resubscribe tests below.)"""
    tok = sim.token()
    land(requests.Session(), stack, tok["token"])
    arn = tok["subscription"]["license_arn"]
    stack.sql(f"UPDATE subscriptions SET status = '{status}' WHERE license_arn = '{arn}'")
    r = land(requests.Session(), stack, tok["token"])
    assert r.status_code == 409 and "重新订阅" in lead(r)
    assert "mpb_bind" not in r.headers.get("Set-Cookie", "")
    assert count(stack, f"SELECT COUNT(*) FROM subscriptions WHERE license_arn = '{arn}'") == 1


# ----- the wizard's context --------------------------------------------------

def test_the_context_needs_a_valid_ticket(stack, sim, user):
    r = user.get("/api/binding")
    assert r.status_code == 404 and error_code(r) == "binding_not_found"
    land(user, stack, sim.token()["token"])
    good = user.s.cookies["mpb_bind"]
    payload, sig = good.split(".")
    for forged in (payload + "." + sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB"), payload, "x.y", "A" * 900):
        set_cookie(user, "mpb_bind", forged)
        r = user.get("/api/binding")
        assert r.status_code == 400 and error_code(r) == "ticket_invalid"
        assert user.post("/api/binding/confirm", {"org_id": "org-" + "a" * 22}).status_code == 400
    set_cookie(user, "mpb_bind", good)
    assert user.get("/api/binding").status_code == 200
    stack.sql("UPDATE binding_attempts SET expires_at = NOW(6) - INTERVAL 1 SECOND "
              "WHERE created_at > NOW(6) - INTERVAL 1 MINUTE")
    r = user.get("/api/binding")
    assert r.status_code == 410 and error_code(r) == "ticket_expired"


def test_the_context_lists_every_org_with_its_tag(stack, sim, user):
    mine = user.create_org("Eligible")
    bound = user.create_org("Already bound")
    other = new_user(stack.url)
    theirs = other.create_org("Member only")
    other.invite_and_join(theirs["id"], user, "member")
    # bind "Already bound" first
    land(user, stack, sim.token()["token"])
    assert user.post("/api/binding/confirm", {"org_id": bound["id"]}).status_code == 200
    land(user, stack, sim.token()["token"])
    orgs = {o["name"]: o for o in user.get("/api/binding").json()["orgs"]}
    assert (orgs["Eligible"]["eligible"], orgs["Eligible"]["reason"]) == (True, None)
    assert (orgs["Already bound"]["eligible"], orgs["Already bound"]["reason"]) == (False, "org_bound")
    assert (orgs["Member only"]["eligible"], orgs["Member only"]["reason"]) == (False, "insufficient_role")
    assert orgs["Member only"]["member_count"] == 2 and orgs["Member only"]["role"] == "member"
    assert orgs["Eligible"]["id"] == mine["id"]


def test_a_signed_out_visitor_sees_the_attempt_but_no_orgs(stack, sim):
    s = requests.Session()
    land(s, stack, sim.token()["token"])
    ctx = s.get(stack.url + "/api/binding").json()
    assert ctx["signed_in"] is False and ctx["orgs"] is None and ctx["email"] is None
    r = s.post(stack.url + "/api/binding/confirm", json={"org_id": "org-" + "a" * 22})
    assert r.status_code == 401


# ----- confirming -------------------------------------------------------------

def test_confirm_binds_and_the_overview_shows_it(stack, sim, user):
    org = user.create_org("Zilliz")
    tok = sim.token()
    land(user, stack, tok["token"])
    r = user.post("/api/binding/confirm", {"org_id": org["id"]})
    assert r.status_code == 200
    assert r.json()["binding"] == {"org_id": org["id"], "org_name": "Zilliz", "marketplace": "aws-cn",
                                   "account_id": tok["subscription"]["account_id"],
                                   "customer_identifier": tok["subscription"]["customer_identifier"]}
    assert "mpb_bind=; " in r.headers["Set-Cookie"] and "Max-Age=0" in r.headers["Set-Cookie"]
    o = user.get(f"/api/orgs/{org['id']}/billing").json()
    assert o["status"] == "marketplace" and o["can_manage"] is True
    assert o["payment"]["marketplace"] == "aws-cn"
    assert o["payment"]["account_id"] == tok["subscription"]["account_id"]
    assert o["payment"]["bound_by"] == user.email and o["payment"]["bill_url"] is None
    assert re.fullmatch(r"\d{4}-\d{2}-01", o["current_bill"]["period_start"])
    assert o["current_bill"]["next_bill_date"] == o["current_bill"]["period_end"]
    assert o["current_bill"]["amount_due_micros"] == 0 and o["current_bill"]["currency"] == "CNY"
    events = user.get(f"/api/orgs/{org['id']}/events").json()["events"]
    assert events[0]["action"] == "binding.created"
    assert events[0]["detail"]["account_id"] == tok["subscription"]["account_id"]


def test_confirm_needs_the_csrf_token(stack, sim, user):
    org = user.create_org("CSRF")
    land(user, stack, sim.token()["token"])
    r = user.post("/api/binding/confirm", {"org_id": org["id"]}, csrf=False)
    assert r.status_code == 403
    assert count(stack, f"SELECT COUNT(*) FROM bindings WHERE org_id = '{org['id']}'") == 0


def test_confirm_refuses_orgs_the_user_may_not_bind(stack, sim, user):
    owner = new_user(stack.url)
    shared = owner.create_org("Shared")
    owner.invite_and_join(shared["id"], user, "member")
    stranger_org = new_user(stack.url).create_org("Stranger")
    land(user, stack, sim.token()["token"])
    r = user.post("/api/binding/confirm", {"org_id": shared["id"]})
    assert r.status_code == 403 and error_code(r) == "insufficient_role"
    r = user.post("/api/binding/confirm", {"org_id": stranger_org["id"]})
    assert r.status_code == 404
    r = user.post("/api/binding/confirm", {"org_id": "org-zzzzzzzzzzzzzzzzzzzzzz"})
    assert r.status_code == 404
    r = user.post("/api/binding/confirm", {"org_id": "NOT AN ID"})
    assert r.status_code == 400
    assert count(stack, f"SELECT COUNT(*) FROM bindings WHERE org_id IN ('{shared['id']}', '{stranger_org['id']}')") == 0
    # the attempt is still usable after refusals
    mine = user.create_org("Mine")
    assert user.post("/api/binding/confirm", {"org_id": mine["id"]}).status_code == 200


def test_a_role_lost_meanwhile_is_caught_at_confirm(stack, sim, user):
    owner = new_user(stack.url)
    org = owner.create_org("Demoted")
    owner.invite_and_join(org["id"], user, "billing")
    land(user, stack, sim.token()["token"])
    assert user.get("/api/binding").json()["orgs"][0]["eligible"] is True
    owner.put(f"/api/orgs/{org['id']}/members/{user.user_id}", {"role": "member"})
    r = user.post("/api/binding/confirm", {"org_id": org["id"]})
    assert r.status_code == 403 and error_code(r) == "insufficient_role"


def test_an_attempt_is_used_once(stack, sim, user):
    a, b = user.create_org("A"), user.create_org("B")
    land(user, stack, sim.token()["token"])
    cookie = user.s.cookies["mpb_bind"]
    assert user.post("/api/binding/confirm", {"org_id": a["id"]}).status_code == 200
    set_cookie(user, "mpb_bind", cookie)
    r = user.post("/api/binding/confirm", {"org_id": b["id"]})
    assert r.status_code == 410 and error_code(r) == "binding_used"


def test_an_org_or_subscription_bound_meanwhile_is_refused(stack, sim, user):
    org = user.create_org("Taken")
    first, second = sim.token(), sim.token()
    land(user, stack, first["token"])
    assert user.post("/api/binding/confirm", {"org_id": org["id"]}).status_code == 200
    land(user, stack, second["token"])
    r = user.post("/api/binding/confirm", {"org_id": org["id"]})
    assert r.status_code == 409 and error_code(r) == "org_already_bound"
    land(user, stack, first["token"])
    other = user.create_org("Other")
    r = user.post("/api/binding/confirm", {"org_id": other["id"]})
    assert r.status_code == 409 and error_code(r) == "subscription_already_bound"


def test_an_inactive_subscription_cannot_be_bound(stack, sim, user):
    org = user.create_org("Inactive")
    tok = sim.token()
    land(user, stack, tok["token"])
    stack.sql(f"UPDATE subscriptions SET status = 'unsubscribe_pending' WHERE license_arn = '{tok['subscription']['license_arn']}'")
    r = user.post("/api/binding/confirm", {"org_id": org["id"]})
    assert r.status_code == 409 and error_code(r) == "subscription_inactive"


def test_landing_on_a_bound_subscription_names_its_org(stack, sim, user):
    org = user.create_org("Holder")
    tok = sim.token()
    land(user, stack, tok["token"])
    user.post("/api/binding/confirm", {"org_id": org["id"]})
    land(user, stack, tok["token"])
    assert user.get("/api/binding").json()["bound"] == {"org_id": org["id"], "org_name": "Holder", "member": True}
    stranger = new_user(stack.url)
    land(stranger, stack, tok["token"])
    assert stranger.get("/api/binding").json()["bound"] == {"org_id": org["id"], "org_name": "Holder", "member": False}
    anonymous = requests.Session()
    land(anonymous, stack, tok["token"])
    assert anonymous.get(stack.url + "/api/binding").json()["bound"]["member"] is False


def _sessions_for(stack, user, n):
    """n clients sharing user's session, each with its own cookie jar."""
    clients = []
    for _ in range(n):
        c = Api(stack.url)
        c.s.cookies.set("mpb_session", user.s.cookies["mpb_session"])
        c.csrf = user.csrf
        clients.append(c)
    return clients


def test_fifty_confirms_for_one_org_bind_exactly_one_subscription(stack, sim, user):
    org = user.create_org("Race one org")
    clients = _sessions_for(stack, user, 50)
    for c in clients:
        assert land(c, stack, sim.token()["token"]).status_code == 303
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        codes = list(pool.map(lambda c: c.post("/api/binding/confirm", {"org_id": org["id"]}).status_code, clients))
    assert codes.count(200) == 1 and codes.count(409) == 49, codes
    assert count(stack, f"SELECT COUNT(*) FROM bindings WHERE org_id = '{org['id']}'") == 1


def test_fifty_confirms_for_one_subscription_bind_exactly_one_org(stack, sim, user):
    orgs = [user.create_org(f"Race {i}") for i in range(50)]
    tok = sim.token()["token"]
    clients = _sessions_for(stack, user, 50)
    for c in clients:
        assert land(c, stack, tok).status_code == 303
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        codes = list(pool.map(lambda co: co[0].post("/api/binding/confirm", {"org_id": co[1]["id"]}).status_code,
                              zip(clients, orgs)))
    assert codes.count(200) == 1 and codes.count(409) == 49, codes
    ids = "','".join(o["id"] for o in orgs)
    assert count(stack, f"SELECT COUNT(*) FROM bindings WHERE org_id IN ('{ids}')") == 1


def deadlocks(stack):
    return int(stack.sql("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'")[0][1])


def test_unbinding_while_confirming_keeps_one_lock_order(stack, sim, user):
    """db.h's lock order (subscription, org, membership, binding) holds for unbinding too. Each
    round unbinds org O (bound to A) while 确认绑定 binds B to O and A to O2, all at once. Nothing
    waits in a circle (InnoDB counts no deadlock, so none needed a rerun), nothing answers 503,
    and each end state is one the requests could have produced one after another."""
    rounds, before = 24, deadlocks(stack)
    setups = []
    for i in range(rounds):
        org, org2 = user.create_org(f"Unbind race {i}"), user.create_org(f"Unbind race {i} other")
        a = bind(stack, sim, user, org["id"])
        to_org, to_org2 = _sessions_for(stack, user, 2)
        assert land(to_org, stack, sim.token()["token"]).status_code == 303
        assert land(to_org2, stack, a["token"]).status_code == 303
        setups.append((org, org2, a, to_org, to_org2))

    def round_(setup):
        org, org2, _, to_org, to_org2 = setup
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            unbind = pool.submit(user.post, f"/api/orgs/{org['id']}/billing/unbind")
            confirm = pool.submit(to_org.post, "/api/binding/confirm", {"org_id": org["id"]})
            confirm2 = pool.submit(to_org2.post, "/api/binding/confirm", {"org_id": org2["id"]})
            return unbind.result(), confirm.result(), confirm2.result()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(round_, setups))
    for (org, org2, a, _, _), (unbind, confirm, confirm2) in zip(setups, results):
        assert unbind.status_code == 200, unbind.text
        assert (confirm.status_code, error_code(confirm)) in ((200, None), (409, "org_already_bound")), confirm.text
        assert (confirm2.status_code, error_code(confirm2)) in ((200, None), (409, "subscription_already_bound")), \
            confirm2.text
        o = user.get(f"/api/orgs/{org['id']}/billing").json()
        assert o["status"] == ("marketplace" if confirm.status_code == 200 else "grace")
        assert (o["payment"] is not None) == (confirm.status_code == 200)
        o2 = user.get(f"/api/orgs/{org2['id']}/billing").json()
        assert (o2["status"], o2["payment"] and o2["payment"]["account_id"]) == \
            (("marketplace", a["subscription"]["account_id"]) if confirm2.status_code == 200 else ("none", None))
        arn = a["subscription"]["license_arn"]
        assert stack.sql(f"SELECT b.org_id, b.end_reason FROM bindings b JOIN subscriptions s ON s.id = b.subscription_id "
                         f"WHERE s.license_arn = '{arn}' ORDER BY b.id") == \
            [[org["id"], "unbound"]] + ([[org2["id"], "NULL"]] if confirm2.status_code == 200 else [])
    assert deadlocks(stack) == before


def test_mpbindctl_unbind_ends_the_binding_into_grace(stack, sim, user):
    org = user.create_org("Operator unbind")
    bind(stack, sim, user, org["id"])
    ctl = [binary("mpbindctl"), "-c", stack.config_path]
    r = subprocess.run(ctl + ["unbind", org["id"]], capture_output=True, text=True)
    assert r.returncode == 0 and "grace window has started" in r.stdout, r.stderr
    assert stack.sql(f"SELECT end_reason FROM bindings WHERE org_id = '{org['id']}'") == [["unbound by an operator"]]
    assert user.get(f"/api/orgs/{org['id']}/billing").json()["status"] == "grace"
    r = subprocess.run(ctl + ["unbind", org["id"]], capture_output=True, text=True)
    assert r.returncode == 1 and "no marketplace subscription bound" in r.stderr
    r = subprocess.run(ctl + ["unbind", "org-zzzzzzzzzzzzzzzzzzzzzz"], capture_output=True, text=True)
    assert r.returncode == 1 and "not found" in r.stderr.lower()


def test_a_binding_the_unique_keys_catch_is_named_for_what_was_taken(stack, sim, user):
    """The unique keys on active bindings back the locks up. When they catch a binding the locks
    did not, the error names what was taken. A trigger stands in for a binder that slipped in
    between the checks and the insert: it binds the same subscription to another org inside the
    confirming transaction (during a switch, when binding.replaced is recorded)."""
    org, other = user.create_org("Switching"), user.create_org("Slipped in")
    a = bind(stack, sim, user, org["id"])
    stack.sql(f"UPDATE subscriptions SET status = 'unsubscribe_pending' "
              f"WHERE license_arn = '{a['subscription']['license_arn']}'")
    b = sim.token()
    land(user, stack, b["token"])
    sub_b = stack.sql(f"SELECT id FROM subscriptions WHERE license_arn = '{b['subscription']['license_arn']}'")[0][0]
    trigger = "mpbind_test_slipped_in_" + secrets.token_hex(4)
    stack.sql(f"CREATE TRIGGER {trigger} AFTER INSERT ON events FOR EACH ROW "
              f"INSERT INTO bindings (org_id, subscription_id, bound_at, starts_at) "
              f"SELECT '{other['id']}', {sub_b}, NOW(6), NOW(6) FROM DUAL "
              f"WHERE NEW.org_id = '{org['id']}' AND NEW.action = 'binding.replaced'")
    try:
        r = user.post("/api/binding/confirm", {"org_id": org["id"]})
    finally:
        stack.sql(f"DROP TRIGGER {trigger}")
    assert r.status_code == 409 and error_code(r) == "subscription_already_bound"
    assert count(stack, f"SELECT COUNT(*) FROM bindings WHERE subscription_id = {sub_b}") == 0
    assert stack.sql(f"SELECT ended_at FROM bindings WHERE org_id = '{org['id']}'") == [["NULL"]]


# ----- resubscribing (older listings), subscribe-fail --------------------------

def resubscribed(stack, sim, user, org_id):
    """An older (legacy) listing: account subscribes, binds org_id, cancels (unsubscribe-success
    arrives), then subscribes again with the same account. Returns (old, new) marketplace
    subscriptions and the new registration token."""
    account = account_id()
    old, token = sim.subscribe(account, style="legacy")
    assert land(user, stack, token).status_code == 303
    assert user.post("/api/binding/confirm", {"org_id": org_id}).status_code == 200
    sim.push("subscribe-success", old)
    sim.cancel(old)
    assert stack.sql(f"SELECT status FROM subscriptions WHERE customer_identifier = '{old['customer_identifier']}'") \
        == [["ended"]]
    assert user.get(f"/api/orgs/{org_id}/billing").json()["status"] == "grace"
    new, token = sim.subscribe(account, style="legacy")
    assert new["id"] != old["id"] and new["customer_identifier"] == old["customer_identifier"]
    return old, new, token


@pytest.mark.parametrize("order", ["landing_first", "notification_first"])
def test_a_legacy_buyer_who_resubscribes_binds_again(stack, sim, user, order):
    """The older listing's key (CustomerIdentifier + ProductCode) comes back when the same account
    subscribes again. The ended subscription does not block it: the landing makes a fresh
    subscription, 确认绑定 works, and subscribe-success activates the fresh one in either order;
    the ended one keeps its binding as history."""
    org = user.create_org("Resubscribed " + order)
    old, new, token = resubscribed(stack, sim, user, org["id"])
    cid = new["customer_identifier"]
    if order == "notification_first":
        mid = sim.push("subscribe-success", new)
        assert stack.sql(f"SELECT state FROM inbox WHERE message_id = '{mid}'") == [["unmatched"]]
    r = land(user, stack, token)
    assert r.status_code == 303 and r.headers["Location"] == stack.url + "/bind"
    ctx = user.get("/api/binding").json()
    assert ctx["bound"] is None and (ctx["account_id"], ctx["customer_identifier"]) == (None, cid)
    assert [o["eligible"] for o in ctx["orgs"] if o["id"] == org["id"]] == [True]
    r = user.post("/api/binding/confirm", {"org_id": org["id"]})
    assert r.status_code == 200, r.text
    if order == "landing_first":
        assert stack.sql(f"SELECT status FROM subscriptions WHERE customer_identifier = '{cid}' "
                         f"ORDER BY id") == [["ended"], ["pending"]]
        mid = sim.push("subscribe-success", new)
    assert stack.sql(f"SELECT state FROM inbox WHERE message_id = '{mid}'") == [["applied"]]
    rows = stack.sql(f"SELECT s.status, b.ended_at IS NULL, b.end_reason FROM subscriptions s "
                     f"JOIN bindings b ON b.subscription_id = s.id WHERE s.customer_identifier = '{cid}' ORDER BY s.id")
    assert rows == [["ended", "0", "unsubscribed"], ["active", "1", "NULL"]]
    o = user.get(f"/api/orgs/{org['id']}/billing").json()
    assert o["status"] == "marketplace" and o["grace_deadline"] is None
    assert (o["payment"]["account_id"], o["payment"]["customer_identifier"]) == (None, cid)
    assert o["payment"]["subscription_status"] == "active"


def test_a_late_message_of_the_ended_agreement_never_touches_the_new_one(stack, sim, user):
    """After a legacy resubscription both agreements share the customer identifier. A message of
    the ended agreement that comes late (older than its unsubscribe-success) neither ends nor
    activates the fresh subscription, whenever it arrives."""
    org = user.create_org("Late messages")
    account = account_id()
    old, token = sim.subscribe(account, style="legacy")
    land(user, stack, token)
    held = sim.post("/_sim/aws/aws-cn/sns/push", {"messages": [
        {"action": "subscribe-success", "subscription_id": old["id"]},
        {"action": "unsubscribe-pending", "subscription_id": old["id"]}], "deliver": False})
    late_success, late_pending = (m["message_id"] for m in held["messages"])
    sim.push("unsubscribe-success", old)
    new, token = sim.subscribe(account, style="legacy")
    sim.post("/_sim/aws/aws-cn/sns/deliver", {"message_ids": [late_success]})   # before the landing
    land(user, stack, token)
    cid = new["customer_identifier"]
    assert stack.sql(f"SELECT status FROM subscriptions WHERE customer_identifier = '{cid}' ORDER BY id") == \
        [["ended"], ["pending"]]
    assert stack.sql(f"SELECT state FROM inbox WHERE message_id = '{late_success}'") == [["stale"]]
    sim.post("/_sim/aws/aws-cn/sns/deliver", {"message_ids": [late_pending]})   # after it
    assert stack.sql(f"SELECT state FROM inbox WHERE message_id = '{late_pending}'") == [["stale"]]
    assert user.post("/api/binding/confirm", {"org_id": org["id"]}).status_code == 200
    sim.push("subscribe-success", new)
    assert stack.sql(f"SELECT status FROM subscriptions WHERE customer_identifier = '{cid}' ORDER BY id") == \
        [["ended"], ["active"]]


def test_resubscribing_before_unsubscribe_success_keeps_the_same_subscription(stack, sim, user):
    """AWS's edge case: unsubscribe and subscribe again at once, before unsubscribe-success; AWS
    then sends subscribe-success and no unsubscribe-success. The one subscription (legacy key)
    stays, becomes active again and keeps its binding; landing again finds it bound."""
    org = user.create_org("Changed my mind")
    account = account_id()
    sub, token = sim.subscribe(account, style="legacy")
    land(user, stack, token)
    assert user.post("/api/binding/confirm", {"org_id": org["id"]}).status_code == 200
    sim.push("subscribe-success", sub)
    sim.push("unsubscribe-pending", sub)
    again, token = sim.subscribe(account, style="legacy", reuse=True, notify="now")
    assert again["id"] == sub["id"] and again["status"] == "active"
    cid = sub["customer_identifier"]
    assert stack.sql(f"SELECT status FROM subscriptions WHERE customer_identifier = '{cid}'") == [["active"]]
    land(user, stack, token)
    assert user.get("/api/binding").json()["bound"] == {"org_id": org["id"], "org_name": "Changed my mind",
                                                        "member": True}
    o = user.get(f"/api/orgs/{org['id']}/billing").json()
    assert o["status"] == "marketplace" and o["payment"]["subscription_status"] == "active"


def test_subscribe_fail_before_confirm_means_it_cannot_be_bound(stack, sim, user):
    org = user.create_org("Payment failed")
    sub, token = sim.subscribe(account_id())
    land(user, stack, token)
    sim.push("subscribe-fail", sub)
    r = user.post("/api/binding/confirm", {"org_id": org["id"]})
    assert r.status_code == 409 and error_code(r) == "subscription_inactive"
    r = land(user, stack, token)
    assert r.status_code == 409 and "重新订阅" in lead(r)
    assert count(stack, f"SELECT COUNT(*) FROM bindings WHERE org_id = '{org['id']}'") == 0
    assert user.get(f"/api/orgs/{org['id']}/billing").json()["status"] == "none"


def test_subscribe_fail_on_a_bound_subscription_ends_it_and_it_is_never_metered(stack, sim, user):
    """Decision (notify.h): subscribe-fail on a bound subscription ends its binding (reason
    subscribe_failed) and the org enters its grace window, as after unsubscribe-success; hours the
    failed subscription was bound for are never sent to AWS. An org bound to a live subscription
    over the same hours is metered, which shows mpbind-meterd did its passes meanwhile."""
    hour = int(time.time()) // 3600 * 3600
    if hour + 3600 - time.time() < 90:
        time.sleep(hour + 3600 - time.time() + 5)    # keep the hours counted clear of the hour's end
        hour += 3600
    failed_org, live_org = user.create_org("Failed payer"), user.create_org("Live payer")
    failed, token = sim.subscribe(account_id())
    land(user, stack, token)
    assert user.post("/api/binding/confirm", {"org_id": failed_org["id"]}).status_code == 200
    live, token = sim.subscribe(account_id(), notify="now")
    land(user, stack, token)
    assert user.post("/api/binding/confirm", {"org_id": live_org["id"]}).status_code == 200
    for org in (failed_org, live_org):
        stack.sql(f"UPDATE bindings SET starts_at = FROM_UNIXTIME({hour - 3 * 3600}), bound_at = starts_at "
                  f"WHERE org_id = '{org['id']}'")
    sim.push("subscribe-fail", failed)
    assert stack.sql(f"SELECT end_reason FROM bindings WHERE org_id = '{failed_org['id']}'") == [["subscribe_failed"]]
    o = user.get(f"/api/orgs/{failed_org['id']}/billing").json()
    assert o["status"] == "grace" and o["payment"] is None
    records = [{"id": "u-" + secrets.token_hex(8), "org_id": org["id"], "cloud": "aws", "region": "cn-northwest-1",
                "dimension": "compute", "quantity": "100",
                "start": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(hour - 2 * 3600 + 60)),
                "end": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(hour - 2 * 3600 + 120))}
               for org in (failed_org, live_org)]
    r = requests.post(stack.url + "/internal/usage", json={"records": records},
                      headers={"Authorization": "Bearer " + stack.internal_token})
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text

    def accepted(sub):
        rows = requests.get(f"{stack.sim_url}/_sim/aws/aws-cn/metering").json()["accepted"]
        return [a for a in rows if a["license_arn"] == sub["license_arn"] or
                a["customer_identifier"] == sub["customer_identifier"]]
    deadline = time.time() + 30
    while not accepted(live) and time.time() < deadline:
        time.sleep(0.3)
    assert accepted(live), "the live org's hour was never sent"
    time.sleep(2)     # a few more mpbind-meterd passes
    assert accepted(failed) == []
    ledger = stack.sql(f"SELECT l.state FROM ledger l JOIN subscriptions s ON s.id = l.subscription_id "
                       f"WHERE s.license_arn = '{failed['license_arn']}'")
    assert all(state == "pending" for (state,) in ledger), ledger


# ----- the ticket's own expiry ----------------------------------------------------

def test_a_ticket_past_its_own_expiry_is_refused(stack, sim, user):
    """The signed ticket carries its own expiry, checked before the attempt's: a ticket signed with
    our key that has expired gets ticket_expired (the wizard's 绑定已过期 page), though its attempt
    is still live; nothing is bound."""
    org = user.create_org("Late ticket")
    land(user, stack, sim.token()["token"])
    good = user.s.cookies["mpb_bind"]
    same = forge_ticket(stack, good, int(time.time()) + 600)
    set_cookie(user, "mpb_bind", same)
    assert user.get("/api/binding").status_code == 200          # the forging itself is sound
    set_cookie(user, "mpb_bind", forge_ticket(stack, good, int(time.time()) - 5))
    r = user.get("/api/binding")
    assert r.status_code == 410 and error_code(r) == "ticket_expired"
    r = user.post("/api/binding/confirm", {"org_id": org["id"]})
    assert r.status_code == 410 and error_code(r) == "ticket_expired"
    assert count(stack, f"SELECT COUNT(*) FROM bindings WHERE org_id = '{org['id']}'") == 0
    assert count(stack, "SELECT COUNT(*) FROM binding_attempts WHERE used_at IS NULL AND expires_at > NOW(6) "
                        "AND created_at > NOW(6) - INTERVAL 1 MINUTE") >= 1


# ----- billing overview, unbinding, billing status ---------------------------

def bind(stack, sim, user, org_id, partition="aws-cn"):
    tok = sim.token(partition)
    land(user, stack, tok["token"], partition)
    assert user.post("/api/binding/confirm", {"org_id": org_id}).status_code == 200
    return tok


def internal(stack, path, token="default", **kw):
    headers = {} if token is None else {"Authorization": "Bearer " + (stack.internal_token if token == "default" else token)}
    return requests.get(stack.url + path, headers=headers, **kw)


def test_an_unbound_org_shows_where_to_subscribe(stack, user):
    org = user.create_org("Unbound")
    o = user.get(f"/api/orgs/{org['id']}/billing").json()
    assert o["status"] == "none" and o["payment"] is None
    assert [m["id"] for m in o["marketplaces"]][:2] == ["aws-cn", "aws"]
    assert all(m["listing_url"].startswith("http://localhost:") for m in o["marketplaces"])
    assert user.get(f"/api/orgs/{org['id']}/billing/history").json() == {"bills": []}
    assert internal(stack, f"/internal/orgs/{org['id']}/billing-status").json() == {
        "org_id": org["id"], "status": "none", "grace_deadline": None, "marketplace": None, "account_id": None,
        "customer_identifier": None}


def test_unbinding_starts_the_grace_window_and_binding_again_ends_it(stack, sim, user):
    org = user.create_org("Grace")
    tok = bind(stack, sim, user, org["id"])
    assert internal(stack, f"/internal/orgs/{org['id']}/billing-status").json()["account_id"] == tok["subscription"]["account_id"]
    r = user.post(f"/api/orgs/{org['id']}/billing/unbind")
    assert r.status_code == 200 and r.json()["status"] == "grace"
    o = user.get(f"/api/orgs/{org['id']}/billing").json()
    assert o["status"] == "grace" and o["payment"] is None and 3590 <= o["grace_seconds_left"] <= 3600
    s = internal(stack, f"/internal/orgs/{org['id']}/billing-status").json()
    assert s["status"] == "grace" and s["grace_deadline"] == o["grace_deadline"] and s["marketplace"] is None
    assert stack.sql(f"SELECT end_reason FROM bindings WHERE org_id = '{org['id']}'") == [["unbound"]]
    r = user.post(f"/api/orgs/{org['id']}/billing/unbind")
    assert r.status_code == 409 and error_code(r) == "not_bound"
    bind(stack, sim, user, org["id"])
    o = user.get(f"/api/orgs/{org['id']}/billing").json()
    assert o["status"] == "marketplace" and o["grace_deadline"] is None
    actions = [e["action"] for e in user.get(f"/api/orgs/{org['id']}/events").json()["events"]]
    assert actions[:3] == ["binding.created", "binding.ended", "binding.created"]


def test_only_billing_roles_unbind(stack, sim, user):
    org = user.create_org("Unbind roles")
    member, billing = new_user(stack.url), new_user(stack.url)
    user.invite_and_join(org["id"], member, "member")
    user.invite_and_join(org["id"], billing, "billing")
    bind(stack, sim, user, org["id"])
    assert member.get(f"/api/orgs/{org['id']}/billing").json()["can_manage"] is False
    r = member.post(f"/api/orgs/{org['id']}/billing/unbind")
    assert r.status_code == 403 and error_code(r) == "insufficient_role"
    assert new_user(stack.url).post(f"/api/orgs/{org['id']}/billing/unbind").status_code == 404
    assert billing.post(f"/api/orgs/{org['id']}/billing/unbind").status_code == 200


def test_a_grace_window_past_its_deadline_reads_suspended(stack, sim, user):
    org = user.create_org("Late")
    bind(stack, sim, user, org["id"])
    user.post(f"/api/orgs/{org['id']}/billing/unbind")
    stack.sql(f"UPDATE orgs SET grace_deadline = NOW(6) - INTERVAL 1 SECOND WHERE id = '{org['id']}'")
    assert internal(stack, f"/internal/orgs/{org['id']}/billing-status").json()["status"] == "suspended"
    assert user.get(f"/api/orgs/{org['id']}/billing").json()["status"] == "suspended"


def test_billing_status_needs_the_service_credential(stack, user):
    org = user.create_org("Status auth")
    path = f"/internal/orgs/{org['id']}/billing-status"
    assert internal(stack, path, token=None).status_code == 401
    assert internal(stack, path, token="wrong").status_code == 401
    assert internal(stack, path, token=stack.internal_token + "x").status_code == 401
    assert internal(stack, "/internal/orgs/org-zzzzzzzzzzzzzzzzzzzzzz/billing-status").status_code == 404
    assert internal(stack, "/internal/orgs/bogus/billing-status").status_code == 404
    outsider = Api(stack.url, source_address="127.0.0.2")
    assert outsider.get(path, headers={"Authorization": "Bearer " + stack.internal_token}).status_code == 403


def test_the_overview_is_for_members_only(stack, sim, user):
    org = user.create_org("Private bill")
    assert new_user(stack.url).get(f"/api/orgs/{org['id']}/billing").status_code == 404
    assert new_user(stack.url).get(f"/api/orgs/{org['id']}/billing/history").status_code == 404
