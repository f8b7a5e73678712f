# SPDX-License-Identifier: MIT
"""The foundation through the real stack: health and metrics, nginx's
rules, the request core's caps and errors, worker restarts, draining, the
database going away and coming back, configuration checks, migrations, and
a second mpbind-fcgi on TCP spoken to in FastCGI (its drain limit, a
database connection that dies under it, an https public URL)."""

import concurrent.futures
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import pymysql
import pytest
import requests

from api import Api, error_code, new_user, unique_email, PASSWORD
from stack import ROOT, binary, free_port, pid_alive, read_pid, wait_until, temporary_stack


def test_healthz_reports_the_database(stack):
    r = requests.get(stack.url + "/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "db": "ok"}
    assert r.headers["Content-Type"].startswith("application/json")


def test_liveness_does_not_need_the_database(stack):
    r = requests.get(stack.url + "/healthz/live")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


def test_metrics_are_prometheus_text(stack):
    requests.get(stack.url + "/healthz")
    requests.get(stack.url + "/api/no/such/route")
    r = requests.get(stack.url + "/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = r.text
    assert "# TYPE mpbind_requests_total counter" in text
    assert 'mpbind_requests_total{route="healthz",status="200"}' in text
    assert 'mpbind_requests_total{route="unmatched",status="404"}' in text
    assert 'mpbind_request_duration_seconds_bucket{route="healthz",le="+Inf"}' in text
    assert "mpbind_db_errors_total" in text and "mpbind_db_reconnects_total" in text
    assert "mpbind_worker_restarts_total" in text
    assert "mpbind_workers 2" in text


def test_internal_paths_answer_only_loopback(stack):
    """127.0.0.2 is a loopback address nginx does not allow for /internal/ and /metrics; its
    refusal is the API's JSON error, in the user's language."""
    outsider = Api(stack.url, source_address="127.0.0.2")
    for path in ("/metrics", "/internal/orgs/org-aaaaaaaaaaaaaaaaaaaaaa/billing-status", "/internal/usage"):
        r = outsider.get(path)
        assert r.status_code == 403 and r.headers["Content-Type"].startswith("application/json")
        assert r.json() == {"error": {"code": "forbidden", "message": "权限不足。"}}
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    r = outsider.get("/metrics", headers={"Cookie": "lang=en"})
    assert r.json()["error"]["message"] == "You do not have permission to do this."
    assert outsider.get("/healthz").status_code == 200
    assert requests.get(stack.url + "/metrics").status_code == 200
    # nginx's own 413 keeps its JSON there too
    r = requests.post(stack.url + "/internal/usage", data="x" * 140_000,
                      headers={"Content-Type": "application/json", "Authorization": "Bearer " + stack.internal_token})
    assert r.status_code == 413 and error_code(r) == "body_too_large"


def test_security_headers_on_pages_and_api(stack):
    for path in ("/", "/healthz", "/api/orgs"):
        h = requests.get(stack.url + path).headers
        csp = h["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "no-referrer"
        assert "Server" not in h or "nginx/" not in h["Server"]


def test_unknown_routes_and_methods_answer_json(stack):
    r = requests.get(stack.url + "/api/nothing/here")
    assert r.status_code == 404 and error_code(r) == "not_found"
    r = requests.delete(stack.url + "/api/auth/login")
    assert r.status_code == 405 and error_code(r) == "method_not_allowed"
    r = requests.request("BREW", stack.url + "/api/orgs")
    assert r.status_code == 405 and error_code(r) == "method_not_allowed"
    assert r.headers["Content-Type"].startswith("application/json")


def test_every_error_has_a_code_of_its_own():
    """Clients tell errors apart by code (include/error.h): no two share one."""
    with open(os.path.join(ROOT, "include", "error.h")) as f:
        codes = re.findall(r'^\tX\((\w+), +\d{3}, +"([a-z_]+)"', f.read(), re.M)
    assert len(codes) > 40
    names = {}
    for name, code in codes:
        names.setdefault(code, []).append(name)
    assert {c: n for c, n in names.items() if len(n) > 1} == {}


def user_count(stack):
    return int(stack.sql("SELECT COUNT(*) FROM users")[0][0])


def post_raw(stack, path, data, content_type="application/json"):
    return requests.post(stack.url + path, data=data, headers={"Content-Type": content_type})


def test_bodies_over_the_application_cap_get_413(stack):
    before = user_count(stack)
    body = json.dumps({"email": unique_email(), "password": "x" * 100_000})
    r = post_raw(stack, "/api/auth/register", body)
    assert r.status_code == 413 and error_code(r) == "body_too_large"
    assert user_count(stack) == before


def test_bodies_over_the_nginx_cap_get_413_json(stack):
    r = post_raw(stack, "/api/auth/register", "x" * 140_000)
    assert r.status_code == 413
    assert error_code(r) == "body_too_large"


@pytest.mark.parametrize("body,content_type,status,code", [
    ("{\"email\":", "application/json", 400, "invalid_json"),
    ("{\"email\": \"a@b.co\"} trailing", "application/json", 400, "invalid_json"),
    ("[1,2,3]", "application/json", 400, "invalid_json"),
    (b"{\"email\": \"a\xff\xfe@b.co\", \"password\": \"x\"}", "application/json", 400, "invalid_json"),
    ("email=a%40b.co&password=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ("{\"email\": \"a@b.co\", \"password\": \"pw12345678a\", \"admin\": true}", "application/json", 400,
     "invalid_field"),
    ("{\"email\": \"" + "a" * 300 + "@b.co\", \"password\": \"x\"}", "application/json", 400, "invalid_field"),
    ("{\"email\": \"a@b.co\", \"password\": \"" + "p1" * 100 + "\"}", "application/json", 400, "invalid_field"),
    ("{" + "\"a\":" * 40 + "1" + "}" * 40, "application/json", 400, "invalid_json"),
])
def test_malformed_input_gets_a_json_error_and_writes_nothing(stack, body, content_type, status, code):
    before = user_count(stack)
    r = post_raw(stack, "/api/auth/register", body, content_type)
    assert (r.status_code, error_code(r)) == (status, code), r.text
    assert user_count(stack) == before


def test_a_field_error_names_the_field(stack):
    r = post_raw(stack, "/api/auth/register", json.dumps({"email": "nope", "password": PASSWORD}))
    err = r.json()["error"]
    assert r.status_code == 400 and err["field"] == "email"
    r = requests.post(stack.url + "/api/auth/register", json={"password": PASSWORD},
                      headers={"Accept-Language": "en-US,en"})
    assert r.json()["error"] == {"code": "invalid_field", "field": "email",
                                 "message": 'Field "email" is missing.'}


def test_query_strings_are_capped(stack, user):
    q = "&".join(f"k{i}=v" for i in range(100))
    r = user.get("/api/orgs?" + q)
    assert r.status_code == 400 and error_code(r) == "too_many_fields"
    r = user.get("/api/orgs/org-aaaaaaaaaaaaaaaaaaaaaa/events?limit=" + "9" * 30)
    assert r.status_code == 400 and r.json()["error"]["field"] == "limit"
    # requests would re-encode a bad escape; send it as it is.
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    conn.request("GET", "/api/orgs?x=%zz", headers={"Cookie": "; ".join(f"{c.name}={c.value}" for c in user.s.cookies)})
    r = conn.getresponse()
    assert r.status == 400 and json.loads(r.read())["error"]["code"] == "invalid_form"
    conn.close()


FIELD_NAMES_SHOWN = [("n" * 64, "n" * 64), ("n" * 65, "?"), ("n" * 9000, "?"), ("%FF%FE", "?"),
                     ("%E5%90%8D", "名")]


def test_a_client_chosen_field_name_is_echoed_short_and_valid(stack):
    """A form field the request core refuses by its name (here: too long a value) is named in the
    error only as at most 64 bytes of valid UTF-8; anything else shows as "?", and the answer stays
    valid JSON. (The query string's twin is test_query_field_names_are_echoed_short_and_valid.)"""
    for name, shown in FIELD_NAMES_SHOWN:
        r = requests.post(stack.url + "/marketplace/aliyun/spi", data=f"{name}={'v' * 8193}",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 400
        err = json.loads(r.content.decode("utf-8"))["error"]
        assert (err["code"], err["field"]) == ("invalid_field", shown)


def test_invalid_utf8_in_a_field_is_refused(stack, user):
    org = user.create_org("utf8 test")
    r = user.s.patch(stack.url + f"/api/orgs/{org['id']}", data=b'{"name": "bad \xc3\x28 name"}',
                     headers={"Content-Type": "application/json", "X-CSRF-Token": user.csrf})
    assert r.status_code == 400
    assert user.get(f"/api/orgs/{org['id']}").json()["org"]["name"] == "utf8 test"


def worker_restarts(stack):
    for line in requests.get(stack.url + "/metrics").text.splitlines():
        if line.startswith("mpbind_worker_restarts_total "):
            return int(line.split()[1])
    raise AssertionError("no worker restart counter")


def test_a_killed_worker_is_replaced_while_requests_flow(stack):
    before = worker_restarts(stack)
    victims = stack.fcgi_workers()
    assert len(victims) == 2
    results = []

    def hammer():
        session = requests.Session()
        for _ in range(150):
            try:
                results.append(session.get(stack.url + "/healthz").status_code)
            except requests.RequestException:
                results.append(0)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(hammer) for _ in range(4)]
        time.sleep(0.2)
        os.kill(victims[0], signal.SIGKILL)
        for f in futures:
            f.result()
    deadline = time.time() + 5
    while time.time() < deadline and (len(stack.fcgi_workers()) != 2 or victims[0] in stack.fcgi_workers()):
        time.sleep(0.05)
    workers = stack.fcgi_workers()
    assert len(workers) == 2 and victims[0] not in workers and victims[1] in workers
    assert worker_restarts(stack) == before + 1
    # Requests in flight on the killed worker may fail; every later one succeeds.
    later = [requests.get(stack.url + "/healthz").status_code for _ in range(50)]
    assert later == [200] * 50
    assert results.count(200) >= len(results) - 8


def test_the_database_restarting_is_survived(stack, user):
    org = user.create_org("before restart")
    stack.db_stop()
    try:
        r = requests.get(stack.url + "/healthz")
        assert (r.status_code, r.json()) == (503, {"status": "error", "db": "down"})
        r = user.get("/api/orgs")
        assert r.status_code == 503 and error_code(r) == "db_unavailable"
    finally:
        stack.db_start()
    # The first request after the restart succeeds: each thread reconnects
    # and re-prepares by itself. Try every thread (2 workers x 4 threads).
    statuses = [user.get("/api/orgs").status_code for _ in range(16)]
    assert statuses == [200] * 16
    assert org["id"] in [o["id"] for o in user.get("/api/orgs").json()["orgs"]]
    assert requests.get(stack.url + "/healthz").status_code == 200
    text = requests.get(stack.url + "/metrics").text
    reconnects = [int(l.split()[1]) for l in text.splitlines() if l.startswith("mpbind_db_reconnects_total ")]
    assert reconnects and reconnects[0] >= 1


def run(argv, env=None):
    return subprocess.run(argv, capture_output=True, text=True, env=env)


def test_check_config_names_each_bad_value(stack):
    fcgi = binary("mpbind-fcgi")
    r = run([fcgi, "-c", stack.config_path, "--check-config"])
    assert r.returncode == 0 and "configuration ok" in r.stdout
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("workers = 0\nlisten = nowhere\npublic_url = ftp://x\nbogus = 1\n")
    os.chmod(f.name, 0o600)
    try:
        r = run([fcgi, "-c", f.name, "--check-config"])
    finally:
        os.unlink(f.name)
    assert r.returncode == 1
    for expected in ('"workers": out of range', '"listen": not unix:/path or host:port',
                     '"public_url": not an http(s) URL', 'unknown option "bogus"'):
        assert expected in r.stderr
    r = run([fcgi, "--check-config"], env=dict(os.environ, MPBIND_THREADS="x"))
    assert r.returncode == 1 and "MPBIND_THREADS: not an integer" in r.stderr


def test_migrations_apply_once_and_stop_at_a_broken_file(stack):
    ctl = binary("mpbindctl")
    env = dict(os.environ, MPBIND_DB_USER="root", MPBIND_DB_PASSWORD=stack.state["secrets"]["db_root"])
    r = run([ctl, "-c", stack.config_path, "migrate", os.path.join(ROOT, "sql")], env=env)
    assert r.returncode == 0 and r.stdout == ""
    with tempfile.TemporaryDirectory() as d:
        for name in os.listdir(os.path.join(ROOT, "sql")):
            with open(os.path.join(ROOT, "sql", name)) as src, open(os.path.join(d, name), "w") as dst:
                dst.write(src.read())
        with open(os.path.join(d, "900_broken.sql"), "w") as f:
            f.write("CREATE TABLE broken (id INT PRIMARY KEY;\n")
        r = run([ctl, "-c", stack.config_path, "migrate", d], env=env)
    assert r.returncode == 1
    assert "migration 900_broken.sql failed:" in r.stderr and "SQL syntax" in r.stderr
    assert stack.sql("SELECT COUNT(*) FROM schema_migrations WHERE name = '900_broken.sql'") == [["0"]]


def test_the_app_user_cannot_change_the_schema(stack):
    import pymysql
    conn = pymysql.connect(unix_socket=stack.path("db", "mysql.sock"), user="mpbind",
                           password=stack.state["secrets"]["db_app"], database="mpbind")
    try:
        with conn.cursor() as c:
            c.execute("SELECT COUNT(*) FROM users")
            with pytest.raises(pymysql.err.OperationalError):
                c.execute("DROP TABLE events")
    finally:
        conn.close()


def test_secrets_never_reach_the_log(stack):
    api = Api(stack.url)
    secret_password = "Sup3rSecretPassw0rd-" + os.urandom(4).hex()
    api.register(unique_email(), secret_password)
    api.post("/api/auth/login", {"email": api.email, "password": secret_password + "x"})
    with open(stack.path("log", "mpbind.log")) as f:
        log = f.read()
    assert secret_password not in log
    assert stack.state["secrets"]["db_app"] not in log
    assert stack.state["secrets"]["internal_token"] not in log
    with open(stack.config_path) as f:
        assert os.stat(stack.config_path).st_mode & 0o077 == 0


# ----- a stack of its own: run again, stop and start, drain -----------------

@pytest.fixture(scope="module")
def own_stack():
    with temporary_stack("mpbind-life-", {
            "sim": False, "drain_timeout": 10, "workers": 2, "threads": 4, "allow_org_creation": False,
            "landing_rate": "2r/s", "landing_burst": 3,
            "config": {"auth.pwhash_ops": "3", "auth.pwhash_mem_kib": "65536", "db.timeout": "30"}},
            start=False) as s:
        yield s


def pids(s):
    return (read_pid(s.path("db", "mariadbd.pid")), read_pid(s.path("run", "mpbind-fcgi.pid")),
            read_pid(s.path("nginx", "nginx.pid")))


def test_up_twice_changes_nothing_and_stop_keeps_the_data(own_stack):
    s = own_stack
    s.up(meterd=False)
    first = pids(s)
    with open(s.config_path) as f:
        config = f.read()
    api = Api(s.url)
    api.register()
    s.up(meterd=False)
    assert pids(s) == first
    with open(s.config_path) as f:
        assert f.read() == config
    stopped = s.down()
    assert set(stopped) == {"nginx", "mpbind-fcgi", "mariadb"}
    assert not any(pid_alive(p) for p in first)
    s.up(meterd=False)
    again = Api(s.url)
    again.login(api.email)
    assert again.get("/api/auth/me").json()["user"]["email"] == api.email


def test_org_creation_can_be_switched_off(own_stack):
    api = Api(own_stack.url)
    api.register()
    r = api.post("/api/orgs", {"name": "nope"})
    assert r.status_code == 403 and error_code(r) == "org_creation_disabled"
    assert api.get("/api/orgs").json() == {"orgs": [], "allow_creation": False}


def test_nginx_slows_down_a_flood_of_sign_ins(own_stack):
    """The default limit_req (10 r/s, burst 20) answers the excess with JSON 429."""
    flood = Api(own_stack.url, source_address="127.0.0.7")
    codes = [flood.post("/api/auth/login", {"email": "x@example.com", "password": "y"}).status_code
             for _ in range(40)]
    assert 429 in codes
    limited = [flood.post("/api/auth/login", {"email": "x@example.com", "password": "y"},
                          headers={"Cookie": "lang=en"}) for _ in range(30)]
    r = [x for x in limited if x.status_code == 429][0]
    assert r.json()["error"] == {"code": "rate_limited", "message": "Too many attempts; please wait and try again."}
    assert r.headers["Retry-After"] == "1" and "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    r = [x for x in (flood.post("/api/auth/login", {"email": "x@example.com", "password": "y"})
                     for _ in range(30)) if x.status_code == 429][0]
    assert r.json()["error"]["message"] == "尝试次数过多，请稍后再试。"


def test_nginx_slows_down_a_flood_of_landings(own_stack):
    """The landing zone (this stack: 2 r/s, burst 3) answers the excess with JSON 429 before the
    application sees it."""
    flood = Api(own_stack.url, source_address="127.0.0.9")
    answers = [flood.post("/marketplace/aws-cn/landing", data={}) for _ in range(12)]
    limited = [r for r in answers if r.status_code == 429]
    assert len(limited) >= 6, [r.status_code for r in answers]
    assert limited[0].json()["error"]["code"] == "rate_limited"
    assert limited[0].headers["Retry-After"] == "1"


def test_nginx_slows_down_a_flood_of_password_checks(own_stack):
    """A password change and closing an account check the current password (Argon2id): the
    sign-in zone (10 r/s, burst 20) covers them too."""
    for path in ("/api/auth/password", "/api/auth/close"):
        flood = Api(own_stack.url, source_address="127.0.0.10" if path.endswith("password") else "127.0.0.11")
        codes = [flood.post(path, {"password": "x"}).status_code for _ in range(40)]
        assert 429 in codes and set(codes) <= {401, 429}, codes


def executing(stack, sql_like):
    """How many of the application's statements whose text is like sql_like the server is
    executing right now (waiting for a lock counts)."""
    return int(stack.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE user = 'mpbind' "
                         f"AND command = 'Execute' AND info LIKE '{sql_like}'")[0][0])


def root_connection(stack):
    return pymysql.connect(unix_socket=stack.path("db", "mysql.sock"), user="root",
                           password=stack.state["secrets"]["db_root"], database="mpbind", autocommit=False)


def test_sigterm_drains_requests_in_flight(own_stack):
    """Eight registrations are held in the database (the test locks the events table they write),
    so they are certainly in flight when SIGTERM arrives; released half a second later, all
    finish and the master exits."""
    s = own_stack
    master = read_pid(s.path("run", "mpbind-fcgi.pid"))
    workers = s.fcgi_workers()
    emails = [unique_email("drain") for _ in range(8)]

    def register(email):
        try:
            r = requests.post(s.url + "/api/auth/register", json={"email": email, "password": PASSWORD}, timeout=30)
            return r.status_code
        except requests.RequestException as e:
            return str(e)

    holder = root_connection(s)
    try:
        with holder.cursor() as c:
            c.execute("LOCK TABLES events WRITE")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(register, email) for email in emails]
            wait_until(lambda: executing(s, "INSERT INTO events %") == 8, 30,
                       "eight registrations waiting for the events table")
            started = time.time()
            os.kill(master, signal.SIGTERM)
            time.sleep(0.5)
            assert pid_alive(master) and all(pid_alive(w) for w in workers)
            with holder.cursor() as c:
                c.execute("UNLOCK TABLES")
            results = [f.result() for f in futures]
    finally:
        holder.close()
    while pid_alive(master) and time.time() - started < 15:
        time.sleep(0.05)
    elapsed = time.time() - started
    assert not pid_alive(master), "the master did not exit"
    assert elapsed < 12
    assert not any(pid_alive(w) for w in workers)
    assert results == [201] * 8, results
    assert s.sql("SELECT COUNT(*) FROM users WHERE email IN (%s)" % ", ".join(f"'{e}'" for e in emails)) == [["8"]]
    assert not os.path.exists(s.path("run", "mpbind.sock"))


# ----- a second mpbind-fcgi on TCP, spoken to in FastCGI --------------------

def fcgi_record(kind, content=b""):
    return struct.pack("!BBHHBB", 1, kind, 1, len(content), 0, 0) + content


def fcgi_pairs(params):
    out = b""
    for name, value in params.items():
        name, value = name.encode(), value.encode()
        for n in (len(name), len(value)):
            out += bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)
        out += name + value
    return out


def recv_some(sock):
    """Up to 64 KiB from sock: b"" once it ended or failed."""
    try:
        return sock.recv(65536)
    except OSError:
        return b""


class FcgiClosed(Exception):
    """The application closed the connection without ending the request."""


def fastcgi(port, method, path, headers=None, body=b"", timeout=30):
    """One request to 127.0.0.1:port the way nginx sends it (a connection of its own, not kept).
    Returns (status, {lowercase header: [values]}, body); raises FcgiClosed when the connection
    ends without an answer."""
    uri, _, query = path.partition("?")
    params = {"REQUEST_METHOD": method, "DOCUMENT_URI": uri, "REQUEST_URI": path, "QUERY_STRING": query,
              "REMOTE_ADDR": "127.0.0.1", "SERVER_NAME": "_", "SERVER_PORT": "80",
              "CONTENT_LENGTH": str(len(body)) if body else ""}
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        params[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
    pairs = fcgi_pairs(params)
    out = fcgi_record(1, struct.pack("!HB5x", 1, 0))     # BEGIN_REQUEST: responder, not kept
    for i in range(0, len(pairs), 65535):
        out += fcgi_record(4, pairs[i:i + 65535])
    out += fcgi_record(4)
    for i in range(0, len(body), 65535):
        out += fcgi_record(5, body[i:i + 65535])
    out += fcgi_record(5)
    stdout, data, ended = b"", b"", False
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(out)
        while not ended:
            chunk = recv_some(conn)
            if not chunk:
                break
            data += chunk
            while len(data) >= 8 and not ended:
                _, kind, _, length, padding, _ = struct.unpack("!BBHHBB", data[:8])
                if len(data) < 8 + length + padding:
                    break
                content, data = data[8:8 + length], data[8 + length + padding:]
                if kind == 6:
                    stdout += content
                ended = kind == 3
    if not ended:
        raise FcgiClosed(stdout)
    head, _, payload = stdout.partition(b"\r\n\r\n")
    fields = {}
    for line in head.decode().split("\r\n"):
        name, _, value = line.partition(":")
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    return int(fields["status"][0].split()[0]), fields, payload


class TcpFcgi:
    """A second mpbind-fcgi, configured like stack's but listening on a TCP loopback port (and
    whatever overrides say), in a directory of its own. Stopped at the end of the with block."""

    def __init__(self, stack, **overrides):
        self.dir = tempfile.mkdtemp(prefix="mpbind-tcp-")
        self.port = free_port()
        values = {}
        with open(stack.config_path) as f:
            for line in f:
                if "=" in line and not line.startswith("#"):
                    name, _, value = line.partition("=")
                    values[name.strip()] = value.strip()
        values.update({"listen": f"127.0.0.1:{self.port}", "pid_file": self.path("fcgi.pid"),
                       "log_file": self.path("fcgi.log")})
        values.update({k.replace("__", "."): str(v) for k, v in overrides.items()})
        self.config = self.path("mpbind.conf")
        fd = os.open(self.config, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("".join(f"{k} = {v}\n" for k, v in values.items()))
        self.proc = None

    def path(self, name):
        return os.path.join(self.dir, name)

    def __enter__(self):
        with open(self.path("fcgi.out"), "wb") as out:
            self.proc = subprocess.Popen([binary("mpbind-fcgi"), "-c", self.config], stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
                                         start_new_session=True)
        wait_until(lambda: os.path.exists(self.path("fcgi.pid")) or self.proc.poll() is not None, 15,
                   "mpbind-fcgi on TCP")
        assert self.proc.poll() is None, self.output()
        wait_until(lambda: len(self.workers()) > 0, 15, "its workers")
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def workers(self):
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def output(self):
        text = ""
        for name in ("fcgi.out", "fcgi.log"):
            try:
                with open(self.path(name)) as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def request(self, method, path, api=None, json_body=None, headers=None, **kw):
        """A request as api (an Api: its session cookie and CSRF token), with a JSON body."""
        headers = dict(headers or {})
        if api is not None:
            headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in api.s.cookies)
            if method != "GET":
                headers["X-CSRF-Token"] = api.csrf
        body = b""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        return fastcgi(self.port, method, path, headers, body, **kw)


def test_mpbind_fcgi_serves_fastcgi_on_tcp(stack, user):
    with TcpFcgi(stack, workers=2, threads=2) as app:
        status, headers, body = app.request("GET", "/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok", "db": "ok"})
        assert headers["content-type"] == ["application/json; charset=utf-8"]
        # the same database: a session from the stack works here
        status, _, body = app.request("GET", "/api/auth/me", api=user)
        assert status == 200 and json.loads(body)["user"]["email"] == user.email
        status, _, body = app.request("GET", "/api/no/such/thing")
        assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
        assert len(app.workers()) == 2
        assert f'listening on "127.0.0.1:{app.port}"' in app.output()


def test_query_field_names_are_echoed_short_and_valid(stack, user):
    """The query string's twin of test_a_client_chosen_field_name_is_echoed_short_and_valid:
    nginx's request-line buffer is shorter than a field's cap, so it is spoken to directly."""
    with TcpFcgi(stack, workers=1, threads=1) as app:
        for name, shown in FIELD_NAMES_SHOWN:
            status, _, body = app.request("GET", f"/api/orgs?{name}={'v' * 8193}", api=user)
            err = json.loads(body.decode("utf-8"))["error"]
            assert (status, err["code"], err["field"]) == (400, "invalid_field", shown)


def test_an_https_public_url_makes_the_cookie_secure(stack, user):
    """The application decides Secure from public_url alone (TLS may end before nginx)."""
    with TcpFcgi(stack, workers=1, threads=1, public_url="https://mpbind.example.com") as app:
        status, headers, _ = app.request("POST", "/api/auth/login",
                                         json_body={"email": user.email, "password": PASSWORD})
        assert status == 200
        [cookie] = headers["set-cookie"]
        assert re.fullmatch(r"mpb_session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure",
                            cookie)
        status, headers, _ = app.request("POST", "/api/auth/logout", api=user)
        assert status == 200 and headers["set-cookie"][0].endswith("; Secure")
    r = Api(stack.url).post("/api/auth/login", {"email": user.email, "password": PASSWORD})
    assert "Secure" not in r.headers["Set-Cookie"]


def test_sigterm_gives_up_on_a_stuck_request_after_drain_timeout(stack, user):
    """A rename waits on a membership row the test holds locked; on SIGTERM the worker waits
    drain_timeout (1 s) for it, then gives up, and the master is gone within its bound
    (drain_timeout + 2 s). The held transaction never commits the rename."""
    org = user.create_org("Stuck")
    holder = root_connection(stack)
    with TcpFcgi(stack, workers=1, threads=2, drain_timeout=1, db__timeout=30) as app:
        worker = app.workers()[0]
        try:
            with holder.cursor() as c:
                c.execute("SELECT role FROM memberships WHERE org_id = %s AND user_id = %s FOR UPDATE",
                          (org["id"], user.user_id))
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                stuck = pool.submit(app.request, "PATCH", f"/api/orgs/{org['id']}", api=user,
                                    json_body={"name": "renamed"})
                wait_until(lambda: executing(stack, "SELECT role FROM memberships % FOR UPDATE") == 1, 10,
                           "the rename to wait")
                started = time.monotonic()
                app.proc.send_signal(signal.SIGTERM)
                app.proc.wait(10)
                elapsed = time.monotonic() - started
                with pytest.raises(FcgiClosed):
                    stuck.result(10)
        finally:
            holder.rollback()
            holder.close()
        assert 1 <= elapsed <= 1 + 2 + 1, elapsed     # drain_timeout, and at most 2 s more (and slack)
        assert not pid_alive(worker)
        assert "threads still busy after 1s" in app.output()
    assert user.get(f"/api/orgs/{org['id']}").json()["org"]["name"] == "Stuck"


class LosingProxy:
    """A TCP proxy in front of MariaDB that can lose an answer: after lose(marker, nth), the nth
    statement execution (COM_STMT_EXECUTE) whose packet holds marker (a bound value) reaches the
    server, which applies and answers it; the answer is dropped and that connection closed, as
    when a network fails at the worst moment."""

    def __init__(self, target_port):
        self.target = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.marker, self.nth, self.seen = None, 0, 0
        self.lost = threading.Event()
        self.hosts = []         # how MariaDB names the connections made through here
        threading.Thread(target=self._accept, daemon=True).start()

    def lose(self, marker, nth=1):
        with self.lock:
            self.marker, self.nth, self.seen = marker, nth, 0
        self.lost.clear()

    def close(self):
        self.listener.close()

    def _hit(self, packet):
        with self.lock:
            if self.marker is None or self.marker not in packet:
                return False
            self.seen += 1
            if self.seen < self.nth:
                return False
            self.marker = None
            return True

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            self.hosts.append("127.0.0.1:%d" % server.getsockname()[1])
            answered = threading.Event()
            state = {"cut": False}
            threading.Thread(target=self._down, args=(server, client, state, answered), daemon=True).start()
            threading.Thread(target=self._up, args=(client, server, state, answered), daemon=True).start()

    @staticmethod
    def _close(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _up(self, client, server, state, answered):
        data = b""
        while True:
            chunk = recv_some(client)
            if not chunk:
                break
            data += chunk
            while len(data) >= 4:
                length = int.from_bytes(data[:3], "little")
                if len(data) < 4 + length:
                    break
                packet, data = data[:4 + length], data[4 + length:]
                # a command starts at sequence 0; 0x17 is COM_STMT_EXECUTE
                if packet[3] == 0 and length > 0 and packet[4] == 0x17 and self._hit(packet):
                    state["cut"] = True
                try:
                    server.sendall(packet)
                except OSError:
                    break
                if state["cut"]:
                    answered.wait(5)
                    self._close(client, server)
                    self.lost.set()
                    return
        self._close(client, server)

    def _down(self, server, client, state, answered):
        while True:
            chunk = recv_some(server)
            if state["cut"]:
                answered.set()      # dropped; _up closes both
                return
            if not chunk:
                break
            try:
                client.sendall(chunk)
            except OSError:
                break
        self._close(client, server)


@pytest.fixture
def proxied(stack):
    """A TcpFcgi whose database connections go through a LosingProxy."""
    proxy = LosingProxy(stack.state["ports"]["db"])
    try:
        with TcpFcgi(stack, workers=1, threads=1, db__socket="", db__host="127.0.0.1", db__port=proxy.port) as app:
            app.proxy = proxy
            yield app
    finally:
        proxy.close()


def failures(stack, key):
    rows = stack.sql(f"SELECT failures FROM auth_throttle WHERE throttle_key = '{key}'")
    return int(rows[0][0]) if rows else 0


def sessions_of(stack, user_id):
    return int(stack.sql(f"SELECT COUNT(*) FROM sessions WHERE user_id = {user_id}")[0][0])


def test_a_write_whose_answer_was_lost_is_not_sent_again(stack, proxied):
    """The server applied the statement but the answer never came: running it again could apply it
    twice, so the write fails instead (a failed sign-in counts once; a sign-in whose new session
    was stored answers 503, not a duplicate-key 409) and the next request works."""
    user = new_user(stack.url)
    wrong = {"email": user.email, "password": "not it 12345"}
    # the account's key is bound twice in a failed sign-in: first read, then counted
    proxied.proxy.lose(f"e:{user.email}".encode(), nth=2)
    status, _, body = proxied.request("POST", "/api/auth/login", json_body=wrong)
    assert proxied.proxy.lost.is_set()
    assert (status, json.loads(body)["error"]["code"]) == (401, "invalid_credentials")
    assert failures(stack, f"e:{user.email}") == 1

    before = sessions_of(stack, user.user_id)
    proxied.proxy.lose(b"\x08password")    # the session's kind, bound only by its INSERT
    status, _, body = proxied.request("POST", "/api/auth/login",
                                      json_body={"email": user.email, "password": PASSWORD})
    assert proxied.proxy.lost.is_set()
    assert (status, json.loads(body)["error"]["code"]) == (503, "db_unavailable")
    assert sessions_of(stack, user.user_id) == before + 1
    status, _, _ = proxied.request("POST", "/api/auth/login", json_body={"email": user.email, "password": PASSWORD})
    assert status == 200 and sessions_of(stack, user.user_id) == before + 2


def test_a_connection_killed_between_requests_is_replaced(stack, proxied):
    """KILL CONNECTION between requests: the next request reconnects (its first statement, a read,
    runs again), a sign-in works once, and a failed sign-in counts once."""
    user = new_user(stack.url)

    def kill():
        hosts = ", ".join(f"'{h}'" for h in proxied.proxy.hosts)
        ids = stack.sql(f"SELECT id FROM information_schema.processlist WHERE host IN ({hosts})")
        assert len(ids) == 1     # one worker, one thread
        stack.sql(f"KILL CONNECTION {ids[0][0]}")

    assert proxied.request("GET", "/healthz")[0] == 200
    before = sessions_of(stack, user.user_id)
    kill()
    status, headers, _ = proxied.request("POST", "/api/auth/login", json_body={"email": user.email, "password": PASSWORD})
    assert status == 200 and len(headers["set-cookie"]) == 1
    assert sessions_of(stack, user.user_id) == before + 1
    kill()
    status, _, _ = proxied.request("POST", "/api/auth/login", json_body={"email": user.email, "password": "not it 12345"})
    assert status == 401 and failures(stack, f"e:{user.email}") == 1
