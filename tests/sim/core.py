# SPDX-License-Identifier: MIT
"""Shared plumbing of the marketplace simulator: configuration, the settings
table, the one lock, the event log (with protocol violations), fault queues,
delayed jobs and the small HTTP client used to call mpbind.

Nothing here knows about AWS or Alibaba; the marketplace modules build on it.
"""

import datetime
import hashlib
import http.client
import json
import os
import secrets
import ssl
import threading
import time
import traceback
import urllib.parse

MAX_BODY = 2 * 1024 * 1024          # request bodies the sim accepts
MAX_LOGGED_BODY = 64 * 1024         # body text kept per log entry
MAX_LOG_ENTRIES = 20000             # in-memory log ring
MAX_APP_RESPONSE = 4 * 1024 * 1024  # bytes read from an mpbind answer

BEIJING = datetime.timezone(datetime.timedelta(hours=8))


class HttpError(Exception):
    """Raised by a handler to answer a plain JSON error {"error": message}."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Response:
    """What a route handler returns: status, header list and body bytes."""

    def __init__(self, status=200, body=b"", content_type=None, headers=None):
        self.status = status
        self.headers = list(headers or [])
        if content_type:
            self.headers.append(("Content-Type", content_type))
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")

    @classmethod
    def json(cls, obj, status=200, headers=None):
        body = json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=False)
        return cls(status, body + "\n", "application/json; charset=utf-8", headers)

    @classmethod
    def html(cls, text, status=200, headers=None):
        return cls(status, text, "text/html; charset=utf-8", headers)

    @classmethod
    def redirect(cls, location, status=303, headers=None):
        return cls(status, b"", None, [("Location", location)] + list(headers or []))


# --------------------------------------------------------------------------
# Settings: one declarative table (name, type, default, choices, help).
# Config-derived defaults are filled in by settings_table(config).

def settings_table(config):
    """Return the list of (name, type, default, choices, help) rows."""
    rows = [
        ("aws.subscribe_notify_delay_seconds", float, 2.0, None,
         "delay between a buyer subscribing on the AWS pages and subscribe-success"),
        ("aws.unsubscribe_pending_delay_seconds", float, 0.0, None,
         "delay between 取消订阅 and unsubscribe-pending"),
        ("aws.unsubscribe_success_delay_seconds", float, 30.0, None,
         "delay between unsubscribe-pending and unsubscribe-success"),
        ("aws.token_ttl_seconds", float, 4 * 3600.0, None,
         "registration token lifetime; older tokens resolve to ExpiredTokenException"),
        ("aws.metering_window_seconds", float, 6 * 3600.0, None,
         "BatchMeterUsage accepts records at most this old"),
        ("aws.metering_future_seconds", float, 300.0, None,
         "BatchMeterUsage rejects records more than this far in the future"),
        ("aws.metering_refusal", str, "none",
         ("none", "UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException",
          "ExpiredTokenException"),
         "BatchMeterUsage refuses every call with this credentials error while set (a revoked, "
         "rotated or expired key): nothing is metered"),
        ("aws.sigv4_max_skew_seconds", float, 900.0, None,
         "allowed difference between X-Amz-Date and the sim's clock"),
        ("aws.entitlement_page_size", int, 25, None,
         "GetEntitlements page size when MaxResults is absent"),
        ("sns.signature_version", str, "1", ("1", "2"),
         "SignatureVersion used for SNS messages unless a push says otherwise"),
        ("sns.retries", int, 2, None,
         "extra HTTPS delivery attempts after a non-2xx or failed delivery "
         "(background deliveries)"),
        ("sns.retry_delay_seconds", float, 1.0, None, "pause between SNS delivery attempts"),
        ("sqs.max_wait_seconds", float, 20.0, None,
         "cap on ReceiveMessage long polling (WaitTimeSeconds above it is cut to it)"),
        ("sqs.visibility_timeout_seconds", float, 30.0, None,
         "queue default VisibilityTimeout"),
        ("aliyun.activation_delay_seconds", float,
         float(config["aliyun"].get("activation_delay_seconds", 5)), None,
         "an instance stays 开通中 at least this long after 开通"),
        ("aliyun.spi_method", str, "GET", ("GET", "POST"),
         "how SPI calls are sent: GET query string or POST form body"),
        ("aliyun.spi_retry_seconds", float, 3.0, None,
         "pause between createInstance attempts while instanceId is 0 or the call failed"),
        ("aliyun.spi_max_attempts", int, 120, None, "createInstance attempts before giving up"),
        ("aliyun.spi_duplicate_calls", int, 0, None,
         "extra identical createInstance calls after success (checks idempotency)"),
        ("aliyun.metering_min_interval_seconds", float, 60.0, None,
         "PushMeteringData: at most one request per InstanceId per this many seconds (every "
         "signed request counts, refused ones too)"),
        ("aliyun.metering_refusal", str, "none",
         ("none", "InvalidAccessKeyId.NotFound", "SignatureDoesNotMatch", "Forbidden.RAM",
          "gateway_403"),
         "PushMeteringData refuses every request with this credentials error (gateway_403: a "
         "non-JSON 403 page) while set: nothing is metered, nothing counts for the 60 s rule"),
        ("aliyun.require_metering_assit", bool, True, None,
         "PushMeteringData: every entity needs meteringAssit"),
        ("aliyun.acs3_max_skew_seconds", float, 900.0, None,
         "allowed difference between x-acs-date and the sim's clock"),
        ("aliyun.sso_timestamp_plus", bool, False, None,
         "encode the space in the 免登 timeStamp as '+' instead of '%20'"),
        ("fault_timeout_seconds", float, 30.0, None,
         "how long a 'timeout' fault or token sleeps before answering"),
        ("app_timeout_seconds", float, 10.0, None, "timeout of the sim's own calls to mpbind"),
    ]
    for partition, pcfg in config["aws"].items():
        rows.append(("sns_delivery." + partition, str, pcfg.get("sns_delivery", "https"),
                     ("https", "sqs"),
                     "how %s notifications are delivered: HTTPS POST or the SQS queue" % partition))
    return rows


class Settings:
    """Typed key/value settings backed by the table above."""

    def __init__(self, config):
        self.rows = {r[0]: r for r in settings_table(config)}
        self.values = {name: row[2] for name, row in self.rows.items()}

    def get(self, name):
        return self.values[name]

    def update(self, changes):
        """Validate and apply a dict of changes; raise HttpError(400) on bad input."""
        parsed = {}
        for name, value in changes.items():
            row = self.rows.get(name)
            if row is None:
                raise HttpError(400, "unknown setting %r" % name)
            kind, choices = row[1], row[3]
            try:
                if kind is bool:
                    if not isinstance(value, bool):
                        raise ValueError
                    val = value
                elif kind is str:
                    if not isinstance(value, str):
                        raise ValueError
                    val = value
                else:
                    if isinstance(value, bool):
                        raise ValueError
                    val = kind(value)
                    if val < 0:
                        raise ValueError
            except (TypeError, ValueError):
                raise HttpError(400, "setting %r needs a %s >= 0" % (name, kind.__name__))
            if choices and val not in choices:
                raise HttpError(400, "setting %r must be one of %s" % (name, list(choices)))
            parsed[name] = val
        self.values.update(parsed)

    def reset(self):
        self.values = {name: row[2] for name, row in self.rows.items()}

    def describe(self):
        return [{"name": n, "type": r[1].__name__, "value": self.values[n], "default": r[2],
                 "choices": list(r[3]) if r[3] else None, "help": r[4]}
                for n, r in self.rows.items()]


# --------------------------------------------------------------------------
# Faults: per-operation queues of injected failures.

FAULT_KINDS = ("throttle", "error500", "timeout", "malformed", "disabled", "access_denied", "unprocessed",
               "late_answer")


class Faults:
    """Injected failures, consumed in order. Callers hold the sim lock."""

    def __init__(self):
        self.items = []
        self.next_id = 1

    def add(self, spec):
        op = spec.get("operation")
        kind = spec.get("fault")
        count = spec.get("count", 1)
        if not isinstance(op, str) or not op:
            raise HttpError(400, "fault needs an operation")
        if kind not in FAULT_KINDS:
            raise HttpError(400, "fault must be one of %s" % list(FAULT_KINDS))
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise HttpError(400, "count must be an integer >= 1")
        item = {"id": self.next_id, "operation": op, "fault": kind, "remaining": count,
                "partition": spec.get("partition"), "dimension": spec.get("dimension")}
        self.next_id += 1
        self.items.append(item)
        return dict(item)

    def take(self, operation, partition=None, kinds=None, dimension=None):
        """Consume one matching fault and return its kind, or None."""
        for item in self.items:
            if item["operation"] != operation:
                continue
            if item["partition"] and partition and item["partition"] != partition:
                continue
            if kinds and item["fault"] not in kinds:
                continue
            if kinds is None and item["fault"] == "unprocessed":
                continue
            if item["dimension"] and item["dimension"] != dimension:
                continue
            item["remaining"] -= 1
            if item["remaining"] <= 0:
                self.items.remove(item)
            return item["fault"]
        return None

    def clear(self):
        self.items = []


# --------------------------------------------------------------------------
# The event log.

def utc_iso(ts=None, millis=True):
    dt = datetime.datetime.fromtimestamp(time.time() if ts is None else ts, datetime.timezone.utc)
    if millis:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def body_for_log(body):
    """Return a JSON-friendly rendering of a body (parsed JSON or capped text)."""
    if body is None:
        return None
    if isinstance(body, (dict, list)):
        return body
    if isinstance(body, bytes):
        text = body[:MAX_LOGGED_BODY].decode("utf-8", "replace")
    else:
        text = body[:MAX_LOGGED_BODY]
    try:
        return json.loads(text)
    except ValueError:
        return text


class Entry:
    """One log entry under construction. Handlers add checks, violations and notes."""

    def __init__(self, channel, direction, summary=""):
        self.data = {"channel": channel, "direction": direction, "summary": summary,
                     "violations": [], "notes": [], "checks": {}}

    def violation(self, code, message):
        self.data["violations"].append({"code": code, "message": message})

    def note(self, code, message):
        self.data["notes"].append({"code": code, "message": message})

    def check(self, name, result):
        self.data["checks"][name] = result

    def set(self, **fields):
        self.data.update(fields)


class Log:
    """Append-only log with sequence numbers, mirrored to state_dir/sim.log."""

    def __init__(self, path):
        self.entries = []
        self.seq = 0
        self.lock = threading.Lock()
        self.file = open(path, "a", encoding="utf-8")

    def add(self, entry):
        data = entry.data if isinstance(entry, Entry) else entry
        with self.lock:
            self.seq += 1
            data = dict(data, seq=self.seq, time=utc_iso())
            self.entries.append(data)
            if len(self.entries) > MAX_LOG_ENTRIES:
                del self.entries[: len(self.entries) - MAX_LOG_ENTRIES]
            try:
                self.file.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
                self.file.flush()
            except (OSError, ValueError):
                pass
        return data["seq"]

    def since(self, seq, channel=None, only_violations=False):
        with self.lock:
            out = [e for e in self.entries if e["seq"] > seq]
            last = self.seq
        if channel:
            out = [e for e in out if e["channel"].startswith(channel)]
        if only_violations:
            out = [e for e in out if e["violations"]]
        return out, last

    def text(self, message):
        """A plain operational line (startup, errors) in sim.log only."""
        with self.lock:
            try:
                self.file.write(json.dumps({"time": utc_iso(), "message": message}) + "\n")
                self.file.flush()
            except (OSError, ValueError):
                pass

    def clear(self):
        with self.lock:
            self.entries = []

    def close(self):
        with self.lock:
            self.file.close()


# --------------------------------------------------------------------------
# The simulator context.

class Sim:
    """Configuration plus all mutable state, guarded by one lock.

    Marketplace modules keep their state in attributes set by their init
    functions (sim.aws, sim.aliyun, sim.sns); every read or write of that state
    happens with sim.lock held. sim.cond (same lock) wakes SQS long polls.
    """

    def __init__(self, config):
        self.config = config
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.settings = Settings(config)
        self.faults = Faults()
        self.log = Log(os.path.join(config["state_dir"], "sim.log"))
        self.epoch = 0          # bumped by reset; delayed jobs from older epochs do nothing
        self.stopping = threading.Event()
        self.counter = 0
        self.host = config["host"]
        self.http_port = config["http_port"]
        self.https_port = config["https_port"]
        self.app_url = config["app_url"].rstrip("/")
        self.ssl_client = None  # set by sns.init once the CA exists

    @property
    def http_base(self):
        return "http://%s:%d" % (self.host, self.http_port)

    def next_number(self):
        with self.lock:
            self.counter += 1
            return self.counter

    def setting(self, name):
        with self.lock:
            return self.settings.get(name)

    def later(self, delay, fn, *args):
        """Run fn(*args) after delay seconds in a daemon thread, unless reset first."""
        epoch = self.epoch

        def run():
            if delay > 0 and self.stopping.wait(delay):
                return
            if self.epoch != epoch or self.stopping.is_set():
                return
            try:
                fn(*args)
            except Exception:  # a job must never kill the process
                self.log.text("job failed: " + traceback.format_exc(limit=5))

        threading.Thread(target=run, daemon=True).start()

    def call_app(self, method, url, headers=None, body=b"", timeout=None):
        """Send one HTTP request to mpbind (no redirects followed).

        Returns {"status", "headers": [[k, v]...], "body": text, "error"}; status is
        0 and error is set when the connection or the read failed.
        """
        timeout = timeout or self.setting("app_timeout_seconds")
        parts = urllib.parse.urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            if parts.scheme == "https":
                conn = http.client.HTTPSConnection(parts.hostname, parts.port or 443,
                                                   timeout=timeout, context=self.ssl_client)
            else:
                conn = http.client.HTTPConnection(parts.hostname, parts.port or 80,
                                                  timeout=timeout)
            try:
                conn.request(method, target, body=body or None, headers=dict(headers or {}))
                resp = conn.getresponse()
                data = resp.read(MAX_APP_RESPONSE)
                return {"status": resp.status, "headers": [[k, v] for k, v in resp.getheaders()],
                        "body": data.decode("utf-8", "replace"), "error": None}
            finally:
                conn.close()
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return {"status": 0, "headers": [], "body": "", "error": "%s: %s" % (
                type(exc).__name__, exc)}


def random_digits(n):
    return "".join(secrets.choice("0123456789") for _ in range(n))


def random_hex(n_bytes):
    return secrets.token_hex(n_bytes)


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def json_body(req):
    """Parse a control-API JSON body (empty body = {}); raise HttpError(400)."""
    if not req.body.strip():
        return {}
    try:
        obj = json.loads(req.body)
    except ValueError:
        raise HttpError(400, "body is not JSON")
    if not isinstance(obj, dict):
        raise HttpError(400, "body must be a JSON object")
    return obj


def make_ssl_server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx
