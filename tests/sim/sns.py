# SPDX-License-Identifier: MIT
"""SNS and SQS for the simulator: the test CA and certificates in state_dir,
signed SNS envelopes (SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA),
delivery to mpbind's SNS endpoint or to the partition's SQS queue, the
SubscribeURL confirmation endpoint, and the SQS JSON 1.0 API
(ReceiveMessage with long polling and visibility timeouts, DeleteMessage,
GetQueueUrl).
"""

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import secrets
import ssl
import time
import urllib.parse
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import awsmp
from core import Entry, HttpError, Response, body_for_log, json_body, utc_iso

QUEUE_NAME = "mpbind-notifications"
NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
                     "Type")
CORRUPTIONS = ("tamper_message", "truncate_signature", "bad_signature", "foreign_key", "cert_host",
               "cert_http", "cert_not_pem", "cert_query", "bad_signature_version", "wrong_topic",
               "unknown_customer", "subscribe_host", "subscribe_http")
OFFER_ACTIONS = ("subscribe-success", "subscribe-fail")
STATE_BY_ACTION = {"subscribe-success": "active", "subscribe-fail": "failed",
                   "unsubscribe-pending": "unsubscribe_pending",
                   "unsubscribe-success": "unsubscribed"}


# --------------------------------------------------------------------------
# Certificates.

def _write_private(path, key):
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _load_or_make_key(path):
    if os.path.exists(path):
        with open(path, "rb") as f:
            return serialization.load_pem_private_key(f.read(), None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_private(path, key)
    return key


def _issue(subject_cn, key, issuer_cert, issuer_key, ca=False, sans=None, server=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mpbind simulator"),
                      x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    builder = (x509.CertificateBuilder()
               .subject_name(name)
               .issuer_name(issuer_cert.subject if issuer_cert else name)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if server:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def _write_cert(path, cert):
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def _load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def ensure_certs(state_dir):
    """Create (first start) or load the CA, the TLS server cert and the SNS signing cert.

    Returns a dict of paths plus the loaded SNS signing key and its PEM bytes.
    """
    p = {name: os.path.join(state_dir, name) for name in (
        "ca.pem", "ca.key", "server.pem", "server.key", "sns-signing.pem", "sns-signing.key")}
    ca_key = _load_or_make_key(p["ca.key"])
    if os.path.exists(p["ca.pem"]):
        ca_cert = _load_cert(p["ca.pem"])
    else:
        ca_cert = _issue("mpbind simulator test CA", ca_key, None, None, ca=True)
        _write_cert(p["ca.pem"], ca_cert)
    server_key = _load_or_make_key(p["server.key"])
    if not os.path.exists(p["server.pem"]):
        sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        _write_cert(p["server.pem"], _issue("localhost", server_key, ca_cert, ca_key,
                                            sans=sans, server=True))
    sns_key = _load_or_make_key(p["sns-signing.key"])
    if not os.path.exists(p["sns-signing.pem"]):
        _write_cert(p["sns-signing.pem"], _issue(
            "sns.amazonaws.com", sns_key, ca_cert, ca_key,
            sans=[x509.DNSName("sns.amazonaws.com")]))
    with open(p["sns-signing.pem"], "rb") as f:
        pem = f.read()
    return dict(p, sns_key=sns_key, sns_pem=pem)


# --------------------------------------------------------------------------
# SNS envelopes.

def string_to_sign(envelope):
    """The SNS string to sign: 'key\\nvalue\\n' for the type's keys, in order, if present."""
    keys = NOTIFICATION_KEYS if envelope["Type"] == "Notification" else CONFIRMATION_KEYS
    return "".join("%s\n%s\n" % (k, envelope[k]) for k in keys
                   if k in envelope and envelope[k] is not None)


def sign(key, text, version):
    digest = hashes.SHA1() if str(version) == "1" else hashes.SHA256()
    raw = key.sign(text.encode("utf-8"), padding.PKCS1v15(), digest)
    return base64.b64encode(raw).decode()


def envelope_text(envelope):
    """Serialise like SNS does: two-space indent, ' : ' between key and value."""
    return json.dumps(envelope, indent=2, separators=(",", " : "))


class SnsState:
    """Sent/held SNS messages, confirmations, cert fetches and the SQS queues."""

    def __init__(self, sim, certs):
        self.certs = certs
        self.cert_name = "SimpleNotificationService-%s.pem" % hashlib.sha256(
            certs["sns_pem"]).hexdigest()[:32]
        self.https_base = "https://localhost:%d" % sim.https_port
        self.http_base = "http://localhost:%d" % sim.http_port
        self._foreign_key = None
        self.clear()

    def foreign_key(self):
        """An RSA key that is not the signing certificate's (made on first use)."""
        if self._foreign_key is None:
            self._foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self._foreign_key

    def clear(self):
        self.messages = {}          # MessageId -> stored message
        self.order = []             # MessageIds in creation order
        self.confirmation_tokens = {}  # Token -> (partition, topic arn)
        self.confirmations = []
        self.cert_fetches = []
        self.queues = {}            # partition -> Queue

    def cert_url(self, corrupt=()):
        if "cert_host" in corrupt:
            return self.https_base.replace("localhost", "127.0.0.1") + "/" + self.cert_name
        if "cert_http" in corrupt:
            return "%s/%s" % (self.http_base, self.cert_name)
        if "cert_not_pem" in corrupt:
            return "%s/%s" % (self.https_base, self.cert_name[:-4] + ".txt")
        if "cert_query" in corrupt:
            return "%s/%s?x=%s" % (self.https_base, self.cert_name, secrets.token_hex(4))
        return "%s/%s" % (self.https_base, self.cert_name)

    def subscribe_base(self, corrupt=()):
        """Where SubscribeURL points: this host over HTTPS, unless corrupted."""
        if "subscribe_host" in corrupt:
            return self.https_base.replace("localhost", "127.0.0.1")
        if "subscribe_http" in corrupt:
            return self.http_base
        return self.https_base


def _message_json(part, spec, sub, corrupt):
    """Build the marketplace Message string from a push spec."""
    if "message" in spec:
        if not isinstance(spec["message"], str):
            raise HttpError(400, "message must be a string (the raw SNS Message)")
        return spec["message"]
    action = spec.get("action", "subscribe-success")
    ci = spec.get("customer_identifier", sub["customer_identifier"] if sub else None)
    if "unknown_customer" in corrupt:
        ci = "U" + secrets.token_hex(5).upper()
    if ci is None:
        raise HttpError(400, "no customer-identifier: give subscription_id of a subscription "
                        "that has one, or customer_identifier")
    if spec.get("leading_space"):
        ci = " " + ci
    msg = {"action": action, "customer-identifier": ci,
           "product-code": spec.get("product_code", sub["product_code"] if sub else
                                    part.product_code)}
    if action in OFFER_ACTIONS:
        offer = spec.get("offer_identifier", sub["offer_identifier"] if sub else
                         part.offer_identifier(False))
        if offer is not None:
            msg["offer-identifier"] = offer
        trial = spec.get("free_trial", sub["trial"] if sub else False)
        if trial:
            msg["isFreeTrialTermPresent"] = "true"
    return json.dumps(msg)


def build_message(sim, part, spec):
    """Create, sign and store one SNS message from a push spec (caller holds sim.lock)."""
    if not isinstance(spec, dict):
        raise HttpError(400, "each message must be an object")
    corrupt = spec.get("corrupt") or []
    if isinstance(corrupt, str):
        corrupt = [corrupt]
    bad = [c for c in corrupt if c not in CORRUPTIONS]
    if bad:
        raise HttpError(400, "unknown corruption(s) %s; known: %s" % (bad, list(CORRUPTIONS)))
    kind = spec.get("type", "Notification")
    if kind not in ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"):
        raise HttpError(400, "type must be Notification, SubscriptionConfirmation or "
                        "UnsubscribeConfirmation")
    sub = awsmp.find_subscription(part, spec["subscription_id"]) \
        if spec.get("subscription_id") else None
    topic = part.topic_arn(spec.get("topic", "subscription"))
    if "wrong_topic" in corrupt:
        topic = topic.replace(part.product_code, "other" + part.product_code)
    version = str(spec.get("signature_version", sim.settings.get("sns.signature_version")))
    if version not in ("1", "2"):
        raise HttpError(400, "signature_version must be 1 or 2")
    st = sim.sns
    env = {"Type": kind, "MessageId": str(uuid.uuid4())}
    if kind == "Notification":
        env["TopicArn"] = topic
        if spec.get("subject") is not None:
            env["Subject"] = spec["subject"]
        env["Message"] = _message_json(part, spec, sub, corrupt)
    else:
        token = secrets.token_hex(64)
        st.confirmation_tokens[token] = (part.name, topic)
        env["Token"] = token
        env["TopicArn"] = topic
        env["Message"] = ("You have chosen to subscribe to the topic %s.\nTo confirm the "
                          "subscription, visit the SubscribeURL included in this message."
                          % topic)
        env["SubscribeURL"] = spec.get("subscribe_url") or \
            "%s/?Action=ConfirmSubscription&TopicArn=%s&Token=%s" % (
                st.subscribe_base(corrupt), urllib.parse.quote(topic, safe=""), token)
    env["Timestamp"] = spec.get("timestamp") or utc_iso()
    env["SignatureVersion"] = version
    env["Signature"] = sign(st.certs["sns_key"], string_to_sign(env), version)
    env["SigningCertURL"] = spec.get("signing_cert_url") or st.cert_url(corrupt)
    sub_arn = "%s:%s" % (topic, uuid.uuid5(uuid.NAMESPACE_URL, topic))
    if kind == "Notification":
        env["UnsubscribeURL"] = "%s/?Action=Unsubscribe&SubscriptionArn=%s" % (
            st.https_base, urllib.parse.quote(sub_arn, safe=""))
    _apply_corruptions(st, env, corrupt)
    stored = {"message_id": env["MessageId"], "partition": part.name, "envelope": env,
              "body": envelope_text(env), "subscription_arn": sub_arn, "corrupt": corrupt,
              "subscription_id": sub["id"] if sub else None, "created": utc_iso(),
              "deliveries": []}
    st.messages[env["MessageId"]] = stored
    st.order.append(env["MessageId"])
    action = spec.get("action", "subscribe-success") if "message" not in spec else None
    if sub and kind == "Notification" and not corrupt and spec.get("apply_state", True):
        if action in STATE_BY_ACTION:
            sub["status"] = STATE_BY_ACTION[action]
            sub["notifications"].append({"action": action, "message_id": env["MessageId"]})
    return stored


def _apply_corruptions(st, env, corrupt):
    if "tamper_message" in corrupt:
        env["Message"] = env["Message"].replace("subscribe", "subscribe ", 1) \
            if "subscribe" in env["Message"] else env["Message"] + " "
    if "truncate_signature" in corrupt:
        env["Signature"] = env["Signature"][:-8]
    if "bad_signature" in corrupt:
        env["Signature"] = sign(st.certs["sns_key"], "not the string to sign",
                                env["SignatureVersion"])
    if "foreign_key" in corrupt:
        # Changed and signed again by someone without the certificate's key.
        env["Message"] = env["Message"].replace("subscribe-success", "subscribe-fail")
        env["Signature"] = sign(st.foreign_key(), string_to_sign(env), env["SignatureVersion"])
    if "bad_signature_version" in corrupt:
        env["SignatureVersion"] = "3"


def deliver(sim, message_id, via=None, retries=0):
    """Deliver one stored message over HTTPS POST to mpbind or into the SQS queue.

    Returns the delivery record {"message_id", "via", "status", "body", ...}.
    """
    with sim.lock:
        stored = sim.sns.messages.get(message_id)
        if stored is None:
            raise HttpError(404, "unknown message %r" % message_id)
        partition = stored["partition"]
        via = via or sim.settings.get("sns_delivery." + partition)
        if via == "sqs":
            queue_for(sim, partition).send(stored["body"])
            sim.cond.notify_all()
    if via == "sqs":
        result = {"message_id": message_id, "via": "sqs", "status": None, "body": None}
        _log_delivery(sim, stored, result)
        return result
    if via != "https":
        raise HttpError(400, "via must be https or sqs")
    env = stored["envelope"]
    headers = {"Content-Type": "text/plain; charset=UTF-8",
               "User-Agent": "Amazon Simple Notification Service Agent",
               "x-amz-sns-message-type": env["Type"],
               "x-amz-sns-message-id": env["MessageId"],
               "x-amz-sns-topic-arn": env["TopicArn"]}
    if env["Type"] == "Notification":
        headers["x-amz-sns-subscription-arn"] = stored["subscription_arn"]
    url = "%s/marketplace/%s/sns" % (sim.app_url, partition)
    for attempt in range(retries + 1):
        answer = sim.call_app("POST", url, headers, stored["body"].encode("utf-8"))
        result = {"message_id": message_id, "via": "https", "attempt": attempt + 1,
                  "status": answer["status"], "body": answer["body"], "error": answer["error"]}
        _log_delivery(sim, stored, result)
        if 200 <= answer["status"] < 300 or attempt == retries:
            return result
        if sim.stopping.wait(sim.setting("sns.retry_delay_seconds")):
            return result
    return result


def _log_delivery(sim, stored, result):
    entry = Entry("aws.%s.sns" % stored["partition"], "out")
    entry.set(message_id=stored["message_id"], via=result["via"], status=result["status"],
              request={"envelope": stored["envelope"]},
              response=body_for_log(result.get("body")),
              summary="%s %s -> %s" % (stored["envelope"]["Type"], result["via"],
                                      result.get("error") or result["status"]))
    if stored["corrupt"] and result["via"] == "https" and result["status"] and \
            200 <= result["status"] < 300:
        entry.note("sns.corrupt_answered_2xx", "mpbind answered %d to a message corrupted with %s"
                   % (result["status"], stored["corrupt"]))
    with sim.lock:
        stored["deliveries"].append({k: result.get(k) for k in ("via", "status", "error")})
    sim.log.add(entry)


def publish(sim, partition, spec, via=None, retries=None):
    """Build one message and deliver it at once (used by the buyer flows)."""
    with sim.lock:
        stored = build_message(sim, sim.aws[partition], spec)
        if retries is None:
            retries = sim.settings.get("sns.retries")
    return deliver(sim, stored["message_id"], via, retries)


# --------------------------------------------------------------------------
# SQS queue.

class Queue:
    """One in-memory standard queue. Every method is called with sim.lock held."""

    def __init__(self, url):
        self.url = url
        self.messages = []
        self.handles = {}   # receipt handle -> message
        self.deleted = 0

    def send(self, body):
        msg = {"MessageId": str(uuid.uuid4()), "Body": body,
               "MD5OfBody": hashlib.md5(body.encode("utf-8")).hexdigest(),
               "sent": time.time(), "visible_at": 0.0, "receive_count": 0,
               "first_receive": None, "receipt": None, "deleted": False}
        self.messages.append(msg)
        return msg

    def visible(self, now):
        return [m for m in self.messages if not m["deleted"] and m["visible_at"] <= now]

    def next_change(self, now):
        times = [m["visible_at"] for m in self.messages
                 if not m["deleted"] and m["visible_at"] > now]
        return min(times) if times else None

    def receive(self, now, count, visibility):
        out = []
        for msg in self.visible(now)[:count]:
            msg["receive_count"] += 1
            msg["first_receive"] = msg["first_receive"] or now
            msg["visible_at"] = now + visibility
            msg["receipt"] = base64.b64encode(secrets.token_bytes(48)).decode()
            self.handles[msg["receipt"]] = msg
            out.append(msg)
        return out

    def stats(self, now):
        live = [m for m in self.messages if not m["deleted"]]
        return {"queue_url": self.url, "visible": len([m for m in live if m["visible_at"] <= now]),
                "in_flight": len([m for m in live if m["visible_at"] > now]),
                "deleted": self.deleted, "sent": len(self.messages),
                "messages": [{"message_id": m["MessageId"], "deleted": m["deleted"],
                              "receive_count": m["receive_count"],
                              "in_flight": not m["deleted"] and m["visible_at"] > now,
                              "body": body_for_log(m["Body"])} for m in self.messages]}


def queue_for(sim, partition):
    st = sim.sns
    if partition not in st.queues:
        st.queues[partition] = Queue("%s/aws/%s/sqs/queue/%s" % (sim.http_base, partition,
                                                                QUEUE_NAME))
    return st.queues[partition]


def _check_queue_url(sim, part, url, entry):
    path = urllib.parse.urlsplit(url or "").path.rstrip("/")
    if path != "/aws/%s/sqs/queue/%s" % (part.name, QUEUE_NAME):
        entry.violation("sqs.queue_url", "QueueUrl %r is not this partition's queue" % url)
        raise awsmp.AwsError("QueueDoesNotExist", "The specified queue does not exist.", 400,
                             headers=[("x-amzn-query-error",
                                       "AWS.SimpleQueueService.NonExistentQueue;Sender")])
    return queue_for(sim, part.name)


def _sqs_param_error(entry, message):
    entry.violation("sqs.parameter", message)
    raise awsmp.AwsError("InvalidParameterValue", message, 400,
                         headers=[("x-amzn-query-error", "InvalidParameterValue;Sender")])


def op_receive_message(sim, part, params, entry):
    count = params.get("MaxNumberOfMessages", 1)
    wait = params.get("WaitTimeSeconds", 0)
    if not 1 <= count <= 10:
        _sqs_param_error(entry, "MaxNumberOfMessages must be 1..10, got %r" % count)
    if not 0 <= wait <= 20:
        _sqs_param_error(entry, "WaitTimeSeconds must be 0..20, got %r" % wait)
    visibility = params.get("VisibilityTimeout")
    if visibility is not None and not 0 <= visibility <= 43200:
        _sqs_param_error(entry, "VisibilityTimeout must be 0..43200, got %r" % visibility)
    names = set(params.get("AttributeNames", [])) | set(params.get("MessageSystemAttributeNames",
                                                                   []))
    with sim.lock:
        queue = _check_queue_url(sim, part, params["QueueUrl"], entry)
        if visibility is None:
            visibility = sim.settings.get("sqs.visibility_timeout_seconds")
        deadline = time.time() + min(wait, sim.settings.get("sqs.max_wait_seconds"))
        while True:
            now = time.time()
            got = queue.receive(now, count, visibility)
            if got or now >= deadline or sim.stopping.is_set():
                break
            wake = queue.next_change(now)
            sim.cond.wait(max(0.01, min(deadline, wake or deadline) - now))
        messages = [_sqs_message(m, names) for m in got]
    entry.set(received=[m["MessageId"] for m in messages])
    return {"Messages": messages} if messages else {}


def _sqs_message(msg, names):
    out = {"MessageId": msg["MessageId"], "ReceiptHandle": msg["receipt"],
           "MD5OfBody": msg["MD5OfBody"], "Body": msg["Body"]}
    attrs = {"ApproximateReceiveCount": str(msg["receive_count"]),
             "SentTimestamp": str(int(msg["sent"] * 1000)),
             "ApproximateFirstReceiveTimestamp": str(int(msg["first_receive"] * 1000)),
             "SenderId": "AIDAIT2UOQQY3AUEKVGXU"}
    wanted = attrs if "All" in names else {k: v for k, v in attrs.items() if k in names}
    if wanted:
        out["Attributes"] = wanted
    return out


def op_delete_message(sim, part, params, entry):
    with sim.lock:
        queue = _check_queue_url(sim, part, params["QueueUrl"], entry)
        msg = queue.handles.get(params["ReceiptHandle"])
        if msg is None:
            entry.violation("sqs.receipt_handle", "ReceiptHandle was never issued")
            raise awsmp.AwsError("ReceiptHandleIsInvalid", "The input receipt handle is invalid.",
                                 400, headers=[("x-amzn-query-error",
                                                "ReceiptHandleIsInvalid;Sender")])
        entry.set(deleted_message=msg["MessageId"])
        if msg["deleted"]:
            entry.note("sqs.already_deleted", "message was already deleted")
        elif msg["receipt"] != params["ReceiptHandle"]:
            entry.note("sqs.stale_receipt", "receipt handle is not the latest one; message kept "
                       "(it was received again after this handle was issued)")
        else:
            msg["deleted"] = True
            queue.deleted += 1
    return {}


def op_get_queue_url(sim, part, params, entry):
    if params["QueueName"] != QUEUE_NAME:
        raise awsmp.AwsError("QueueDoesNotExist", "The specified queue does not exist.", 400,
                             headers=[("x-amzn-query-error",
                                       "AWS.SimpleQueueService.NonExistentQueue;Sender")])
    with sim.lock:
        return {"QueueUrl": queue_for(sim, part.name).url}


def api_sqs(sim, req, partition, _queue_path=None):
    return awsmp.aws_call(sim, req, partition, "sqs", {
        "ReceiveMessage": op_receive_message, "DeleteMessage": op_delete_message,
        "GetQueueUrl": op_get_queue_url})


# --------------------------------------------------------------------------
# HTTPS-side endpoints: signing certificate and SubscribeURL.

def serve_cert(sim, req, name):
    st = sim.sns
    entry = Entry("sns.cert", "in")
    entry.set(request={"method": req.method, "path": req.raw_path, "scheme": req.scheme,
                       "host": req.headers.get("Host")}, status=200)
    if name != st.cert_name and name != st.cert_name[:-4] + ".txt":
        entry.set(status=404, summary="unknown certificate %s" % name)
        sim.log.add(entry)
        return Response(404, b"not found", "text/plain")
    host = urllib.parse.urlsplit("//" + (req.headers.get("Host") or "")).hostname
    if req.scheme != "https":
        entry.violation("sns.cert_over_http", "signing certificate fetched over plain HTTP")
    if host != "localhost":
        entry.violation("sns.cert_host", "signing certificate fetched from host %r; only the "
                        "SNS host (here localhost) may be trusted" % host)
    if not name.endswith(".pem"):
        entry.violation("sns.cert_not_pem", "signing certificate URL does not end in .pem")
    entry.set(summary="certificate fetched over %s from host %s" % (req.scheme,
                                                                   req.headers.get("Host")))
    with sim.lock:
        st.cert_fetches.append({"time": utc_iso(), "scheme": req.scheme, "path": req.raw_path,
                                "host": req.headers.get("Host")})
    sim.log.add(entry)
    return Response(200, st.certs["sns_pem"], "application/x-x509-ca-cert")


def sns_action(sim, req):
    """GET https://localhost:<https_port>/?Action=ConfirmSubscription|Unsubscribe&..."""
    query = dict(req.query)
    action = query.get("Action")
    entry = Entry("sns.endpoint", "in")
    entry.set(request={"method": req.method, "path": req.raw_path, "scheme": req.scheme})
    if action == "ConfirmSubscription":
        with sim.lock:
            found = sim.sns.confirmation_tokens.get(query.get("Token", ""))
            if found and found[1] == query.get("TopicArn"):
                arn = "%s:%s" % (found[1], uuid.uuid5(uuid.NAMESPACE_URL, found[1]))
                sim.sns.confirmations.append({"partition": found[0], "topic_arn": found[1],
                                              "subscription_arn": arn, "time": utc_iso(),
                                              "scheme": req.scheme})
        if not found or found[1] != query.get("TopicArn"):
            entry.violation("sns.confirm", "ConfirmSubscription with an unknown Token/TopicArn")
            entry.set(status=404, summary="ConfirmSubscription rejected")
            sim.log.add(entry)
            return Response(404, b"<ErrorResponse><Error><Code>NotFound</Code></Error>"
                            b"</ErrorResponse>", "text/xml")
        entry.set(status=200, summary="subscription confirmed for %s" % found[1])
        sim.log.add(entry)
        xml = ("<ConfirmSubscriptionResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">"
               "<ConfirmSubscriptionResult><SubscriptionArn>%s</SubscriptionArn>"
               "</ConfirmSubscriptionResult><ResponseMetadata><RequestId>%s</RequestId>"
               "</ResponseMetadata></ConfirmSubscriptionResponse>" % (arn, uuid.uuid4()))
        return Response(200, xml, "text/xml")
    if action == "Unsubscribe":
        entry.violation("sns.unsubscribe_url", "mpbind fetched an UnsubscribeURL")
    entry.set(status=400, summary="SNS action %r" % action)
    sim.log.add(entry)
    return Response(400, b"unsupported", "text/plain")


# --------------------------------------------------------------------------
# Control endpoints.

def ctl_push(sim, req, partition):
    part = awsmp.partition_or_404(sim, partition)
    body = json_body(req)
    specs = body.get("messages")
    if specs is None:
        specs = [body]
    if not isinstance(specs, list) or not specs:
        raise HttpError(400, "messages must be a non-empty list")
    with sim.lock:
        stored = [build_message(sim, part, spec) for spec in specs]
    out = {"messages": [{"message_id": s["message_id"], "envelope": s["envelope"],
                         "body": s["body"]} for s in stored], "deliveries": []}
    if body.get("deliver", True):
        retries = int(body.get("retries", 0))
        out["deliveries"] = [deliver(sim, s["message_id"], body.get("via"), retries)
                             for s in stored]
    return Response.json(out)


def ctl_deliver(sim, req, partition):
    awsmp.partition_or_404(sim, partition)
    body = json_body(req)
    ids = body.get("message_ids")
    if not isinstance(ids, list) or not ids:
        raise HttpError(400, "message_ids must be a non-empty list")
    retries = int(body.get("retries", 0))
    return Response.json({"deliveries": [deliver(sim, mid, body.get("via"), retries)
                                         for mid in ids]})


def ctl_messages(sim, req, partition):
    awsmp.partition_or_404(sim, partition)
    with sim.lock:
        out = [dict(m) for mid, m in sim.sns.messages.items() if m["partition"] == partition]
    return Response.json({"messages": out})


def ctl_sns_status(sim, req):
    with sim.lock:
        return Response.json({"confirmations": list(sim.sns.confirmations),
                              "cert_fetches": list(sim.sns.cert_fetches),
                              "cert_url": sim.sns.cert_url(),
                              "cert_pem": sim.sns.certs["sns_pem"].decode()})


def ctl_sqs_send(sim, req, partition):
    awsmp.partition_or_404(sim, partition)
    body = json_body(req)
    with sim.lock:
        if "message_id" in body:
            stored = sim.sns.messages.get(body["message_id"])
            if stored is None:
                raise HttpError(404, "unknown SNS message %r" % body["message_id"])
            text = stored["body"]
        elif isinstance(body.get("body"), str):
            text = body["body"]
        else:
            raise HttpError(400, "give message_id (a stored SNS message) or body (a string)")
        msg = queue_for(sim, partition).send(text)
        sim.cond.notify_all()
    return Response.json({"sqs_message_id": msg["MessageId"]})


def ctl_sqs_status(sim, req, partition):
    awsmp.partition_or_404(sim, partition)
    with sim.lock:
        return Response.json(queue_for(sim, partition).stats(time.time()))


def init(sim):
    certs = ensure_certs(sim.config["state_dir"])
    sim.sns = SnsState(sim, certs)
    ctx = ssl.create_default_context(cafile=certs["ca.pem"])
    ctx.load_default_certs()
    sim.ssl_client = ctx


def reset(sim):
    sim.sns.clear()


def routes():
    p = r"(aws-cn|aws)"
    return [
        ("POST", r"/aws/%s/sqs(/queue/[^/]+)?/?" % p, api_sqs),
        ("GET", r"/(SimpleNotificationService-[0-9a-f]+\.(?:pem|txt))", serve_cert, "both"),
        ("GET", r"/", sns_action, "https"),
        ("POST", r"/_sim/aws/%s/sns/push" % p, ctl_push),
        ("POST", r"/_sim/aws/%s/sns/deliver" % p, ctl_deliver),
        ("GET", r"/_sim/aws/%s/sns/messages" % p, ctl_messages),
        ("GET", r"/_sim/sns", ctl_sns_status),
        ("POST", r"/_sim/aws/%s/sqs/send" % p, ctl_sqs_send),
        ("GET", r"/_sim/aws/%s/sqs" % p, ctl_sqs_status),
    ]
