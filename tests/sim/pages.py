# SPDX-License-Identifier: MIT
"""HTML of the simulator's marketplace pages (no external assets, no script).

Every function returns a full page as a string; callers pass plain data and
all of it is escaped here. UI words follow the seeds in /work/shared/seeds.
"""

from html import escape

STYLE = """
body{margin:0;font:14px/1.5 -apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;
 background:#f2f3f3;color:#16191f}
header{padding:10px 24px;color:#fff;display:flex;gap:24px;align-items:center}
header a{color:#fff;text-decoration:none}
header .brand{font-weight:bold;font-size:16px}
header .spacer{flex:1}
header form{margin:0}
main{max-width:980px;margin:24px auto;padding:0 16px}
.card{background:#fff;border:1px solid #d5dbdb;border-radius:4px;padding:20px;margin-bottom:16px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:0 0 8px}
.btn{display:inline-block;padding:6px 18px;border-radius:3px;border:1px solid #545b64;
 background:#fff;color:#16191f;text-decoration:none;cursor:pointer;font-size:14px}
.btn.primary{background:#ec7211;border-color:#ec7211;color:#fff}
.btn.ali{background:#ff6a00;border-color:#ff6a00;color:#fff}
.btn.disabled{opacity:.45;pointer-events:none}
.banner{background:#0073bb;color:#fff;padding:14px 20px;border-radius:4px;margin-bottom:16px;
 display:flex;align-items:center;gap:16px}
.banner .btn{background:#fff;color:#0073bb;border-color:#fff;font-weight:bold}
.flash{background:#f1faff;border:1px solid #0073bb;padding:10px 16px;margin-bottom:16px}
.error{background:#fdf3f1;border:1px solid #d13212;padding:10px 16px;margin-bottom:16px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:8px;
 border-bottom:1px solid #eaeded}th{background:#fafafa}
.muted{color:#687078;font-size:12px}
.tag{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;background:#eaeded}
.tag.ok{background:#e9f7ec;color:#1d8102}.tag.wait{background:#fff6e5;color:#8a5a00}
.tag.bad{background:#fdf3f1;color:#d13212}
details.menu{display:inline-block;position:relative}
details.menu summary{list-style:none;cursor:pointer}
details.menu div{position:absolute;right:0;background:#fff;border:1px solid #d5dbdb;
 padding:6px 0;min-width:120px;z-index:2}
details.menu div a{display:block;padding:4px 14px;color:#16191f;text-decoration:none}
.modal{display:none;position:fixed;inset:0;background:rgba(0,0,0,.45)}
.modal:target,.modal.show{display:block}
.modal .box{background:#fff;width:460px;margin:12vh auto;padding:22px;border-radius:4px}
.modal .actions{text-align:right;margin-top:18px;display:flex;gap:8px;justify-content:flex-end}
label.inline{display:flex;gap:8px;align-items:center}
input[type=text]{padding:4px 6px;border:1px solid #aab7b8;border-radius:2px}
"""


def e(value):
    return escape("" if value is None else str(value), quote=True)


def layout(title, header, body, head_extra=""):
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<title>%s</title><style>%s</style>%s</head><body>%s<main>%s</main></body></html>"
            % (e(title), STYLE, head_extra, header, body))


def _account_form(action, current, choices, label, field, next_url):
    options = "".join("<option value=\"%s\"%s>%s</option>" % (
        e(c), " selected" if c == current else "", e(c)) for c in choices)
    return ("<form method=\"post\" action=\"%s\"><input type=\"hidden\" name=\"next\" value=\"%s\">"
            "%s <select name=\"%s\">%s</select> 或 <input type=\"text\" name=\"%s_other\" "
            "size=\"18\" placeholder=\"输入其他 ID\"> <button class=\"btn\">切换</button></form>"
            % (e(action), e(next_url), e(label), e(field), options, e(field)))


def _notice(flash=None, error=None):
    out = ""
    if flash:
        out += "<div class=\"flash\">%s</div>" % e(flash)
    if error:
        out += "<div class=\"error\">%s</div>" % e(error)
    return out


# --------------------------------------------------------------------------
# Home and log.

def home(partitions, product_name):
    aws = "".join("<li><a href=\"/aws/%s/\">亚马逊云科技 Marketplace（%s）</a></li>"
                  % (e(p), e(p)) for p in partitions)
    body = ("<div class=\"card\"><h1>云市场模拟器</h1><p>为 mpbind 的演示与测试扮演两个云市场。"
            "商品：%s</p><ul>%s<li><a href=\"/aliyun/\">阿里云 云市场</a></li></ul>"
            "<p class=\"muted\">测试控制接口在 <code>/_sim/</code> 下，见 tests/sim/README.md；"
            "<a href=\"/_sim/ui/log\">查看模拟器日志</a></p></div>" % (e(product_name), aws))
    header = ("<header style=\"background:#232f3e\"><span class=\"brand\">mpbind 云市场模拟器"
              "</span></header>")
    return layout("云市场模拟器", header, body)


def log_page(entries):
    rows = "".join(
        "<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
            en["seq"], e(en["time"][11:19]), e(en["channel"]), e(en["direction"]),
            e(en.get("summary")),
            "".join("<div class=\"tag bad\">%s</div> %s" % (e(v["code"]), e(v["message"]))
                    for v in en["violations"]))
        for en in reversed(entries))
    body = ("<div class=\"card\"><h1>模拟器日志</h1><p class=\"muted\">最近 %d 条；JSON 见 "
            "<a href=\"/_sim/log\">/_sim/log</a></p><table><tr><th>#</th><th>时间</th><th>通道"
            "</th><th>方向</th><th>摘要</th><th>违规</th></tr>%s</table></div>" % (len(entries),
                                                                                rows))
    header = ("<header style=\"background:#232f3e\"><a class=\"brand\" href=\"/\">"
              "mpbind 云市场模拟器</a></header>")
    return layout("模拟器日志", header, body, "<meta http-equiv=\"refresh\" content=\"5\">")


# --------------------------------------------------------------------------
# AWS Marketplace (亚马逊云科技 Marketplace).

def _aws_header(p, account, buyers, next_url):
    region = "中国区域" if p == "aws-cn" else "全球区域"
    return ("<header style=\"background:#232f3e\"><a class=\"brand\" href=\"/aws/%s/\">"
            "亚马逊云科技 Marketplace</a><span class=\"muted\" style=\"color:#d5dbdb\">%s（%s）"
            "</span><span class=\"spacer\"></span><a href=\"/aws/%s/subscriptions\">管理订阅</a>%s"
            "</header>" % (e(p), region, e(p), e(p),
                           _account_form("/aws/%s/account" % p, account, buyers,
                                         "账号 ID", "account", next_url)))


def aws_product(p, account, buyers, product_name, seller, active_sub, flash=None):
    status = ""
    if active_sub:
        status = ("<p>账号 %s 已订阅此产品。<a href=\"/aws/%s/subscription/%s\">查看订阅</a></p>"
                  % (e(account), e(p), e(active_sub["id"])))
    body = ("%s<div class=\"card\"><h1>%s</h1><p class=\"muted\">销售商：%s · SaaS · 按用量付费</p>"
            "<p>全托管的云服务。订阅后，您可以通过亚马逊云科技 Marketplace 支付用量；"
            "多云实例也可统一支付。</p>%s<p><a class=\"btn primary\" href=\"/aws/%s/subscribe\">"
            "继续订阅</a></p></div><div class=\"card\"><h2>定价</h2><table><tr><th>维度</th>"
            "<th>描述</th></tr><tr><td>按小时计量</td><td>按实际用量每小时计费</td></tr></table>"
            "</div>" % (_notice(flash), e(product_name), e(seller), status, e(p)))
    return layout(product_name, _aws_header(p, account, buyers, "/aws/%s/" % p), body)


def aws_subscribe(p, account, buyers, product_name, active_sub):
    if active_sub:
        inner = ("<p>账号 %s 已有有效订阅。</p><p><a class=\"btn primary\" "
                 "href=\"/aws/%s/subscription/%s\">查看订阅</a></p>"
                 % (e(account), e(p), e(active_sub["id"])))
    else:
        inner = (
            "<form method=\"post\" action=\"/aws/%s/subscribe\"><p>使用账号 <b>%s</b> 订阅。</p>"
            "<h2>选择优惠</h2><label class=\"inline\"><input type=\"radio\" name=\"offer\" "
            "value=\"standard\" checked> 公开优惠（按用量付费）</label><label class=\"inline\">"
            "<input type=\"radio\" name=\"offer\" value=\"free-trial\"> 免费试用</label>"
            "<details style=\"margin:12px 0\"><summary class=\"muted\">模拟器选项</summary>"
            "<p><label>集成方式 <select name=\"style\"><option value=\"default\">默认（返回 "
            "CustomerIdentifier、账号 ID 与 LicenseArn）</option><option value=\"new_style\">"
            "新式（仅账号 ID 与 LicenseArn，无 SNS 通知）</option><option value=\"legacy\">"
            "旧式（仅 CustomerIdentifier）</option></select></label></p><p><label>订阅结果 "
            "<select name=\"outcome\"><option value=\"success\">subscribe-success</option>"
            "<option value=\"fail\">subscribe-fail（付款失败）</option></select></label></p>"
            "</details><button class=\"btn primary\">订阅</button></form>" % (e(p), e(account)))
    body = "<div class=\"card\"><h1>订阅 %s</h1>%s</div>" % (e(product_name), inner)
    return layout("订阅 " + product_name, _aws_header(p, account, buyers, "/aws/%s/subscribe" % p),
                  body)


def _sub_status(sub):
    names = {"pending": ("处理中", "wait"), "active": ("已订阅", "ok"),
             "failed": ("订阅失败", "bad"), "unsubscribe_pending": ("取消中", "wait"),
             "unsubscribed": ("已取消", "bad")}
    text, cls = names.get(sub["status"], (sub["status"], ""))
    return "<span class=\"tag %s\">%s</span>" % (cls, e(text))


def aws_subscription(p, account, buyers, product_name, sub, token, landing_url, flash=None):
    trial = ("<input type=\"hidden\" name=\"x-amzn-marketplace-offer-type\" value=\"free-trial\">"
             if sub["trial"] else "")
    banner = ""
    if sub["status"] in ("pending", "active"):
        banner = ("<div class=\"banner\"><div style=\"flex:1\">感谢您订阅 %s。请设置您在卖家网站上的"
                  "账户以完成订阅。</div><form method=\"post\" action=\"%s\" "
                  "enctype=\"application/x-www-form-urlencoded\"><input type=\"hidden\" "
                  "name=\"x-amzn-marketplace-token\" value=\"%s\">%s<button class=\"btn\">"
                  "设置您的账户</button></form></div>" % (e(product_name), e(landing_url), e(token),
                                                     trial))
    body = ("%s%s<div class=\"card\"><h1>%s</h1><table><tr><th>状态</th><td>%s</td></tr>"
            "<tr><th>账号 ID</th><td>%s</td></tr><tr><th>优惠</th><td>%s</td></tr>"
            "<tr><th>许可证</th><td class=\"muted\">%s</td></tr><tr><th>订阅 ID</th><td>%s</td>"
            "</tr></table><p><a href=\"/aws/%s/subscriptions\">管理订阅</a></p></div>"
            % (_notice(flash), banner, e(product_name), _sub_status(sub), e(sub["account_id"]),
               "免费试用" if sub["trial"] else "公开优惠", e(sub["license_arn"]), e(sub["id"]), e(p)))
    return layout(product_name, _aws_header(p, account, buyers,
                                            "/aws/%s/subscription/%s" % (p, sub["id"])), body)


def aws_subscriptions(p, account, buyers, product_name, subs, flash=None):
    rows = "".join(
        "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td><a class=\"btn\" "
        "href=\"/aws/%s/subscription/%s/manage\">管理</a></td></tr>"
        % (e(product_name), e(s["id"]), _sub_status(s), e(s["created"][:19].replace("T", " ")),
           e(p), e(s["id"])) for s in subs)
    if not rows:
        rows = "<tr><td colspan=\"5\" class=\"muted\">没有订阅。</td></tr>"
    body = ("%s<div class=\"card\"><h1>管理订阅</h1><p class=\"muted\">账号 %s</p><table><tr>"
            "<th>产品</th><th>订阅 ID</th><th>状态</th><th>订阅时间</th><th>操作</th></tr>%s"
            "</table><p><a href=\"/aws/%s/\">浏览产品</a></p></div>"
            % (_notice(flash), e(account), rows, e(p)))
    return layout("管理订阅", _aws_header(p, account, buyers, "/aws/%s/subscriptions" % p), body)


def aws_manage(p, account, buyers, product_name, sub):
    menu = ""
    if sub["status"] in ("pending", "active"):
        menu = ("<details class=\"menu\"><summary class=\"btn\">操作 ▾</summary><div>"
                "<a href=\"/aws/%s/subscription/%s\">设置您的账户</a>"
                "<a href=\"/aws/%s/subscription/%s/cancel\">取消订阅</a></div></details>"
                % (e(p), e(sub["id"]), e(p), e(sub["id"])))
    body = ("<div class=\"card\"><div style=\"display:flex\"><h1 style=\"flex:1\">%s</h1>%s</div>"
            "<table><tr><th>状态</th><td>%s</td></tr><tr><th>账号 ID</th><td>%s</td></tr>"
            "<tr><th>订阅 ID</th><td>%s</td></tr><tr><th>许可证</th><td class=\"muted\">%s</td>"
            "</tr></table></div>" % (e(product_name), menu, _sub_status(sub),
                                     e(sub["account_id"]), e(sub["id"]), e(sub["license_arn"])))
    return layout(product_name, _aws_header(p, account, buyers,
                                            "/aws/%s/subscriptions" % p), body)


def aws_cancel(p, account, buyers, product_name, sub):
    body = ("<div class=\"modal show\"><div class=\"box\"><h2>取消订阅</h2><p>确定要取消 %s 的订阅吗？"
            "取消后将无法继续使用该产品，卖家最多还会为最后一小时的用量计费。</p>"
            "<form method=\"post\" action=\"/aws/%s/subscription/%s/cancel\">"
            "<div class=\"actions\">"
            "<a class=\"btn\" href=\"/aws/%s/subscription/%s/manage\">返回</a>"
            "<button class=\"btn primary\">确认取消订阅</button></div></form></div></div>"
            % (e(product_name), e(p), e(sub["id"]), e(p), e(sub["id"])))
    return layout("取消订阅", _aws_header(p, account, buyers, "/aws/%s/subscriptions" % p), body)


# --------------------------------------------------------------------------
# Alibaba Cloud Marketplace (阿里云 云市场).

def _ali_header(uid, buyers, next_url):
    return ("<header style=\"background:#ff6a00\"><a class=\"brand\" href=\"/aliyun/\">阿里云 "
            "云市场</a><span class=\"spacer\"></span><a href=\"/aliyun/console\">已购买的服务</a>%s"
            "</header>" % _account_form("/aliyun/account", uid, buyers, "阿里云账号 UID", "uid",
                                        next_url))


def ali_product(uid, buyers, product_name, seller, error=None):
    modal_class = "modal show" if error else "modal"
    body = (
        "<div class=\"card\"><h1>%s</h1><p class=\"muted\">服务商：%s · SaaS · 按量付费</p>"
        "<p>全托管的云服务，按实际用量计费，费用从您的阿里云账户扣除。</p>"
        "<p><a class=\"btn ali\" href=\"#open\">立即开通</a></p></div>"
        "<div class=\"card\"><h2>计费方式</h2><table><tr><th>规格</th><th>计费</th></tr>"
        "<tr><td>按量服务</td><td>按小时用量计费</td></tr></table></div>"
        "<div id=\"open\" class=\"%s\"><div class=\"box\"><h2>开通按量服务</h2>%s"
        "<form method=\"post\" action=\"/aliyun/open\"><p>%s（按量付费），开通后按实际用量计费。</p>"
        "<label class=\"inline\"><input type=\"checkbox\" name=\"agree\" value=\"1\" required> "
        "同意商品在线协议及云市场平台服务协议</label>"
        "<details style=\"margin-top:10px\"><summary class=\"muted\">模拟器选项</summary>"
        "<label class=\"inline\"><input type=\"checkbox\" name=\"trial\" value=\"1\"> 试用"
        "（trial=true）</label></details>"
        "<div class=\"actions\"><a class=\"btn\" href=\"#\">取消</a>"
        "<button class=\"btn ali\">开通</button></div></form></div></div>"
        % (e(product_name), e(seller), modal_class, _notice(error=error), e(product_name)))
    return layout(product_name + " - 阿里云云市场", _ali_header(uid, buyers, "/aliyun/"), body)


def ali_submitted(uid, buyers):
    body = ("<div class=\"modal show\"><div class=\"box\"><h2>提示</h2>"
            "<p>开通申请已提交，约需要1 - 5分钟完成开通</p><div class=\"actions\">"
            "<a class=\"btn ali\" href=\"/aliyun/console\">确定</a></div></div></div>")
    return layout("开通申请已提交", _ali_header(uid, buyers, "/aliyun/console"), body)


def _ali_status(inst):
    names = {"opening": ("开通中", "wait"), "opened": ("已开通", "ok"),
             "expired": ("已过期", "bad"), "released": ("已释放", "bad"),
             "failed": ("开通失败", "bad")}
    text, cls = names.get(inst["status"], (inst["status"], ""))
    return "<span class=\"tag %s\">%s</span>" % (cls, e(text))


def ali_console(uid, buyers, product_name, instances, flash=None):
    rows = []
    for inst in instances:
        key = inst["order_biz_id"]
        sso = ("<a class=\"btn\" href=\"/aliyun/console/sso/%s\">免登</a>" % e(key)
               if inst["status"] in ("opened", "expired") and inst.get("auth_url")
               else "<span class=\"btn disabled\">免登</span>")
        sim_ops = "".join(
            "<button class=\"btn\" name=\"action\" value=\"%s\">%s</button>" % (a, t)
            for a, t in (("renewInstance", "续费"), ("expiredInstance", "过期"),
                         ("upgradeInstance", "升级"), ("releaseInstance", "释放")))
        rows.append(
            "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>"
            "<a class=\"btn\" href=\"/aliyun/console/guide/%s\">使用指南</a> %s"
            "<details class=\"menu\"><summary class=\"muted\"> 模拟器 ▾</summary><div>"
            "<form method=\"post\" action=\"/aliyun/console/action/%s\">%s</form></div></details>"
            "</td></tr>" % (e(inst.get("instance_id") or "-"), e(product_name), e(inst["sku_id"]),
                            _ali_status(inst), e(inst["created"][:19].replace("T", " ")), e(key),
                            sso, e(key), sim_ops))
    if not rows:
        rows = ["<tr><td colspan=\"6\" class=\"muted\">暂无已购买的服务。</td></tr>"]
    refresh = ""
    if any(i["status"] == "opening" for i in instances):
        refresh = "<meta http-equiv=\"refresh\" content=\"3\">"
    body = ("%s<div class=\"card\"><h1>已购买服务列表</h1><p class=\"muted\">阿里云账号 %s</p>"
            "<table><tr><th>实例 ID</th><th>商品名称</th><th>规格</th><th>状态</th><th>创建时间"
            "</th><th>操作</th></tr>%s</table></div>" % (_notice(flash), e(uid), "".join(rows)))
    return layout("已购买服务列表", _ali_header(uid, buyers, "/aliyun/console"), body, refresh)


def ali_sso_prompt(uid, buyers, product_name, inst):
    body = ("<div class=\"modal show\"><div class=\"box\"><h2>提示</h2><p>您即将离开阿里云，"
            "免登录前往服务商 %s 的页面。</p><div class=\"actions\"><a class=\"btn\" "
            "href=\"/aliyun/console\">取消</a><a class=\"btn ali\" "
            "href=\"/aliyun/console/sso/%s/go\">"
            "确定</a></div></div></div>" % (e(product_name), e(inst["order_biz_id"])))
    return layout("提示", _ali_header(uid, buyers, "/aliyun/console"), body)


def ali_guide(uid, buyers, product_name, inst):
    app = inst.get("app_info") or {}
    rows = "".join("<tr><th>%s</th><td>%s</td></tr>" % (e(k), e(v)) for k, v in app.items())
    body = ("<div class=\"card\"><h1>使用指南 · %s</h1><p>实例 %s，订单 %s。</p><h2>应用信息</h2>"
            "<table>%s</table><p><a href=\"/aliyun/console\">返回已购买服务列表</a></p></div>"
            % (e(product_name), e(inst.get("instance_id")), e(inst["order_id"]),
               rows or "<tr><td class=\"muted\">服务商尚未返回应用信息。</td></tr>"))
    return layout("使用指南", _ali_header(uid, buyers, "/aliyun/console"), body)
