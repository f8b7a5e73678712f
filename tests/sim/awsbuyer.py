# SPDX-License-Identifier: MIT
"""The AWS Marketplace buyer: the 亚马逊云科技 Marketplace pages (product,
继续订阅, 设置您的账户, 管理订阅, 取消订阅), the subscribe/cancel flows with
their delayed SNS notifications, and the control endpoints that drive the
same flows (subscriptions, tokens, landing POST).
"""

import re
import urllib.parse

import awsmp
import pages
import sns
from core import Entry, HttpError, Response, body_for_log, json_body, utc_iso

LIVE = ("pending", "active", "unsubscribe_pending")
TOKEN_FOR_STYLE = {"default": "valid", "new_style": "new_style", "legacy": "legacy"}
ORIGINS = {"aws-cn": "https://awsmarketplace.amazonaws.cn", "aws": "https://aws.amazon.com"}


def product_name(sim):
    return sim.config.get("product_name", "演示云服务")


def seller_name(sim):
    return sim.config.get("seller_name", "演示服务商")


# --------------------------------------------------------------------------
# Flows.

def notify(sim, part, sub_id, action, generation):
    """Send one lifecycle notification for a subscription unless it was superseded.

    Subscriptions without a CustomerIdentifier (new_style) get no SNS message
    (AWS would use EventBridge); their state changes all the same.
    """
    with sim.lock:
        sub = part.subs.get(sub_id)
        if sub is None or sub["_generation"] != generation:
            return None
        if not sub["customer_identifier"]:
            sub["status"] = sns.STATE_BY_ACTION[action]
            sub["notifications"].append({"action": action, "message_id": None})
            entry = Entry("aws.%s.sns" % part.name, "out")
            entry.set(summary="%s for %s not sent: new-style subscription (EventBridge)" % (
                action, sub_id))
            entry.note("sns.new_style", "no customer-identifier, so no SNS message")
            sim.log.add(entry)
            return None
    return sns.publish(sim, part.name, {"subscription_id": sub_id, "action": action})


def subscribe(sim, part, account_id, trial=False, style="default", outcome="success",
              notify_mode="delayed", reuse=True):
    """Subscribe account_id; returns (subscription, delivery or None).

    notify_mode: "delayed" (background, after aws.subscribe_notify_delay_seconds),
    "now" (sent before returning), "none" (stays pending, nothing sent) or
    "skip" (becomes active as if the notification had been sent and lost).

    With reuse, an account's live subscription is returned as is, and one in
    unsubscribe_pending is revived (its unsubscribe-success is cancelled and a
    new subscribe-success is sent, as AWS does).
    """
    if outcome not in ("success", "fail"):
        raise HttpError(400, "outcome must be success or fail")
    if notify_mode not in ("none", "skip", "now", "delayed"):
        raise HttpError(400, "notify must be none, skip, now or delayed")
    with sim.lock:
        live = [s for s in part.subs.values() if s["account_id"] == account_id and
                s["product_code"] == part.product_code and s["status"] in LIVE] if reuse else []
        if live and live[-1]["status"] != "unsubscribe_pending":
            return live[-1], None
        if live:
            sub = live[-1]
            sub["status"] = "pending"
            sub.pop("cancel_requested", None)
        else:
            sub = awsmp.new_subscription(sim, part, account_id, style, trial)
        sub["_generation"] += 1
        generation = sub["_generation"]
        delay = sim.settings.get("aws.subscribe_notify_delay_seconds")
    action = "subscribe-success" if outcome == "success" else "subscribe-fail"
    delivery = None
    if notify_mode == "skip":
        with sim.lock:
            sub["status"] = sns.STATE_BY_ACTION[action]
    elif notify_mode == "now":
        delivery = notify(sim, part, sub["id"], action, generation)
    elif notify_mode == "delayed":
        sim.later(delay, notify, sim, part, sub["id"], action, generation)
    return sub, delivery


def cancel(sim, part, sub_id, pending_delay=None, success_delay=None, wait=False):
    """Cancel a subscription: unsubscribe-pending, then unsubscribe-success.

    With wait, both notifications are sent before returning (delays honoured)
    and their deliveries returned; otherwise they run in the background.
    """
    with sim.lock:
        sub = awsmp.find_subscription(part, sub_id)
        if sub["status"] not in ("pending", "active") or sub.get("cancel_requested"):
            raise HttpError(409, "subscription %s is %s" % (sub_id, sub["status"]))
        sub["cancel_requested"] = utc_iso()
        sub["_generation"] += 1
        generation = sub["_generation"]
        if pending_delay is None:
            pending_delay = sim.settings.get("aws.unsubscribe_pending_delay_seconds")
        if success_delay is None:
            success_delay = sim.settings.get("aws.unsubscribe_success_delay_seconds")

    def run():
        out = []
        if sim.stopping.wait(pending_delay):
            return out
        out.append(notify(sim, part, sub_id, "unsubscribe-pending", generation))
        if sim.stopping.wait(success_delay):
            return out
        out.append(notify(sim, part, sub_id, "unsubscribe-success", generation))
        return out

    if wait:
        return run()
    sim.later(0, run)
    return []


def landing_form(token, trial, extra=None):
    fields = [("x-amzn-marketplace-token", token)]
    if trial:
        fields.append(("x-amzn-marketplace-offer-type", "free-trial"))
    fields += list((extra or {}).items())
    return urllib.parse.urlencode(fields)


# --------------------------------------------------------------------------
# Pages.

def _buyer(sim, req, part):
    account = req.cookies.get("simaws-" + part.name)
    if account and re.fullmatch(r"[0-9]{12}", account):
        return account
    return part.buyers[0]


def _page_args(sim, req, part):
    account = _buyer(sim, req, part)
    buyers = list(part.buyers)
    if account not in buyers:
        buyers.append(account)
    return account, buyers


def _live_sub(part, account):
    found = [s for s in part.subs.values() if s["account_id"] == account and
             s["product_code"] == part.product_code and s["status"] in ("pending", "active")]
    return found[-1] if found else None


def page_product(sim, req, partition):
    part = awsmp.partition_or_404(sim, partition)
    account, buyers = _page_args(sim, req, part)
    with sim.lock:
        sub = _live_sub(part, account)
        sub = dict(sub) if sub else None
    flash = dict(req.query).get("msg")
    return Response.html(pages.aws_product(partition, account, buyers, product_name(sim),
                                           seller_name(sim), sub, flash))


def page_set_account(sim, req, partition):
    part = awsmp.partition_or_404(sim, partition)
    form = req.form()
    account = (form.get("account_other") or "").strip() or form.get("account", "")
    nxt = form.get("next", "")
    if not nxt.startswith("/aws/%s/" % partition):
        nxt = "/aws/%s/" % partition
    if not re.fullmatch(r"[0-9]{12}", account):
        return Response.redirect("/aws/%s/?msg=%s" % (partition, urllib.parse.quote(
            "账号 ID 必须是 12 位数字")))
    cookie = "simaws-%s=%s; Path=/aws/%s/; SameSite=Lax" % (part.name, account, part.name)
    return Response.redirect(nxt, headers=[("Set-Cookie", cookie)])


def page_subscribe(sim, req, partition):
    part = awsmp.partition_or_404(sim, partition)
    account, buyers = _page_args(sim, req, part)
    if req.method == "GET":
        with sim.lock:
            sub = _live_sub(part, account)
        return Response.html(pages.aws_subscribe(partition, account, buyers, product_name(sim),
                                                 sub))
    form = req.form()
    style = form.get("style", "default")
    sub, _ = subscribe(sim, part, account, form.get("offer") == "free-trial",
                       style if style in TOKEN_FOR_STYLE else "default",
                       form.get("outcome", "success"))
    return Response.redirect("/aws/%s/subscription/%s" % (partition, sub["id"]))


def page_subscription(sim, req, partition, sub_id):
    part = awsmp.partition_or_404(sim, partition)
    account, buyers = _page_args(sim, req, part)
    with sim.lock:
        sub = dict(awsmp.find_subscription(part, sub_id))
        token = awsmp.new_token(sim, part, TOKEN_FOR_STYLE[sub["style"]], sub_id=sub_id)["token"]
    landing = "%s/marketplace/%s/landing" % (sim.app_url, partition)
    return Response.html(pages.aws_subscription(partition, account, buyers, product_name(sim),
                                                sub, token, landing))


def page_subscriptions(sim, req, partition):
    part = awsmp.partition_or_404(sim, partition)
    account, buyers = _page_args(sim, req, part)
    with sim.lock:
        subs = [dict(s) for s in part.subs.values() if s["account_id"] == account and
                s["product_code"] == part.product_code and s["status"] != "unsubscribed"]
    flash = dict(req.query).get("msg")
    return Response.html(pages.aws_subscriptions(partition, account, buyers, product_name(sim),
                                                 subs, flash))


def page_manage(sim, req, partition, sub_id):
    part = awsmp.partition_or_404(sim, partition)
    account, buyers = _page_args(sim, req, part)
    with sim.lock:
        sub = dict(awsmp.find_subscription(part, sub_id))
    return Response.html(pages.aws_manage(partition, account, buyers, product_name(sim), sub))


def page_cancel(sim, req, partition, sub_id):
    part = awsmp.partition_or_404(sim, partition)
    account, buyers = _page_args(sim, req, part)
    if req.method == "GET":
        with sim.lock:
            sub = dict(awsmp.find_subscription(part, sub_id))
        return Response.html(pages.aws_cancel(partition, account, buyers, product_name(sim), sub))
    try:
        cancel(sim, part, sub_id)
        msg = "已取消订阅。取消生效前，卖家仍可为最后的用量计费。"
    except HttpError:
        msg = "该订阅已在取消中或已取消，无法再次取消。"
    return Response.redirect("/aws/%s/subscriptions?msg=%s" % (partition,
                                                                urllib.parse.quote(msg)))


# --------------------------------------------------------------------------
# Control endpoints.

def _bool(body, name, default=False):
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise HttpError(400, "%s must be true or false" % name)
    return value


def _number(body, name, default=None):
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise HttpError(400, "%s must be a number >= 0" % name)
    return float(value)


def ctl_subscribe(sim, req, partition):
    part = awsmp.partition_or_404(sim, partition)
    body = json_body(req)
    sub, delivery = subscribe(sim, part, body.get("account_id", part.buyers[0]),
                              _bool(body, "trial"), body.get("style", "default"),
                              body.get("outcome", "success"), body.get("notify", "now"),
                              _bool(body, "reuse"))
    with sim.lock:
        token = awsmp.new_token(sim, part, body.get("token_behaviour",
                                                    TOKEN_FOR_STYLE[sub["style"]]),
                                sub_id=sub["id"])
        out = awsmp.public_subscription(sub)
    return Response.json({"subscription": out, "token": token["token"], "delivery": delivery})


def ctl_subscriptions(sim, req, partition):
    part = awsmp.partition_or_404(sim, partition)
    with sim.lock:
        return Response.json({"subscriptions": [awsmp.public_subscription(s)
                                                for s in part.subs.values()]})


def ctl_cancel(sim, req, partition, sub_id):
    part = awsmp.partition_or_404(sim, partition)
    body = json_body(req)
    deliveries = cancel(sim, part, sub_id, _number(body, "pending_delay_seconds"),
                        _number(body, "success_delay_seconds"), _bool(body, "wait", True))
    with sim.lock:
        out = awsmp.public_subscription(part.subs[sub_id])
    return Response.json({"subscription": out, "deliveries": deliveries})


def ctl_token(sim, req, partition):
    part = awsmp.partition_or_404(sim, partition)
    body = json_body(req)
    with sim.lock:
        record = awsmp.new_token(sim, part, body.get("behaviour", "valid"),
                                 body.get("subscription_id"), body.get("account_id"),
                                 body.get("token"), _bool(body, "trial"))
        sub = part.subs.get(record["subscription_id"])
        out = {"token": record["token"], "behaviour": record["behaviour"],
               "subscription": awsmp.public_subscription(sub) if sub else None}
    return Response.json(out)


def ctl_tokens(sim, req, partition):
    part = awsmp.partition_or_404(sim, partition)
    with sim.lock:
        return Response.json({"tokens": [
            {k: t[k] for k in ("token", "behaviour", "subscription_id", "created", "resolves")}
            for t in part.tokens.values()]})


def ctl_landing(sim, req, partition):
    """Do the browser's 设置您的账户 POST server-side and return mpbind's answer verbatim."""
    part = awsmp.partition_or_404(sim, partition)
    body = json_body(req)
    token = body.get("token")
    trial = _bool(body, "trial")
    if token is None:
        with sim.lock:
            sub_id = body.get("subscription_id")
            record = awsmp.new_token(sim, part, body.get("behaviour", "valid"), sub_id,
                                     body.get("account_id"), trial=trial)
            token = record["token"]
            if record["subscription_id"]:
                trial = trial or part.subs[record["subscription_id"]]["trial"]
    extra = body.get("fields") or {}
    if not isinstance(extra, dict):
        raise HttpError(400, "fields must be an object")
    content = body.get("raw_body")
    if content is None:
        content = landing_form(token, trial, extra)
    headers = {"Content-Type": body.get("content_type", "application/x-www-form-urlencoded"),
               "Origin": ORIGINS.get(partition, ORIGINS["aws"]),
               "Referer": ORIGINS.get(partition, ORIGINS["aws"]) + "/"}
    if body.get("cookie"):
        headers["Cookie"] = body["cookie"]
    url = "%s/marketplace/%s/landing" % (sim.app_url, partition)
    answer = sim.call_app("POST", url, headers, content.encode("utf-8"))
    entry = Entry("aws.%s.landing" % partition, "out")
    entry.set(request={"url": url, "body": content}, status=answer["status"],
              response=body_for_log(answer["body"]),
              summary="landing POST -> %s" % (answer["error"] or answer["status"]))
    sim.log.add(entry)
    return Response.json(dict(answer, token=token))


def init(sim):
    pass


def routes():
    p = r"(aws-cn|aws)"
    s = r"(sub-[0-9]+)"
    return [
        ("GET", r"/aws/%s/?" % p, page_product),
        ("POST", r"/aws/%s/account" % p, page_set_account),
        ("GET", r"/aws/%s/subscribe" % p, page_subscribe),
        ("POST", r"/aws/%s/subscribe" % p, page_subscribe),
        ("GET", r"/aws/%s/subscription/%s" % (p, s), page_subscription),
        ("GET", r"/aws/%s/subscriptions" % p, page_subscriptions),
        ("GET", r"/aws/%s/subscription/%s/manage" % (p, s), page_manage),
        ("GET", r"/aws/%s/subscription/%s/cancel" % (p, s), page_cancel),
        ("POST", r"/aws/%s/subscription/%s/cancel" % (p, s), page_cancel),
        ("POST", r"/_sim/aws/%s/subscriptions" % p, ctl_subscribe),
        ("GET", r"/_sim/aws/%s/subscriptions" % p, ctl_subscriptions),
        ("POST", r"/_sim/aws/%s/subscriptions/%s/cancel" % (p, s), ctl_cancel),
        ("POST", r"/_sim/aws/%s/tokens" % p, ctl_token),
        ("GET", r"/_sim/aws/%s/tokens" % p, ctl_tokens),
        ("POST", r"/_sim/aws/%s/landing" % p, ctl_landing),
    ]
