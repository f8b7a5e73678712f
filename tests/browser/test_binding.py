# SPDX-License-Identifier: MIT
"""The marketplace seeds walked end to end in a real Chromium: the simulator's
buyer pages (opened as http://localhost:<port>, so they are cross-site to
mpbind at 127.0.0.1 like a real marketplace), the binding wizard at /bind and
the billing overview. Screenshots of every page go to var/test/screenshots/.

- AWS (issue 4): 继续订阅 → 订阅 → 设置您的账户 → 注册 in the wizard → create an
  org in place → 确认绑定 → 授权成功 → 进入控制台 → 已绑定 亚马逊云科技 Marketplace
  订阅 with the account ID behind the ID control; the 权限不足 / 已绑定云市场订阅
  tags and the guidance when nothing can be chosen; landing again on a bound
  subscription; the wizard's dead ends.
- Switching the paying account (issue 5), inside the grace window and after it.
- Alibaba (issue 6): 立即开通 → 开通 → 已购买服务列表 → 免登 → the wizard →
  云市场扣费渠道 阿里云 云市场 with 查看阿里云账单 → 免登 again signs straight in.
"""

import re
import secrets
import subprocess
import time

import pytest
import requests

from api import PASSWORD, Api, new_user, unique_email
from stack import binary
from tickets import forge_ticket

P = "aws-cn"
FAST = {
    "aws.subscribe_notify_delay_seconds": 0.2,
    "aws.unsubscribe_pending_delay_seconds": 0,
    "aws.unsubscribe_success_delay_seconds": 2,
    "aliyun.activation_delay_seconds": 1,
}


@pytest.fixture
def sim(stack):
    """The simulator: its control API, the URL the browser opens its pages at, fast settings for
    the walks (restored afterwards), and no protocol violation by mpbind during the test."""
    class Sim:
        url = stack.sim_url
        page = f"http://localhost:{stack.state['ports']['sim_http']}"

        def __init__(self):
            self.since = requests.get(self.url + "/_sim/log?since=999999999").json()["last_seq"]
            current = requests.get(self.url + "/_sim/settings").json()["settings"]
            self.saved = {s["name"]: s["value"] for s in current if s["name"] in FAST}
            self.settings(**FAST)

        def settings(self, **kw):
            requests.post(self.url + "/_sim/settings", json=kw).raise_for_status()

        def token(self, partition=P, **kw):
            r = requests.post(f"{self.url}/_sim/aws/{partition}/tokens", json=kw)
            assert r.status_code == 200, r.text
            return r.json()

        def subscribe(self, account, partition=P):
            """A live subscription of account, subscribe-success sent."""
            r = requests.post(f"{self.url}/_sim/aws/{partition}/subscriptions",
                              json={"account_id": account, "notify": "now"})
            assert r.status_code == 200, r.text
            return r.json()["subscription"]

        def push(self, action, sub_id, partition=P):
            r = requests.post(f"{self.url}/_sim/aws/{partition}/sns/push",
                              json={"action": action, "subscription_id": sub_id})
            assert r.status_code == 200, r.text
            assert all(d["status"] == 200 for d in r.json()["deliveries"]), r.text

        def violations(self):
            return requests.get(f"{self.url}/_sim/violations?since={self.since}").json()["violations"]

    s = Sim()
    yield s
    s.settings(**s.saved)
    assert s.violations() == []


def account_id():
    """A 12-digit AWS account nobody else in this run uses (the simulator reuses an account's live
    subscription, so each walk subscribes with its own)."""
    return "9" + "".join(secrets.choice("0123456789") for _ in range(11))


def ali_uid():
    return "77" + "".join(secrets.choice("0123456789") for _ in range(14))


def wait_for(check, timeout=15, what="a condition"):
    """Polls check() until it returns something true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def org_status(stack, org_id):
    return stack.sql(f"SELECT billing_status FROM orgs WHERE id = '{org_id}'")[0][0]


def land_api(stack, user, token, partition=P):
    """What 设置您的账户 does, for tests where the browser is not the point: POST the token."""
    r = user.s.post(f"{stack.url}/marketplace/{partition}/landing",
                    data={"x-amzn-marketplace-token": token}, allow_redirects=False)
    assert r.status_code == 303, r.text


def bind_api(stack, sim, user, org_id, account=None, sub_id=None):
    """Binds a (new, unless sub_id) subscription of account to org_id through the API."""
    kw = {"subscription_id": sub_id} if sub_id else {"account_id": account or account_id()}
    tok = sim.token(**kw)
    land_api(stack, user, tok["token"])
    r = user.post("/api/binding/confirm", {"org_id": org_id})
    assert r.status_code == 200, r.text
    return tok


# ----- the simulator's pages -----------------------------------------------------

def sim_open(b, sim, path):
    b.driver.get(sim.page + path)


def sim_switch(b, value, field="account_other"):
    """The account switcher in the simulator's header; waits for the page to show value as the
    current account."""
    b.fill(f"header input[name={field}]", value)
    b.click_text("header button", "切换")
    select = "header select[name=%s]" % field.replace("_other", "")

    def current(d):
        try:
            return d.find_element("css selector", select).get_attribute("value") == value
        except Exception:
            return False
    b.wait().until(current)


def aws_subscribe(b, sim, shot, account, step):
    """Product page → 继续订阅 → 订阅 as account; ends on the subscription page with its banner."""
    sim_open(b, sim, f"/aws/{P}/")
    sim_switch(b, account)
    shot(b, f"{step}a-aws-product")
    b.click_text("a.btn", "继续订阅")
    b.wait_text("main h1", "订阅")
    shot(b, f"{step}b-aws-offer")
    b.click_text("main button", "订阅")
    b.wait_text(".banner", "设置您的账户")
    shot(b, f"{step}c-aws-subscription")


def set_up_account(b):
    """The blue banner's 设置您的账户: POSTs the token to mpbind, which answers with the wizard."""
    b.click_text(".banner button", "设置您的账户")


def aws_cancel(b, sim, shot, account, step):
    """管理订阅 → 管理 → 操作 > 取消订阅 → 确认取消订阅, as account."""
    sim_open(b, sim, f"/aws/{P}/subscriptions")
    sim_switch(b, account)
    b.wait_text("main p.muted", account)
    shot(b, f"{step}a-aws-subscriptions")
    b.click_text("main a.btn", "管理")
    b.click_text("summary", "操作 ▾")
    shot(b, f"{step}b-aws-manage")
    b.click_text("details.menu a", "取消订阅")
    b.wait_text(".modal h2", "取消订阅")
    shot(b, f"{step}c-aws-cancel")
    b.click_text(".modal button", "确认取消订阅")
    b.wait_text(".flash", "已取消订阅")


# ----- our pages -------------------------------------------------------------------

def wizard_step(b):
    return b.find("#bind").get_attribute("data-step")


def row(b, org_id):
    return b.find(f"#bind-orgs tr[data-org-id='{org_id}']")


def confirm_enabled(b):
    return b.find("#bind-confirm").is_enabled()


def zh_date(ymd):
    y, m, d = (int(x) for x in ymd.split("-"))
    return f"{y}年{m}月{d}日"


def reveal_account(b):
    """Clicks the ID beside the channel; returns the account ID it reveals."""
    assert not b.find("#payment-id").get_attribute("aria-expanded") == "true"
    assert not b.driver.find_element("css selector", "#payment-account").is_displayed()
    b.click("#payment-id")
    return b.text_of("#payment-account-id")


def open_billing(b, org_id):
    b.open(f"/console/billing?org={org_id}")
    b.find("#payment")


# ----- AWS Marketplace (issue 4) ---------------------------------------------------

def test_aws_seed_walk_register_create_org_bind_and_see_the_account(stack, sim, browser, shot):
    """The seed from the marketplace to 账单概览: a new buyer registers inside the wizard, finds an
    empty list with what to do, creates an org in place, binds it, and the billing overview shows
    已绑定 亚马逊云科技 Marketplace 订阅 with the simulator's account behind the ID."""
    account = account_id()
    email = unique_email("seed")
    b = browser()
    aws_subscribe(b, sim, shot, account, "01")
    set_up_account(b)
    b.wait_path("/bind")
    assert b.text_of("#bind-title") == "授权使用 亚马逊云科技 Marketplace 扣费"
    assert wizard_step(b) == "1"
    assert [e.text for e in b.all(".stepper .step-label")] == ["登录账号", "绑定组织", "完成授权"]
    assert b.text_of("#bind-account") == account
    b.find("#login-form")
    labels = [e.text for e in b.all("#login-form .field-label")]
    assert labels == ["企业邮箱", "密码"] and b.text_of("#login-submit") == "登录"
    assert "没有账号?" in b.text_of(".auth-switch")
    shot(b, "02-wizard-login")

    b.click("#to-register")
    b.find("#register-form")
    assert b.path() == "/bind"
    shot(b, "03-wizard-register")
    b.register(email, PASSWORD)

    # Step 2, still on /bind: no org at all, so the seed's 组织列表中无组织 guidance.
    b.wait_text("#bind-guidance-title", "组织列表中无组织")
    assert b.path() == "/bind" and wizard_step(b) == "2"
    assert email in b.text_of("#bind-email")
    assert not b.all("#bind-orgs") and not confirm_enabled(b)
    guide = b.text_of("#bind-guidance")
    assert "如果您曾关闭过账号或退出所有组织" in guide
    assert "创建一个以您为管理员的新组织" in guide and "组织管理员或组织账单管理员" in guide
    assert b.find("#bind-support").get_attribute("href") == "https://support.example.com/"
    shot(b, "04-wizard-no-org")

    b.click("#bind-create-open")
    b.fill("#bind-create-form input[name=name]", "Zilliz")
    shot(b, "05-wizard-create-org")
    b.click("#bind-create-submit")
    b.wait_text("#bind-notice", "组织 Zilliz 已创建")
    r = b.wait_text("#bind-orgs tbody tr", "Zilliz")
    org_id = r.get_attribute("data-org-id")
    assert re.fullmatch(r"org-[a-z]{22}", org_id)
    assert org_id in r.text and "组织管理员" in r.text and "1" in r.text
    assert [e.text for e in b.all("#bind-orgs th")] == ["选择", "组织名称", "组织 ID", "成员人数", "我的角色"]
    assert b.find(f"#bind-org-{org_id}").is_selected() and confirm_enabled(b)
    assert not b.all("#bind-guidance")
    shot(b, "06-wizard-pick")

    b.click("#bind-confirm")
    b.wait_text("#bind-success", "授权成功")
    assert b.text_of("#bind-done-text") == "您的组织 Zilliz 已成功开通亚马逊云科技 Marketplace 扣费。"
    assert b.path() == "/bind"
    shot(b, "07-wizard-success")

    b.click("#bind-enter")
    b.wait_path(f"/console/billing?org={org_id}")
    b.wait_text("#payment-tag", "已绑定")
    assert b.text_of("#payment-name") == "亚马逊云科技 Marketplace 订阅"
    assert b.text_of("#payment-card .card-title") == "支付方式"
    assert b.find("[data-nav=billing]").get_attribute("aria-current") == "page"
    assert b.text_of("#tab-overview") == "账单概览" and b.text_of("#tab-history") == "历史账单"
    bill = Api(stack.url)
    bill.login(email)
    o = bill.get(f"/api/orgs/{org_id}/billing").json()["current_bill"]
    assert b.text_of("#amount-due") == "¥0.00"
    assert b.text_of("#bill-period") == f"{zh_date(o['period_start'])} - {zh_date(o['period_end'])}"
    assert b.text_of("#next-bill") == zh_date(o["next_bill_date"])
    assert b.text_of("#free-credits-value") == "¥0.00"
    shot(b, "08-billing")
    assert reveal_account(b) == account
    shot(b, "09-billing-account-id")
    assert stack.sql(f"SELECT s.account_id FROM bindings b JOIN subscriptions s ON s.id = b.subscription_id "
                     f"WHERE b.active_org = '{org_id}'") == [[account]]

    b.click("#tab-history")
    b.wait_text("#bills-empty", "暂无历史账单")
    assert "tab=history" in b.path()
    shot(b, "10-billing-history")


def test_tags_disabled_confirm_guidance_and_confirm_errors(stack, sim, browser, shot):
    """权限不足 (only a member) and 已绑定云市场订阅 (bound already) are shown and cannot be chosen;
    确认绑定 stays disabled and the page says what to do. Once an Org Admin makes the user
    组织账单管理员 that org can be chosen; if it is bound meanwhile, 确认绑定 says so clearly."""
    user, owner = new_user(stack.url, "tags"), new_user(stack.url, "owner")
    shared = owner.create_org("Member only")
    owner.invite_and_join(shared["id"], user, "member")
    bound = user.create_org("Already bound")
    bind_api(stack, sim, user, bound["id"])

    b = browser()
    b.adopt(user)
    sub = sim.subscribe(account_id())
    sim_open(b, sim, f"/aws/{P}/subscription/{sub['id']}")
    set_up_account(b)
    b.wait_path("/bind")
    b.find("#bind-orgs")
    assert wizard_step(b) == "2"
    r = row(b, shared["id"])
    assert "权限不足" in r.text and "组织成员" in r.text and r.get_attribute("data-eligible") == "false"
    assert r.find_element("css selector", "[data-reason]").get_attribute("data-reason") == "insufficient_role"
    assert not b.find(f"#bind-org-{shared['id']}").is_enabled()
    r = row(b, bound["id"])
    assert "已绑定云市场订阅" in r.text and "组织管理员" in r.text
    assert not b.find(f"#bind-org-{bound['id']}").is_enabled()
    assert not confirm_enabled(b)
    b.wait_text("#bind-guidance-title", "当前没有可以绑定的组织")
    assert b.all("#bind-guidance [data-why=role]") and b.all("#bind-guidance [data-why=bound]")
    assert "请先在该组织的账单概览中解绑" in b.text_of("#bind-guidance")
    assert b.all("#bind-create-open") and b.all("#bind-support")
    shot(b, "01-wizard-tags")
    # A click on a row that cannot be chosen chooses nothing.
    row(b, shared["id"]).click()
    assert not confirm_enabled(b) and not b.all("#bind-orgs tr.selected")

    # The owner makes the user 组织账单管理员: after a reload that org is the one to choose.
    r = owner.put(f"/api/orgs/{shared['id']}/members/{user.user_id}", {"role": "billing"})
    assert r.status_code == 200, r.text
    b.driver.refresh()
    b.wait_text(f"#bind-orgs tr[data-org-id='{shared['id']}']", "组织账单管理员")
    assert row(b, shared["id"]).get_attribute("data-eligible") == "true"
    assert b.find(f"#bind-org-{shared['id']}").is_selected() and confirm_enabled(b)
    assert not b.all("#bind-guidance")
    shot(b, "02-wizard-billing-admin")

    # Meanwhile the owner binds that org to another subscription: 确认绑定 is refused clearly.
    bind_api(stack, sim, owner, shared["id"])
    b.click("#bind-confirm")
    b.wait_text("#bind-notice", "该组织已绑定云市场订阅")
    b.wait_text(f"#bind-orgs tr[data-org-id='{shared['id']}']", "已绑定云市场订阅")
    assert not confirm_enabled(b)
    shot(b, "03-wizard-org-bound-meanwhile")


def test_landing_again_on_a_bound_subscription(stack, sim, browser, shot):
    """设置您的账户 again for a subscription that is bound: a signed-in member of the org goes
    straight to its billing page; anyone else is told the org (name and ID); a signed-out member
    signs in on the wizard and goes on to the billing page."""
    user = new_user(stack.url, "binder")
    org = user.create_org("Bound org")
    account = account_id()
    sub = sim.subscribe(account)
    bind_api(stack, sim, user, org["id"], sub_id=sub["id"])

    member = browser()
    member.adopt(user)
    sim_open(member, sim, f"/aws/{P}/subscription/{sub['id']}")
    set_up_account(member)
    member.wait_path(f"/console/billing?org={org['id']}")
    member.wait_text("#payment-tag", "已绑定")
    assert reveal_account(member) == account
    shot(member, "01-member-to-billing")

    stranger = browser()
    stranger.adopt(new_user(stack.url, "stranger"))
    sim_open(stranger, sim, f"/aws/{P}/subscription/{sub['id']}")
    set_up_account(stranger)
    stranger.wait_path("/bind")
    stranger.wait_text("#bind-bound", "此云市场订阅已绑定至组织 Bound org")
    assert stranger.text_of("#bind-bound-org") == "Bound org"
    assert stranger.text_of("#bind-bound-id") == org["id"]
    assert "不是该组织的成员" in stranger.text_of("#bind-not-member")
    assert not stranger.all("#bind-confirm") and not stranger.all(".stepper")
    shot(stranger, "02-stranger-told-the-org")

    signed_out = browser()
    sim_open(signed_out, sim, f"/aws/{P}/subscription/{sub['id']}")
    set_up_account(signed_out)
    signed_out.wait_path("/bind")
    signed_out.wait_text("#bind-bound", org["id"])
    assert not signed_out.all("#to-register")
    shot(signed_out, "03-signed-out-told-the-org")
    signed_out.login(user.email, PASSWORD)
    signed_out.wait_path(f"/console/billing?org={org['id']}")
    signed_out.wait_text("#payment-tag", "已绑定")


def test_wizard_dead_ends_say_what_to_do(stack, sim, browser, shot):
    """No attempt, a forged ticket, an expired attempt and one already used each get a clear
    message and a way on."""
    user = new_user(stack.url, "deadends")
    org = user.create_org("Dead ends")
    b = browser()
    b.adopt(user)

    b.open("/bind")
    b.wait_text("#bind-problem-title", "没有进行中的绑定")
    assert b.find("#bind-problem").get_attribute("data-code") == "binding_not_found"
    assert "设置您的账户" in b.text_of("#bind-problem-hint")
    assert b.find("#bind-home").get_attribute("href") == stack.url + "/"
    shot(b, "01-no-attempt")
    b.click("[data-lang=en]")
    b.wait_text("#bind-problem-title", "No binding in progress")
    assert b.text_of("#bind-title") == "Authorize marketplace billing"
    b.click("[data-lang=zh]")
    b.wait_text("#bind-problem-title", "没有进行中的绑定")

    b.driver.execute_cdp_cmd("Network.setCookie", {"name": "mpb_bind", "value": "x.y", "url": stack.url + "/",
                                                   "path": "/", "httpOnly": True, "sameSite": "Lax"})
    b.open("/bind")
    b.wait_text("#bind-problem-title", "绑定链接无效")
    shot(b, "02-ticket-invalid")

    account = account_id()
    sub = sim.subscribe(account)
    sim_open(b, sim, f"/aws/{P}/subscription/{sub['id']}")
    set_up_account(b)
    b.wait_path("/bind")
    b.find("#bind-orgs")
    stack.sql("UPDATE binding_attempts SET expires_at = NOW(6) - INTERVAL 1 SECOND WHERE subscription_id = "
              f"(SELECT id FROM subscriptions WHERE account_id = '{account}')")
    b.click("#bind-confirm")
    b.wait_text("#bind-problem-title", "绑定已过期")
    assert "一小时" in b.text_of("#bind-problem-hint")
    shot(b, "03-ticket-expired")

    sim_open(b, sim, f"/aws/{P}/subscription/{sub['id']}")
    set_up_account(b)
    b.wait_path("/bind")
    ticket = b.cookie("mpb_bind")
    b.click("#bind-confirm")
    b.wait_text("#bind-success", "授权成功")
    # The confirm answer cleared the ticket; an old copy of it is used up.
    b.driver.execute_cdp_cmd("Network.setCookie", {"name": "mpb_bind", "value": ticket, "url": stack.url + "/",
                                                   "path": "/", "httpOnly": True, "sameSite": "Lax"})
    b.open("/bind")
    b.wait_text("#bind-problem-title", "该绑定已完成")
    b.click("#bind-console")
    b.wait_path("/console/billing")
    b.wait_text("#payment-name", "亚马逊云科技 Marketplace 订阅")
    assert b.find("#org-select").get_attribute("value") == org["id"]
    shot(b, "04-binding-used")


def test_global_aws_listing_uses_its_own_words(stack, sim, browser, shot):
    """The global listing (partition aws): 授权使用 AWS Marketplace 扣费, AWS Marketplace 订阅."""
    user = new_user(stack.url, "global")
    org = user.create_org("Global")
    account = account_id()
    sub = sim.subscribe(account, partition="aws")
    b = browser()
    b.adopt(user)
    sim_open(b, sim, f"/aws/aws/subscription/{sub['id']}")
    set_up_account(b)
    b.wait_path("/bind")
    b.wait_text("#bind-title", "授权使用 AWS Marketplace 扣费")
    assert b.text_of("#bind-account") == account
    b.click("#bind-confirm")
    b.wait_text("#bind-done-text", "您的组织 Global 已成功开通 AWS Marketplace 扣费。")
    shot(b, "01-wizard-success")
    b.click("#bind-enter")
    b.wait_text("#payment-name", "AWS Marketplace 订阅")
    assert b.find("#org-select").get_attribute("value") == org["id"]
    assert reveal_account(b) == account
    assert b.text_of("#payment-account").startswith("AWS Account ID")
    shot(b, "02-billing")


def test_a_ticket_past_its_own_expiry_shows_the_expired_page(stack, sim, browser, shot):
    """The wizard's ticket expires by its own signed expiry (not only its attempt's): 绑定已过期, with
    what to do, and 确认绑定 binds nothing."""
    user = new_user(stack.url, "lateticket")
    org = user.create_org("Late ticket")
    tok = sim.token(account_id=account_id())
    land_api(stack, user, tok["token"])
    expired = forge_ticket(stack, user.s.cookies["mpb_bind"], int(time.time()) - 5)
    b = browser()
    b.adopt(user)
    b.driver.execute_cdp_cmd("Network.setCookie", {"name": "mpb_bind", "value": expired, "url": stack.url + "/",
                                                   "path": "/", "httpOnly": True, "sameSite": "Lax"})
    b.open("/bind")
    b.wait_text("#bind-problem-title", "绑定已过期")
    assert b.find("#bind-problem").get_attribute("data-code") == "ticket_expired"
    assert "设置您的账户" in b.text_of("#bind-problem-hint")
    assert not b.all("#bind-confirm")
    assert stack.sql(f"SELECT COUNT(*) FROM bindings WHERE org_id = '{org['id']}'") == [["0"]]
    shot(b, "01-ticket-expired")


def test_an_older_listing_shows_the_customer_identifier(stack, sim, browser, shot):
    """An older AWS listing gives only a CustomerIdentifier: the billing overview labels it 客户标识符
    (never 亚马逊云科技 Account ID), in both languages."""
    user = new_user(stack.url, "legacy")
    org = user.create_org("Legacy listing")
    r = requests.post(f"{sim.url}/_sim/aws/{P}/subscriptions",
                      json={"account_id": account_id(), "style": "legacy", "notify": "now"})
    assert r.status_code == 200, r.text
    sub = r.json()["subscription"]
    b = browser()
    b.adopt(user)
    sim_open(b, sim, f"/aws/{P}/subscription/{sub['id']}")
    set_up_account(b)
    b.wait_path("/bind")
    b.find("#bind-orgs")
    assert not b.all("#bind-account")       # no AWS account ID to show
    assert b.find(f"#bind-org-{org['id']}").is_selected()
    b.click("#bind-confirm")
    b.wait_text("#bind-success", "授权成功")
    b.click("#bind-enter")
    b.wait_text("#payment-tag", "已绑定")
    assert reveal_account(b) == sub["customer_identifier"]
    assert b.text_of("#payment-account-label") == "客户标识符"
    shot(b, "01-billing-customer-identifier")
    b.click("[data-lang=en]")
    b.wait_text("#payment-tag", "Bound")
    assert reveal_account(b) == sub["customer_identifier"]
    assert b.text_of("#payment-account-label") == "Customer identifier"
    shot(b, "02-billing-customer-identifier-english")
    b.click("[data-lang=zh]")
    b.wait_text("#payment-tag", "已绑定")


def test_the_wizard_without_org_creation_says_what_else_to_do(no_creation_stack, browser, shot):
    """With org creation switched off the wizard offers no 创建组织: with no org, or none it may
    bind, it says to ask an Org Admin for an invitation or contact support."""
    other = no_creation_stack
    tok = requests.post(f"{other.sim_url}/_sim/aws/{P}/tokens", json={"account_id": account_id()}).json()
    user = new_user(other.url, "nocreate")
    land_api(other, user, tok["token"])
    b = browser()
    b.base = other.url
    b.adopt(user)
    b.open("/bind")
    b.wait_text("#bind-guidance-title", "组织列表中无组织")
    assert wizard_step(b) == "2" and not confirm_enabled(b)
    assert not b.all("#bind-create-open") and not b.all("#bind-guidance [data-remedy=create]")
    assert not b.all(".bind-another") and not b.all("#bind-create-form")
    assert b.all("#bind-guidance [data-remedy=invite]") and b.all("#bind-support")
    guide = b.text_of("#bind-guidance")
    assert "创建一个以您为管理员的新组织" not in guide and "组织管理员或组织账单管理员" in guide
    shot(b, "01-no-org-no-creation")

    # An org where the user is only a member, made by an operator: 权限不足, still no 创建组织.
    owner = new_user(other.url, "owner")
    made = subprocess.run([binary("mpbindctl"), "-c", other.config_path, "org-create", owner.email,
                           "Operators made"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    org_id = re.search(r"org-[a-z]{22}", made.stdout).group(0)
    owner.invite_and_join(org_id, user, "member")
    b.driver.refresh()
    b.wait_text("#bind-guidance-title", "当前没有可以绑定的组织")
    assert "权限不足" in row(b, org_id).text and not confirm_enabled(b)
    assert not b.all("#bind-create-open") and not b.all("#bind-guidance [data-remedy=create]")
    assert b.all("#bind-guidance [data-why=role]") and b.all("#bind-guidance [data-remedy=invite]")
    shot(b, "02-member-only-no-creation")


# ----- billing states ----------------------------------------------------------------

def test_billing_cancelling_unbind_countdown_and_where_to_subscribe(stack, sim, browser, shot):
    """A subscription cancelled on the marketplace shows a notice; an Org Member sees no 解绑; the
    Org Admin unbinds through a confirm dialog and gets the live grace countdown with the entries
    to subscribe on every configured listing. English works too."""
    user, plain = new_user(stack.url, "unbind"), new_user(stack.url, "plain")
    org = user.create_org("Unbind me")
    user.invite_and_join(org["id"], plain, "member")
    account = account_id()
    sub = sim.subscribe(account)
    bind_api(stack, sim, user, org["id"], sub_id=sub["id"])
    sim.push("unsubscribe-pending", sub["id"])

    viewer = browser()
    viewer.adopt(plain)
    open_billing(viewer, org["id"])
    viewer.wait_text("#payment-cancelling", "已在云市场取消")
    assert not viewer.all("#unbind")
    assert "仅组织管理员和组织账单管理员" in viewer.text_of("#manage-hint")
    shot(viewer, "01-member-view-cancelling")

    b = browser()
    b.adopt(user)
    open_billing(b, org["id"])
    b.wait_text("#payment-cancelling", "如需切换订阅账号")
    b.click("#unbind")
    b.wait_text("dialog[open] .dialog-body", "Unbind me")
    shot(b, "02-unbind-dialog")
    b.click("dialog[open] [data-action=confirm]")
    b.wait_gone("dialog[open]")
    b.wait_text("#billing-status", "宽限期剩余")
    first = b.text_of("#grace-countdown")
    assert re.fullmatch(r"00:(59|60):\d\d|01:00:00", first), first
    b.wait(5).until(lambda d: d.find_element("css selector", "#grace-countdown").text != first)
    assert "以免影响服务" in b.text_of("#grace-text")
    assert b.text_of("#payment-tag") == "未绑定支付方式"
    entries = {e.get_attribute("data-marketplace"): e for e in b.all("#subscribe-entries a")}
    assert set(entries) == {"aws-cn", "aws", "aliyun"}
    port = stack.state["ports"]["sim_http"]
    assert entries["aws-cn"].get_attribute("href") == f"http://localhost:{port}/aws/aws-cn/"
    assert entries["aws-cn"].text == "前往亚马逊云科技 Marketplace 订阅"
    assert entries["aliyun"].get_attribute("rel") == "noopener noreferrer"
    assert entries["aliyun"].get_attribute("href") == f"http://localhost:{port}/aliyun/"
    assert entries["aliyun"].text == "前往阿里云云市场开通"
    assert org_status(stack, org["id"]) == "grace"
    shot(b, "03-grace-countdown")

    b.click("[data-lang=en]")
    b.wait_text("#billing-status", "Grace window left")
    assert b.text_of("#tab-overview") == "Overview" and b.text_of("#current-bill .card-title") == "This month"
    assert re.fullmatch(r"[A-Z][a-z]{2} 1, \d{4} – [A-Z][a-z]{2} 1, \d{4}", b.text_of("#bill-period"))
    shot(b, "04-grace-english")
    b.click("[data-lang=zh]")
    b.wait_text("#billing-status", "宽限期剩余")


# ----- switching the paying AWS account (issue 5) ----------------------------------------

def switch_walk(stack, sim, browser, shot, expire):
    """Bound to A; A cancels on the simulator's pages; the billing page shows the countdown (and,
    with expire, the window ends and mpbind-meterd suspends the org); B subscribes and binds."""
    user = new_user(stack.url, "switch")
    org = user.create_org("Switching")
    a, b_account = account_id(), account_id()
    bind_api(stack, sim, user, org["id"], account=a)

    b = browser()
    b.adopt(user)
    open_billing(b, org["id"])
    assert reveal_account(b) == a
    shot(b, "01-billing-bound-to-A")

    aws_cancel(b, sim, shot, a, "02")
    wait_for(lambda: org_status(stack, org["id"]) == "grace", what="the grace window after unsubscribe-success")
    open_billing(b, org["id"])
    b.wait_text("#billing-status", "宽限期剩余")
    assert re.fullmatch(r"00:59:\d\d|01:00:00", b.text_of("#grace-countdown"))
    assert not b.all("#payment-id")
    shot(b, "03-billing-countdown")

    if expire:
        stack.sql(f"UPDATE orgs SET grace_deadline = NOW(6) - INTERVAL 1 SECOND WHERE id = '{org['id']}'")
        wait_for(lambda: org_status(stack, org["id"]) == "suspended", what="mpbind-meterd to suspend the org")
        open_billing(b, org["id"])
        b.wait_text("#billing-status", "服务已暂停")
        assert "请在云市场订阅并绑定至本组织" in b.text_of("#suspended-text")
        assert not b.all("#grace-countdown")
        assert b.all("#subscribe-entries a[data-marketplace=aws-cn]")
        shot(b, "04-billing-suspended")

    aws_subscribe(b, sim, shot, b_account, "05")
    set_up_account(b)
    b.wait_path("/bind")
    b.find("#bind-orgs")
    assert b.text_of("#bind-account") == b_account
    assert b.find(f"#bind-org-{org['id']}").is_selected()
    shot(b, "06-wizard-B")
    b.click("#bind-confirm")
    b.wait_text("#bind-done-text", "您的组织 Switching 已成功开通亚马逊云科技 Marketplace 扣费。")
    b.click("#bind-enter")
    b.wait_path(f"/console/billing?org={org['id']}")
    b.wait_text("#payment-tag", "已绑定")
    assert reveal_account(b) == b_account
    assert not b.all("#billing-status") and not b.all("#grace-countdown")
    assert org_status(stack, org["id"]) == "marketplace"
    shot(b, "07-billing-bound-to-B")
    status = requests.get(f"{stack.url}/internal/orgs/{org['id']}/billing-status",
                          headers={"Authorization": "Bearer " + stack.internal_token}).json()
    assert status["status"] == "marketplace" and status["account_id"] == b_account


def test_switch_paying_account_within_the_grace_window(stack, sim, browser, shot):
    switch_walk(stack, sim, browser, shot, expire=False)


def test_switch_paying_account_after_the_window_expired(stack, sim, browser, shot):
    switch_walk(stack, sim, browser, shot, expire=True)


def test_bind_the_successor_while_the_current_subscription_is_cancelling(stack, sim, browser, shot):
    """Inside the hour AWS leaves after 取消订阅: the org is tagged 当前订阅正在取消 but can be
    chosen, the wizard says the new subscription pays from the next hour, and binding it switches
    the paying account without a grace window."""
    user = new_user(stack.url, "successor")
    org = user.create_org("Successor")
    sub_a = sim.subscribe(account_id())
    bind_api(stack, sim, user, org["id"], sub_id=sub_a["id"])
    sim.push("unsubscribe-pending", sub_a["id"])
    account_b = account_id()
    sub_b = sim.subscribe(account_b)

    b = browser()
    b.adopt(user)
    sim_open(b, sim, f"/aws/{P}/subscription/{sub_b['id']}")
    set_up_account(b)
    b.wait_path("/bind")
    r = row(b, org["id"])
    assert "当前订阅正在取消" in r.text and r.get_attribute("data-eligible") == "true"
    assert b.find(f"#bind-org-{org['id']}").is_selected() and confirm_enabled(b)
    b.wait_text("#bind-cancelling", "自下一个整点起由此订阅扣费")
    shot(b, "01-wizard-cancelling")
    b.click("#bind-confirm")
    b.wait_text("#bind-success", "授权成功")
    b.click("#bind-enter")
    b.wait_text("#payment-tag", "已绑定")
    assert reveal_account(b) == account_b
    assert not b.all("#payment-cancelling") and not b.all("#billing-status")
    shot(b, "02-billing-successor")


# ----- Alibaba Cloud Marketplace (issue 6) -------------------------------------------------

def test_aliyun_seed_walk_open_sso_bind_and_sso_again(stack, sim, browser, shot):
    """阿里云 云市场 → 立即开通 → 开通按量服务 (agreement ticked) → 开通 → 开通申请已提交 → 确定 →
    已购买服务列表 → 免登 once 已开通 → 提示 → 确定 → 授权使用 阿里云 云市场扣费 → 登录 → 确认绑定 →
    授权成功 → 账单概览 with 云市场扣费渠道 阿里云 云市场 and 查看阿里云账单; signed out, 免登 again
    lands in the console's billing page without a password."""
    user = new_user(stack.url, "ali")
    org = user.create_org("Zilliz")
    uid = ali_uid()
    b = browser()

    sim_open(b, sim, "/aliyun/")
    sim_switch(b, uid, "uid_other")
    shot(b, "01-aliyun-product")
    b.click_text("main a.btn", "立即开通")
    b.wait_text("#open h2", "开通按量服务")
    b.click("#open input[name=agree]")
    assert "同意商品在线协议及云市场平台服务协议" in b.text_of("#open label.inline")
    shot(b, "02-aliyun-open-dialog")
    b.click_text("#open button", "开通")
    b.wait_text(".modal p", "开通申请已提交，约需要1 - 5分钟完成开通")
    shot(b, "03-aliyun-submitted")
    b.click_text(".modal a.btn", "确定")
    b.wait_text("main h1", "已购买服务列表")

    def sso_button(d):
        # The list refreshes itself every 3 s while the instance is 开通中.
        try:
            for e in d.find_elements("css selector", "main a.btn"):
                if e.text.strip() == "免登":
                    return e
        except Exception:
            return False
        return False
    b.wait(20).until(sso_button)
    assert "已开通" in b.text_of("main table")
    shot(b, "04-aliyun-console")
    b.click_text("main a.btn", "免登")
    b.wait_text(".modal h2", "提示")
    shot(b, "05-aliyun-sso-prompt")
    b.click_text(".modal a.btn", "确定")

    b.wait_path("/bind")
    b.wait_text("#bind-title", "授权使用 阿里云 云市场扣费")
    assert b.find("#bind").get_attribute("data-marketplace") == "aliyun"
    assert b.text_of("#bind-account") == uid
    b.find("#login-form")
    shot(b, "06-wizard-login")
    b.login(user.email, PASSWORD)
    b.find("#bind-orgs")
    assert wizard_step(b) == "2" and b.path() == "/bind"
    assert b.find(f"#bind-org-{org['id']}").is_selected()
    shot(b, "07-wizard-pick")
    b.click("#bind-confirm")
    b.wait_text("#bind-success", "授权成功")
    assert b.text_of("#bind-done-text") == "您的组织 Zilliz 已成功开通阿里云云市场扣费。"
    shot(b, "08-wizard-success")
    b.click("#bind-enter")
    b.wait_path(f"/console/billing?org={org['id']}")
    b.wait_text("#payment-name", "阿里云 云市场")
    assert b.text_of("#payment-card .card-title") == "云市场扣费渠道"
    assert b.text_of("#payment-tag") == "已绑定"
    link = b.find("#bill-link")
    bill_url = user.get(f"/api/orgs/{org['id']}/billing").json()["payment"]["bill_url"]
    assert link.text == "查看阿里云账单" and bill_url and link.get_attribute("href") == bill_url
    assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
    assert reveal_account(b) == uid
    shot(b, "09-billing-aliyun")

    b.click(".user-button")
    b.click("[data-menu=logout]")
    b.wait_path("/login")
    sim_open(b, sim, "/aliyun/console")
    b.click_text("main a.btn", "免登")
    b.click_text(".modal a.btn", "确定")
    b.wait_path(f"/console/billing?org={org['id']}")
    b.wait_text("#payment-name", "阿里云 云市场")
    assert b.text_of(".user-email") == user.email
    shot(b, "10-sso-again-billing")


def test_aliyun_frozen_instance_suspends_and_renewal_restores(stack, sim, browser, shot):
    """expiredInstance (unpaid bills) freezes the bound org: the channel says 服务已暂停 and what to
    do (renew on Alibaba Cloud); renewInstance brings 已绑定 back."""
    user = new_user(stack.url, "frozen")
    org = user.create_org("Frozen")
    uid = ali_uid()
    inst = requests.post(sim.url + "/_sim/aliyun/instances", json={"ali_uid": uid, "wait": True}).json()["instance"]
    url = requests.post(sim.url + "/_sim/aliyun/sso-url", json={"instance": inst["order_biz_id"]}).json()["url"]
    assert user.s.get(url, allow_redirects=False).status_code == 303
    assert user.post("/api/binding/confirm", {"org_id": org["id"]}).status_code == 200

    def spi(action):
        r = requests.post(sim.url + "/_sim/aliyun/spi", json={"action": action, "instance": inst["order_biz_id"]})
        assert r.json()["status"] == 200, r.text

    spi("expiredInstance")
    b = browser()
    b.adopt(user)
    open_billing(b, org["id"])
    b.wait_text("#payment-tag", "服务已暂停")
    assert "请在阿里云续费" in b.text_of("#payment-frozen")
    assert b.text_of("#payment-name") == "阿里云 云市场" and b.all("#bill-link")
    shot(b, "01-billing-frozen")

    # 免登 while frozen, signed out: straight into the billing page that says what to do.
    buyer = browser()
    sim_open(buyer, sim, "/aliyun/console")
    sim_switch(buyer, uid, "uid_other")
    buyer.click_text("main a.btn", "免登")
    buyer.click_text(".modal a.btn", "确定")
    buyer.wait_path(f"/console/billing?org={org['id']}")
    buyer.wait_text("#payment-tag", "服务已暂停")
    assert "请在阿里云续费" in buyer.text_of("#payment-frozen")
    assert buyer.text_of(".user-email") == user.email
    shot(buyer, "02-sso-while-frozen")

    spi("renewInstance")
    open_billing(b, org["id"])
    b.wait_text("#payment-tag", "已绑定")
    assert not b.all("#payment-frozen")
    shot(b, "03-billing-renewed")
