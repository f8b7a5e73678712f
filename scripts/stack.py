#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The mpbind stack on one machine: a project-local MariaDB, the schema,
keys and configuration, mpbind-fcgi, mpbind-meterd, nginx and the
marketplace simulator.

`make run` calls `stack.py up` (state under the repository's var/, ports
from MPBIND_PORT and friends); `make stop` calls `stack.py down`. The test
fixtures and the bench import Stack and bring up their own copy in a
temporary directory on free ports (temporary_stack). Every process is started with a pid file
and stopped through it, so `down` stops exactly what `up` started.
"""

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3"
# The programs to run: the release build, or another (make test points this
# at the sanitizer build so the integration tests exercise it).
BIN = os.environ.get("MPBIND_BIN") or os.path.join(ROOT, "bin")


def binary(name):
    """The path of mpbind program name ("mpbind-fcgi", "mpbindctl", ...)."""
    return os.path.join(BIN, name)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pid_alive(pid):
    """True while pid runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    if state == "Z":
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return False
    return True


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def wait_until(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def http_ok(url, timeout=1.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return 200 <= r.status < 300
    except Exception:
        return False


class Stack:
    """One running copy of mpbind and everything it needs."""

    def __init__(self, var, ports=None, options=None):
        self.var = os.path.abspath(var)
        self.options = dict(options or {})
        self.state_file = os.path.join(self.var, "stack.json")
        self.state = self._load_state(ports or {})
        self.children = []

    # ----- layout -------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.var, *parts)

    @property
    def port(self):
        return self.state["ports"]["http"]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def sim_url(self):
        return f"http://127.0.0.1:{self.state['ports']['sim_http']}"

    @property
    def config_path(self):
        return self.path("mpbind.conf")

    @property
    def internal_token(self):
        return self.state["secrets"]["internal_token"]

    def _load_state(self, ports):
        try:
            with open(self.state_file) as f:
                state = json.load(f)
        except (OSError, ValueError):
            state = {}
        wanted = {
            "http": ports.get("http") or state.get("ports", {}).get("http") or free_port(),
            "db": ports.get("db") or state.get("ports", {}).get("db") or free_port(),
            "sim_http": ports.get("sim_http") or state.get("ports", {}).get("sim_http") or free_port(),
            "sim_https": ports.get("sim_https") or state.get("ports", {}).get("sim_https") or free_port(),
        }
        state["ports"] = wanted
        if "secrets" not in state:
            state["secrets"] = {
                "db_root": secrets.token_urlsafe(24),
                "db_app": secrets.token_urlsafe(24),
                "internal_token": secrets.token_urlsafe(32),
                "aws_cn_key": "AKIA" + secrets.token_hex(8).upper(),
                "aws_cn_secret": secrets.token_urlsafe(30),
                "aws_key": "AKIA" + secrets.token_hex(8).upper(),
                "aws_secret": secrets.token_urlsafe(30),
                "aliyun_isv_key": secrets.token_hex(16),
                "aliyun_key": "LTAI" + secrets.token_hex(8),
                "aliyun_secret": secrets.token_urlsafe(24),
            }
        return state

    def _save_state(self):
        os.makedirs(self.var, exist_ok=True)
        tmp = self.state_file + ".new"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.state, f, indent=2)
        os.replace(tmp, self.state_file)

    # ----- processes ----------------------------------------------------
    def _spawn(self, argv, log, env=None):
        out = open(self.path("log", log), "ab")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=ROOT, env=env, start_new_session=True)
        out.close()
        self.children.append(proc)
        return proc

    def _stop_pidfile(self, pidfile, sig=signal.SIGTERM, timeout=15.0):
        pid = read_pid(pidfile)
        if pid is None or not pid_alive(pid):
            self._unlink(pidfile)
            return False
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 5, f"pid {pid} to die")
        self._reap()
        self._unlink(pidfile)
        return True

    def _reap(self):
        for p in self.children:
            p.poll()

    @staticmethod
    def _unlink(path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def _running(self, pidfile):
        pid = read_pid(pidfile)
        return pid is not None and pid_alive(pid)

    # ----- MariaDB ------------------------------------------------------
    def _mysql(self, sql, user="root", password=None, database=None):
        argv = ["mariadb", "--no-defaults", f"--socket={self.path('db', 'mysql.sock')}", f"-u{user}",
                "--batch", "--skip-column-names"]
        env = dict(os.environ)
        if password:
            env["MYSQL_PWD"] = password
        if database:
            argv.append(database)
        r = subprocess.run(argv, input=sql, text=True, capture_output=True, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"mariadb: {r.stderr.strip()}")
        return r.stdout

    def db_start(self):
        data = self.path("db", "data")
        pidfile = self.path("db", "mariadbd.pid")
        fresh = not os.path.isdir(os.path.join(data, "mysql"))
        if fresh:
            os.makedirs(data, exist_ok=True)
            r = subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
                                "--auth-root-authentication-method=normal", "--skip-test-db"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError("mariadb-install-db failed:\n" + r.stdout + r.stderr)
        if not self._running(pidfile):
            self._spawn(["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={data}",
                         f"--socket={self.path('db', 'mysql.sock')}", f"--pid-file={pidfile}",
                         f"--port={self.state['ports']['db']}", "--bind-address=127.0.0.1", "--user=root",
                         f"--log-error={self.path('log', 'mariadb.log')}", "--skip-name-resolve",
                         "--innodb-buffer-pool-size=128M", "--max-connections=500",
                         "--character-set-server=utf8mb4", "--collation-server=utf8mb4_bin"],
                        "mariadb.out")
            wait_until(lambda: self._db_ping(), 30, "mariadb")
        if fresh or not self.state.get("db_bootstrapped"):
            self._db_bootstrap()

    def _db_ping(self):
        for pw in (self.state["secrets"]["db_root"], None):
            r = subprocess.run(["mariadb-admin", "--no-defaults", f"--socket={self.path('db', 'mysql.sock')}",
                                "-uroot", "ping"], capture_output=True,
                               env=dict(os.environ, **({"MYSQL_PWD": pw} if pw else {})))
            if r.returncode == 0:
                return True
        return False

    def _db_bootstrap(self):
        s = self.state["secrets"]
        root_pw = s["db_root"]
        try:
            self._mysql("SELECT 1", password=root_pw)
        except RuntimeError:
            self._mysql(f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{root_pw}';")
        app = s["db_app"]
        self._mysql(
            "CREATE DATABASE IF NOT EXISTS mpbind CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;\n"
            f"CREATE USER IF NOT EXISTS 'mpbind'@'localhost' IDENTIFIED BY '{app}';\n"
            f"CREATE USER IF NOT EXISTS 'mpbind'@'127.0.0.1' IDENTIFIED BY '{app}';\n"
            "GRANT SELECT, INSERT, UPDATE, DELETE ON mpbind.* TO 'mpbind'@'localhost';\n"
            "GRANT SELECT, INSERT, UPDATE, DELETE ON mpbind.* TO 'mpbind'@'127.0.0.1';\n",
            password=root_pw)
        self.state["db_bootstrapped"] = True
        self._save_state()

    def db_stop(self):
        return self._stop_pidfile(self.path("db", "mariadbd.pid"), timeout=30)

    def db_restart(self):
        self.db_stop()
        self.db_start()

    def sql(self, statement):
        """Runs SQL as root in the mpbind database (tests); returns rows of tab-split text."""
        out = self._mysql(statement, password=self.state["secrets"]["db_root"], database="mpbind")
        return [line.split("\t") for line in out.splitlines()]

    def migrate(self):
        env = dict(os.environ, MPBIND_DB_USER="root", MPBIND_DB_PASSWORD=self.state["secrets"]["db_root"])
        r = subprocess.run([binary("mpbindctl"), "-c", self.config_path, "migrate",
                            os.path.join(ROOT, "sql")], capture_output=True, text=True, env=env)
        sys.stdout.write(r.stdout)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.strip())

    # ----- keys and configuration ---------------------------------------
    def keys(self):
        path = self.path("keys", "tickets.key")
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            subprocess.run([binary("mpbindctl"), "keygen", path, "k1"], check=True,
                           stdout=subprocess.DEVNULL)
        return path

    def config_values(self):
        s = self.state["secrets"]
        p = self.state["ports"]
        sim = f"http://127.0.0.1:{p['sim_http']}"
        o = self.options
        values = {
            "listen": "unix:" + self.path("run", "mpbind.sock"),
            "listen_mode": "0666",
            "workers": str(o.get("workers", 2)),
            "threads": str(o.get("threads", 4)),
            "drain_timeout": str(o.get("drain_timeout", 10)),
            "pid_file": self.path("run", "mpbind-fcgi.pid"),
            "log_file": self.path("log", "mpbind.log"),
            "log_level": o.get("log_level", "info"),
            "db.socket": self.path("db", "mysql.sock"),
            "db.name": "mpbind",
            "db.user": "mpbind",
            "db.password": s["db_app"],
            "db.timeout": "5",
            "public_url": self.url,
            "internal_token": s["internal_token"],
            "ticket.keys": self.path("keys", "tickets.key"),
            "orgs.allow_creation": "yes" if o.get("allow_org_creation", True) else "no",
            "support_url": "https://support.example.com/",
            "billing.grace_seconds": str(o.get("grace_seconds", 3600)),
            # The simulator's APIs are plain HTTP; only SNS is fetched over TLS.
            "sns.ca_file": self.path("sim", "ca.pem"),
            "http.timeout": str(o.get("http_timeout", 5)),
            "http.retries": "3",
            "aws_cn.enabled": "yes",
            "aws_cn.product_code": "prodcn0mpbind",
            "aws_cn.region": "cn-northwest-1",
            "aws_cn.metering_url": f"{sim}/aws/aws-cn/metering/",
            "aws_cn.entitlement_url": f"{sim}/aws/aws-cn/entitlement/",
            "aws_cn.access_key_id": s["aws_cn_key"],
            "aws_cn.secret_access_key": s["aws_cn_secret"],
            "aws_cn.listing_url": f"http://localhost:{p['sim_http']}/aws/aws-cn/",
            "aws_cn.topic_arns": "arn:aws-cn:sns:cn-northwest-1:287250355862:aws-mp-subscription-notification-"
                                 "prodcn0mpbind,arn:aws-cn:sns:cn-northwest-1:287250355862:"
                                 "aws-mp-entitlement-notification-prodcn0mpbind",
            "aws_cn.sns_cert_host": f"^localhost:{p['sim_https']}$",
            "aws_cn.sqs_url": f"{sim}/aws/aws-cn/sqs/",
            "aws_cn.sqs_queue_url": f"{sim}/aws/aws-cn/sqs/queue/mpbind-notifications",
            "aws.enabled": "yes",
            "aws.product_code": "prodgl0mpbind",
            "aws.region": "us-east-1",
            "aws.metering_url": f"{sim}/aws/aws/metering/",
            "aws.entitlement_url": f"{sim}/aws/aws/entitlement/",
            "aws.access_key_id": s["aws_key"],
            "aws.secret_access_key": s["aws_secret"],
            "aws.listing_url": f"http://localhost:{p['sim_http']}/aws/aws/",
            "aws.topic_arns": "arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-prodgl0mpbind,"
                              "arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-prodgl0mpbind",
            "aws.sns_cert_host": f"^localhost:{p['sim_https']}$",
            "aws.sqs_url": f"{sim}/aws/aws/sqs/",
            "aws.sqs_queue_url": f"{sim}/aws/aws/sqs/queue/mpbind-notifications",
            "sqs.wait_seconds": str(o.get("sqs_wait", 20)),
            "meterd.interval": str(o.get("meterd_interval", 30)),
            "aliyun.enabled": "yes",
            "aliyun.isv_key": s["aliyun_isv_key"],
            "aliyun.product_code": "cmjj00mpbind",
            "aliyun.listing_url": f"http://localhost:{p['sim_http']}/aliyun/",
            "aliyun.market_url": f"{sim}/aliyun/market/",
            "aliyun.access_key_id": s["aliyun_key"],
            "aliyun.access_key_secret": s["aliyun_secret"],
            "aliyun.metering_assit": "cmjj00mpbind-Unit-1",
        }
        values.update(o.get("config", {}))
        return values

    def write_config(self, force=False):
        """Writes the configuration file. A file this script wrote and nobody
        edited since is written again (a newer mpbind may need new options);
        an edited one is kept, with a warning when it differs from what this
        script would write now."""
        path = self.config_path
        lines = ["# Generated by scripts/stack.py for this machine; holds secrets (mode 0600).",
                 "# Reference: README.md, Configuration. Edits are kept; delete the file to regenerate."]
        lines += [f"{k} = {v}" for k, v in self.config_values().items()]
        text = "\n".join(lines) + "\n"
        digest = hashlib.sha256(text.encode()).hexdigest()
        if os.path.exists(path) and not force:
            with open(path, "rb") as f:
                current = hashlib.sha256(f.read()).hexdigest()
            if current == digest:
                return path
            if current != self.state.get("config_sha256"):
                sys.stderr.write(f"note: {path} was edited, so it is kept; it differs from what "
                                 "scripts/stack.py writes now (delete it to regenerate)\n")
                return path
        fd = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(path + ".new", path)
        self.state["config_sha256"] = digest
        self._save_state()
        return path

    # ----- simulator ----------------------------------------------------
    def sim_config(self):
        s = self.state["secrets"]
        p = self.state["ports"]
        cfg = {
            "host": "127.0.0.1",
            "http_port": p["sim_http"],
            "https_port": p["sim_https"],
            "state_dir": self.path("sim"),
            "app_url": self.url,
            "aws": {
                "aws-cn": {"region": "cn-northwest-1", "access_key_id": s["aws_cn_key"],
                           "secret_access_key": s["aws_cn_secret"], "product_code": "prodcn0mpbind",
                           "seller_account_id": "123456789012",
                           "subscription_topic_arn": "arn:aws-cn:sns:cn-northwest-1:287250355862:"
                                                     "aws-mp-subscription-notification-prodcn0mpbind",
                           "entitlement_topic_arn": "arn:aws-cn:sns:cn-northwest-1:287250355862:"
                                                    "aws-mp-entitlement-notification-prodcn0mpbind",
                           "sns_delivery": "https"},
                "aws": {"region": "us-east-1", "access_key_id": s["aws_key"],
                        "secret_access_key": s["aws_secret"], "product_code": "prodgl0mpbind",
                        "seller_account_id": "210987654321",
                        "subscription_topic_arn": "arn:aws:sns:us-east-1:287250355862:"
                                                  "aws-mp-subscription-notification-prodgl0mpbind",
                        "entitlement_topic_arn": "arn:aws:sns:us-east-1:287250355862:"
                                                 "aws-mp-entitlement-notification-prodgl0mpbind",
                        "sns_delivery": "https"},
            },
            "aliyun": {"isv_key": s["aliyun_isv_key"], "access_key_id": s["aliyun_key"],
                       "access_key_secret": s["aliyun_secret"], "product_code": "cmjj00mpbind",
                       "activation_delay_seconds": self.options.get("aliyun_activation_delay", 5)},
        }
        for partition, extra in self.options.get("sim_aws", {}).items():
            cfg["aws"][partition].update(extra)
        return cfg

    def sim_start(self):
        pidfile = self.path("sim", "sim.pid")
        if self._running(pidfile):
            return
        os.makedirs(self.path("sim"), exist_ok=True)
        cfg_path = self.path("sim", "sim.json")
        fd = os.open(cfg_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.sim_config(), f, indent=2)
        self._spawn([PY, os.path.join(ROOT, "tests", "sim", "sim.py"), "--config", cfg_path], "sim.out")
        wait_until(lambda: http_ok(self.sim_url + "/_sim/health"), 30, "the simulator")
        wait_until(lambda: os.path.exists(self.path("sim", "ca.pem")), 10, "the simulator's CA")

    def sim_stop(self):
        return self._stop_pidfile(self.path("sim", "sim.pid"))

    # ----- mpbind-fcgi --------------------------------------------------
    def fcgi_start(self):
        pidfile = self.path("run", "mpbind-fcgi.pid")
        if self._running(pidfile):
            return
        self._unlink(pidfile)
        self._spawn([binary("mpbind-fcgi"), "-c", self.config_path], "mpbind-fcgi.out")
        wait_until(lambda: os.path.exists(pidfile) and os.path.exists(self.path("run", "mpbind.sock")),
                   15, "mpbind-fcgi")

    def fcgi_stop(self):
        return self._stop_pidfile(self.path("run", "mpbind-fcgi.pid"), timeout=30)

    def fcgi_workers(self):
        """PIDs of the worker processes (children of the master)."""
        master = read_pid(self.path("run", "mpbind-fcgi.pid"))
        try:
            with open(f"/proc/{master}/task/{master}/children") as f:
                return [int(x) for x in f.read().split()]
        except (OSError, TypeError):
            return []

    # ----- nginx --------------------------------------------------------
    def nginx_render(self):
        prefix = self.path("nginx")
        for d in ("conf", "logs", "tmp"):
            os.makedirs(os.path.join(prefix, d), exist_ok=True)
        o = self.options
        subst = {
            "@PREFIX@": prefix,
            "@NGINX_WORKERS@": str(o.get("nginx_workers", 1)),
            "@ACCESS_LOG@": o.get("access_log", os.path.join(prefix, "logs", "access.log")),
            "@MAX_BODY@": o.get("max_body", "64k"),
            "@SIGNIN_RATE@": o.get("signin_rate", "10r/s"),
            "@SIGNIN_BURST@": str(o.get("signin_burst", 20)),
            "@LANDING_RATE@": o.get("landing_rate", "10r/s"),
            "@LANDING_BURST@": str(o.get("landing_burst", 20)),
            "@SNS_RATE@": o.get("sns_rate", "20r/s"),
            "@SNS_BURST@": str(o.get("sns_burst", 100)),
            "@UPSTREAM@": "unix:" + self.path("run", "mpbind.sock"),
            "@LISTEN@": f"127.0.0.1:{self.port}",
            "@HTML@": os.path.join(ROOT, "html"),
            "@INTERNAL_ALLOW@": "",
        }
        with open(os.path.join(ROOT, "nginx", "mpbind.conf.in")) as f:
            text = f.read()
        for k, v in subst.items():
            text = text.replace(k, v)
        left = re.findall(r"@[A-Z_]+@", text)
        if left:
            raise RuntimeError(f"nginx template: no value for {', '.join(sorted(set(left)))}")
        with open(os.path.join(prefix, "conf", "nginx.conf"), "w") as f:
            f.write(text)
        for name in ("fastcgi.conf", "security-headers.conf"):
            shutil.copy(os.path.join(ROOT, "nginx", name), os.path.join(prefix, "conf", name))
        shutil.copy("/etc/nginx/mime.types", os.path.join(prefix, "conf", "mime.types"))

    def nginx_start(self):
        pidfile = self.path("nginx", "nginx.pid")
        if self._running(pidfile):
            return
        self.nginx_render()
        prefix = self.path("nginx")
        argv = ["/usr/sbin/nginx", "-p", prefix, "-e", os.path.join(prefix, "logs", "error.log"),
                "-c", os.path.join(prefix, "conf", "nginx.conf")]
        r = subprocess.run(argv + ["-t"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("nginx configuration: " + r.stderr)
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("nginx: " + r.stderr)
        wait_until(lambda: http_ok(self.url + "/nginx-ok"), 10, "nginx")

    def nginx_stop(self):
        return self._stop_pidfile(self.path("nginx", "nginx.pid"), sig=signal.SIGQUIT)

    # ----- meterd -------------------------------------------------------
    def meterd_start(self, name="meterd", extra=()):
        program = binary("mpbind-meterd")
        pidfile = self.path("run", f"{name}.pid")
        if not os.path.exists(program) or self._running(pidfile):
            return None
        proc = self._spawn([program, "-c", self.config_path, "-p", pidfile, *extra], f"{name}.out")
        wait_until(lambda: os.path.exists(pidfile), 10, name)
        return proc

    def meterd_stop(self, name="meterd"):
        return self._stop_pidfile(self.path("run", f"{name}.pid"))

    # ----- the whole stack ----------------------------------------------
    def up(self, meterd=True):
        # nginx's workers run as nobody: they may pass through var/ and run/
        # (the socket) and nginx/ (its temp files), and read nothing else.
        os.makedirs(self.var, exist_ok=True)
        os.chmod(self.var, 0o711)
        for d, mode in (("db", 0o700), ("run", 0o711), ("log", 0o700), ("keys", 0o700),
                        ("sim", 0o700), ("nginx", 0o711)):
            os.makedirs(self.path(d), exist_ok=True)
            os.chmod(self.path(d), mode)
        self._save_state()
        self.keys()
        self.write_config(force=self.options.get("rewrite_config", False))
        self.db_start()
        self.migrate()
        if self.options.get("sim", True) is not False:
            self.sim_start()
        self.fcgi_start()
        self.nginx_start()
        if meterd:
            self.meterd_start()
        wait_until(lambda: http_ok(self.url + "/healthz"), 15, "/healthz through nginx")

    def down(self):
        stopped = []
        names = [n[:-4] for n in os.listdir(self.path("run"))
                 if n.startswith("meterd") and n.endswith(".pid")] if os.path.isdir(self.path("run")) else []
        for name in names:
            if self.meterd_stop(name):
                stopped.append(name)
        for name, stop in (("nginx", self.nginx_stop), ("mpbind-fcgi", self.fcgi_stop),
                           ("simulator", self.sim_stop), ("mariadb", self.db_stop)):
            if stop():
                stopped.append(name)
        for p in self.children:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        return stopped


@contextlib.contextmanager
def temporary_stack(prefix, options, start=True, meterd=True, before_removal=None):
    """A Stack in a new temporary directory (prefix), up unless start is False; afterwards,
    even on failure, it is brought down, before_removal(var) runs (to keep logs), and the
    directory is removed."""
    var = tempfile.mkdtemp(prefix=prefix)
    s = Stack(var, options=options)
    try:
        if start:
            s.up(meterd=meterd)
        yield s
    finally:
        s.down()
        if before_removal is not None:
            before_removal(var)
        shutil.rmtree(var, ignore_errors=True)


def main(argv):
    var = os.environ.get("MPBIND_VAR", os.path.join(ROOT, "var"))
    ports = {
        "http": int(os.environ.get("MPBIND_PORT", "8080")),
        "db": int(os.environ.get("MPBIND_DB_PORT", "3307")),
        "sim_http": int(os.environ.get("MPBIND_SIM_PORT", "8090")),
        "sim_https": int(os.environ.get("MPBIND_SIM_TLS_PORT", "8091")),
    }
    cmd = argv[1] if len(argv) > 1 else "up"
    if cmd == "up":
        stack = Stack(var, ports)
        try:
            stack.up()
        except RuntimeError as e:
            print(f"stack: {e}", file=sys.stderr)
            print(f"stack: logs are in {stack.path('log')}", file=sys.stderr)
            return 1
        sim_public = f"http://localhost:{stack.state['ports']['sim_http']}"
        print(f"""
mpbind is running at {stack.url}/
  the marketplace simulator (walk the seeds from here): {sim_public}/
    AWS Marketplace (China):      {sim_public}/aws/aws-cn/
    AWS Marketplace (global):     {sim_public}/aws/aws/
    Alibaba Cloud Marketplace:    {sim_public}/aliyun/
  logs: {stack.path('log')}     stop with: make stop
""")
        return 0
    if cmd == "down":
        if not os.path.isdir(var):
            print("stack: nothing is running")
            return 0
        stopped = Stack(var).down()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    print("usage: stack.py up|down", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
