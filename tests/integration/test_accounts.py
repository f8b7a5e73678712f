# SPDX-License-Identifier: MIT
"""Accounts, sessions, CSRF, organizations, members, invitations and
events, through the real stack: each endpoint's success and error cases."""

import concurrent.futures
import json
import re
import secrets
import time

import pytest
import requests

from api import Api, PASSWORD, error_code, new_user, unique_email


def count(stack, sql):
    return int(stack.sql(sql)[0][0])


# ----- registration and sign-in ---------------------------------------------

def test_register_signs_in_with_a_safe_cookie(stack):
    api = Api(stack.url)
    email = unique_email("Reg").replace("reg", "Reg")
    r = api.post("/api/auth/register", {"email": email.upper(), "password": PASSWORD})
    assert r.status_code == 201
    assert r.json()["user"]["email"] == email.lower()
    cookie = r.headers["Set-Cookie"]
    assert re.match(r"mpb_session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=\d+; HttpOnly; SameSite=Lax$", cookie)
    api.csrf = r.json()["csrf"]
    me = api.get("/api/auth/me").json()
    assert me["user"]["email"] == email.lower() and me["csrf"] == api.csrf
    stored = stack.sql(f"SELECT password_hash FROM users WHERE email = '{email.lower()}'")[0][0]
    assert stored.startswith("$argon2id$")


def test_register_refuses_a_taken_email(stack, user):
    r = Api(stack.url).post("/api/auth/register", {"email": user.email.upper(), "password": PASSWORD})
    assert r.status_code == 409 and error_code(r) == "email_taken"


@pytest.mark.parametrize("password", ["short1", "onlyletterslong", "1234567890123", "x1" * 65])
def test_register_applies_the_password_policy(stack, password):
    before = count(stack, "SELECT COUNT(*) FROM users")
    r = Api(stack.url).post("/api/auth/register", {"email": unique_email(), "password": password})
    assert r.status_code == 400 and error_code(r) in ("weak_password", "invalid_field")
    assert count(stack, "SELECT COUNT(*) FROM users") == before


def test_a_password_may_not_contain_the_email_name(stack):
    r = Api(stack.url).post("/api/auth/register", {"email": "marysmith@example.com",
                                                   "password": "xxMarySmith2024"})
    assert r.status_code == 400 and error_code(r) == "weak_password"


def test_unknown_email_and_wrong_password_get_the_same_answer(stack, user):
    wrong = Api(stack.url).post("/api/auth/login", {"email": user.email, "password": "not the password 1"})
    unknown = Api(stack.url).post("/api/auth/login", {"email": unique_email("ghost"), "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "Set-Cookie" not in wrong.headers and "Set-Cookie" not in unknown.headers


def test_repeated_failures_slow_an_account_down(stack):
    victim = new_user(stack.url)
    attacker = Api(stack.url)
    for _ in range(5):
        r = attacker.post("/api/auth/login", {"email": victim.email, "password": "guess guess 1"})
        assert r.status_code == 401
    r = Api(stack.url).post("/api/auth/login", {"email": victim.email, "password": PASSWORD})
    assert r.status_code == 429 and error_code(r) == "rate_limited"
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= 2
    time.sleep(wait + 0.2)
    Api(stack.url).login(victim.email)


def test_repeated_failures_slow_an_address_down(stack):
    """Twenty failures from one address, on different accounts, lock that address only."""
    source = Api(stack.url, source_address="127.0.0.5")
    for i in range(20):
        r = source.post("/api/auth/login", {"email": unique_email("nobody"), "password": "x1"})
        assert r.status_code == 401
    target = new_user(stack.url)
    r = source.post("/api/auth/login", {"email": target.email, "password": PASSWORD})
    assert r.status_code == 429
    Api(stack.url).login(target.email)


def test_wrong_current_passwords_lock_like_sign_in(stack):
    """Whoever holds a session (a stolen cookie) cannot guess the password through a password
    change or closing the account: failures count with sign-in's, and past five the account is
    locked for all three, without another Argon2id run."""
    victim = new_user(stack.url)
    thief = Api(stack.url, source_address="127.0.0.6")
    thief.s.cookies.update(victim.s.cookies)
    thief.csrf = victim.csrf
    for i in range(5):
        r = thief.post("/api/auth/password", {"current_password": f"guess {i} 12345", "new_password": "stolen pass 123"})
        assert r.status_code == 403 and error_code(r) == "wrong_password"
    assert count(stack, f"SELECT failures FROM auth_throttle WHERE throttle_key = 'e:{victim.email}'") == 5
    attempts = [thief.post("/api/auth/password", {"current_password": PASSWORD, "new_password": "stolen pass 123"}),
                thief.post("/api/auth/close", {"password": PASSWORD}),
                Api(stack.url).post("/api/auth/login", {"email": victim.email, "password": PASSWORD})]
    for r in attempts:
        assert r.status_code == 429 and error_code(r) == "rate_limited"
        assert 1 <= int(r.headers["Retry-After"]) <= 2
    assert victim.get("/api/auth/me").status_code == 200
    time.sleep(int(attempts[0].headers["Retry-After"]) + 0.2)
    r = victim.post("/api/auth/password", {"current_password": PASSWORD, "new_password": "brand new pass 77"})
    assert r.status_code == 200
    # the right password cleared the account's failures
    assert count(stack, f"SELECT COUNT(*) FROM auth_throttle WHERE throttle_key = 'e:{victim.email}'") == 0


def test_quiet_throttle_rows_are_purged(stack):
    """A failure counted deletes rows whose lock and count have both run out (15 quiet minutes)."""
    stale, fresh = f"e:stale-{secrets.token_hex(4)}@example.com", f"e:fresh-{secrets.token_hex(4)}@example.com"
    stack.sql("INSERT INTO auth_throttle (throttle_key, failures, last_failure_at, locked_until) VALUES "
              f"('{stale}', 9, NOW(6) - INTERVAL 16 MINUTE, NOW(6) - INTERVAL 1 MINUTE), "
              f"('{fresh}', 9, NOW(6) - INTERVAL 14 MINUTE, NOW(6) + INTERVAL 1 MINUTE)")
    ghost = unique_email("ghost")
    r = Api(stack.url, source_address="127.0.0.4").post("/api/auth/login", {"email": ghost, "password": "x1"})
    assert r.status_code == 401
    keys = [row[0] for row in stack.sql("SELECT throttle_key FROM auth_throttle WHERE throttle_key IN "
                                        f"('{stale}', '{fresh}', 'e:{ghost}') ORDER BY throttle_key")]
    assert keys == sorted([fresh, f"e:{ghost}"])


# ----- sessions and CSRF -----------------------------------------------------

def test_logout_revokes_the_session(stack, user):
    cookies = dict(user.s.cookies)
    assert user.post("/api/auth/logout").status_code == 200
    assert user.get("/api/auth/me").status_code == 401
    replay = requests.get(stack.url + "/api/auth/me", cookies=cookies)
    assert replay.status_code == 401 and error_code(replay) == "unauthorized"


def test_an_expired_session_is_refused(stack, user):
    stack.sql(f"UPDATE sessions SET expires_at = NOW(6) - INTERVAL 1 SECOND WHERE user_id = {user.user_id}")
    assert user.get("/api/auth/me").status_code == 401


def test_sessions_expired_a_day_ago_are_purged(stack):
    """Creating a session (sign-in or registration) deletes old expired ones, a few at a time."""
    for make in ("login", "register"):
        old = new_user(stack.url)
        recent = new_user(stack.url)
        stack.sql(f"UPDATE sessions SET expires_at = NOW(6) - INTERVAL 25 HOUR WHERE user_id = {old.user_id}")
        stack.sql(f"UPDATE sessions SET expires_at = NOW(6) - INTERVAL 23 HOUR WHERE user_id = {recent.user_id}")
        if make == "login":
            Api(stack.url).login(recent.email)
        else:
            new_user(stack.url)
        assert count(stack, f"SELECT COUNT(*) FROM sessions WHERE user_id = {old.user_id}") == 0
        assert count(stack, f"SELECT COUNT(*) FROM sessions WHERE user_id = {recent.user_id}") == (2 if make == "login" else 1)


def set_cookies(r):
    return r.raw.headers.getlist("Set-Cookie")


def test_registration_sets_its_cookie_once_and_only_after_commit(stack):
    """The registration transaction may run again (a deadlock) or fail after its session row was
    written: the cookie goes out once, for the committed session, or not at all. A trigger on
    events plays the database's part: a deadlock the first time (then the retry commits), or an
    error every time."""
    trigger = """
        CREATE TRIGGER test_register_fault BEFORE INSERT ON events FOR EACH ROW
        BEGIN
          IF NEW.action = 'user.registered' AND NEW.detail LIKE '%{marker}%' THEN
            IF '{mode}' = 'always' THEN
              SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 1644, MESSAGE_TEXT = 'injected failure';
            ELSEIF @test_register_fault IS NULL THEN
              SET @test_register_fault = 1;
              SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'injected deadlock';
            END IF;
          END IF;
        END"""
    for mode in ("once", "always"):
        marker = f"fault{mode}{secrets.token_hex(4)}"
        email = f"{marker}@example.com"
        stack.sql("DELIMITER //\n" + trigger.replace("{marker}", marker).replace("{mode}", mode) + "//\nDELIMITER ;")
        try:
            r = Api(stack.url).post("/api/auth/register", {"email": email, "password": PASSWORD})
        finally:
            stack.sql("DROP TRIGGER test_register_fault")
        users = stack.sql(f"SELECT id FROM users WHERE email = '{email}'")
        if mode == "once":
            assert r.status_code == 201, r.text
            [cookie] = set_cookies(r)
            user_id = int(users[0][0])
            assert count(stack, f"SELECT COUNT(*) FROM sessions WHERE user_id = {user_id}") == 1
            me = requests.get(stack.url + "/api/auth/me", headers={"Cookie": cookie.split(";")[0]})
            assert me.status_code == 200 and me.json()["user"]["email"] == email
        else:
            assert r.status_code == 503 and error_code(r) == "db_unavailable"
            assert set_cookies(r) == [] and users == []


@pytest.mark.parametrize("cookie", ["", "abc", "A" * 43, "!" * 43, "A" * 44])
def test_a_forged_session_cookie_is_refused(stack, cookie):
    r = requests.get(stack.url + "/api/orgs", cookies={"mpb_session": cookie})
    assert r.status_code == 401


def test_a_password_change_revokes_the_other_sessions(stack, user):
    other = Api(stack.url)
    other.login(user.email)
    r = user.post("/api/auth/password", {"current_password": "wrong password 1", "new_password": "new pass 12345"})
    assert r.status_code == 403 and error_code(r) == "wrong_password"
    r = user.post("/api/auth/password", {"current_password": PASSWORD, "new_password": "short1"})
    assert r.status_code == 400 and error_code(r) == "weak_password"
    assert other.get("/api/auth/me").status_code == 200
    r = user.post("/api/auth/password", {"current_password": PASSWORD, "new_password": "brand new pass 99"})
    assert r.status_code == 200
    assert user.get("/api/auth/me").status_code == 200
    assert other.get("/api/auth/me").status_code == 401
    Api(stack.url).login(user.email, "brand new pass 99")
    r = Api(stack.url).post("/api/auth/login", {"email": user.email, "password": PASSWORD})
    assert r.status_code == 401


def test_put_patch_and_delete_need_the_csrf_token_too(stack, user):
    org = user.create_org("CSRF verbs")
    m = new_user(stack.url)
    user.invite_and_join(org["id"], m, "member")
    inv = user.post(f"/api/orgs/{org['id']}/invitations", {"email": unique_email(), "role": "member"}).json()["invitation"]
    for headers in ({}, {"X-CSRF-Token": m.csrf}):
        for method, path, body in (("PUT", f"/api/orgs/{org['id']}/members/{m.user_id}", {"role": "admin"}),
                                   ("PATCH", f"/api/orgs/{org['id']}", {"name": "hijacked"}),
                                   ("DELETE", f"/api/orgs/{org['id']}/members/{m.user_id}", None),
                                   ("DELETE", f"/api/orgs/{org['id']}/invitations/{inv['id']}", None)):
            r = user.request(method, path, json=body, csrf=False, headers=headers)
            assert r.status_code == 403 and error_code(r) == "csrf_failed", (method, path)
    members = user.get(f"/api/orgs/{org['id']}/members").json()
    assert [(x["email"], x["role"]) for x in members["members"]] == [(user.email, "admin"), (m.email, "member")]
    assert [i["id"] for i in members["invitations"]] == [inv["id"]]
    assert user.get(f"/api/orgs/{org['id']}").json()["org"]["name"] == "CSRF verbs"


def test_state_changes_need_the_csrf_token(stack, user):
    before = count(stack, "SELECT COUNT(*) FROM orgs")
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": user.csrf + "x"}):
        r = user.post("/api/orgs", {"name": "csrf"}, csrf=False, headers=headers)
        assert r.status_code == 403 and error_code(r) == "csrf_failed"
    other = new_user(stack.url)
    r = user.post("/api/orgs", {"name": "csrf"}, csrf=False, headers={"X-CSRF-Token": other.csrf})
    assert r.status_code == 403
    assert count(stack, "SELECT COUNT(*) FROM orgs") == before
    assert user.post("/api/auth/logout", csrf=False).status_code == 403
    assert user.get("/api/auth/me").status_code == 200


# ----- organizations ---------------------------------------------------------

def test_create_list_and_rename_an_org(stack, user):
    org = user.create_org("Zilliz")
    assert re.fullmatch(r"org-[a-z]{22}", org["id"])
    assert (org["name"], org["role"], org["member_count"]) == ("Zilliz", "admin", 1)
    listed = user.get("/api/orgs").json()
    assert org in listed["orgs"] and listed["allow_creation"] is True
    r = user.patch(f"/api/orgs/{org['id']}", {"name": "Zilliz 中国"})
    assert r.status_code == 200 and r.json()["org"]["name"] == "Zilliz 中国"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, None, 42])
def test_an_org_needs_a_proper_name(stack, user, name):
    r = user.post("/api/orgs", {"name": name})
    assert r.status_code == 400 and r.json()["error"]["field"] == "name"


def test_another_orgs_id_gets_404_whether_or_not_it_exists(stack, user):
    owner = new_user(stack.url)
    org = owner.create_org("Private")
    for path in ("", "/members", "/events", "/leave"):
        method = user.post if path == "/leave" else user.get
        real = method(f"/api/orgs/{org['id']}{path}")
        fake = method(f"/api/orgs/org-{'q' * 22}{path}")
        malformed = method(f"/api/orgs/not-an-org{path}")
        assert real.status_code == fake.status_code == malformed.status_code == 404
        assert real.json() == fake.json() == malformed.json()
    assert user.patch(f"/api/orgs/{org['id']}", {"name": "mine"}).status_code == 404
    assert owner.get(f"/api/orgs/{org['id']}").json()["org"]["name"] == "Private"


def test_an_outsider_gets_the_same_404_for_member_changes(stack, user):
    """Inviting, withdrawing, changing a role or removing someone in another org answers exactly
    as for an org that does not exist (or an id that cannot be one), and changes nothing."""
    owner = new_user(stack.url)
    org = owner.create_org("Not yours")
    inv = owner.post(f"/api/orgs/{org['id']}/invitations", {"email": unique_email(), "role": "member"}).json()["invitation"]
    before = count(stack, "SELECT COUNT(*) FROM events")
    for org_id in (org["id"], "org-" + "q" * 22, "not-an-org"):
        answers = [user.post(f"/api/orgs/{org_id}/invitations", {"email": user.email, "role": "admin"}),
                   user.delete(f"/api/orgs/{org_id}/invitations/{inv['id']}"),
                   user.put(f"/api/orgs/{org_id}/members/{owner.user_id}", {"role": "member"}),
                   user.delete(f"/api/orgs/{org_id}/members/{owner.user_id}")]
        for r in answers:
            assert r.status_code == 404 and r.json() == {"error": {"code": "not_found", "message": "未找到。"}}
    assert count(stack, "SELECT COUNT(*) FROM events") == before
    members = owner.get(f"/api/orgs/{org['id']}/members").json()
    assert [(x["email"], x["role"]) for x in members["members"]] == [(owner.email, "admin")]
    assert [i["id"] for i in members["invitations"]] == [inv["id"]]


def test_only_an_org_admin_renames(stack, user):
    org = user.create_org("Rename me")
    member = new_user(stack.url)
    user.invite_and_join(org["id"], member, "billing")
    r = member.patch(f"/api/orgs/{org['id']}", {"name": "hijacked"})
    assert r.status_code == 403 and error_code(r) == "forbidden"
    assert user.get(f"/api/orgs/{org['id']}").json()["org"]["name"] == "Rename me"


# ----- members and invitations ----------------------------------------------

def test_invite_accept_and_list_members(stack, user):
    org = user.create_org("Team")
    invitee = new_user(stack.url)
    r = user.post(f"/api/orgs/{org['id']}/invitations", {"email": invitee.email.upper(), "role": "member"})
    assert r.status_code == 201
    inv = r.json()["invitation"]
    assert inv["email"] == invitee.email and inv["link"].endswith(f"/invite.html?id={inv['id']}")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", inv["expires_at"])
    listed = user.get(f"/api/orgs/{org['id']}/members").json()["invitations"]
    assert listed == [{"id": inv["id"], "email": invitee.email, "role": "member",
                       "expires_at": inv["expires_at"], "link": inv["link"]}]
    pending = invitee.get("/api/invitations").json()["invitations"]
    assert [(i["id"], i["org_name"], i["role"], i["invited_by"]) for i in pending] == \
        [(inv["id"], "Team", "member", user.email)]
    assert invitee.get(f"/api/invitations/{inv['id']}").json()["invitation"]["org_name"] == "Team"
    r = invitee.post(f"/api/invitations/{inv['id']}/accept")
    assert r.status_code == 200 and r.json()["org"] == {"id": org["id"], "name": "Team", "role": "member"}
    members = user.get(f"/api/orgs/{org['id']}/members").json()
    assert [(m["email"], m["role"]) for m in members["members"]] == [(user.email, "admin"), (invitee.email, "member")]
    assert members["invitations"] == []
    seen_by_member = invitee.get(f"/api/orgs/{org['id']}/members").json()
    assert seen_by_member["invitations"] is None and seen_by_member["my_role"] == "member"
    assert invitee.get("/api/orgs").json()["orgs"][0]["member_count"] == 2


def test_an_invitation_is_single_use(stack, user):
    org = user.create_org("Once")
    invitee = new_user(stack.url)
    inv = user.invite_and_join(org["id"], invitee, "member")
    r = invitee.post(f"/api/invitations/{inv}/accept")
    assert r.status_code == 410 and error_code(r) == "invitation_invalid"


def test_an_invitation_belongs_to_its_email(stack, user):
    org = user.create_org("Mine")
    invitee, stranger = new_user(stack.url), new_user(stack.url)
    inv = user.post(f"/api/orgs/{org['id']}/invitations", {"email": invitee.email, "role": "admin"}).json()["invitation"]
    for r in (stranger.get(f"/api/invitations/{inv['id']}"), stranger.post(f"/api/invitations/{inv['id']}/accept")):
        assert r.status_code == 403 and error_code(r) == "invitation_other_email"
    assert count(stack, f"SELECT COUNT(*) FROM memberships WHERE org_id = '{org['id']}'") == 1
    assert invitee.post(f"/api/invitations/{inv['id']}/accept").status_code == 200


def test_an_expired_or_revoked_invitation_cannot_be_used(stack, user):
    org = user.create_org("Expiring")
    a, b = new_user(stack.url), new_user(stack.url)
    inv_a = user.post(f"/api/orgs/{org['id']}/invitations", {"email": a.email, "role": "member"}).json()["invitation"]["id"]
    inv_b = user.post(f"/api/orgs/{org['id']}/invitations", {"email": b.email, "role": "member"}).json()["invitation"]["id"]
    stack.sql(f"UPDATE invitations SET expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = '{inv_a}'")
    r = a.post(f"/api/invitations/{inv_a}/accept")
    assert r.status_code == 410 and error_code(r) == "invitation_invalid"
    assert user.delete(f"/api/orgs/{org['id']}/invitations/{inv_b}").status_code == 200
    assert user.delete(f"/api/orgs/{org['id']}/invitations/{inv_b}").status_code == 404
    assert b.post(f"/api/invitations/{inv_b}/accept").status_code == 410
    assert b.get("/api/invitations").json()["invitations"] == []
    assert a.post("/api/invitations/not-an-id/accept").status_code == 404


def test_an_invitation_id_is_case_sensitive(stack, user):
    """Invitation ids are base64url: the same letters in another case are another id."""
    org = user.create_org("Case")
    invitee = new_user(stack.url)
    inv = user.post(f"/api/orgs/{org['id']}/invitations", {"email": invitee.email, "role": "member"}).json()["invitation"]["id"]
    swapped = inv.swapcase()
    assert swapped != inv
    for r in (invitee.get(f"/api/invitations/{swapped}"), invitee.post(f"/api/invitations/{swapped}/accept"),
              invitee.post(f"/api/invitations/{swapped}/decline"),
              user.delete(f"/api/orgs/{org['id']}/invitations/{swapped}")):
        assert r.status_code == 404 and error_code(r) == "not_found"
    assert invitee.post(f"/api/invitations/{inv}/accept").status_code == 200


def test_usage_ids_are_case_sensitive(stack, user):
    """Two usage records whose ids differ only in case are two records."""
    org = user.create_org("Usage case")
    if time.time() % 3600 < 90:     # a minute of this hour, away from the last one's closing
        time.sleep(90 - time.time() % 3600)
    start = int(time.time()) - 61
    rid = "Run-" + secrets.token_hex(4)

    def rec(record_id):
        return {"id": record_id, "org_id": org["id"], "cloud": "aws", "region": "cn-northwest-1",
                "dimension": "compute", "quantity": "1",
                "start": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
                "end": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 60))}

    r = requests.post(stack.url + "/internal/usage", json={"records": [rec(rid), rec(rid.lower())]},
                      headers={"Authorization": "Bearer " + stack.internal_token})
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    assert count(stack, f"SELECT COUNT(*) FROM usage_records WHERE org_id = '{org['id']}'") == 2


def test_every_ascii_column_compares_bytes(stack):
    """Ids, keys and hashes in CHARACTER SET ascii all use ascii_bin (sql/009): one rule, so two
    ids never collide by case and columns compared with each other agree."""
    rows = stack.sql("SELECT CONCAT(table_name, '.', column_name, ' ', collation_name) FROM information_schema.columns "
                     "WHERE table_schema = 'mpbind' AND character_set_name = 'ascii' AND collation_name <> 'ascii_bin'")
    assert rows == []


def test_withdrawing_an_invitation_is_for_org_admins(stack, user):
    org = user.create_org("Withdraw")
    billing, member = new_user(stack.url), new_user(stack.url)
    user.invite_and_join(org["id"], billing, "billing")
    user.invite_and_join(org["id"], member, "member")
    inv = user.post(f"/api/orgs/{org['id']}/invitations", {"email": unique_email(), "role": "member"}).json()["invitation"]
    for who in (billing, member):
        r = who.delete(f"/api/orgs/{org['id']}/invitations/{inv['id']}")
        assert r.status_code == 403 and error_code(r) == "forbidden"
    assert [i["id"] for i in user.get(f"/api/orgs/{org['id']}/members").json()["invitations"]] == [inv["id"]]


def test_a_declined_invitation_is_gone(stack, user):
    org = user.create_org("Declined")
    invitee = new_user(stack.url)
    inv = user.post(f"/api/orgs/{org['id']}/invitations", {"email": invitee.email, "role": "member"}).json()["invitation"]["id"]
    assert invitee.post(f"/api/invitations/{inv}/decline").status_code == 200
    assert invitee.post(f"/api/invitations/{inv}/accept").status_code == 410


def test_only_admins_invite_and_members_are_not_invited_twice(stack, user):
    org = user.create_org("Admins only")
    billing = new_user(stack.url)
    user.invite_and_join(org["id"], billing, "billing")
    r = billing.post(f"/api/orgs/{org['id']}/invitations", {"email": unique_email(), "role": "admin"})
    assert r.status_code == 403
    r = user.post(f"/api/orgs/{org['id']}/invitations", {"email": billing.email, "role": "member"})
    assert r.status_code == 409 and error_code(r) == "already_member"
    r = user.post(f"/api/orgs/{org['id']}/invitations", {"email": unique_email(), "role": "owner"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "role"


def test_role_changes_and_removal_are_admin_only(stack, user):
    org = user.create_org("Roles")
    m = new_user(stack.url)
    user.invite_and_join(org["id"], m, "member")
    path = f"/api/orgs/{org['id']}/members/{m.user_id}"
    assert m.put(path, {"role": "admin"}).status_code == 403
    assert user.put(path, {"role": "billing"}).status_code == 200
    assert m.get(f"/api/orgs/{org['id']}").json()["org"]["role"] == "billing"
    assert user.put(f"/api/orgs/{org['id']}/members/999999999", {"role": "billing"}).status_code == 404
    assert user.put(f"/api/orgs/{org['id']}/members/abc", {"role": "billing"}).status_code == 404
    assert m.delete(f"/api/orgs/{org['id']}/members/{user.user_id}").status_code == 403
    assert user.delete(path).status_code == 200
    assert m.get(f"/api/orgs/{org['id']}").status_code == 404


def test_every_org_keeps_an_org_admin(stack, user):
    org = user.create_org("Last admin")
    me = f"/api/orgs/{org['id']}/members/{user.user_id}"
    for r in (user.put(me, {"role": "member"}), user.delete(me), user.post(f"/api/orgs/{org['id']}/leave")):
        assert r.status_code == 409 and error_code(r) == "last_admin"
    assert user.get(f"/api/orgs/{org['id']}").json()["org"]["role"] == "admin"
    second = new_user(stack.url)
    user.invite_and_join(org["id"], second, "admin")
    assert user.post(f"/api/orgs/{org['id']}/leave").status_code == 200
    r = second.post(f"/api/orgs/{org['id']}/leave")
    assert r.status_code == 409


def test_two_admins_demoting_each_other_at_once_leave_one_admin(stack):
    for _ in range(5):
        a, b = new_user(stack.url), new_user(stack.url)
        org = a.create_org("Race")
        a.invite_and_join(org["id"], b, "admin")
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            fa = pool.submit(a.put, f"/api/orgs/{org['id']}/members/{b.user_id}", {"role": "member"})
            fb = pool.submit(b.put, f"/api/orgs/{org['id']}/members/{a.user_id}", {"role": "member"})
            codes = sorted([fa.result().status_code, fb.result().status_code])
        # Exactly one wins. The other finds itself demoted (403) or the last admin (409).
        assert codes in ([200, 403], [200, 409])
        assert count(stack, f"SELECT COUNT(*) FROM memberships WHERE org_id = '{org['id']}' AND role = 'admin'") == 1


# ----- closing an account ----------------------------------------------------

def test_closing_is_blocked_while_the_last_admin(stack, user):
    org = user.create_org("Blocks closing")
    r = user.post("/api/auth/close", {"password": PASSWORD})
    assert r.status_code == 409 and error_code(r) == "last_admin"
    assert "Blocks closing" in r.json()["error"]["message"] and org["id"] in r.json()["error"]["message"]
    assert user.get("/api/auth/me").status_code == 200


def test_closing_revokes_sessions_and_memberships(stack, user):
    owner = new_user(stack.url)
    org = owner.create_org("Shared")
    owner.invite_and_join(org["id"], user, "billing")
    other_session = Api(stack.url)
    other_session.login(user.email)
    assert user.post("/api/auth/close", {"password": "wrong password 1"}).status_code == 403
    r = user.post("/api/auth/close", {"password": PASSWORD})
    assert r.status_code == 200 and "Max-Age=0" in r.headers["Set-Cookie"]
    assert other_session.get("/api/auth/me").status_code == 401
    assert user.get("/api/auth/me").status_code == 401
    members = owner.get(f"/api/orgs/{org['id']}/members").json()["members"]
    assert [m["email"] for m in members] == [owner.email]
    r = Api(stack.url).post("/api/auth/login", {"email": user.email, "password": PASSWORD})
    assert r.status_code == 401
    again = Api(stack.url)
    again.register(user.email)
    assert again.get("/api/orgs").json()["orgs"] == []


# ----- events ----------------------------------------------------------------

def test_every_change_writes_an_event_that_admins_can_read(stack, user):
    org = user.create_org("Audited")
    m = new_user(stack.url)
    user.invite_and_join(org["id"], m, "member")
    user.put(f"/api/orgs/{org['id']}/members/{m.user_id}", {"role": "billing"})
    user.patch(f"/api/orgs/{org['id']}", {"name": "Audited 2"})
    events = user.get(f"/api/orgs/{org['id']}/events").json()["events"]
    assert [e["action"] for e in events] == ["org.renamed", "member.role_changed", "member.joined",
                                             "invitation.created", "org.created"]
    assert events[1]["detail"] == {"user_id": str(m.user_id), "email": m.email, "from": "member", "to": "billing"}
    assert events[2]["actor_email"] == m.email
    assert all(e["actor"] == "user" and e["at"].endswith("Z") for e in events)
    # the billing admin reads them too; a plain member may not
    assert m.get(f"/api/orgs/{org['id']}/events").status_code == 200
    user.put(f"/api/orgs/{org['id']}/members/{m.user_id}", {"role": "member"})
    r = m.get(f"/api/orgs/{org['id']}/events")
    assert r.status_code == 403 and error_code(r) == "forbidden"


def account_events(stack, user_id):
    rows = stack.sql(f"SELECT action, detail FROM events WHERE actor_user_id = {user_id} AND org_id IS NULL ORDER BY id")
    return [(action, json.loads(detail)) for action, detail in rows]


def test_leaving_declining_and_account_changes_are_audited(stack, user):
    org = user.create_org("Audit trail")
    leaver, decliner, closer = new_user(stack.url), new_user(stack.url), new_user(stack.url)
    user.invite_and_join(org["id"], leaver, "member")
    user.invite_and_join(org["id"], closer, "billing")
    inv = user.post(f"/api/orgs/{org['id']}/invitations", {"email": decliner.email, "role": "admin"}).json()["invitation"]
    assert decliner.post(f"/api/invitations/{inv['id']}/decline").status_code == 200
    assert leaver.post(f"/api/orgs/{org['id']}/leave").status_code == 200
    assert closer.post("/api/auth/password", {"current_password": PASSWORD, "new_password": "closing soon 42"}).status_code == 200
    assert closer.post("/api/auth/close", {"password": "closing soon 42"}).status_code == 200
    events = user.get(f"/api/orgs/{org['id']}/events").json()["events"]
    seen = [(e["action"], e["actor_email"], e["detail"]) for e in events[:3]]
    assert seen == [("member.left", closer.email, {"email": closer.email, "reason": "account closed"}),
                    ("member.left", leaver.email, {"email": leaver.email}),
                    ("invitation.declined", decliner.email, {"email": decliner.email})]
    assert account_events(stack, closer.user_id) == [("user.registered", {"email": closer.email}),
                                                     ("user.password_changed", {}),
                                                     ("user.closed", {"email": closer.email})]


def test_events_are_paged_newest_first(stack, user):
    org = user.create_org("Paged")
    for i in range(5):
        user.patch(f"/api/orgs/{org['id']}", {"name": f"name {i}"})
    page1 = user.get(f"/api/orgs/{org['id']}/events?limit=4").json()
    assert len(page1["events"]) == 4 and page1["next_before"] == page1["events"][-1]["id"]
    page2 = user.get(f"/api/orgs/{org['id']}/events?limit=4&before={page1['next_before']}").json()
    assert [e["action"] for e in page2["events"]] == ["org.renamed", "org.created"]
    assert page2["next_before"] is None
    ids = [e["id"] for e in page1["events"] + page2["events"]]
    assert ids == sorted(ids, reverse=True)
    assert user.get(f"/api/orgs/{org['id']}/events?limit=0").status_code == 400
    assert user.get(f"/api/orgs/{org['id']}/events?limit=201").status_code == 400


def test_failed_requests_write_no_events(stack, user):
    org = user.create_org("Quiet")
    before = count(stack, "SELECT COUNT(*) FROM events")
    user.put(f"/api/orgs/{org['id']}/members/{user.user_id}", {"role": "member"})   # last admin
    user.post(f"/api/orgs/{org['id']}/invitations", {"email": user.email, "role": "member"})  # already
    user.patch(f"/api/orgs/{org['id']}", {"name": ""})
    assert count(stack, "SELECT COUNT(*) FROM events") == before
