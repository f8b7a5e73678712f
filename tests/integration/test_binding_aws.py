# SPDX-License-Identifier: MIT
"""AWS Marketplace binding end to end, through nginx, mpbind and the
simulator: landing, ResolveCustomer and its failures, the wizard's context,
confirming (and racing to confirm), the billing overview, unbinding and the
control plane's billing status."""

import concurrent.futures
import re
import time

import pytest
import requests

from api import Api, error_code, new_user


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

    s = Sim()
    yield s
    assert s.violations() == []


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
    tok = sim.token(behaviour="legacy")
    assert land(user, stack, tok["token"]).status_code == 303
    cid = tok["subscription"]["customer_identifier"]
    rows = stack.sql(f"SELECT customer_identifier, product_code, account_id FROM subscriptions "
                     f"WHERE customer_identifier = '{cid}' AND license_arn IS NULL")
    assert rows == [[cid, "prodcn0mpbind", cid]]
    assert user.get("/api/binding").json()["account_id"] == cid


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


def test_an_ended_subscription_cannot_land_again(stack, sim):
    tok = sim.token()
    land(requests.Session(), stack, tok["token"])
    stack.sql(f"UPDATE subscriptions SET status = 'failed' WHERE license_arn = '{tok['subscription']['license_arn']}'")
    r = land(requests.Session(), stack, tok["token"])
    assert r.status_code == 409 and "重新订阅" in lead(r)


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
                                   "account_id": tok["subscription"]["account_id"]}
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
        "org_id": org["id"], "status": "none", "grace_deadline": None, "marketplace": None, "account_id": None}


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
