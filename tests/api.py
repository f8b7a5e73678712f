# SPDX-License-Identifier: MIT
"""A small client of mpbind's JSON API for the tests: it keeps the session
cookie and sends the CSRF token the server handed out."""

import itertools
import os
import secrets

import requests

PASSWORD = "correct horse 42 battery"
_counter = itertools.count(1)


def unique_email(prefix="user"):
    return f"{prefix}{next(_counter)}-{secrets.token_hex(4)}@example.com"


class Api:
    def __init__(self, base, source_address=None):
        self.base = base
        self.s = requests.Session()
        self.csrf = None
        self.email = None
        self.user_id = None
        if source_address:
            from requests.adapters import HTTPAdapter

            class Bound(HTTPAdapter):
                def init_poolmanager(self, *a, **kw):
                    kw["source_address"] = (source_address, 0)
                    super().init_poolmanager(*a, **kw)

            self.s.mount("http://", Bound())

    def url(self, path):
        return self.base + path

    def request(self, method, path, json=None, csrf=True, **kw):
        headers = dict(kw.pop("headers", {}) or {})
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            headers.setdefault("X-CSRF-Token", self.csrf)
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 30)
        return self.s.request(method, self.url(path), json=json, headers=headers, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def _signed_in(self, r):
        body = r.json()
        self.csrf = body["csrf"]
        self.email = body["user"]["email"]
        self.user_id = body["user"]["id"]
        return r

    def register(self, email=None, password=PASSWORD):
        r = self.post("/api/auth/register", {"email": email or unique_email(), "password": password})
        assert r.status_code == 201, r.text
        return self._signed_in(r)

    def login(self, email, password=PASSWORD):
        r = self.post("/api/auth/login", {"email": email, "password": password})
        assert r.status_code == 200, r.text
        return self._signed_in(r)

    def create_org(self, name="Zilliz"):
        r = self.post("/api/orgs", {"name": name})
        assert r.status_code == 201, r.text
        return r.json()["org"]

    def invite_and_join(self, org_id, other, role):
        """Invites other (an Api) to org_id with role and has other accept."""
        r = self.post(f"/api/orgs/{org_id}/invitations", {"email": other.email, "role": role})
        assert r.status_code == 201, r.text
        inv = r.json()["invitation"]["id"]
        r = other.post(f"/api/invitations/{inv}/accept")
        assert r.status_code == 200, r.text
        return inv


def new_user(base, prefix="user"):
    api = Api(base)
    api.register(unique_email(prefix))
    return api


def error_code(r):
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
