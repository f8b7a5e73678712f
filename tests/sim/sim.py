#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Marketplace simulator for mpbind: plays AWS Marketplace (aws-cn and aws) and
Alibaba Cloud Marketplace over real HTTP on loopback and checks what mpbind
sends against the real protocols.

Usage: /usr/bin/python3 tests/sim/sim.py --config FILE   (see tests/sim/README.md)

This file holds the HTTP servers, request parsing, routing and the generic
control API (/_sim/health, log, violations, settings, faults, reset); each
marketplace module contributes its own routes.
"""

import argparse
import http.cookies
import http.server
import json
import os
import re
import signal
import socket
import sys
import threading
import traceback
import urllib.parse

sys.dont_write_bytecode = True   # keep tests/sim free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aliyun  # noqa: E402
import awsbuyer  # noqa: E402
import awsmp  # noqa: E402
import pages  # noqa: E402
import sns  # noqa: E402
from core import (MAX_BODY, HttpError, Response, Sim, json_body,  # noqa: E402
                  make_ssl_server_context)

MODULES = (awsmp, sns, awsbuyer, aliyun)
REQUIRED_KEYS = ("host", "http_port", "https_port", "state_dir", "app_url", "aws", "aliyun")
AWS_KEYS = ("region", "access_key_id", "secret_access_key", "product_code",
            "subscription_topic_arn", "entitlement_topic_arn")
ALIYUN_KEYS = ("isv_key", "access_key_id", "access_key_secret", "product_code")


class Request:
    """A parsed request: method, raw_path (path + query as sent), path, query
    pairs, headers (case-insensitive), body bytes, cookies, scheme."""

    def __init__(self, method, raw_path, headers, body, scheme):
        self.method = method
        self.raw_path = raw_path
        path, _, query = raw_path.partition("?")
        self.path = urllib.parse.unquote(path)
        self.query = urllib.parse.parse_qsl(query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.scheme = scheme
        self.cookies = {}
        cookie = http.cookies.SimpleCookie()
        try:
            cookie.load(headers.get("Cookie", ""))
            self.cookies = {k: v.value for k, v in cookie.items()}
        except http.cookies.CookieError:
            pass

    def form(self):
        """Form fields from an urlencoded body (first value wins)."""
        out = {}
        text = self.body.decode("utf-8", "replace")
        for k, v in urllib.parse.parse_qsl(text, keep_blank_values=True):
            out.setdefault(k, v)
        return out


class Router:
    """(method, regex, handler, scheme) table; handlers get (sim, req, *groups)."""

    def __init__(self, table):
        self.table = [(m, re.compile(p + r"\Z"), h, s) for m, p, h, s in table]

    def find(self, method, path, scheme):
        allowed = False
        for m, pattern, handler, schemes in self.table:
            if scheme not in schemes:
                continue
            match = pattern.match(path)
            if match:
                if m == method or (m == "GET" and method == "HEAD"):
                    return handler, match.groups()
                allowed = True
        return ("405" if allowed else None), ()


# --------------------------------------------------------------------------
# Generic control API.

def ctl_health(sim, req):
    return Response.json({"ok": True})


def _int_query(req, name, default=0):
    try:
        return int(dict(req.query).get(name, default))
    except ValueError:
        raise HttpError(400, "%s must be an integer" % name)


def ctl_log(sim, req):
    q = dict(req.query)
    entries, last = sim.log.since(_int_query(req, "since"), q.get("channel"),
                                  q.get("violations") in ("1", "true"))
    return Response.json({"entries": entries, "last_seq": last})


def ctl_violations(sim, req):
    entries, last = sim.log.since(_int_query(req, "since"), dict(req.query).get("channel"), True)
    found = [dict(v, seq=e["seq"], channel=e["channel"], summary=e["summary"])
             for e in entries for v in e["violations"]]
    return Response.json({"violations": found, "last_seq": last})


def ctl_log_page(sim, req):
    entries, _ = sim.log.since(0)
    return Response.html(pages.log_page(entries[-300:]))


def ctl_settings(sim, req):
    if req.method == "POST":
        body = json_body(req)
        with sim.lock:
            sim.settings.update(body)
    with sim.lock:
        return Response.json({"settings": sim.settings.describe()})


def ctl_faults(sim, req):
    if req.method == "POST":
        body = json_body(req)
        specs = body.get("faults", [body])
        if not isinstance(specs, list):
            raise HttpError(400, "faults must be a list")
        with sim.lock:
            added = [sim.faults.add(spec if isinstance(spec, dict) else {}) for spec in specs]
        return Response.json({"added": added})
    with sim.lock:
        return Response.json({"faults": [dict(f) for f in sim.faults.items]})


def ctl_faults_clear(sim, req):
    with sim.lock:
        sim.faults.clear()
    return Response.json({"faults": []})


def ctl_reset(sim, req):
    """Forget all marketplace state (and, with {"log": true}, the log); settings back to
    defaults unless {"settings": false}."""
    body = json_body(req)
    with sim.lock:
        sim.epoch += 1
        sim.faults.clear()
        if body.get("settings", True):
            sim.settings.reset()
        for module in MODULES:
            if hasattr(module, "reset"):
                module.reset(sim)
        sim.cond.notify_all()
    if body.get("log", False):
        sim.log.clear()
    return Response.json({"ok": True, "last_seq": sim.log.seq})


def ctl_state(sim, req):
    """Everything at a glance (for humans and debugging)."""
    with sim.lock:
        out = {"aws": {name: {"subscriptions": [awsmp.public_subscription(s)
                                                for s in part.subs.values()],
                              "accepted_metering": len(part.metering)}
                       for name, part in sim.aws.items()},
               "aliyun": {"instances": [aliyun.public_instance(sim, i)
                                        for i in sim.aliyun.instances.values()],
                          "accepted_metering": len(sim.aliyun.metering)},
               "endpoints": endpoints(sim)}
    return Response.json(out)


def endpoints(sim):
    base = sim.http_base
    out = {"aliyun_market": base + "/aliyun/market/", "sns_cert_url": sim.sns.cert_url(),
           "ca_bundle": os.path.join(sim.config["state_dir"], "ca.pem")}
    for name in sim.aws:
        out[name] = {"metering": "%s/aws/%s/metering/" % (base, name),
                     "entitlement": "%s/aws/%s/entitlement/" % (base, name),
                     "sqs": "%s/aws/%s/sqs/" % (base, name),
                     "queue_url": "%s/aws/%s/sqs/queue/%s" % (base, name, sns.QUEUE_NAME)}
    return out


def page_home(sim, req):
    return Response.html(pages.home(list(sim.aws), sim.config.get("product_name", "演示云服务")))


def routes():
    table = [
        ("GET", r"/_sim/health", ctl_health),
        ("GET", r"/_sim/log", ctl_log),
        ("GET", r"/_sim/violations", ctl_violations),
        ("GET", r"/_sim/ui/log", ctl_log_page),
        ("GET", r"/_sim/settings", ctl_settings),
        ("POST", r"/_sim/settings", ctl_settings),
        ("GET", r"/_sim/faults", ctl_faults),
        ("POST", r"/_sim/faults", ctl_faults),
        ("POST", r"/_sim/faults/clear", ctl_faults_clear),
        ("POST", r"/_sim/reset", ctl_reset),
        ("GET", r"/_sim/state", ctl_state),
        ("GET", r"/", page_home),
    ]
    for module in MODULES:
        table += module.routes()
    out = []
    for row in table:
        scheme = row[3] if len(row) > 3 else "http"
        out.append((row[0], row[1], row[2],
                    ("http", "https") if scheme == "both" else (scheme,)))
    return out


# --------------------------------------------------------------------------
# HTTP plumbing.

class Handler(http.server.BaseHTTPRequestHandler):
    # Answer at once: with Nagle on, every answer on a kept-alive connection
    # waited ~40 ms for a delayed ACK, which capped the landing benchmark.
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "mpbind-sim"
    sys_version = ""
    timeout = 60

    def version_string(self):
        return self.server_version

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self.read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise HttpError(400, "bad Content-Length")
        if length < 0 or length > MAX_BODY:
            raise HttpError(413, "body larger than %d bytes" % MAX_BODY)
        return self.rfile.read(length) if length else b""

    def read_chunked(self):
        out = bytearray()
        while True:
            line = self.rfile.readline(64)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise HttpError(400, "bad chunk size")
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass
                return bytes(out)
            if len(out) + size > MAX_BODY:
                raise HttpError(413, "body larger than %d bytes" % MAX_BODY)
            out += self.rfile.read(size)
            self.rfile.readline(8)

    def dispatch(self):
        sim = self.server.sim
        try:
            body = self.read_body()
        except HttpError as err:
            self.close_connection = True
            return self.send(Response.json({"error": err.message}, err.status))
        req = Request(self.command, self.path, self.headers, body, self.server.scheme)
        handler, groups = self.server.router.find(self.command, req.path, self.server.scheme)
        try:
            if handler is None:
                raise HttpError(404, "no route for %s %s" % (self.command, req.path))
            if handler == "405":
                raise HttpError(405, "method %s not allowed here" % self.command)
            resp = handler(sim, req, *groups)
        except HttpError as err:
            resp = Response.json({"error": err.message}, err.status)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # malformed input that slipped past a handler's checks: a 400, but keep the trace
            sim.log.text("bad input on %s %s: %s" % (self.command, req.path,
                                                      traceback.format_exc(limit=8)))
            resp = Response.json({"error": "bad request: %s: %s" % (type(exc).__name__, exc)}, 400)
        except Exception:
            sim.log.text("handler error on %s %s: %s" % (self.command, req.path,
                                                          traceback.format_exc(limit=8)))
            resp = Response.json({"error": "internal simulator error"}, 500)
        self.send(resp)

    def send(self, resp):
        try:
            self.send_response(resp.status)
            for name, value in resp.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(resp.body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True

    def log_message(self, fmt, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, sim, router, scheme, ssl_context=None):
        super().__init__(address, Handler)
        self.sim = sim
        self.router = router
        self.scheme = scheme
        self.ssl_context = ssl_context

    def finish_request(self, request, client_address):
        """TLS handshake in the connection's own thread, not in the accept loop."""
        if self.ssl_context is not None:
            request.settimeout(10)
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (OSError, ValueError):
                return
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass


def load_config(path):
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    missing = [k for k in REQUIRED_KEYS if k not in config]
    for name, pcfg in config.get("aws", {}).items():
        if name not in ("aws-cn", "aws"):
            missing.append("aws.%s (partition must be aws-cn or aws)" % name)
            continue
        missing += ["aws.%s.%s" % (name, k) for k in AWS_KEYS if k not in pcfg]
    missing += ["aliyun.%s" % k for k in ALIYUN_KEYS if k not in config.get("aliyun", {})]
    if missing:
        raise SystemExit("sim: config %s lacks: %s" % (path, ", ".join(missing)))
    config["state_dir"] = os.path.abspath(config["state_dir"])
    return config


def main(argv=None):
    parser = argparse.ArgumentParser(description="mpbind marketplace simulator")
    parser.add_argument("--config", required=True, help="JSON configuration file")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    os.makedirs(config["state_dir"], exist_ok=True)
    sim = Sim(config)
    for module in MODULES:
        module.init(sim)
    router = Router(routes())
    tls = make_ssl_server_context(sim.sns.certs["server.pem"], sim.sns.certs["server.key"])
    servers = [Server((config["host"], config["http_port"]), sim, router, "http"),
               Server((config["host"], config["https_port"]), sim, router, "https", tls)]
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    pid_path = os.path.join(config["state_dir"], "sim.pid")
    with open(pid_path, "w") as f:
        f.write("%d\n" % os.getpid())
    sim.log.text("sim ready: http %s:%d https %s:%d" % (config["host"], config["http_port"],
                                                         config["host"], config["https_port"]))

    def stop(signum, frame):
        sim.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not sim.stopping.wait(1.0):
        pass
    with sim.lock:
        sim.cond.notify_all()
    for server in servers:
        server.shutdown()
        server.server_close()
    sim.log.text("sim stopped")
    sim.log.close()
    try:
        os.unlink(pid_path)
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
