# SPDX-License-Identifier: MIT
"""The foundation through the real stack: health and metrics, nginx's
rules, the request core's caps and errors, worker restarts, draining, the
database going away and coming back, configuration checks, migrations."""

import concurrent.futures
import json
import os
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from api import Api, error_code, unique_email, PASSWORD
from stack import ROOT, Stack, binary, pid_alive, read_pid


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
    """127.0.0.2 is a loopback address nginx does not allow for /internal/ and /metrics."""
    outsider = Api(stack.url, source_address="127.0.0.2")
    assert outsider.get("/metrics").status_code == 403
    assert outsider.get("/internal/orgs/org-aaaaaaaaaaaaaaaaaaaaaa/billing-status").status_code == 403
    assert outsider.get("/healthz").status_code == 200
    assert requests.get(stack.url + "/metrics").status_code == 200


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
    assert r.status_code in (400, 405)


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
    var = tempfile.mkdtemp(prefix="mpbind-life-")
    s = Stack(var, options={"sim": False, "drain_timeout": 10, "workers": 2, "threads": 4,
                            "allow_org_creation": False,
                            "config": {"auth.pwhash_ops": "3", "auth.pwhash_mem_kib": "65536"}})
    try:
        yield s
    finally:
        s.down()
        import shutil
        shutil.rmtree(var, ignore_errors=True)


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


def test_sigterm_drains_requests_in_flight(own_stack):
    """Registrations hash with Argon2id (64 MiB): slow enough to be in flight."""
    s = own_stack
    master = read_pid(s.path("run", "mpbind-fcgi.pid"))
    workers = s.fcgi_workers()

    def register(i):
        try:
            r = requests.post(s.url + "/api/auth/register",
                              json={"email": unique_email("drain"), "password": PASSWORD}, timeout=30)
            return r.status_code
        except requests.RequestException as e:
            return str(e)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(register, i) for i in range(8)]
        time.sleep(0.15)
        started = time.time()
        os.kill(master, signal.SIGTERM)
        results = [f.result() for f in futures]
    while pid_alive(master) and time.time() - started < 15:
        time.sleep(0.05)
    elapsed = time.time() - started
    assert not pid_alive(master), "the master did not exit"
    assert elapsed < 12
    assert not any(pid_alive(w) for w in workers)
    assert results == [201] * 8, results
    assert not os.path.exists(s.path("run", "mpbind.sock"))
