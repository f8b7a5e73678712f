# SPDX-License-Identifier: MIT
"""The console in a real browser against the real stack: registration,
organizations, members and invitations, roles, events, the language switch,
sign-in errors and ?next=, escaping, disabled navigation, the last-admin rule,
the read-only view of a plain member, and the org list of a stack where
creating organizations is switched off. Screenshots of every page go to
var/test/screenshots/."""

import re
from urllib.parse import quote

from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.support.select import Select

from api import PASSWORD, new_user, unique_email

XSS_NAME = "<script>alert(1)</script>"


def sign_in(b, user, path):
    """Signs browser b in as user (an Api) through the sign-in page and lands on path."""
    b.open("/login?next=" + quote(path, safe="/"))
    b.login(user.email, PASSWORD)
    b.wait_path(path.split("?")[0])


def open_as(b, user, path):
    """Opens path in browser b with user's (an Api's) session, without the sign-in page."""
    b.adopt(user)
    b.open(path)


def row_of(b, table, text):
    """The row of table (css) that shows text."""
    return b.wait_text(f"{table} tbody tr", text)


def sql_one(stack, statement):
    rows = stack.sql(statement)
    return rows[0][0] if rows else None


def test_walk_register_create_invite_accept_change_role_events(stack, browser, shot):
    """The issue's "done when": register → create org → invite a second user as 组织成员 → that
    user registers from the invitation link in a second profile and accepts → the first user
    makes them 组织账单管理员 → 事件 shows 创建组织, 邀请, 加入组织, 修改角色."""
    alice, bob = unique_email("alice"), unique_email("bob")
    a = browser()

    a.open("/")
    a.wait_path("/login")
    a.find("#login-form")
    shot(a, "01-login")
    a.click("#to-register")
    a.wait_path("/register")
    a.find("#register-form")
    a.fill("#register-form input[name=email]", alice)
    a.fill("#register-form input[name=password]", PASSWORD)
    a.find("#password-policy li[data-rule=length].ok")
    shot(a, "02-register")
    a.click("#register-submit")
    a.wait_path("/console/orgs")
    a.wait_text(".empty-title", "您还没有加入任何组织。")
    assert a.text_of(".user-email") == alice
    shot(a, "03-orgs-empty")

    a.click("#create-org")
    a.dialog()
    a.fill("dialog input[name=name]", "Zilliz")
    shot(a, "04-create-org")
    a.click("dialog [data-action=confirm]")
    row = row_of(a, "#orgs-table", "Zilliz")
    org_id = row.get_attribute("data-org-id")
    assert org_id.startswith("org-") and len(org_id) == 26
    assert "组织管理员" in row.text and org_id in row.text
    assert Select(a.find("#org-select")).first_selected_option.text == "Zilliz"
    shot(a, "05-orgs")

    a.click("[data-nav=members]")
    a.wait_path("/console/members")
    a.find("#invite-form")
    a.fill("#invite-form input[name=email]", bob)
    Select(a.find("#invite-form select[name=role]")).select_by_visible_text("组织成员")
    a.click("#invite-submit")
    link = a.find("#invite-link").text
    assert link.startswith(stack.url + "/invite.html?id=")
    assert "组织成员" in row_of(a, "#invitations-table", bob).text
    shot(a, "06-members-invited")

    b = browser()
    b.open(link[len(stack.url):])
    b.wait_text("#invite-message", "请使用收到邀请的邮箱登录或注册")
    shot(b, "07-invite-signed-out")
    b.click("#invite-register")
    b.wait_path("/register")
    b.register(bob, PASSWORD)
    b.wait_path("/invite.html?id=")
    assert b.text_of("#invite-org") == "Zilliz"
    assert "组织成员" in b.text_of("#invite-message")
    shot(b, "08-invite")
    b.click("#invite-accept")
    b.wait_text("#invite-done", "您已加入组织 Zilliz。")
    shot(b, "09-invite-accepted")
    b.click("#invite-enter")
    b.wait_path("/console/orgs")
    assert "组织成员" in row_of(b, "#orgs-table", "Zilliz").text
    shot(b, "10-orgs-member")

    a.open(f"/console/members?org={org_id}")
    row = row_of(a, "#members-table", bob)
    assert "组织成员" in row.text
    row.find_element("css selector", "[data-action=role]").click()
    a.dialog()
    Select(a.find("dialog select[name=role]")).select_by_visible_text("组织账单管理员")
    shot(a, "11-change-role")
    a.click("dialog [data-action=confirm]")
    a.wait_gone("dialog[open]")
    a.wait_text(f"#members-table tr[data-email='{bob}'] .tag", "组织账单管理员")
    a.find("#no-invitations")
    shot(a, "12-members-role-changed")
    assert sql_one(stack, "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id "
                          f"WHERE u.email = '{bob}' AND m.org_id = '{org_id}'") == "billing"

    a.click("[data-nav=events]")
    a.wait_path("/console/events")
    a.find("#events-table")
    actions = [e.text for e in a.all("#events-table .event-action")]
    assert actions == ["修改角色", "加入组织", "邀请", "创建组织"], actions
    details = a.text_of("#events-table tbody")
    assert f"{bob}：组织成员 → 组织账单管理员" in details
    assert alice in details
    shot(a, "13-events")

    # The new billing admin may read events too.
    b.open(f"/console/events?org={org_id}")
    b.wait_text("#events-table .event-action", "修改角色")
    shot(b, "14-events-billing-admin")


def test_english_switch_changes_texts_cookie_and_server_messages(stack, browser, shot):
    b = browser()
    b.open("/login")
    b.wait_text(".auth-head h1", "登录")
    assert b.driver.find_element("css selector", "html").get_attribute("lang") == "zh-CN"
    b.click("[data-lang=en]")
    b.wait_text(".auth-head h1", "Sign in")
    assert b.cookie("lang") == "en"
    assert b.driver.find_element("css selector", "html").get_attribute("lang") == "en"
    assert b.text_of("label[for^=f-email]") == "Work e-mail"
    assert b.text_of("#to-register") == "Sign up"

    # The server answers in English now.
    b.login(unique_email("nobody"), "not the password 1")
    b.wait_text("#form-alert", "The e-mail or password is wrong.")
    shot(b, "01-login-en")

    # It sticks across pages, into the console.
    user = new_user(stack.url)
    org = user.create_org("Acme")
    b.open("/register")
    b.wait_text(".auth-head h1", "Sign up")
    sign_in(b, user, f"/console/orgs?org={org['id']}")
    b.wait_text("[data-nav=orgs]", "Organizations")
    assert b.text_of("[data-nav=members]") == "Org Users"
    assert "Org Admin" in row_of(b, "#orgs-table", "Acme").text
    b.find("[data-action=leave]").click()
    b.dialog()
    b.click("dialog [data-action=confirm]")
    b.wait_text("dialog .alert", "Every organization needs at least one Org Admin")
    shot(b, "02-console-en")
    b.click("dialog [data-action=cancel]")

    b.click("[data-lang=zh]")
    b.wait_text("[data-nav=orgs]", "组织")
    assert b.cookie("lang") == "zh"
    assert "组织管理员" in row_of(b, "#orgs-table", "Acme").text


def test_login_error_inline_and_next(stack, browser, shot):
    user = new_user(stack.url)
    b = browser()

    # A console page sends a signed-out visitor to sign in, and back after.
    b.open("/console/events")
    b.wait_path("/login?next=")
    assert "next=%2Fconsole%2Fevents" in b.path()
    b.login(user.email, "wrong password 99")
    b.wait_text("#form-alert .alert", "邮箱或密码错误。")
    assert b.path().startswith("/login")
    shot(b, "01-login-error")
    b.login(user.email, PASSWORD)
    b.wait_path("/console/events")

    # Sign out through the user menu.
    b.click(".user-button")
    b.click("[data-menu=logout]")
    b.wait_path("/login")

    # An off-site next is ignored, after signing in and when already signed in.
    b.open("/login?next=" + quote("//evil.example/x", safe=""))
    b.find("#login-form")
    b.login(user.email, PASSWORD)
    b.wait_path("/console/orgs")
    for evil in ("https://evil.example/", "/\\evil.example/", "//evil.example/x"):
        b.open("/login?next=" + quote(evil, safe=""))
        b.wait_path("/console/orgs")
        assert b.driver.current_url.startswith(stack.url + "/"), b.driver.current_url
    b.click(".user-button")
    b.click("[data-menu=logout]")
    b.wait_path("/login")

    # Required fields are checked before asking the server.
    b.open("/login")
    b.click("#login-submit")
    b.wait_text(".field[data-field=email] .field-error", "请填写此项。")


def test_rate_limited_sign_in_is_shown(stack, browser, shot):
    """An account locked by repeated failures gets the server's 429 message in the form. (The
    lock is set in the database: reaching it through failures would also lock 127.0.0.1, which
    every test shares, and lasts one second at the threshold.)"""
    user = new_user(stack.url)
    key = f"e:{user.email}"
    stack.sql("INSERT INTO auth_throttle (throttle_key, failures, last_failure_at, locked_until) "
              f"VALUES ('{key}', 9, NOW(6), NOW(6) + INTERVAL 120 SECOND)")
    try:
        b = browser()
        b.open("/login")
        b.login(user.email, PASSWORD)
        alert = b.wait_text("#form-alert .alert", "尝试次数过多，请稍后再试。")
        # The server's Retry-After (about 120 s here) is shown too.
        wait = re.search(r"请在 (\d+) 秒后重试。", alert.text)
        assert wait and 100 <= int(wait.group(1)) <= 120, alert.text
        assert b.path().startswith("/login")
        shot(b, "01-rate-limited")
    finally:
        stack.sql(f"DELETE FROM auth_throttle WHERE throttle_key = '{key}'")


def test_org_named_like_a_script_renders_as_text(stack, browser, shot):
    owner = new_user(stack.url)
    guest = new_user(stack.url)
    org = owner.create_org(XSS_NAME)
    r = owner.post(f"/api/orgs/{org['id']}/invitations", {"email": guest.email, "role": "admin"})
    assert r.status_code == 201, r.text
    inv = r.json()["invitation"]["id"]

    b = browser()
    open_as(b, guest, "/console/orgs")
    item = b.find(f"#my-invitations [data-invitation='{inv}']")
    assert item.find_element("css selector", ".invite-org").text == XSS_NAME
    shot(b, "01-pending-invitation")

    b.open(f"/invite.html?id={inv}")
    assert b.text_of("#invite-org") == XSS_NAME
    b.click("#invite-accept")
    b.wait_text("#invite-done", XSS_NAME)
    b.click("#invite-enter")
    row = row_of(b, "#orgs-table", XSS_NAME)
    assert row.find_element("css selector", ".org-name").text == XSS_NAME
    assert Select(b.find("#org-select")).first_selected_option.text == XSS_NAME
    assert b.all("main script") == [] and b.all("#org-select script") == []
    shot(b, "02-orgs")

    b.open(f"/console/events?org={org['id']}")
    b.wait_text("#events-table", f"名称：{XSS_NAME}")
    assert b.all("main script") == []
    try:
        b.driver.switch_to.alert
        raise AssertionError("an alert is open: the name ran as script")
    except NoAlertPresentException:
        pass
    shot(b, "03-events")


def test_disabled_nav_entries_cannot_be_followed(stack, browser, shot):
    user = new_user(stack.url)
    org = user.create_org("Nav")
    b = browser()
    open_as(b, user, "/console/orgs")
    for key in ("projects", "settings"):
        e = b.find(f"[data-nav={key}]")
        assert e.get_attribute("aria-disabled") == "true", key
        assert e.get_attribute("href") is None, key
        assert "disabled" in e.get_attribute("class").split(), key
    for key in ("orgs", "billing", "members", "events"):
        e = b.find(f"[data-nav={key}]")
        assert e.get_attribute("aria-disabled") is None, key
        assert e.get_attribute("href"), key
    assert [e.text for e in b.all(".sidenav .nav-item")] == ["组织", "项目", "账单", "组织用户", "事件", "系统设置"]
    b.find("[data-nav=projects]").click()
    assert b.path().startswith("/console/orgs")
    assert b.find("[data-nav=orgs]").get_attribute("aria-current") == "page"
    shot(b, "01-nav")
    # 账单 is switched on: it follows the current org.
    b.find("[data-nav=billing]").click()
    b.wait_path(f"/console/billing?org={org['id']}")
    b.wait_text("#payment-tag", "未绑定支付方式")
    assert b.find("[data-nav=billing]").get_attribute("aria-current") == "page"
    shot(b, "02-billing-unbound")


def test_only_admin_cannot_leave_or_close_account(stack, browser, shot):
    user = new_user(stack.url)
    org = user.create_org("Solo")
    b = browser()
    open_as(b, user, f"/console/orgs?org={org['id']}")
    row_of(b, "#orgs-table", "Solo").find_element("css selector", "[data-action=leave]").click()
    b.wait_text("dialog[open] .dialog-body", "Solo")
    b.click("dialog [data-action=confirm]")
    b.wait_text("dialog .alert", "每个组织至少需要一名组织管理员，请先将其他成员设为组织管理员。")
    shot(b, "01-leave-refused")
    b.click("dialog [data-action=cancel]")
    b.wait_gone("dialog[open]")
    row_of(b, "#orgs-table", "Solo")
    assert sql_one(stack, f"SELECT COUNT(*) FROM memberships WHERE org_id = '{org['id']}'") == "1"

    b.click(".user-button")
    b.click("[data-menu=account]")
    b.wait_path("/console/account")
    b.fill("#close-form input[name=password]", PASSWORD)
    b.click("#close-submit")
    b.wait_text("dialog[open] .dialog-body", user.email)
    b.click("dialog [data-action=confirm]")
    b.wait_text("#close-result .alert", f"Solo ({org['id']})")
    assert "唯一的组织管理员" in b.text_of("#close-result .alert")
    shot(b, "02-close-refused")
    assert sql_one(stack, f"SELECT closed_at IS NULL FROM users WHERE email = '{user.email}'") == "1"


def test_members_page_is_read_only_for_a_plain_member(stack, browser, shot):
    owner = new_user(stack.url)
    member = new_user(stack.url)
    org = owner.create_org("Readers")
    owner.invite_and_join(org["id"], member, "member")

    b = browser()
    open_as(b, member, f"/console/members?org={org['id']}")
    b.wait_text("#read-only", "仅组织管理员可以")
    rows = {r.get_attribute("data-email"): r.text for r in b.all("#members-table tbody tr")}
    assert set(rows) == {owner.email, member.email}
    assert "组织管理员" in rows[owner.email] and "组织成员" in rows[member.email]
    assert b.all("#invite-form") == []
    assert b.all("#members-table [data-action]") == []
    assert b.all("#pending") == []
    shot(b, "01-members-read-only")

    b.click("[data-nav=events]")
    b.wait_text("#events-forbidden", "仅组织管理员和组织账单管理员可查看事件")
    shot(b, "02-events-forbidden")


def test_invitation_for_another_email_is_explained(stack, browser, shot):
    owner = new_user(stack.url)
    other = new_user(stack.url)
    org = owner.create_org("Elsewhere")
    r = owner.post(f"/api/orgs/{org['id']}/invitations", {"email": unique_email("someone"), "role": "member"})
    assert r.status_code == 201, r.text
    inv = r.json()["invitation"]["id"]

    b = browser()
    open_as(b, other, "/invite.html?id=AAAAAAAAAAAAAAAAAAAAAA")
    b.wait_text("#invite-error", "邀请链接不完整或不存在")
    b.open(f"/invite.html?id={inv}")
    b.wait_text("#invite-error", "该邀请发给了其他邮箱，请使用该邮箱登录。")
    assert other.email in b.text_of("#invite")
    assert b.all("#invite-accept") == []
    shot(b, "01-other-email")
    b.click("#invite-switch")
    b.wait_path("/login?next=")
    assert quote(f"/invite.html?id={inv}", safe="") in b.path()


def test_admin_withdraws_invitation_removes_member_and_pages_events(stack, browser, shot):
    owner = new_user(stack.url)
    member = new_user(stack.url)
    org = owner.create_org("Busy")
    owner.invite_and_join(org["id"], member, "member")
    pending = unique_email("pending")
    r = owner.post(f"/api/orgs/{org['id']}/invitations", {"email": pending, "role": "billing"})
    assert r.status_code == 201, r.text
    for i in range(20):
        r = owner.patch(f"/api/orgs/{org['id']}", {"name": f"Busy {i}"})
        assert r.status_code == 200, r.text

    b = browser()
    open_as(b, owner, f"/console/members?org={org['id']}")
    row_of(b, "#invitations-table", pending).find_element("css selector", "[data-action=revoke]").click()
    b.wait_text("dialog[open] .dialog-body", pending)
    b.click("dialog [data-action=confirm]")
    b.find("#no-invitations")
    row_of(b, "#members-table", member.email).find_element("css selector", "[data-action=remove]").click()
    b.wait_text("dialog[open] .dialog-body", member.email)
    shot(b, "01-remove-member")
    b.click("dialog [data-action=confirm]")
    b.wait_gone("dialog[open]")
    b.wait().until(lambda d: [r.get_attribute("data-email") for r in b.all("#members-table tbody tr")]
                    == [owner.email])
    assert sql_one(stack, f"SELECT COUNT(*) FROM memberships WHERE org_id = '{org['id']}'") == "1"
    assert sql_one(stack, f"SELECT revoked_at IS NOT NULL FROM invitations WHERE email = '{pending}'") == "1"
    shot(b, "02-members-after")

    # 26 events: created, invited, joined, invited, 20 renames, withdrawn, removed; 20 a page.
    b.click("[data-nav=events]")
    b.find("#events-table")
    assert len(b.all("#events-table tbody tr")) == 20
    assert [e.text for e in b.all("#events-table .event-action")][:2] == ["移除成员", "撤回邀请"]
    b.click("#events-more")
    b.wait().until(lambda d: len(b.all("#events-table tbody tr")) == 26)
    actions = [e.text for e in b.all("#events-table .event-action")]
    assert actions[-4:] == ["邀请", "加入组织", "邀请", "创建组织"], actions[-4:]
    b.wait_gone("#events-more")
    ids = [int(r.get_attribute("data-event-id")) for r in b.all("#events-table tbody tr")]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    shot(b, "03-events-all")


def test_creation_switched_off_sends_users_to_support(no_creation_stack, browser, shot):
    """With creation off, 组织 says to contact support, links to support_url, and the create
    button cannot be used."""
    user = new_user(no_creation_stack.url)
    for lang, notice, link in (("zh-CN", "当前不支持自行创建组织，请提交工单联系我们为您创建。", "提交工单"),
                               ("en", "Creating organizations is switched off", "Contact support")):
        b = browser(lang)
        b.base = no_creation_stack.url
        open_as(b, user, "/console/orgs")
        assert notice in b.text_of("#creation-off")
        support = b.find("#support-link")
        assert support.text == link
        assert support.get_attribute("href") == "https://support.example.com/"
        assert support.get_attribute("target") == "_blank"
        assert not b.find("#create-org").is_enabled()
        shot(b, f"creation-off-{lang}")
    assert no_creation_stack.sql(f"SELECT COUNT(*) FROM memberships WHERE user_id = {user.user_id}") == [["0"]]
