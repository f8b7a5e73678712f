# SPDX-License-Identifier: MIT
"""Alibaba Cloud Marketplace (阿里云 云市场) side of the simulator: the buyer
pages (立即开通 → 开通按量服务 → 已购买服务列表 → 免登), instances and the
signed SPI calls to mpbind (createInstance with retries, lifecycle actions),
the MD5 token, 免登 URLs, and the Market 2015-11-01 PushMeteringData API with
an independent ACS3-HMAC-SHA256 verifier.
"""

import datetime
import hashlib
import hmac
import json
import re
import threading
import time
import urllib.parse
import uuid

import pages
from core import (BEIJING, Entry, HttpError, Response, body_for_log, json_body, random_digits,
                  sha256_hex, utc_iso)

DEFAULT_UIDS = ["1041031108983109", "1288412345678901"]
SPI_ACTIONS = ("createInstance", "renewInstance", "refundRenewInstance", "upgradeInstance",
               "expiredInstance", "releaseInstance", "verify")
METERING_KEYS = ("Frequency", "Period", "PeriodMin", "Storage", "NetworkOut", "NetworkIn",
                 "Character", "DailyActiveUser", "VirtualCpu", "Unit", "Memory")
ACS3 = "ACS3-HMAC-SHA256"
ACS3_REQUIRED = ("host", "x-acs-action", "x-acs-version", "x-acs-date",
                 "x-acs-signature-nonce", "x-acs-content-sha256")


# --------------------------------------------------------------------------
# Tokens and time.

def md5_token(params, key):
    """云市场 SPI token: lowercase hex MD5 of 'k=v&...&key=<key>' over all params
    except token, sorted by name, values URL-decoded."""
    items = sorted((k, v) for k, v in params.items() if k != "token")
    text = "&".join("%s=%s" % (k, v) for k, v in items) + "&key=" + key
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def beijing_time(ts=None):
    """'yyyy-MM-dd HH:mm:ss' in Beijing time (UTC+8)."""
    ts = time.time() if ts is None else ts
    return datetime.datetime.fromtimestamp(ts, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _flip(text):
    """Change the last character of a non-empty string."""
    if not text:
        return "x"
    return text[:-1] + ("0" if text[-1] != "0" else "1")


# --------------------------------------------------------------------------
# State.

class AliyunState:
    """Instances, SPI history, accepted metering. Guarded by sim.lock."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.product_code = cfg["product_code"]
        self.uids = list(cfg.get("buyer_uids") or DEFAULT_UIDS)
        self.sku_id = cfg.get("sku_id") or "yuncode%s00001" % (
            re.sub(r"\D", "", self.product_code)[-5:] or "50001")
        self.clear()

    def clear(self):
        self.instances = {}        # orderBizId -> instance
        self.metering = []         # accepted records
        self.last_push = {}        # InstanceId -> time of last accepted push
        self.nonces = {}           # x-acs-signature-nonce -> time seen
        self.spi_requests = {}     # log seq -> request (for replay)


def instance_status(sim, inst):
    """Buyer-visible status: opening / opened / expired / released / failed."""
    if inst["state"] in ("expired", "released", "failed"):
        return inst["state"]
    ready = inst["created_ts"] + sim.settings.get("aliyun.activation_delay_seconds")
    if inst["instance_id"] and time.time() >= ready:
        return "opened"
    return "opening"


def public_instance(sim, inst):
    out = {k: v for k, v in inst.items() if not k.startswith("_")}
    out["status"] = instance_status(sim, inst)
    return out


def find_instance(sim, key):
    """Look up by orderBizId or by the instanceId mpbind returned (caller holds sim.lock)."""
    st = sim.aliyun
    if key in st.instances:
        return st.instances[key]
    for inst in st.instances.values():
        if inst["instance_id"] == key:
            return inst
    raise HttpError(404, "unknown instance %r" % key)


def _instance_by_id(sim, instance_id):
    for inst in sim.aliyun.instances.values():
        if inst["instance_id"] == str(instance_id):
            return inst
    return None


# --------------------------------------------------------------------------
# SPI client.

def spi_send(sim, params, method=None, token=None, tamper=None, raw=None):
    """Sign params with the MD5 token and call mpbind's SPI; log and return the exchange.

    tamper: None, "token" (flip a character), "wrong_key", "no_token", or
    "param_after_sign" (change the first non-action value after signing).
    raw: a previous request {"method", "url", "body"} to send again verbatim.
    """
    if tamper not in (None, "token", "wrong_key", "no_token", "param_after_sign"):
        raise HttpError(400, "tamper must be token, wrong_key, no_token or param_after_sign")
    if raw is None:
        method = method or sim.setting("aliyun.spi_method")
        if method not in ("GET", "POST"):
            raise HttpError(400, "method must be GET or POST")
        key = sim.config["aliyun"]["isv_key"]
        signed = dict(params)
        if token is None:
            token = md5_token(signed, "wrong" + key if tamper == "wrong_key" else key)
        if tamper == "token":
            token = _flip(token)
        if tamper == "param_after_sign":
            name = next((k for k in sorted(signed) if k != "action"), None)
            if name:
                signed[name] = _flip(signed[name])
        if tamper != "no_token":
            signed["token"] = token
        query = urllib.parse.urlencode(list(signed.items()), quote_via=urllib.parse.quote)
        url = "%s/marketplace/aliyun/spi" % sim.app_url
        if method == "GET":
            raw = {"method": "GET", "url": url + "?" + query, "body": ""}
        else:
            raw = {"method": "POST", "url": url, "body": query}
    headers = {"User-Agent": "AliyunMarketSpi/1.0"}
    if raw["method"] == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=UTF-8"
    answer = sim.call_app(raw["method"], raw["url"], headers, raw["body"].encode("utf-8"))
    try:
        parsed = json.loads(answer["body"]) if answer["body"] else None
    except ValueError:
        parsed = None
    entry = Entry("aliyun.spi", "out")
    entry.set(request=dict(raw, params=params), status=answer["status"],
              response=body_for_log(answer["body"]), action=params.get("action"),
              summary="SPI %s -> %s" % (params.get("action"), answer["error"] or answer["status"]))
    if answer["status"] and parsed is None:
        entry.violation("aliyun.spi.not_json", "SPI answer is not JSON")
    seq = sim.log.add(entry)
    with sim.lock:
        sim.aliyun.spi_requests[seq] = {"raw": raw, "params": params}
    return dict(answer, json=parsed, request=raw, seq=seq)


def _returned_instance_id(parsed):
    """The non-zero instanceId of a createInstance answer, or None."""
    if not isinstance(parsed, dict):
        return None
    value = parsed.get("instanceId")
    if value is None or isinstance(value, bool) or str(value).strip() in ("", "0"):
        return None
    return str(value)


def create_params(inst):
    params = {"action": "createInstance", "aliUid": inst["ali_uid"],
              "orderBizId": inst["order_biz_id"], "orderId": inst["order_id"],
              "productCode": inst["product_code"], "skuId": inst["sku_id"],
              "trial": "true" if inst["trial"] else "false"}
    if inst.get("expired_on"):
        params["expiredOn"] = inst["expired_on"]
    params.update(inst["extra"])
    return params


def new_instance(sim, ali_uid, trial=False, sku_id=None, expired_on=None, extra=None,
                 method=None, product_code=None):
    """Record a new order (caller holds sim.lock); provisioning starts separately."""
    st = sim.aliyun
    if not isinstance(ali_uid, str) or not re.fullmatch(r"[0-9]{1,20}", ali_uid):
        raise HttpError(400, "ali_uid must be digits")
    if extra is not None and not (isinstance(extra, dict) and
                                  all(isinstance(v, str) for v in extra.values())):
        raise HttpError(400, "extra must be an object of string values")
    sku = sku_id or st.sku_id
    inst = {"order_biz_id": random_digits(9), "order_id": random_digits(15), "ali_uid": ali_uid,
            "product_code": product_code or st.product_code, "sku_id": sku, "trial": bool(trial),
            "expired_on": expired_on, "extra": {"package_version": sku} if extra is None
            else dict(extra), "spi_method": method, "created": utc_iso(),
            "created_ts": time.time(), "state": "creating", "instance_id": None,
            "app_info": None, "auth_url": None, "attempts": 0, "last_answer": None,
            "_done": threading.Event()}
    st.instances[inst["order_biz_id"]] = inst
    return inst


def provision(sim, key):
    """Call createInstance until mpbind answers a non-zero instanceId (or give up).

    Stops early on shutdown or when /_sim/reset forgets the instance.
    """
    with sim.lock:
        inst = sim.aliyun.instances.get(key)
        if inst is None:
            return
        params = create_params(inst)
        method = inst["spi_method"]
        epoch = sim.epoch
    try:
        if _create_until_answered(sim, inst, params, method, epoch):
            _duplicate_creates(sim, inst, params, method)
    finally:
        inst["_done"].set()


def _create_until_answered(sim, inst, params, method, epoch):
    """The createInstance retry loop; True once an instanceId was accepted."""
    for attempt in range(1, sim.setting("aliyun.spi_max_attempts") + 1):
        if sim.epoch != epoch or sim.stopping.is_set():
            return False
        answer = spi_send(sim, params, method)
        instance_id = _returned_instance_id(answer["json"])
        with sim.lock:
            inst["attempts"] = attempt
            inst["last_answer"] = {"status": answer["status"], "body": answer["body"][:2000]}
            if 200 <= answer["status"] < 300 and instance_id:
                _accept_create(inst, answer["json"], instance_id)
                return True
        if sim.stopping.wait(sim.setting("aliyun.spi_retry_seconds")):
            return False
    with sim.lock:
        inst["state"] = "failed"
    return False


def _accept_create(inst, parsed, instance_id):
    inst["instance_id"] = instance_id
    inst["state"] = "provisioned"
    app = parsed.get("appInfo")
    inst["app_info"] = app if isinstance(app, dict) else None
    if inst["app_info"] and isinstance(inst["app_info"].get("authUrl"), str):
        inst["auth_url"] = inst["app_info"]["authUrl"]


def _duplicate_creates(sim, inst, params, method):
    """Send createInstance again (aliyun.spi_duplicate_calls times); the id must not change."""
    for _ in range(sim.setting("aliyun.spi_duplicate_calls")):
        answer = spi_send(sim, params, method)
        got = _returned_instance_id(answer["json"])
        if got != inst["instance_id"]:
            entry = Entry("aliyun.spi", "check")
            entry.violation("aliyun.spi.not_idempotent", "createInstance retry for orderBizId %s "
                            "returned %r, first answer was %r" % (inst["order_biz_id"], got,
                                                                 inst["instance_id"]))
            entry.set(summary="createInstance retry changed the instanceId")
            sim.log.add(entry)


def start_instance(sim, ali_uid, **kwargs):
    with sim.lock:
        inst = new_instance(sim, ali_uid, **kwargs)
    sim.later(0, provision, sim, inst["order_biz_id"])
    return inst


def lifecycle_params(sim, inst, action, body):
    """Default SPI params for an action on an instance."""
    params = {"action": action}
    if action == "createInstance":
        return create_params(inst)
    params["instanceId"] = inst["instance_id"] or inst["order_biz_id"]
    far = beijing_time(time.time() + 365 * 86400)
    if action == "renewInstance":
        params.update(orderId=random_digits(15), expiredOn=far)
    elif action == "refundRenewInstance":
        params.update(expiredOn=far)
    elif action == "upgradeInstance":
        params.update(skuId=body.get("sku_id") or inst["sku_id"] + "-pro",
                      orderId=random_digits(15))
    elif action == "releaseInstance":
        params.update(isRefund="false")
    elif action == "verify":
        params.update(timeStamp=beijing_time())
    return params


def _apply_lifecycle(inst, params, answer):
    """Follow a successful lifecycle answer in the sim's instance state."""
    parsed = answer["json"]
    if not (200 <= answer["status"] < 300 and isinstance(parsed, dict) and
            str(parsed.get("success")).lower() == "true"):
        return
    action = params["action"]
    if action == "expiredInstance":
        inst["state"] = "expired"
    elif action == "renewInstance":
        inst["state"] = "provisioned"
        inst["expired_on"] = params.get("expiredOn")
    elif action == "releaseInstance":
        inst["state"] = "released"
    elif action == "upgradeInstance":
        inst["sku_id"] = params.get("skuId", inst["sku_id"])


def drive_spi(sim, body):
    """One SPI call as described by a control body; returns mpbind's answer verbatim."""
    if "replay" in body:
        with sim.lock:
            sent = sim.aliyun.spi_requests.get(body["replay"])
        if sent is None:
            raise HttpError(404, "no SPI request with log seq %r" % body["replay"])
        return spi_send(sim, sent["params"], raw=sent["raw"])
    action = body.get("action")
    if action not in SPI_ACTIONS and not body.get("allow_unknown_action"):
        raise HttpError(400, "action must be one of %s" % list(SPI_ACTIONS))
    inst = None
    with sim.lock:
        if body.get("instance"):
            inst = find_instance(sim, str(body["instance"]))
            params = lifecycle_params(sim, inst, action, body)
        else:
            params = {"action": action}
    overrides = body.get("params") or {}
    if not isinstance(overrides, dict):
        raise HttpError(400, "params must be an object")
    params.update({k: str(v) for k, v in overrides.items()})
    for name in body.get("omit") or []:
        params.pop(name, None)
    method = body.get("method") or (inst["spi_method"] if inst else None)
    answer = spi_send(sim, params, method, body.get("token"), body.get("tamper"))
    if inst is not None and not body.get("tamper"):
        with sim.lock:
            _apply_lifecycle(inst, params, answer)
            if action == "createInstance" and not inst["instance_id"]:
                got = _returned_instance_id(answer["json"])
                if 200 <= answer["status"] < 300 and got:
                    _accept_create(inst, answer["json"], got)
    return answer


# --------------------------------------------------------------------------
# 免登 URL.

def sso_url(sim, inst, age_seconds=0, tamper=None, timestamp=None, plus=None, auth_url=None):
    """The URL the 免登 button sends the browser to (authUrl + verify params + token)."""
    base = auth_url or inst.get("auth_url")
    if not base:
        raise HttpError(409, "instance %s has no authUrl (createInstance not answered with "
                        "appInfo.authUrl)" % inst["order_biz_id"])
    params = {"action": "verify", "instanceId": inst["instance_id"] or inst["order_biz_id"],
              "timeStamp": timestamp or beijing_time(time.time() - age_seconds)}
    key = sim.config["aliyun"]["isv_key"]
    token = md5_token(params, "wrong" + key if tamper == "wrong_key" else key)
    if tamper == "token":
        token = _flip(token)
    elif tamper == "instanceId":
        params["instanceId"] = _flip(params["instanceId"])
    elif tamper == "timeStamp":
        params["timeStamp"] = params["timeStamp"][:-1] + (
            "0" if params["timeStamp"][-1] != "0" else "1")
    elif tamper not in (None, "wrong_key"):
        raise HttpError(400, "tamper must be token, instanceId, timeStamp or wrong_key")
    if plus is None:
        plus = sim.setting("aliyun.sso_timestamp_plus")
    quote = urllib.parse.quote_plus if plus else urllib.parse.quote
    query = urllib.parse.urlencode([("token", token)] + list(params.items()), quote_via=quote)
    return base + ("&" if "?" in base else "?") + query


# --------------------------------------------------------------------------
# ACS3-HMAC-SHA256 verification (independent of any Alibaba SDK).

class AliError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def percent_encode(text):
    return urllib.parse.quote(text, safe="~")


def canonical_query(pairs):
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in pairs)
    return "&".join("%s=%s" % kv for kv in encoded)


def acs3_signature(secret, method, path, pairs, headers, signed, payload_hash):
    """Return (signature hex, string to sign) for the given request parts.

    headers maps lowercase name -> value; signed is the sorted list of names.
    """
    canonical_headers = "".join("%s:%s\n" % (h, headers[h].strip()) for h in signed)
    request = "\n".join([method, path, canonical_query(pairs), canonical_headers,
                         ";".join(signed), payload_hash])
    sts = ACS3 + "\n" + sha256_hex(request.encode("utf-8"))
    sig = hmac.new(secret.encode("utf-8"), sts.encode("utf-8"), hashlib.sha256).hexdigest()
    return sig, sts


def verify_acs3(sim, req, entry):
    """Check the ACS3 Authorization of a Market API request; raise AliError."""
    cfg = sim.config["aliyun"]

    def fail(code, vcode, message, status=400):
        entry.violation(vcode, message)
        entry.check("acs3", "failed: " + vcode)
        raise AliError(code, message, status)

    header = req.headers.get("Authorization", "")
    m = re.match(r"^ACS3-HMAC-SHA256 (.*)$", header)
    if not m:
        fail("IncompleteSignature", "aliyun.acs3.missing",
             "Authorization must be an ACS3-HMAC-SHA256 header")
    fields = {}
    for part in m.group(1).split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    if not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
        fail("IncompleteSignature", "aliyun.acs3.malformed",
             "Authorization needs Credential, SignedHeaders and Signature")
    if not hmac.compare_digest(fields["Credential"].encode(), cfg["access_key_id"].encode()):
        fail("InvalidAccessKeyId.NotFound", "aliyun.acs3.unknown_key",
             "Specified access key is not found.", 404)
    signed = [h for h in fields["SignedHeaders"].split(";") if h]
    if signed != sorted(signed) or any(h != h.lower() for h in signed):
        entry.note("aliyun.acs3.signed_headers_order", "SignedHeaders should be lowercase, sorted")
    signed = sorted(h.lower() for h in signed)
    headers = {}
    for name in set(signed) | set(ACS3_REQUIRED):
        value = req.headers.get(name)
        if value is not None:
            headers[name] = value
    missing = [h for h in ACS3_REQUIRED if h not in headers]
    if missing:
        fail("IncompleteSignature", "aliyun.acs3.missing_header",
             "missing header(s): %s" % ", ".join(missing))
    unsigned = [h for h in req.headers.keys() if (h.lower().startswith("x-acs-") or
                                                 h.lower() == "host") and h.lower() not in signed]
    if unsigned:
        fail("IncompleteSignature", "aliyun.acs3.unsigned_header",
             "host and every x-acs-* header must be signed: %s" % ", ".join(unsigned))
    if req.headers.get("Content-Type") and "content-type" not in signed:
        entry.note("aliyun.acs3.content_type_unsigned", "content-type is present but not signed")
    absent = [h for h in signed if req.headers.get(h) is None]
    if absent:
        fail("IncompleteSignature", "aliyun.acs3.missing_header",
             "signed header(s) not present: %s" % ", ".join(absent))
    if headers["x-acs-version"] != "2015-11-01":
        fail("InvalidVersion", "aliyun.acs3.version",
             "Specified parameter Version is not valid: %r" % headers["x-acs-version"])
    try:
        signed_at = datetime.datetime.strptime(headers["x-acs-date"], "%Y-%m-%dT%H:%M:%SZ") \
            .replace(tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        fail("InvalidTimeStamp.Format", "aliyun.acs3.date",
             "x-acs-date must be yyyy-MM-ddTHH:mm:ssZ (UTC), got %r" % headers["x-acs-date"])
    skew = sim.setting("aliyun.acs3_max_skew_seconds")
    if abs(time.time() - signed_at) > skew:
        fail("InvalidTimeStamp.Expired", "aliyun.acs3.clock_skew",
             "Specified time stamp or date value is expired.")
    if headers["x-acs-content-sha256"] != sha256_hex(req.body):
        fail("SignatureDoesNotMatch", "aliyun.acs3.content_sha256",
             "x-acs-content-sha256 does not equal sha256(body)")
    path = req.raw_path.split("?", 1)[0]
    pairs = urllib.parse.parse_qsl(req.raw_path.partition("?")[2], keep_blank_values=True)
    expected, sts = acs3_signature(cfg["access_key_secret"], req.method, path, pairs, headers,
                                   signed, headers["x-acs-content-sha256"])
    if not hmac.compare_digest(expected.encode(), fields["Signature"].encode()):
        fail("SignatureDoesNotMatch", "aliyun.acs3.mismatch",
             "Specified signature does not match our calculation. server string to sign is:"
             + sts)
    nonce = headers["x-acs-signature-nonce"]
    with sim.lock:
        now = time.time()
        seen = sim.aliyun.nonces
        for old in [n for n, t in seen.items() if now - t > skew]:
            del seen[old]
        reused = nonce in seen
        seen[nonce] = now
    if reused:
        fail("SignatureNonceUsed", "aliyun.acs3.nonce_reused",
             "Specified signature nonce was used already.")
    entry.check("acs3", "ok")
    return pairs


# --------------------------------------------------------------------------
# PushMeteringData.

def _int_field(value):
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
        return int(value)
    raise ValueError


def _check_records(sim, records, entry, now):
    """Validate the Metering array; return [(instance, record, start, end)]; raise AliError."""
    def bad(vcode, message, code="Invalid.Parameter.Metering"):
        entry.violation(vcode, message)
        raise AliError(code, message)

    if not isinstance(records, list) or not records:
        bad("aliyun.metering.not_array", "Metering must be a non-empty JSON array")
    if len(records) > 100:
        bad("aliyun.metering.too_many", "%d records; at most 100" % len(records),
            "Metering.Data.Exceeded")
    out, products = [], set()
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            bad("aliyun.metering.record", "record %d is not an object" % i)
        try:
            start, end = _int_field(rec.get("StartTime")), _int_field(rec.get("EndTime"))
        except ValueError:
            bad("aliyun.metering.record", "record %d: StartTime/EndTime must be Unix seconds" % i)
        inst = _instance_by_id(sim, rec.get("InstanceId"))
        if inst is None:
            bad("aliyun.metering.unknown_instance", "record %d: unknown InstanceId %r"
                % (i, rec.get("InstanceId")), "Invalid.Parameter.Instance")
        if inst["state"] == "released":
            entry.note("aliyun.metering.released", "instance %s is released" % inst["instance_id"])
            raise AliError("Invalid.Parameter.Instance", "instance is released")
        if inst["state"] == "expired":
            entry.note("aliyun.metering.expired", "instance %s is expired: not billed"
                       % inst["instance_id"])
        products.add(inst["product_code"])
        if end - start <= 300:
            bad("aliyun.metering.window_too_short", "record %d: EndTime - StartTime = %d, must "
                "be > 300" % (i, end - start))
        if end > now + 300:
            bad("aliyun.metering.future", "record %d ends in the future" % i)
        deadline = start - start % 3600 + 3600 + 59 * 60
        if now >= deadline:
            bad("aliyun.metering.late", "record %d: data for the hour starting %s had to arrive "
                "before %s" % (i, utc_iso(start - start % 3600, False), utc_iso(deadline, False)))
        _check_entities(sim, rec.get("Entities"), i, bad)
        out.append((inst, rec, start, end))
    if len(products) > 1:
        bad("aliyun.metering.mixed_products", "instances of several products in one request: %s"
            % sorted(products))
    return out


def _check_entities(sim, entities, index, bad):
    if not isinstance(entities, list) or not entities:
        bad("aliyun.metering.entities", "record %d: Entities must be a non-empty array" % index)
    for ent in entities:
        if not isinstance(ent, dict) or ent.get("Key") not in METERING_KEYS:
            bad("aliyun.metering.entities", "record %d: unknown entity Key %r" % (
                index, ent.get("Key") if isinstance(ent, dict) else ent))
        try:
            _int_field(ent.get("Value"))
        except ValueError:
            bad("aliyun.metering.entities", "record %d: Value must be an integer >= 0" % index)
        if sim.setting("aliyun.require_metering_assit") and not ent.get("meteringAssit"):
            bad("aliyun.metering.assit", "Invalid.Parameter.Metering: meteringAssit is empty")


def push_metering(sim, pairs, req, entry):
    params = dict(pairs)
    if "Metering" not in params:
        form = dict(urllib.parse.parse_qsl(req.body.decode("utf-8", "replace"),
                                           keep_blank_values=True))
        if "Metering" in form:
            entry.violation("aliyun.metering.location", "Metering must be a query parameter, "
                            "found it in the body")
            params = form
        else:
            entry.violation("aliyun.metering.missing", "no Metering parameter")
            raise AliError("MissingParameter", "Metering is mandatory for this action.")
    try:
        records = json.loads(params["Metering"])
    except ValueError:
        entry.violation("aliyun.metering.not_json", "Metering is not JSON")
        raise AliError("Invalid.Parameter.Metering", "Metering must be a JSON array string")
    entry.set(metering=records)
    now = time.time()
    with sim.lock:
        # One request per instance per interval: every request naming an instance
        # counts, whatever its fate (refused ones too), before any other check.
        interval = sim.settings.get("aliyun.metering_min_interval_seconds")
        named = _named_instances(records)
        too_soon = sorted(iid for iid in named if sim.aliyun.last_push.get(iid) is not None and
                          now - sim.aliyun.last_push[iid] < interval)
        for iid in named:
            sim.aliyun.last_push[iid] = now
        if too_soon:
            entry.violation("aliyun.metering.flow_control", "another request for instance(s) %s "
                            "within %g s" % (", ".join(too_soon), interval))
            raise AliError("Service.Flow.Control", "Request was denied due to flow control.")
        checked = _check_records(sim, records, entry, now)
        request_id = str(uuid.uuid4()).upper()
        _keep_records(sim, checked, request_id, now, entry)
    return request_id


def _named_instances(records):
    """The InstanceIds a Metering array names, valid or not."""
    if not isinstance(records, list):
        return set()
    return {r["InstanceId"] for r in records if isinstance(r, dict) and
            isinstance(r.get("InstanceId"), str)}


def _keep_records(sim, checked, request_id, now, entry):
    st = sim.aliyun
    seen = {(r["instance_id"], r["start"], r["end"], e["Key"])
            for r in st.metering for e in r["entities"]}
    for inst, rec, start, end in checked:
        for ent in rec["Entities"]:
            if (inst["instance_id"], start, end, ent["Key"]) in seen:
                entry.violation("aliyun.metering.duplicate_window",
                                "instance %s window %d-%d %s was already pushed (Alibaba does not "
                                "de-duplicate)" % (inst["instance_id"], start, end, ent["Key"]))
        st.metering.append({"request_id": request_id, "instance_id": inst["instance_id"],
                            "start": start, "end": end, "entities": rec["Entities"],
                            "received": utc_iso(now)})


def api_market(sim, req):
    """POST /aliyun/market/ — Market 2015-11-01 RPC API (PushMeteringData only)."""
    entry = Entry("aliyun.market", "in")
    entry.set(request={"method": req.method, "path": req.raw_path,
                       "headers": {k: v for k, v in req.headers.items()},
                       "body": body_for_log(req.body)})
    request_id = str(uuid.uuid4()).upper()
    try:
        if req.method != "POST":
            entry.violation("aliyun.method", "Market RPC calls are POST, got %s" % req.method)
        refused = _refusal(sim, entry)
        if refused:
            return refused
        pairs = verify_acs3(sim, req, entry)
        action = req.headers.get("x-acs-action")
        entry.set(operation=action)
        if action != "PushMeteringData":
            entry.violation("aliyun.action", "unsupported action %r" % action)
            raise AliError("InvalidAction.NotFound", "Specified api is not found, please check "
                           "your url and method.", 404)
        with sim.lock:
            fault = sim.faults.take("PushMeteringData")
        if fault:
            entry.note("fault", "injected %s" % fault)
            malformed = _apply_fault(sim, fault)
            if malformed:
                entry.set(status=200, summary="PushMeteringData -> 200 (malformed)")
                sim.log.add(entry)
                return malformed
        request_id = push_metering(sim, pairs, req, entry)
    except AliError as err:
        payload = {"RequestId": request_id, "HostId": "market.aliyuncs.com", "Code": err.code,
                   "Message": err.message,
                   "Recommend": "https://api.aliyun.com/troubleshoot?q=%s" % err.code}
        entry.set(status=err.status, error=err.code, response=payload,
                  summary="PushMeteringData -> %d %s" % (err.status, err.code))
        sim.log.add(entry)
        return Response.json(payload, err.status)
    payload = {"RequestId": request_id, "Success": True}
    entry.set(status=200, response=payload, summary="PushMeteringData -> 200")
    sim.log.add(entry)
    return Response.json(payload)


REFUSALS = {    # aliyun.metering_refusal -> (HTTP status, message)
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "SignatureDoesNotMatch": (400, "Specified signature does not match our calculation."),
    "Forbidden.RAM": (403, "User not authorized to operate on the specified resource, or this "
                           "API does not support RAM."),
}


def _refusal(sim, entry):
    """Refuse the request as the gateway refuses bad credentials while
    aliyun.metering_refusal is set: a JSON error, or for gateway_403 a page."""
    code = sim.setting("aliyun.metering_refusal")
    if code == "none":
        return None
    entry.note("aliyun.metering.refused", "aliyun.metering_refusal is %s" % code)
    if code == "gateway_403":
        entry.set(status=403, summary="PushMeteringData -> 403 (gateway page)")
        sim.log.add(entry)
        return Response(403, b"<html><body><h1>403 Forbidden</h1></body></html>", "text/html")
    status, message = REFUSALS[code]
    raise AliError(code, message, status)


def _apply_fault(sim, fault):
    if fault == "throttle":
        raise AliError("Throttling.User", "Request was denied due to user flow control.")
    if fault == "error500":
        raise AliError("InternalError", "The request processing has failed due to some unknown "
                       "error.", 500)
    if fault == "disabled":
        raise AliError("Permission.Denied", "add your account to the API user whitelist", 403)
    if fault == "timeout":
        sim.stopping.wait(sim.setting("fault_timeout_seconds"))
    if fault == "malformed":
        return Response(200, b"<html>gateway error</html>", "text/html")
    return None


# --------------------------------------------------------------------------
# Pages.

def _buyer(sim, req):
    uid = req.cookies.get("simali-uid")
    if uid and re.fullmatch(r"[0-9]{1,20}", uid):
        return uid
    return sim.aliyun.uids[0]


def _page_args(sim, req):
    uid = _buyer(sim, req)
    buyers = list(sim.aliyun.uids)
    if uid not in buyers:
        buyers.append(uid)
    return uid, buyers


def _product_name(sim):
    return sim.config.get("product_name", "演示云服务")


def page_product(sim, req):
    uid, buyers = _page_args(sim, req)
    return Response.html(pages.ali_product(uid, buyers, _product_name(sim),
                                           sim.config.get("seller_name", "演示服务商")))


def page_set_account(sim, req):
    form = req.form()
    uid = (form.get("uid_other") or "").strip() or form.get("uid", "")
    nxt = form.get("next", "")
    if not nxt.startswith("/aliyun/"):
        nxt = "/aliyun/"
    if not re.fullmatch(r"[0-9]{1,20}", uid):
        return Response.redirect(nxt)
    return Response.redirect(nxt, headers=[("Set-Cookie",
                                            "simali-uid=%s; Path=/aliyun/; SameSite=Lax" % uid)])


def page_open(sim, req):
    uid, buyers = _page_args(sim, req)
    form = req.form()
    if form.get("agree") != "1":
        return Response.html(pages.ali_product(
            uid, buyers, _product_name(sim), sim.config.get("seller_name", "演示服务商"),
            "请先勾选“同意商品在线协议及云市场平台服务协议”"), 400)
    start_instance(sim, uid, trial=form.get("trial") == "1")
    return Response.redirect("/aliyun/opened")


def page_opened(sim, req):
    uid, buyers = _page_args(sim, req)
    return Response.html(pages.ali_submitted(uid, buyers))


def page_console(sim, req):
    uid, buyers = _page_args(sim, req)
    with sim.lock:
        found = [public_instance(sim, i) for i in sim.aliyun.instances.values()
                 if i["ali_uid"] == uid]
    flash = dict(req.query).get("msg")
    return Response.html(pages.ali_console(uid, buyers, _product_name(sim), found, flash))


def _page_instance(sim, req, key):
    uid, buyers = _page_args(sim, req)
    with sim.lock:
        inst = public_instance(sim, find_instance(sim, key))
    return uid, buyers, inst


def page_guide(sim, req, key):
    uid, buyers, inst = _page_instance(sim, req, key)
    return Response.html(pages.ali_guide(uid, buyers, _product_name(sim), inst))


def page_sso(sim, req, key):
    uid, buyers, inst = _page_instance(sim, req, key)
    return Response.html(pages.ali_sso_prompt(uid, buyers, _product_name(sim), inst))


def page_sso_go(sim, req, key):
    _, _, inst = _page_instance(sim, req, key)
    if inst["status"] not in ("opened", "expired") or not inst.get("auth_url"):
        return Response.redirect("/aliyun/console?msg=" + urllib.parse.quote(
            "实例尚未开通完成，请稍后再试"))
    with sim.lock:
        url = sso_url(sim, find_instance(sim, key))
    entry = Entry("aliyun.sso", "out")
    entry.set(url=url, summary="免登 redirect for instance %s" % inst["instance_id"])
    sim.log.add(entry)
    return Response.redirect(url, 302)


def page_action(sim, req, key):
    action = req.form().get("action")
    if action not in ("renewInstance", "expiredInstance", "upgradeInstance", "releaseInstance"):
        raise HttpError(400, "unknown action")
    answer = drive_spi(sim, {"action": action, "instance": key})
    msg = "%s → HTTP %s %s" % (action, answer["status"] or answer["error"], answer["body"][:200])
    return Response.redirect("/aliyun/console?msg=" + urllib.parse.quote(msg))


# --------------------------------------------------------------------------
# Control endpoints.

def ctl_create(sim, req):
    body = json_body(req)
    method = body.get("method")
    if method not in (None, "GET", "POST"):
        raise HttpError(400, "method must be GET or POST")
    inst = start_instance(sim, str(body.get("ali_uid", sim.aliyun.uids[0])),
                          trial=bool(body.get("trial", False)), sku_id=body.get("sku_id"),
                          expired_on=body.get("expired_on"), extra=body.get("extra"),
                          method=method, product_code=body.get("product_code"))
    if body.get("wait", True):
        inst["_done"].wait(sim.setting("app_timeout_seconds") + 5)
    with sim.lock:
        return Response.json({"instance": public_instance(sim, inst)})


def ctl_instances(sim, req):
    with sim.lock:
        return Response.json({"instances": [public_instance(sim, i)
                                            for i in sim.aliyun.instances.values()]})


def ctl_instance(sim, req, key):
    with sim.lock:
        return Response.json({"instance": public_instance(sim, find_instance(sim, key))})


def ctl_spi(sim, req):
    answer = drive_spi(sim, json_body(req))
    return Response.json({k: answer[k] for k in ("status", "headers", "body", "json", "error",
                                                 "request", "seq")})


def ctl_sso_url(sim, req):
    body = json_body(req)
    with sim.lock:
        inst = find_instance(sim, str(body.get("instance", "")))
        url = sso_url(sim, inst, float(body.get("age_seconds", 0)), body.get("tamper"),
                      body.get("timestamp"), body.get("plus"), body.get("auth_url"))
        status = instance_status(sim, inst)
    return Response.json({"url": url, "instance_status": status})


def ctl_metering(sim, req):
    with sim.lock:
        return Response.json({"accepted": list(sim.aliyun.metering)})


def ctl_token(sim, req):
    body = json_body(req)
    params = body.get("params")
    if not isinstance(params, dict):
        raise HttpError(400, "params must be an object")
    return Response.json({"token": md5_token({k: str(v) for k, v in params.items()},
                                             sim.config["aliyun"]["isv_key"])})


def init(sim):
    sim.aliyun = AliyunState(sim.config["aliyun"])


def reset(sim):
    sim.aliyun.clear()


def routes():
    k = r"([0-9A-Za-z_.-]+)"
    return [
        ("POST", r"/aliyun/market/?", api_market),
        ("GET", r"/aliyun/market/?", api_market),
        ("GET", r"/aliyun/?", page_product),
        ("POST", r"/aliyun/account", page_set_account),
        ("POST", r"/aliyun/open", page_open),
        ("GET", r"/aliyun/opened", page_opened),
        ("GET", r"/aliyun/console", page_console),
        ("GET", r"/aliyun/console/guide/%s" % k, page_guide),
        ("GET", r"/aliyun/console/sso/%s" % k, page_sso),
        ("GET", r"/aliyun/console/sso/%s/go" % k, page_sso_go),
        ("POST", r"/aliyun/console/action/%s" % k, page_action),
        ("POST", r"/_sim/aliyun/instances", ctl_create),
        ("GET", r"/_sim/aliyun/instances", ctl_instances),
        ("GET", r"/_sim/aliyun/instances/%s" % k, ctl_instance),
        ("POST", r"/_sim/aliyun/spi", ctl_spi),
        ("POST", r"/_sim/aliyun/sso-url", ctl_sso_url),
        ("GET", r"/_sim/aliyun/metering", ctl_metering),
        ("POST", r"/_sim/aliyun/token", ctl_token),
    ]
