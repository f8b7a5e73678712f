# SPDX-License-Identifier: MIT
"""Self-check of the marketplace simulator (tests/sim): it is started on free
ports in a temporary directory, with a tiny stand-in for mpbind, and spoken to
the way mpbind will speak to it. Run with
    /usr/bin/python3 -m pytest tests/integration/test_sim_selfcheck.py
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIM_DIR = os.path.join(ROOT, "tests", "sim")
CN = {"region": "cn-northwest-1", "access_key_id": "AKIACNSELFCHECK",
      "secret_access_key": "cn-secret-for-tests", "product_code": "prodcn123",
      "seller_account_id": "123456789012",
      "subscription_topic_arn": "arn:aws-cn:sns:cn-northwest-1:287250355862:"
                                "aws-mp-subscription-notification-prodcn123",
      "entitlement_topic_arn": "arn:aws-cn:sns:cn-northwest-1:287250355862:"
                               "aws-mp-entitlement-notification-prodcn123",
      "sns_delivery": "https"}
GL = dict(CN, region="us-east-1", access_key_id="AKIAGLSELFCHECK", secret_access_key="gl-secret",
          product_code="prodgl456", sns_delivery="sqs",
          subscription_topic_arn="arn:aws:sns:us-east-1:287250355862:"
                                 "aws-mp-subscription-notification-prodgl456",
          entitlement_topic_arn="arn:aws:sns:us-east-1:287250355862:"
                                "aws-mp-entitlement-notification-prodgl456")
ALI = {"isv_key": "isv-key-for-tests", "access_key_id": "LTAIselfcheck",
       "access_key_secret": "ali-secret-for-tests", "product_code": "cmjj00012345",
       "activation_delay_seconds": 0}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeApp(http.server.ThreadingHTTPServer):
    """Stands in for mpbind: records what the sim sends and answers plausibly."""
    daemon_threads = True

    def __init__(self, port):
        self.received = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", port), FakeAppHandler)

    def requests(self, path_part):
        with self.lock:
            return [r for r in self.received if path_part in r["path"]]


class FakeAppHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.answer()

    do_POST = do_GET

    def answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path, _, query = self.path.partition("?")
        record = {"method": self.command, "path": path, "query": query, "body": body,
                  "headers": dict(self.headers.items())}
        with self.server.lock:
            self.server.received.append(record)
        status, out, extra = 200, b"{}", []
        if path.endswith("/landing"):
            status, out, extra = 303, b"", [("Location", "/bind")]
        elif path.endswith("/aliyun/spi"):
            params = dict(urllib.parse.parse_qsl(query or body.decode(), keep_blank_values=True))
            if params.get("action") == "createInstance":
                out = json.dumps({"instanceId": params["orderBizId"], "appInfo": {
                    "frontEndUrl": "http://app.test/", "authUrl": "http://app.test/sso"}}).encode()
            else:
                out = b'{"success":"true"}'
        self.send_response(status)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


class Sim:
    def __init__(self, http_port, https_port, state_dir, app):
        self.http_port = http_port
        self.https_port = https_port
        self.state_dir = state_dir
        self.app = app

    def call(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=15)
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        out = resp.read()
        conn.close()
        return resp.status, json.loads(out) if out else None

    def post(self, path, body=None):
        status, out = self.call("POST", path, body or {})
        assert status == 200, (path, status, out)
        return out

    def get(self, path):
        status, out = self.call("GET", path)
        assert status == 200, (path, status, out)
        return out

    def last_seq(self):
        return self.get("/_sim/log?since=999999999")["last_seq"]

    def violations(self, since):
        return self.get("/_sim/violations?since=%d" % since)["violations"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sim")
    app = FakeApp(free_port())
    threading.Thread(target=app.serve_forever, daemon=True).start()
    http_port, https_port = free_port(), free_port()
    config = {"host": "127.0.0.1", "http_port": http_port, "https_port": https_port,
              "state_dir": str(tmp / "var"), "app_url": "http://127.0.0.1:%d" % app.server_port,
              "aws": {"aws-cn": CN, "aws": GL}, "aliyun": ALI}
    cfg_path = tmp / "sim.json"
    cfg_path.write_text(json.dumps(config))
    proc = subprocess.Popen([sys.executable, os.path.join(SIM_DIR, "sim.py"), "--config",
                             str(cfg_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    handle = Sim(http_port, https_port, str(tmp / "var"), app)
    deadline = time.time() + 15
    while True:
        try:
            if handle.call("GET", "/_sim/health") == (200, {"ok": True}):
                break
        except OSError:
            pass
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline, "simulator did not become ready"
        time.sleep(0.1)
    yield handle
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    out, err = proc.communicate()
    assert out == b"" and err == b"", (out, err)
    assert not os.path.exists(os.path.join(handle.state_dir, "sim.pid"))
    app.shutdown()


# --------------------------------------------------------------------------
# AWS: ResolveCustomer, signatures, metering.

def metering_client(sim, partition="aws-cn", secret=None):
    """A botocore client using the vendored (current) metering model."""
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, os.path.join(SIM_DIR, "models"))
    cfg = CN if partition == "aws-cn" else GL
    return session.create_client(
        "meteringmarketplace", region_name=cfg["region"],
        endpoint_url="http://127.0.0.1:%d/aws/%s/metering/" % (sim.http_port, partition),
        aws_access_key_id=cfg["access_key_id"],
        aws_secret_access_key=secret or cfg["secret_access_key"],
        config=botocore.config.Config(retries={"max_attempts": 0}))


def signed_call(sim, path, target, payload, service="aws-marketplace", region="cn-northwest-1",
                akid=None, secret=None, version="1.1"):
    """POST an AWS JSON request signed by hand with botocore's SigV4Auth."""
    body = json.dumps(payload).encode()
    url = "http://127.0.0.1:%d%s" % (sim.http_port, path)
    req = AWSRequest("POST", url, data=body, headers={
        "Content-Type": "application/x-amz-json-%s" % version, "X-Amz-Target": target})
    SigV4Auth(Credentials(akid or CN["access_key_id"], secret or CN["secret_access_key"]),
              service, region).add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", sim.http_port, timeout=30)
    conn.request("POST", path, body=body, headers=dict(req.headers.items()))
    resp = conn.getresponse()
    out = json.loads(resp.read() or b"null")
    conn.close()
    return resp.status, out


def test_resolve_customer_with_botocore(sim):
    since = sim.last_seq()
    made = sim.post("/_sim/aws/aws-cn/subscriptions", {"account_id": "111122223333",
                                                         "notify": "none"})
    token = made["token"]
    assert "+" in token and "/" in token
    client = metering_client(sim)
    first = client.resolve_customer(RegistrationToken=token)
    assert first["CustomerAWSAccountId"] == "111122223333"
    assert first["LicenseArn"].startswith("arn:aws-cn:license-manager::")
    assert first["ProductCode"] == "prodcn123"
    assert first["CustomerIdentifier"] == made["subscription"]["customer_identifier"]
    again = client.resolve_customer(RegistrationToken=token)
    assert {k: again[k] for k in first if k != "ResponseMetadata"} == \
        {k: first[k] for k in first if k != "ResponseMetadata"}
    assert sim.violations(since) == []


@pytest.mark.parametrize("variant, code", [
    ("secret", "sigv4.mismatch"), ("region", "sigv4.wrong_region"),
    ("service", "sigv4.wrong_service")])
def test_resolve_customer_rejects_bad_signatures(sim, variant, code):
    token = sim.post("/_sim/aws/aws-cn/tokens", {})["token"]
    since = sim.last_seq()
    kwargs = {"secret": "wrong-secret"} if variant == "secret" else \
        {"region": "cn-north-1"} if variant == "region" else {"service": "metering.marketplace"}
    status, out = signed_call(sim, "/aws/aws-cn/metering/", "AWSMPMeteringService.ResolveCustomer",
                              {"RegistrationToken": token}, **kwargs)
    assert status == 403
    assert out["__type"].endswith("#InvalidSignatureException")
    assert [v["code"] for v in sim.violations(since)] == [code]


def test_token_behaviours(sim):
    def resolve(token):
        return signed_call(sim, "/aws/aws-cn/metering/", "AWSMPMeteringService.ResolveCustomer",
                           {"RegistrationToken": token})

    def token(behaviour):
        return sim.post("/_sim/aws/aws-cn/tokens", {"behaviour": behaviour})["token"]

    assert resolve(token("invalid"))[1]["__type"].endswith("#InvalidTokenException")
    assert resolve(token("expired"))[1]["__type"].endswith("#ExpiredTokenException")
    throttled = token("throttle:1")
    assert resolve(throttled)[1]["__type"].endswith("#ThrottlingException")
    assert resolve(throttled)[0] == 200
    status, out = resolve(token("error500:1,legacy"))
    assert status == 500 and out["__type"].endswith("#InternalServiceErrorException")
    legacy = token("legacy")
    assert set(resolve(legacy)[1]) == {"CustomerIdentifier", "ProductCode"}
    assert "CustomerIdentifier" not in resolve(token("new_style"))[1]
    assert resolve(token("other_product"))[1]["ProductCode"] != "prodcn123"
    assert resolve("never-issued")[1]["__type"].endswith("#InvalidTokenException")


def test_batch_meter_usage(sim):
    made = sim.post("/_sim/aws/aws-cn/subscriptions", {"account_id": "444455556666",
                                                         "notify": "skip"})
    sub = made["subscription"]
    hour = int(time.time()) // 3600 * 3600 - 3600
    record = {"Timestamp": hour, "CustomerAWSAccountId": sub["account_id"],
              "LicenseArn": sub["license_arn"], "Dimension": "hours", "Quantity": 3}
    since = sim.last_seq()
    client = metering_client(sim)
    for _ in range(2):   # an identical resend is idempotent
        out = client.batch_meter_usage(ProductCode="prodcn123", UsageRecords=[record])
        assert [r["Status"] for r in out["Results"]] == ["Success"]
    accepted = [r for r in sim.get("/_sim/aws/aws-cn/metering")["accepted"]
                if r["subscription_id"] == sub["id"]]
    assert len(accepted) == 1 and accepted[0]["quantity"] == 3 and accepted[0]["sends"] == 2
    assert sim.violations(since) == []
    out = client.batch_meter_usage(ProductCode="prodcn123",
                                   UsageRecords=[dict(record, Quantity=4)])
    assert out["Results"][0]["Status"] == "DuplicateRecord"
    assert [v["code"] for v in sim.violations(since)] == ["metering.duplicate_quantity"]
    since = sim.last_seq()
    out = client.batch_meter_usage(ProductCode="prodcn123", UsageRecords=[
        dict(record, Timestamp=hour + 1800, Dimension="other")])
    assert out["Results"][0]["Status"] == "Success"
    assert [v["code"] for v in sim.violations(since)] == ["metering.not_hour_aligned"]
    since = sim.last_seq()
    status, out = signed_call(sim, "/aws/aws-cn/metering/", "AWSMPMeteringService.BatchMeterUsage",
                              {"ProductCode": "prodcn123",
                               "UsageRecords": [dict(record, Timestamp=hour - 8 * 3600)]})
    assert status == 400 and out["__type"].endswith("#TimestampOutOfBoundsException")
    assert [v["code"] for v in sim.violations(since)] == ["metering.timestamp_out_of_bounds"]


# --------------------------------------------------------------------------
# SNS and SQS.

def string_to_sign(env):
    keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] \
        if env["Type"] == "Notification" else \
        ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join("%s\n%s\n" % (k, env[k]) for k in keys if k in env).encode()


def fetch_cert(sim, url):
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme == "https" and parts.hostname == "localhost" and url.endswith(".pem")
    ctx = ssl.create_default_context(cafile=os.path.join(sim.state_dir, "ca.pem"))
    conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=ctx, timeout=10)
    conn.request("GET", parts.path)
    resp = conn.getresponse()
    assert resp.status == 200
    return x509.load_pem_x509_certificate(resp.read())


def sns_verifies(sim, env):
    cert = fetch_cert(sim, env["SigningCertURL"])
    digest = {"1": hashes.SHA1(), "2": hashes.SHA256()}[env["SignatureVersion"]]
    try:
        cert.public_key().verify(base64.b64decode(env["Signature"]), string_to_sign(env),
                                 padding.PKCS1v15(), digest)
        return True
    except InvalidSignature:
        return False


@pytest.mark.parametrize("version", ["1", "2"])
def test_sns_signatures_verify_with_cryptography(sim, version):
    sub = sim.post("/_sim/aws/aws-cn/subscriptions", {"notify": "none"})["subscription"]
    before = len(sim.app.requests("/marketplace/aws-cn/sns"))
    out = sim.post("/_sim/aws/aws-cn/sns/push", {"messages": [
        {"subscription_id": sub["id"], "action": "subscribe-success",
         "signature_version": version},
        {"subscription_id": sub["id"], "action": "unsubscribe-pending",
         "signature_version": version, "corrupt": "tamper_message"},
        {"type": "SubscriptionConfirmation", "signature_version": version}]})
    assert [d["status"] for d in out["deliveries"]] == [200, 200, 200]
    got = sim.app.requests("/marketplace/aws-cn/sns")[before:]
    assert len(got) == 3
    envs = [json.loads(r["body"]) for r in got]
    assert got[0]["headers"]["x-amz-sns-message-type"] == "Notification"
    assert got[0]["headers"]["x-amz-sns-message-id"] == envs[0]["MessageId"]
    assert got[0]["headers"]["Content-Type"] == "text/plain; charset=UTF-8"
    message = json.loads(envs[0]["Message"])
    assert message == {"action": "subscribe-success",
                       "customer-identifier": sub["customer_identifier"],
                       "product-code": "prodcn123", "offer-identifier": sub["offer_identifier"]}
    assert sns_verifies(sim, envs[0])
    assert not sns_verifies(sim, envs[1])
    assert sns_verifies(sim, envs[2])
    # confirming the subscription through its SubscribeURL is recorded
    url = urllib.parse.urlsplit(envs[2]["SubscribeURL"])
    ctx = ssl.create_default_context(cafile=os.path.join(sim.state_dir, "ca.pem"))
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx, timeout=10)
    conn.request("GET", url.path + "?" + url.query)
    assert conn.getresponse().status == 200
    assert any(c["topic_arn"] == CN["subscription_topic_arn"]
               for c in sim.get("/_sim/sns")["confirmations"])


def test_sqs_delivery_and_polling(sim):
    """Global partition delivers by SQS: receive, visibility timeout, delete."""
    sub = sim.post("/_sim/aws/aws/subscriptions", {"notify": "now"})["subscription"]
    queue = "http://127.0.0.1:%d/aws/aws/sqs/queue/mpbind-notifications" % sim.http_port
    kwargs = {"service": "sqs", "region": "us-east-1", "akid": GL["access_key_id"],
              "secret": GL["secret_access_key"], "version": "1.0"}
    since = sim.last_seq()
    status, out = signed_call(sim, "/aws/aws/sqs/", "AmazonSQS.ReceiveMessage", {
        "QueueUrl": queue, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1,
        "VisibilityTimeout": 1}, **kwargs)
    assert status == 200 and len(out["Messages"]) == 1
    env = json.loads(out["Messages"][0]["Body"])
    assert json.loads(env["Message"])["customer-identifier"] == sub["customer_identifier"]
    assert sns_verifies(sim, env)
    assert sim.get("/_sim/aws/aws/sqs")["in_flight"] == 1
    time.sleep(1.1)   # visibility timeout passes: the message comes back
    status, again = signed_call(sim, "/aws/aws/sqs/", "AmazonSQS.ReceiveMessage", {
        "QueueUrl": queue, "WaitTimeSeconds": 1}, **kwargs)
    assert again["Messages"][0]["MessageId"] == out["Messages"][0]["MessageId"]
    status, _ = signed_call(sim, "/aws/aws/sqs/", "AmazonSQS.DeleteMessage", {
        "QueueUrl": queue, "ReceiptHandle": again["Messages"][0]["ReceiptHandle"]}, **kwargs)
    assert status == 200
    stats = sim.get("/_sim/aws/aws/sqs")
    assert (stats["deleted"], stats["in_flight"], stats["visible"]) == (1, 0, 0)
    started = time.time()
    status, empty = signed_call(sim, "/aws/aws/sqs/", "AmazonSQS.ReceiveMessage", {
        "QueueUrl": queue, "WaitTimeSeconds": 1}, **kwargs)
    assert status == 200 and empty == {} and time.time() - started >= 0.9
    assert sim.violations(since) == []


# --------------------------------------------------------------------------
# Alibaba: MD5 token, SPI, 免登, ACS3 PushMeteringData.

def test_md5_token_matches_protocol_note_example(sim):
    sys.dont_write_bytecode = True
    sys.path.insert(0, SIM_DIR)
    import aliyun
    expected = hashlib.md5(b"p1=1&p2=2&p3=3&key=isvkey").hexdigest()
    assert aliyun.md5_token({"p3": "3", "p1": "1", "p2": "2", "token": "x"}, "isvkey") == expected
    ours = hashlib.md5(b"p1=1&p2=2&p3=3&key=" + ALI["isv_key"].encode()).hexdigest()
    assert sim.post("/_sim/aliyun/token", {"params": {"p1": "1", "p2": "2", "p3": "3"}}) == \
        {"token": ours}


def spi_token_ok(params):
    given = params.pop("token")
    text = "&".join("%s=%s" % kv for kv in sorted(params.items())) + "&key=" + ALI["isv_key"]
    return hmac.compare_digest(given, hashlib.md5(text.encode()).hexdigest())


def test_spi_create_instance_and_sso_url(sim):
    inst = sim.post("/_sim/aliyun/instances", {"ali_uid": "1041031108983109"})["instance"]
    assert inst["instance_id"] == inst["order_biz_id"] and inst["status"] == "opened"
    calls = [r for r in sim.app.requests("/marketplace/aliyun/spi")
             if inst["order_biz_id"] in r["query"]]
    params = dict(urllib.parse.parse_qsl(calls[0]["query"]))
    assert params["action"] == "createInstance" and params["package_version"]
    assert set(params) >= {"aliUid", "orderBizId", "orderId", "productCode", "skuId", "trial"}
    assert spi_token_ok(params)
    url = sim.post("/_sim/aliyun/sso-url", {"instance": inst["instance_id"]})["url"]
    assert url.startswith("http://app.test/sso?")
    verify = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert verify["action"] == "verify" and verify["instanceId"] == inst["instance_id"]
    stamp = datetime.datetime.strptime(verify["timeStamp"], "%Y-%m-%d %H:%M:%S")
    beijing = datetime.datetime.utcnow() + datetime.timedelta(hours=8)
    assert abs((beijing - stamp).total_seconds()) < 60
    assert spi_token_ok(verify)
    tampered = sim.post("/_sim/aliyun/sso-url", {"instance": inst["instance_id"],
                                                 "tamper": "token"})["url"]
    assert not spi_token_ok(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(tampered).query)))
    out = sim.post("/_sim/aliyun/spi", {"action": "expiredInstance",
                                        "instance": inst["instance_id"]})
    assert out["status"] == 200 and out["json"] == {"success": "true"}
    assert sim.get("/_sim/aliyun/instances/" + inst["instance_id"])["instance"]["status"] == \
        "expired"


def acs3_request(path, query, secret=ALI["access_key_secret"], akid=ALI["access_key_id"],
                 host="127.0.0.1"):
    """Build an ACS3-HMAC-SHA256 request from the protocol note, independently of the sim."""
    enc = lambda s: urllib.parse.quote(s, safe="~")  # noqa: E731
    canonical_query = "&".join("%s=%s" % (enc(k), enc(v)) for k, v in sorted(query.items()))
    body = b""
    headers = {"host": host, "x-acs-action": "PushMeteringData", "x-acs-version": "2015-11-01",
               "x-acs-date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
               "x-acs-signature-nonce": uuid.uuid4().hex,
               "x-acs-content-sha256": hashlib.sha256(body).hexdigest()}
    signed = sorted(headers)
    canonical = "POST\n%s\n%s\n%s\n%s\n%s" % (
        path, canonical_query, "".join("%s:%s\n" % (h, headers[h]) for h in signed),
        ";".join(signed), headers["x-acs-content-sha256"])
    sts = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    sig = hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = "ACS3-HMAC-SHA256 Credential=%s,SignedHeaders=%s,Signature=%s" % (
        akid, ";".join(signed), sig)
    return headers


def push(sim, query, tamper=None):
    path = "/aliyun/market/"
    headers = acs3_request(path, query, host="127.0.0.1:%d" % sim.http_port)
    if tamper:
        query = dict(query, **tamper)
    conn = http.client.HTTPConnection("127.0.0.1", sim.http_port, timeout=10)
    conn.request("POST", path + "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote),
                 body=b"", headers=headers)
    resp = conn.getresponse()
    out = json.loads(resp.read())
    conn.close()
    return resp.status, out


def test_acs3_push_metering_data(sim):
    inst = sim.post("/_sim/aliyun/instances", {})["instance"]
    start = int(time.time()) // 3600 * 3600 - 3600
    metering = json.dumps([{"InstanceId": inst["instance_id"], "StartTime": str(start),
                            "EndTime": str(start + 3600), "Entities": [
                                {"Key": "PeriodMin", "Value": "60",
                                 "meteringAssit": "cmjj00012345-PeriodMin-1"}]}])
    since = sim.last_seq()
    status, out = push(sim, {"Metering": metering}, tamper={"Metering": metering.replace(
        '"60"', '"6000"')})
    assert status == 400 and out["Code"] == "SignatureDoesNotMatch"
    assert [v["code"] for v in sim.violations(since)] == ["aliyun.acs3.mismatch"]
    since = sim.last_seq()
    status, out = push(sim, {"Metering": metering})
    assert (status, out["Success"]) == (200, True)
    assert sim.violations(since) == []
    accepted = [r for r in sim.get("/_sim/aliyun/metering")["accepted"]
                if r["instance_id"] == inst["instance_id"]]
    assert len(accepted) == 1 and accepted[0]["start"] == start
    status, out = push(sim, {"Metering": metering.replace(str(start + 3600), str(start + 3000))})
    assert status == 400 and out["Code"] == "Service.Flow.Control"


# --------------------------------------------------------------------------
# The pages a person walks through in the demo.

def page(sim, method, path, form=None, cookie=""):
    conn = http.client.HTTPConnection("127.0.0.1", sim.http_port, timeout=10)
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    headers = {"Cookie": cookie}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    out = resp.status, resp.getheader("Location"), resp.getheader("Set-Cookie"), \
        resp.read().decode()
    conn.close()
    return out


def wait_for(predicate, timeout=5.0):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_aws_pages_walkthrough(sim):
    sim.post("/_sim/settings", {"aws.subscribe_notify_delay_seconds": 0,
                                "aws.unsubscribe_success_delay_seconds": 0})
    status, _, cookie, _ = page(sim, "POST", "/aws/aws-cn/account", {
        "account": "444455556666", "account_other": "777788889999", "next": "/aws/aws-cn/"})
    cookie = cookie.split(";")[0]
    assert status == 303 and cookie == "simaws-aws-cn=777788889999"
    assert "继续订阅" in page(sim, "GET", "/aws/aws-cn/", cookie=cookie)[3]
    status, location, _, _ = page(sim, "POST", "/aws/aws-cn/subscribe",
                                  {"offer": "free-trial"}, cookie)
    assert status == 303
    html = page(sim, "GET", location, cookie=cookie)[3]
    assert "设置您的账户" in html and "x-amzn-marketplace-offer-type" in html
    assert 'action="%s/marketplace/aws-cn/landing"' % "http://127.0.0.1:%d" % \
        sim.app.server_port in html
    sub_id = location.rsplit("/", 1)[1]

    def status_of():
        subs = sim.get("/_sim/aws/aws-cn/subscriptions")["subscriptions"]
        return next(s["status"] for s in subs if s["id"] == sub_id)

    wait_for(lambda: status_of() == "active")
    assert "管理" in page(sim, "GET", "/aws/aws-cn/subscriptions", cookie=cookie)[3]
    assert "取消订阅" in page(sim, "GET", "/aws/aws-cn/subscription/%s/manage" % sub_id,
                              cookie=cookie)[3]
    assert page(sim, "POST", "/aws/aws-cn/subscription/%s/cancel" % sub_id, {}, cookie)[0] == 303
    wait_for(lambda: status_of() == "unsubscribed")
    envelopes = [json.loads(r["body"]) for r in sim.app.requests("/marketplace/aws-cn/sns")]
    # Background deliveries may arrive in either order; the messages' own
    # Timestamps say in which order they were sent.
    notes = sorted((e["Timestamp"], json.loads(e["Message"])["action"]) for e in envelopes
                   if e["Type"] == "Notification")
    assert [a for _, a in notes][-3:] == ["subscribe-success", "unsubscribe-pending", "unsubscribe-success"]
    sim.post("/_sim/settings", {"aws.subscribe_notify_delay_seconds": 2,
                                "aws.unsubscribe_success_delay_seconds": 30})


def test_aliyun_pages_walkthrough(sim):
    assert "开通按量服务" in page(sim, "GET", "/aliyun/")[3]
    assert page(sim, "POST", "/aliyun/open", {})[0] == 400     # agreement not ticked
    status, location, _, _ = page(sim, "POST", "/aliyun/open", {"agree": "1"},
                                  "simali-uid=1288412345678901")
    assert (status, location) == (303, "/aliyun/opened")
    assert "开通申请已提交，约需要1 - 5分钟完成开通" in page(sim, "GET", location)[3]

    def opened():
        return [i for i in sim.get("/_sim/aliyun/instances")["instances"]
                if i["ali_uid"] == "1288412345678901" and i["status"] == "opened"]

    wait_for(opened)
    key = opened()[0]["order_biz_id"]
    html = page(sim, "GET", "/aliyun/console", cookie="simali-uid=1288412345678901")[3]
    assert "已购买服务列表" in html and "使用指南" in html and "/aliyun/console/sso/" + key in html
    assert "提示" in page(sim, "GET", "/aliyun/console/sso/" + key)[3]
    status, location, _, _ = page(sim, "GET", "/aliyun/console/sso/%s/go" % key)
    assert status == 302 and location.startswith("http://app.test/sso?token=")
    assert spi_token_ok(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query)))


def test_no_unexpected_violations(sim):
    """Everything above that was meant to be clean left only the violations it provoked."""
    codes = {v["code"] for v in sim.violations(0)}
    assert codes <= {"sigv4.mismatch", "sigv4.wrong_region", "sigv4.wrong_service",
                     "metering.duplicate_quantity", "metering.not_hour_aligned",
                     "metering.timestamp_out_of_bounds", "aliyun.acs3.mismatch",
                     "aliyun.metering.flow_control"}, codes
