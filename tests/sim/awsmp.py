# SPDX-License-Identifier: MIT
"""AWS side of the simulator: the AWS JSON protocol checks (SigV4 verified by
botocore's own signer, request bodies validated against the vendored botocore
service models), the AWS partition state (tokens, subscriptions, accepted
metering, entitlements) and the ResolveCustomer, BatchMeterUsage and
GetEntitlements operations.

SNS/SQS live in sns.py; the buyer pages and flows in awsbuyer.py.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
import types
import uuid
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.model import ServiceModel
from botocore.validate import ParamValidator

from core import Entry, HttpError, Response, body_for_log, json_body, utc_iso

MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")

# service key in the URL -> model, SigV4 signing name, wire content type, error namespace
SERVICES = {
    "metering": ("meteringmarketplace/2016-01-14", "aws-marketplace",
                 "application/x-amz-json-1.1", "com.amazonaws.marketplacemetering"),
    "entitlement": ("marketplace-entitlement/2017-01-11", "aws-marketplace",
                    "application/x-amz-json-1.1", "com.amazonaws.marketplaceentitlementservice"),
    "sqs": ("sqs/2012-11-05", "sqs", "application/x-amz-json-1.0", "com.amazonaws.sqs"),
}
CORAL = "com.amazon.coral.service"
MARKETPLACE_LICENSE_ACCOUNT = "294406891311"
DEFAULT_BUYERS = ["111122223333", "444455556666"]
METERING_ACTIVE = ("active", "unsubscribe_pending")
TOKEN_BASES = ("valid", "new_style", "legacy", "other_product", "invalid", "expired", "malformed")
TOKEN_COUNTED = ("throttle", "error500", "timeout")

_models = {}
_models_lock = threading.Lock()
_sign_lock = threading.Lock()


def service_model(key):
    """Return the botocore ServiceModel for a service key (loaded once)."""
    with _models_lock:
        if key not in _models:
            path = os.path.join(MODELS_DIR, SERVICES[key][0], "service-2.json")
            with open(path, encoding="utf-8") as f:
                _models[key] = ServiceModel(json.load(f), service_name=key)
        return _models[key]


class AwsError(Exception):
    """An AWS-style error answer: {"__type": ns#code, "message": ...}."""

    def __init__(self, code, message, status=400, namespace=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.namespace = namespace
        self.headers = headers or []


class Raw:
    """An operation result sent as-is (used for the 'malformed' behaviours)."""

    def __init__(self, status, body, content_type):
        self.status = status
        self.body = body
        self.content_type = content_type


# --------------------------------------------------------------------------
# SigV4 verification with botocore's signer.

_AUTH_RE = re.compile(r"^(\S+) (.*)$")


def parse_authorization(value):
    """Split 'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...'."""
    m = _AUTH_RE.match(value or "")
    if not m:
        return None
    fields = {}
    for part in m.group(2).split(","):
        name, sep, val = part.strip().partition("=")
        if not sep:
            return None
        fields[name] = val
    if not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
        return None
    return m.group(1), fields


class _ListedHeadersSigV4Auth(botocore.auth.SigV4Auth):
    """botocore's SigV4 with the client's own SignedHeaders set.

    Used only when the client signed a header botocore never signs itself
    (User-Agent, Expect, X-Amzn-Trace-Id), which AWS still accepts.
    """

    def __init__(self, credentials, service, region, signed):
        super().__init__(credentials, service, region)
        self._signed = signed

    def headers_to_sign(self, request):
        out = botocore.auth.HTTPHeaders()
        for name, value in request.headers.items():
            if name.lower() in self._signed:
                out[name.lower()] = value
        return out


def _frozen_datetime_module(frozen):
    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return frozen

        @classmethod
        def now(cls, tz=None):
            return frozen if tz is None else frozen.replace(tzinfo=datetime.timezone.utc)

    fake = types.ModuleType("datetime")
    fake.__dict__.update(datetime.__dict__)
    fake.datetime = Frozen
    return fake


def botocore_authorization(method, url, headers, body, akid, secret, service, region, amz_date,
                           signed):
    """Sign (method, url, headers, body) with botocore at the frozen time amz_date.

    headers is a list of (name, value) already restricted to the signed ones.
    Returns the Authorization header botocore produces.
    """
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers[name] = value
    frozen = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    creds = Credentials(akid, secret)
    if set(signed) & set(botocore.auth.SIGNED_HEADERS_BLACKLIST):
        signer = _ListedHeadersSigV4Auth(creds, service, region, set(signed))
    else:
        signer = botocore.auth.SigV4Auth(creds, service, region)
    patches = [mock.patch.object(botocore.auth, "datetime", _frozen_datetime_module(frozen))]
    if hasattr(botocore.auth, "get_current_datetime"):
        patches.append(mock.patch.object(botocore.auth, "get_current_datetime",
                                         lambda *a, **k: frozen))
    with _sign_lock:
        for p in patches:
            p.start()
        try:
            signer.add_auth(request)
        finally:
            for p in reversed(patches):
                p.stop()
    return request.headers["Authorization"]


def verify_sigv4(req, entry, akid, secret, service, region, max_skew):
    """Check a received request's SigV4 Authorization; raise AwsError on failure.

    Every failure is also recorded as a violation on entry.
    """
    def fail(code, vcode, message, status=403):
        entry.violation(vcode, message)
        entry.check("sigv4", "failed: " + vcode)
        raise AwsError(code, message, status, CORAL)

    header = req.headers.get("Authorization")
    if not header:
        fail("MissingAuthenticationTokenException", "sigv4.missing", "Missing Authentication Token")
    parsed = parse_authorization(header)
    if not parsed or parsed[0] != "AWS4-HMAC-SHA256":
        fail("IncompleteSignatureException", "sigv4.malformed",
             "Authorization header is not a well-formed AWS4-HMAC-SHA256 header", 400)
    fields = parsed[1]
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        fail("IncompleteSignatureException", "sigv4.malformed",
             "Credential must be AKID/date/region/service/aws4_request", 400)
    if not hmac.compare_digest(scope[0].encode(), akid.encode()):
        fail("UnrecognizedClientException", "sigv4.unknown_key",
             "The security token included in the request is invalid.")
    amz_date = req.headers.get("X-Amz-Date", "")
    try:
        signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        fail("IncompleteSignatureException", "sigv4.date",
             "X-Amz-Date is missing or not yyyyMMddTHHmmssZ", 400)
    if scope[1] != amz_date[:8]:
        fail("InvalidSignatureException", "sigv4.scope_date",
             "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
             "from HTTP: '%s' != '%s', from '%s'." % (scope[1], amz_date[:8], amz_date))
    if scope[2] != region:
        fail("InvalidSignatureException", "sigv4.wrong_region",
             "Credential should be scoped to a valid region, not '%s'. Expected '%s'."
             % (scope[2], region))
    if scope[3] != service:
        fail("InvalidSignatureException", "sigv4.wrong_service",
             "Credential should be scoped to correct service: '%s'. " % service)
    signed = [h for h in fields["SignedHeaders"].split(";") if h]
    for must in ("host", "x-amz-date"):
        if must not in signed:
            fail("InvalidSignatureException", "sigv4.unsigned_header",
                 "'%s' must be a 'SignedHeader' in the AWS Authorization." % must)
    for name in ("content-type", "x-amz-target"):
        if name not in signed:
            entry.note("sigv4.header_not_signed", "%s is not signed" % name)
    missing = [h for h in signed if req.headers.get(h) is None]
    if missing:
        fail("InvalidSignatureException", "sigv4.missing_signed_header",
             "signed header(s) not present in the request: %s" % ", ".join(missing))
    skew = abs(time.time() - signed_at)
    if skew > max_skew:
        fail("InvalidSignatureException", "sigv4.clock_skew",
             "Signature expired: %s is now earlier or later than the allowed %d s window."
             % (amz_date, max_skew))
    payload_hash = req.headers.get("x-amz-content-sha256")
    if payload_hash is not None and payload_hash != hashlib.sha256(req.body).hexdigest():
        fail("InvalidSignatureException", "sigv4.payload_hash",
             "x-amz-content-sha256 does not equal sha256(body)")
    headers = []
    for name in signed:
        for value in req.headers.get_all(name):
            headers.append((name, value))
    url = "http://%s%s" % (req.headers.get("Host", ""), req.raw_path)
    expected = botocore_authorization(req.method, url, headers, req.body, akid, secret, service,
                                      region, amz_date, signed)
    if hmac.compare_digest(expected.encode(), header.encode()):
        entry.check("sigv4", "ok")
        return
    exp_sig = parse_authorization(expected)[1]["Signature"]
    if hmac.compare_digest(exp_sig.encode(), fields["Signature"].encode()) and \
            parse_authorization(expected)[1]["SignedHeaders"] == fields["SignedHeaders"]:
        entry.note("sigv4.format", "signature is right but the header is not formatted like "
                   "botocore's: %r" % expected.split(" Signature=")[0])
        entry.check("sigv4", "ok")
        return
    fail("InvalidSignatureException", "sigv4.mismatch",
         "The request signature we calculated does not match the signature you provided. "
         "Check your AWS Secret Access Key and signing method.")


# --------------------------------------------------------------------------
# Model validation.

def check_shape(value, shape, path, type_errors, constraint_errors):
    """Walk value against a botocore shape, returning a copy fit for ParamValidator.

    Timestamps must be JSON numbers (epoch seconds) and become datetimes.
    Also checks what ParamValidator leaves out: max lengths/sizes, patterns,
    enums, and booleans sent where numbers are expected.
    """
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure" and isinstance(value, dict):
        out = {}
        for name, val in value.items():
            member = shape.members.get(name)
            out[name] = check_shape(val, member, "%s.%s" % (path, name), type_errors,
                                    constraint_errors) if member else val
        return out
    if kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            constraint_errors.append("%s: %d items, at most %d allowed" % (path, len(value),
                                                                          meta["max"]))
        return [check_shape(v, shape.member, "%s[%d]" % (path, i), type_errors, constraint_errors)
                for i, v in enumerate(value)]
    if kind == "map" and isinstance(value, dict):
        out = {}
        for k, v in value.items():
            check_shape(k, shape.key, "%s.<key %s>" % (path, k), type_errors, constraint_errors)
            out[k] = check_shape(v, shape.value, "%s.%s" % (path, k), type_errors,
                                 constraint_errors)
        return out
    if kind == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            constraint_errors.append("%s: length %d, at most %d" % (path, len(value), meta["max"]))
        pattern = meta.get("pattern")
        if pattern:
            try:
                if not re.search(pattern, value):
                    constraint_errors.append("%s: %r does not match %s" % (path, value, pattern))
            except re.error:
                pass
        if shape.enum and value not in shape.enum:
            constraint_errors.append("%s: %r is not one of %s" % (path, value, shape.enum))
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool):
            type_errors.append("%s: boolean where a number is expected" % path)
        elif isinstance(value, int) and "max" in meta and value > meta["max"]:
            constraint_errors.append("%s: %d is above %d" % (path, value, meta["max"]))
        return value
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            type_errors.append("%s: timestamp must be a JSON number of epoch seconds, got %r"
                               % (path, value))
            return value
        try:
            return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            type_errors.append("%s: timestamp %r out of range" % (path, value))
            return value
    return value


def validate_params(operation_model, params, entry):
    """Validate params against the operation's input shape; raise AwsError."""
    shape = operation_model.input_shape
    if shape is None:
        return
    type_errors, constraint_errors = [], []
    converted = check_shape(params, shape, operation_model.name, type_errors, constraint_errors)
    if not type_errors:
        report = ParamValidator().validate(converted, shape)
        if report.has_errors():
            for line in report.generate_report().splitlines():
                line = line.strip()
                if line.startswith("Invalid type") or line.startswith("Unknown parameter"):
                    type_errors.append(line)
                elif line:
                    constraint_errors.append(line)
    if type_errors:
        message = "; ".join(type_errors + constraint_errors)
        entry.violation("aws.serialization", message)
        entry.check("model", "failed")
        raise AwsError("SerializationException", message, 400, CORAL)
    if constraint_errors:
        message = "%d validation error(s) detected: %s" % (len(constraint_errors),
                                                           "; ".join(constraint_errors))
        entry.violation("aws.validation", message)
        entry.check("model", "failed")
        raise AwsError("ValidationException", message, 400, CORAL)
    entry.check("model", "ok")


# --------------------------------------------------------------------------
# The generic AWS JSON endpoint.

def aws_call(sim, req, partition, service_key, operations):
    """Answer one AWS JSON-protocol request to /aws/<partition>/<service_key>/.

    operations maps operation name -> fn(sim, part, params, entry) returning a
    dict (200 JSON), a Raw, or raising AwsError. Everything received and sent
    is logged; protocol violations are recorded on the entry.
    """
    part = sim.aws.get(partition)
    if part is None:
        raise HttpError(404, "unknown partition %r" % partition)
    model = service_model(service_key)
    _, signing_name, content_type, namespace = SERVICES[service_key]
    entry = Entry("aws.%s.%s" % (partition, service_key), "in")
    entry.set(request={"method": req.method, "path": req.raw_path,
                       "headers": {k: v for k, v in req.headers.items()},
                       "body": body_for_log(req.body)})
    request_id = str(uuid.uuid4())
    operation = None
    try:
        if req.method != "POST":
            entry.violation("aws.method", "AWS JSON APIs take POST, got %s" % req.method)
            raise AwsError("UnknownOperationException", "method not allowed", 405, CORAL)
        # The queue may live in another region than the Marketplace APIs.
        region = part.cfg.get("sqs_region") or part.region if service_key == "sqs" else part.region
        verify_sigv4(req, entry, part.cfg["access_key_id"], part.cfg["secret_access_key"],
                     signing_name, region, sim.setting("aws.sigv4_max_skew_seconds"))
        got_type = req.headers.get("Content-Type", "")
        if got_type.split(";")[0].strip().lower() != content_type:
            entry.violation("aws.content_type", "Content-Type %r, expected %r"
                            % (got_type, content_type))
            raise AwsError("SerializationException", "unexpected Content-Type", 400, CORAL)
        target = req.headers.get("X-Amz-Target", "")
        prefix, _, operation = target.partition(".")
        if prefix != model.metadata["targetPrefix"] or operation not in operations:
            entry.violation("aws.target", "X-Amz-Target %r is not one of %s" % (
                target, ["%s.%s" % (model.metadata["targetPrefix"], o) for o in operations]))
            raise AwsError("UnknownOperationException", "unknown operation %r" % target, 400, CORAL)
        entry.set(operation=operation)
        try:
            params = json.loads(req.body.decode("utf-8")) if req.body.strip() else None
        except (UnicodeDecodeError, ValueError):
            entry.violation("aws.serialization", "body is not JSON")
            raise AwsError("SerializationException", "body is not valid JSON", 400, CORAL)
        if params is None:
            entry.violation("aws.serialization", "empty body; AWS JSON needs at least {}")
            params = {}
        if not isinstance(params, dict):
            entry.violation("aws.serialization", "body is not a JSON object")
            raise AwsError("SerializationException", "body must be a JSON object", 400, CORAL)
        validate_params(model.operation_model(operation), params, entry)
        if operation == "BatchMeterUsage":
            metering_received(sim, part, params, entry)
            metering_refusal(sim, entry)
        result = injected_fault(sim, partition, operation, entry) or \
            operations[operation](sim, part, params, entry)
        if entry.data.get("late_answer"):
            sim.stopping.wait(sim.setting("fault_timeout_seconds"))
    except AwsError as err:
        metering_answered(sim, entry, err.code)
        payload = {"__type": "%s#%s" % (err.namespace or namespace, err.code),
                   "message": err.message}
        entry.set(status=err.status, error=err.code, response=payload,
                  summary="%s -> %d %s" % (operation or "?", err.status, err.code))
        sim.log.add(entry)
        headers = [("x-amzn-RequestId", request_id)] + err.headers
        return Response(err.status, json.dumps(payload), content_type, headers)
    if isinstance(result, Raw):
        metering_answered(sim, entry, "malformed")
        entry.set(status=result.status, response=body_for_log(result.body),
                  summary="%s -> %d (raw)" % (operation, result.status))
        sim.log.add(entry)
        return Response(result.status, result.body, result.content_type,
                        [("x-amzn-RequestId", request_id)])
    metering_answered(sim, entry)
    entry.set(status=200, response=result, summary="%s -> 200" % operation)
    sim.log.add(entry)
    return Response(200, json.dumps(result), content_type, [("x-amzn-RequestId", request_id)])


def injected_fault(sim, partition, operation, entry):
    """Apply a queued whole-call fault for operation, if any (see /_sim/faults).

    Returns a Raw answer for 'malformed', None when the call should proceed.
    """
    with sim.lock:
        fault = sim.faults.take(operation, partition)
    if fault is None:
        return None
    entry.note("fault", "injected %s" % fault)
    if fault == "late_answer":
        # Processed now, answered fault_timeout_seconds later (see aws_call): a
        # client may die or give up while its records are already metered.
        entry.set(late_answer=True)
        with sim.lock:
            for raw in getattr(entry, "receipt", []):
                raw["late_answer"] = True
        return None
    return apply_fault(sim, fault)


def apply_fault(sim, fault):
    """Raise, sleep or answer garbage for one fault kind (shared with token behaviours).

    Returns a Raw for 'malformed'; None after a 'timeout' sleep.
    """
    if fault == "throttle":
        raise AwsError("ThrottlingException", "Rate exceeded", 400)
    if fault == "error500":
        raise AwsError("InternalServiceErrorException", "An internal error has occurred", 500)
    if fault == "disabled":
        raise AwsError("DisabledApiException", "The API is disabled in the Region.", 400)
    if fault == "access_denied":
        raise AwsError("AccessDeniedException", "User is not authorized to perform this action.", 400)
    if fault == "timeout":
        sim.stopping.wait(sim.setting("fault_timeout_seconds"))
    if fault == "malformed":
        return Raw(200, b"<html><body>Service Unavailable</body></html>",
                   "application/x-amz-json-1.1")
    return None


# --------------------------------------------------------------------------
# Partition state.

class AwsPartition:
    """State of one AWS partition (aws-cn or aws). Guarded by sim.lock."""

    def __init__(self, name, cfg):
        self.name = name
        self.cfg = cfg
        self.region = cfg["region"]
        self.arn_partition = "aws-cn" if name == "aws-cn" else "aws"
        self.product_code = cfg["product_code"]
        self.buyers = list(cfg.get("buyer_accounts") or DEFAULT_BUYERS)
        self.clear()

    def clear(self):
        self.tokens = {}          # token -> token record
        self.subs = {}            # subscription id -> subscription record
        self.metering = {}        # (sub id, dimension, hour) -> accepted record
        self.metering_results = []  # every per-record result, in order
        self.metering_received = []  # every BatchMeterUsage record received, in order
        self.metering_sends = {}  # record key -> how many times it was received
        self.metering_calls = 0
        self.entitlements = []
        self.entitlement_empty_pages = 0
        self.entitlement_page_size = None
        self.cursors = {}         # NextToken -> remaining pages

    def topic_arn(self, topic):
        if topic == "subscription":
            return self.cfg["subscription_topic_arn"]
        if topic == "entitlement":
            return self.cfg["entitlement_topic_arn"]
        return topic

    def customer_identifier(self, account_id, product_code):
        digest = hashlib.sha256(("%s|%s|%s" % (self.name, account_id, product_code)).encode())
        return base64.b32encode(digest.digest()).decode()[:11]

    def new_license_arn(self):
        return "arn:%s:license-manager::%s:license:l-%s" % (
            self.arn_partition, MARKETPLACE_LICENSE_ACCOUNT, secrets.token_hex(16))

    def offer_identifier(self, trial):
        digest = hashlib.sha256(("%s|%s|%s" % (self.name, self.product_code, trial)).encode())
        return "offer-" + base64.b32encode(digest.digest()).decode().lower()[:13]


def public_subscription(sub):
    return {k: v for k, v in sub.items() if not k.startswith("_")}


def find_subscription(part, sub_id):
    sub = part.subs.get(sub_id)
    if sub is None:
        raise HttpError(404, "unknown subscription %r" % sub_id)
    return sub


def new_subscription(sim, part, account_id, style="default", trial=False, product_code=None,
                     status="pending"):
    """Create a subscription record (caller holds sim.lock)."""
    if style not in ("default", "new_style", "legacy"):
        raise HttpError(400, "style must be default, new_style or legacy")
    if not isinstance(account_id, str) or not re.fullmatch(r"[0-9]{12}", account_id):
        raise HttpError(400, "account_id must be 12 digits")
    product = product_code or part.product_code
    sub = {
        "id": "sub-%d" % sim.next_number(),
        "partition": part.name,
        "account_id": account_id,
        "license_arn": part.new_license_arn(),
        "customer_identifier": (None if style == "new_style"
                                else part.customer_identifier(account_id, product)),
        "product_code": product,
        "style": style,
        "trial": bool(trial),
        "offer_identifier": part.offer_identifier(bool(trial)),
        "status": status,
        "created": utc_iso(),
        "notifications": [],
        "_generation": 0,
    }
    part.subs[sub["id"]] = sub
    return sub


def parse_behaviour(text):
    """Parse 'throttle:2,legacy' into (base, {counted fault: n})."""
    base, counted = "valid", {}
    for item in (text or "valid").split(","):
        name, _, arg = item.strip().partition(":")
        if name in TOKEN_COUNTED:
            try:
                counted[name] = int(arg) if arg else 1
            except ValueError:
                raise HttpError(400, "behaviour %r needs an integer count" % item)
            if counted[name] < 0:
                raise HttpError(400, "behaviour %r needs a count >= 0" % item)
        elif name in TOKEN_BASES:
            base = name
        else:
            raise HttpError(400, "unknown token behaviour %r" % item)
    return base, counted


def random_token():
    """A registration-token-like string that always contains '+' and '/'."""
    while True:
        tok = base64.b64encode(secrets.token_bytes(48)).decode()
        if "+" in tok and "/" in tok:
            return tok


def new_token(sim, part, behaviour="valid", sub_id=None, account_id=None, token=None,
              trial=False):
    """Create a registration token (caller holds sim.lock). Returns the record."""
    base, counted = parse_behaviour(behaviour)
    sub = None
    if base in ("valid", "new_style", "legacy", "other_product"):
        if sub_id:
            sub = find_subscription(part, sub_id)
        else:
            style = base if base in ("new_style", "legacy") else "default"
            product = ("other%s" % part.product_code) if base == "other_product" else None
            sub = new_subscription(sim, part, account_id or part.buyers[0], style, trial,
                                   product, status="active")
    tok = token or random_token()
    if not isinstance(tok, str) or not tok or len(tok) > 2048:
        raise HttpError(400, "token must be a non-empty string")
    record = {"token": tok, "behaviour": behaviour, "base": base, "counted": counted,
              "subscription_id": sub["id"] if sub else None, "created_ts": time.time(),
              "created": utc_iso(), "resolves": 0}
    part.tokens[tok] = record
    return record


# --------------------------------------------------------------------------
# ResolveCustomer

def op_resolve_customer(sim, part, params, entry):
    token = params["RegistrationToken"]
    with sim.lock:
        record = part.tokens.get(token)
        if record is None:
            entry.note("resolve.unknown_token", "token was never issued by the sim")
            raise AwsError("InvalidTokenException", "Registration token is invalid")
        record["resolves"] += 1
        entry.set(token_behaviour=record["behaviour"], subscription_id=record["subscription_id"])
        fault = None
        for name in TOKEN_COUNTED:
            if record["counted"].get(name, 0) > 0:
                record["counted"][name] -= 1
                fault = name
                break
        expired = time.time() - record["created_ts"] > sim.settings.get("aws.token_ttl_seconds")
    if fault:
        apply_fault(sim, fault)
    base = record["base"]
    if base == "expired" or expired:
        raise AwsError("ExpiredTokenException", "Registration token is expired")
    if base == "invalid":
        raise AwsError("InvalidTokenException", "Registration token is invalid")
    if base == "malformed":
        return apply_fault(sim, "malformed")
    with sim.lock:
        sub = dict(part.subs[record["subscription_id"]])
    answer = {"ProductCode": sub["product_code"]}
    if base != "new_style" and sub["customer_identifier"]:
        answer["CustomerIdentifier"] = sub["customer_identifier"]
    if base != "legacy":
        answer["CustomerAWSAccountId"] = sub["account_id"]
        answer["LicenseArn"] = sub["license_arn"]
    return answer


# --------------------------------------------------------------------------
# BatchMeterUsage

MAX_RECEIVED = 200000      # raw BatchMeterUsage records kept (the oldest go first)
REFUSALS = {               # aws.metering_refusal -> (HTTP status, message)
    "UnrecognizedClientException": (400, "The security token included in the request is invalid."),
    "InvalidSignatureException": (403, "The request signature we calculated does not match the "
                                       "signature you provided."),
    "AccessDeniedException": (400, "User is not authorized to perform: "
                                   "aws-marketplace:BatchMeterUsage"),
    "ExpiredTokenException": (400, "The security token included in the request is expired"),
}


def record_key(rec):
    """How a usage record is identified: customer, dimension, timestamp."""
    who = rec.get("CustomerIdentifier") or "%s/%s" % (rec.get("CustomerAWSAccountId"),
                                                      rec.get("LicenseArn"))
    return "%s|%s|%s" % (who, rec.get("Dimension"), rec.get("Timestamp"))


def metering_received(sim, part, params, entry):
    """Log every record of a BatchMeterUsage call that passed SigV4 and the model,
    whatever becomes of it, with how many times its key was received so far."""
    now = time.time()
    with sim.lock:
        part.metering_calls += 1
        entry.receipt = []
        for rec in params.get("UsageRecords", []):
            key = record_key(rec)
            part.metering_sends[key] = part.metering_sends.get(key, 0) + 1
            raw = {"call": part.metering_calls, "received": utc_iso(now), "received_ts": now,
                   "answered_ts": None, "key": key, "record": rec, "send": part.metering_sends[key],
                   "status": None, "late_answer": False}
            part.metering_received.append(raw)
            entry.receipt.append(raw)
        if len(part.metering_received) > MAX_RECEIVED:
            del part.metering_received[:MAX_RECEIVED // 10]


def metering_answered(sim, entry, status=None):
    """Note when the call's answer left, and the whole call's answer (status) on its
    received records that have none yet."""
    now = time.time()
    with sim.lock:
        for raw in getattr(entry, "receipt", []):
            raw["answered_ts"] = now
            if raw["status"] is None:
                raw["status"] = status


def metering_refusal(sim, entry):
    """Refuse the call as AWS refuses bad credentials while aws.metering_refusal is set."""
    code = sim.setting("aws.metering_refusal")
    if code == "none":
        return
    entry.note("metering.refused", "aws.metering_refusal is %s" % code)
    status, message = REFUSALS[code]
    raise AwsError(code, message, status, CORAL)


def _lookup_customer(part, record):
    """Return (subscription or None, key description) for a usage record of our product."""
    ci = record.get("CustomerIdentifier")
    account = record.get("CustomerAWSAccountId")
    license_arn = record.get("LicenseArn")
    subs = [s for s in part.subs.values() if s["product_code"] == part.product_code]
    if ci is not None:
        found = [s for s in subs if s["customer_identifier"] == ci.strip()]
    elif license_arn is not None:
        found = [s for s in subs if s["license_arn"] == license_arn and s["account_id"] == account]
    else:
        found = [s for s in subs if s["account_id"] == account]
    active = [s for s in found if s["status"] in METERING_ACTIVE]
    pick = (active or found or [None])[-1]
    return pick, ci or "%s/%s" % (account, license_arn)


def _check_batch(part, params, now, window, future, entry):
    """Whole-call checks of BatchMeterUsage; raise AwsError."""
    for i, rec in enumerate(params["UsageRecords"]):
        has_ci = "CustomerIdentifier" in rec
        has_acct = "CustomerAWSAccountId" in rec
        if has_ci == has_acct:
            entry.violation("metering.identity", "record %d needs exactly one of CustomerIdentifier"
                            " and CustomerAWSAccountId" % i)
            raise AwsError("ValidationException", "CustomerIdentifier and CustomerAWSAccountId "
                           "are mutually exclusive and one is required", 400, CORAL)
        if "LicenseArn" in rec and not has_acct:
            entry.violation("metering.identity", "record %d has LicenseArn without "
                            "CustomerAWSAccountId" % i)
            raise AwsError("ValidationException", "LicenseArn requires CustomerAWSAccountId",
                           400, CORAL)
        if "LicenseArn" in rec:
            owners = [s for s in part.subs.values() if s["license_arn"] == rec["LicenseArn"]]
            if not owners or owners[0]["account_id"] != rec["CustomerAWSAccountId"]:
                entry.violation("metering.license", "record %d: LicenseArn unknown or not the "
                                "customer's" % i)
                raise AwsError("InvalidLicenseException", "The LicenseArn is invalid or does not "
                               "match the customer.")
            ends = owners[0].get("license_ends_at")
            if ends is not None and rec["Timestamp"] >= ends:
                # Not the client's fault: it may not have heard that the license ended.
                entry.note("metering.license_ended", "record %d: Timestamp %s is not before the "
                           "license's end %s" % (i, utc_iso(rec["Timestamp"], False),
                                                 utc_iso(ends, False)))
                raise AwsError("InvalidLicenseException", "The usage is not within the license "
                               "activation period.")
        ts = rec["Timestamp"]
        if ts < now - window or ts > now + future:
            entry.violation("metering.timestamp_out_of_bounds",
                            "record %d Timestamp %s is outside [now-%ds, now+%ds]"
                            % (i, utc_iso(ts, False), window, future))
            raise AwsError("TimestampOutOfBoundsException",
                           "Timestamp %s is out of the allowed range" % utc_iso(ts, False))
        allocations = rec.get("UsageAllocations")
        if allocations is not None and sum(a.get("AllocatedUsageQuantity", 0)
                                           for a in allocations) != rec.get("Quantity", 0):
            entry.violation("metering.allocations", "record %d: allocations do not add up" % i)
            raise AwsError("InvalidUsageAllocationsException",
                           "Sum of allocated quantities must equal Quantity")
        dims = part.cfg.get("dimensions")
        if dims and rec["Dimension"] not in dims:
            entry.violation("metering.dimension", "record %d: unknown dimension %r"
                            % (i, rec["Dimension"]))
            raise AwsError("InvalidUsageDimensionException", "Unknown dimension %r"
                           % rec["Dimension"])


def op_batch_meter_usage(sim, part, params, entry):
    product = params.get("ProductCode")
    if product is None:
        entry.note("metering.no_product_code", "ProductCode omitted (allowed since 2026-02)")
    elif product != part.product_code:
        entry.violation("metering.product_code", "ProductCode %r is not ours (%r)"
                        % (product, part.product_code))
        raise AwsError("InvalidProductCodeException", "Product code %r is invalid" % product)
    now = time.time()
    results, unprocessed = [], []
    with sim.lock:
        window = sim.settings.get("aws.metering_window_seconds")
        future = sim.settings.get("aws.metering_future_seconds")
        _check_batch(part, params, now, window, future, entry)
        receipt = getattr(entry, "receipt", [None] * len(params["UsageRecords"]))
        for i, rec in enumerate(params["UsageRecords"]):
            if sim.faults.take("BatchMeterUsage", part.name, ("unprocessed",), rec["Dimension"]):
                unprocessed.append(rec)
                status = "UnprocessedRecords"
            else:
                results.append(_meter_one(part, rec, i, entry, now))
                status = results[-1]["Status"]
            if receipt[i] is not None:
                receipt[i]["status"] = status
    return {"Results": results, "UnprocessedRecords": unprocessed}


def _meter_one(part, rec, index, entry, now):
    """Decide one record's status and keep it if accepted (caller holds sim.lock)."""
    ts = rec["Timestamp"]
    if ts % 3600 != 0:
        entry.violation("metering.not_hour_aligned", "record %d Timestamp %s is not the start "
                        "of a UTC hour" % (index, utc_iso(ts, False)))
    sub, who = _lookup_customer(part, rec)
    quantity = rec.get("Quantity", 0)
    result = {"UsageRecord": rec}
    if sub is None or sub["status"] not in METERING_ACTIVE:
        entry.note("metering.not_subscribed", "record %d: %s is not subscribed (%s)"
                   % (index, who, sub["status"] if sub else "unknown"))
        result["Status"] = "CustomerNotSubscribed"
    else:
        hour = int(ts - ts % 3600)
        key = (sub["id"], rec["Dimension"], hour)
        kept = part.metering.get(key)
        if kept is None:
            kept = {"metering_record_id": str(uuid.uuid4()), "subscription_id": sub["id"],
                    "customer_identifier": rec.get("CustomerIdentifier"),
                    "customer_aws_account_id": rec.get("CustomerAWSAccountId"),
                    "license_arn": rec.get("LicenseArn"), "dimension": rec["Dimension"],
                    "quantity": quantity, "timestamp": ts, "hour": utc_iso(hour, False),
                    "received": utc_iso(now), "sends": 1,
                    "allocations": rec.get("UsageAllocations")}
            part.metering[key] = kept
            result.update(MeteringRecordId=kept["metering_record_id"], Status="Success")
        elif kept["quantity"] == quantity:
            kept["sends"] += 1
            result.update(MeteringRecordId=kept["metering_record_id"], Status="Success")
        else:
            entry.violation("metering.duplicate_quantity", "record %d: hour %s of %s/%s was "
                            "already accepted with quantity %d, now %d"
                            % (index, kept["hour"], sub["id"], rec["Dimension"], kept["quantity"],
                               quantity))
            result["Status"] = "DuplicateRecord"
    part.metering_results.append({"status": result["Status"], "record": rec,
                                  "subscription_id": sub["id"] if sub else None})
    return result


# --------------------------------------------------------------------------
# GetEntitlements

def _entitlement_matches(ent, filters):
    fields = {"CUSTOMER_IDENTIFIER": "CustomerIdentifier", "DIMENSION": "Dimension",
              "CUSTOMER_AWS_ACCOUNT_ID": "CustomerAWSAccountId", "LICENSE_ARN": "LicenseArn"}
    return all(ent.get(fields[key]) in values for key, values in filters.items())


def op_get_entitlements(sim, part, params, entry):
    if params["ProductCode"] != part.product_code:
        entry.violation("entitlement.product_code", "ProductCode %r is not ours"
                        % params["ProductCode"])
        raise AwsError("InvalidParameterException", "Product code is invalid")
    filters = params.get("Filter") or {}
    if "CUSTOMER_IDENTIFIER" in filters and "CUSTOMER_AWS_ACCOUNT_ID" in filters:
        entry.violation("entitlement.filter", "CUSTOMER_IDENTIFIER and CUSTOMER_AWS_ACCOUNT_ID "
                        "are mutually exclusive")
        raise AwsError("InvalidParameterException", "CUSTOMER_IDENTIFIER and "
                       "CUSTOMER_AWS_ACCOUNT_ID filters cannot be combined")
    with sim.lock:
        token = params.get("NextToken")
        if token is not None:
            pages = part.cursors.pop(token, None)
            if pages is None:
                entry.violation("entitlement.next_token", "NextToken was not issued or was "
                                "already used")
                raise AwsError("InvalidParameterException", "Invalid NextToken")
        else:
            size = params.get("MaxResults") or part.entitlement_page_size or \
                sim.settings.get("aws.entitlement_page_size")
            found = [e for e in part.entitlements if _entitlement_matches(e, filters)]
            pages = [[]] * part.entitlement_empty_pages + \
                [found[i:i + size] for i in range(0, len(found), size)]
            pages = pages or [[]]
        answer = {"Entitlements": pages[0]}
        if len(pages) > 1:
            next_token = base64.b64encode(secrets.token_bytes(24)).decode()
            part.cursors[next_token] = pages[1:]
            answer["NextToken"] = next_token
    return answer


# --------------------------------------------------------------------------
# Control endpoints for metering and entitlements.

def ctl_metering(sim, req, partition):
    part = partition_or_404(sim, partition)
    with sim.lock:
        accepted = sorted(part.metering.values(), key=lambda r: (r["timestamp"], r["dimension"]))
        results = list(part.metering_results)
    return Response.json({"accepted": accepted, "results": results})


def ctl_metering_received(sim, req, partition):
    """Every BatchMeterUsage record received (?license_arn= to keep one license's) and
    how many times each key was received."""
    part = partition_or_404(sim, partition)
    license_arn = dict(req.query).get("license_arn")
    with sim.lock:
        received = [dict(r) for r in part.metering_received
                    if license_arn is None or r["record"].get("LicenseArn") == license_arn]
        keys = {r["key"] for r in received}
        sends = {k: n for k, n in part.metering_sends.items()
                 if license_arn is None or k in keys}
    return Response.json({"received": received, "sends": sends})


def ctl_metering_license(sim, req, partition):
    """End (or reopen, with null) a license's active period without telling anyone:
    {"license_arn", "ends_at": epoch seconds or null}. Records stamped at or after
    ends_at are refused with InvalidLicenseException."""
    part = partition_or_404(sim, partition)
    body = json_body(req)
    ends = body.get("ends_at")
    if ends is not None and (isinstance(ends, bool) or not isinstance(ends, (int, float))):
        raise HttpError(400, "ends_at must be epoch seconds or null")
    with sim.lock:
        subs = [sub for sub in part.subs.values() if sub["license_arn"] == body.get("license_arn")]
        if not subs:
            raise HttpError(404, "unknown license_arn %r" % body.get("license_arn"))
        for sub in subs:
            sub["license_ends_at"] = ends
        return Response.json({"subscriptions": [public_subscription(sub) for sub in subs]})


def ctl_set_entitlements(sim, req, partition):
    part = partition_or_404(sim, partition)
    body = json_body(req)
    items = body.get("entitlements", [])
    if not isinstance(items, list):
        raise HttpError(400, "entitlements must be a list")
    empty_pages = body.get("empty_pages", 0)
    page_size = body.get("page_size")
    if not isinstance(empty_pages, int) or isinstance(empty_pages, bool) or \
            not 0 <= empty_pages <= 100:
        raise HttpError(400, "empty_pages must be an integer 0..100")
    if page_size is not None and (not isinstance(page_size, int) or isinstance(page_size, bool)
                                  or not 1 <= page_size <= 25):
        raise HttpError(400, "page_size must be an integer 1..25")
    with sim.lock:
        out = [_entitlement_from_spec(part, spec) for spec in items]
        part.entitlements = out
        part.entitlement_empty_pages = empty_pages
        part.entitlement_page_size = page_size
        part.cursors = {}
    return Response.json({"entitlements": out})


def _entitlement_from_spec(part, spec):
    if not isinstance(spec, dict):
        raise HttpError(400, "each entitlement must be an object")
    ent = {k: v for k, v in spec.items() if k[:1].isupper()}
    sub_id = spec.get("subscription_id")
    if sub_id:
        sub = find_subscription(part, sub_id)
        ent.setdefault("CustomerAWSAccountId", sub["account_id"])
        ent.setdefault("LicenseArn", sub["license_arn"])
        if sub["customer_identifier"]:
            ent.setdefault("CustomerIdentifier", sub["customer_identifier"])
    ent.setdefault("ProductCode", part.product_code)
    if "Dimension" not in ent or "Value" not in ent:
        raise HttpError(400, "an entitlement needs Dimension and Value")
    return ent


def ctl_get_entitlements(sim, req, partition):
    part = partition_or_404(sim, partition)
    with sim.lock:
        return Response.json({"entitlements": list(part.entitlements),
                              "empty_pages": part.entitlement_empty_pages,
                              "page_size": part.entitlement_page_size})


def partition_or_404(sim, partition):
    part = sim.aws.get(partition)
    if part is None:
        raise HttpError(404, "unknown partition %r" % partition)
    return part


def api_metering(sim, req, partition):
    return aws_call(sim, req, partition, "metering", {
        "ResolveCustomer": op_resolve_customer, "BatchMeterUsage": op_batch_meter_usage})


def api_entitlement(sim, req, partition):
    return aws_call(sim, req, partition, "entitlement", {"GetEntitlements": op_get_entitlements})


def init(sim):
    sim.aws = {name: AwsPartition(name, cfg) for name, cfg in sim.config["aws"].items()}
    for key in SERVICES:
        service_model(key)


def reset(sim):
    for part in sim.aws.values():
        part.clear()


def routes():
    p = r"(aws-cn|aws)"
    return [
        ("POST", r"/aws/%s/metering/?" % p, api_metering),
        ("GET", r"/aws/%s/metering/?" % p, api_metering),
        ("POST", r"/aws/%s/entitlement/?" % p, api_entitlement),
        ("GET", r"/aws/%s/entitlement/?" % p, api_entitlement),
        ("GET", r"/_sim/aws/%s/metering" % p, ctl_metering),
        ("GET", r"/_sim/aws/%s/metering/received" % p, ctl_metering_received),
        ("POST", r"/_sim/aws/%s/metering/license" % p, ctl_metering_license),
        ("GET", r"/_sim/aws/%s/entitlements" % p, ctl_get_entitlements),
        ("POST", r"/_sim/aws/%s/entitlements" % p, ctl_set_entitlements),
    ]
