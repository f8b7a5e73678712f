/* SPDX-License-Identifier: MIT */
/*
 * error.h: the one list of errors mpbind can answer with (after curl's
 * CURLcode). Each entry gives a name, the HTTP status, the stable code sent
 * to clients, and the message in English and Chinese. The enum, the status
 * mapping and the strings are all generated from ERROR_LIST, so they cannot
 * drift. 0 is success; every error is negative. Each error has a code of its
 * own, so a client can tell any two apart.
 */
#ifndef MPBIND_ERROR_H
#define MPBIND_ERROR_H

enum lang { LANG_ZH = 0, LANG_EN = 1 };

/*        name               status  code                    English / 中文 */
#define ERROR_LIST(X) \
	X(BAD_REQUEST,        400, "bad_request",         "The request is malformed.", "请求格式不正确。") \
	X(BAD_JSON,           400, "invalid_json",        "The body is not valid JSON.", "请求体不是合法的 JSON。") \
	X(BAD_FORM,           400, "invalid_form",        "The form data is malformed.", "表单数据格式不正确。") \
	X(FIELD,              400, "invalid_field",       "A field is missing or invalid.", "字段缺失或无效。") \
	X(TOO_MANY_FIELDS,    400, "too_many_fields",     "Too many fields.", "字段过多。") \
	X(BODY_TOO_LARGE,     413, "body_too_large",      "The request body is too large.", "请求体过大。") \
	X(MEDIA_TYPE,         415, "unsupported_media_type", "Unsupported content type.", "不支持的内容类型。") \
	X(UNAUTHORIZED,       401, "unauthorized",        "Please sign in first.", "请先登录。") \
	X(FORBIDDEN,          403, "forbidden",           "You do not have permission to do this.", "权限不足。") \
	X(CSRF,               403, "csrf_failed",         "The security token is missing or wrong; reload the page.", "安全令牌缺失或无效，请刷新页面。") \
	X(INVALID_CREDENTIALS, 401, "invalid_credentials", "The e-mail or password is wrong.", "邮箱或密码错误。") \
	X(WEAK_PASSWORD,      400, "weak_password",       "Use 10 to 128 characters with at least one letter and one digit, not containing your e-mail name.", "密码需为 10 到 128 个字符，至少包含一个字母和一个数字，且不能包含邮箱用户名。") \
	X(WRONG_PASSWORD,     403, "wrong_password",      "The current password is wrong.", "当前密码错误。") \
	X(EMAIL_TAKEN,        409, "email_taken",         "An account with this e-mail already exists; sign in instead.", "该邮箱已注册，请直接登录。") \
	X(LAST_ADMIN,         409, "last_admin",          "Every organization needs at least one Org Admin: make someone else an Org Admin first.", "每个组织至少需要一名组织管理员，请先将其他成员设为组织管理员。") \
	X(ORG_CREATION_OFF,   403, "org_creation_disabled", "Creating organizations is switched off; please contact support to have one created.", "当前不支持自行创建组织，请提交工单联系我们为您创建。") \
	X(INVITATION_INVALID, 410, "invitation_invalid",  "This invitation has expired, was used or was withdrawn.", "该邀请已过期、已被使用或已撤回。") \
	X(INVITATION_EMAIL,   403, "invitation_other_email", "This invitation is for another e-mail address; sign in with that address.", "该邀请发给了其他邮箱，请使用该邮箱登录。") \
	X(ALREADY_MEMBER,     409, "already_member",      "That user is already a member of this organization.", "该用户已是组织成员。") \
	X(BINDING_NOT_FOUND,  404, "binding_not_found",   "No binding is in progress; start again from the marketplace.", "当前没有进行中的绑定，请从云市场重新开始。") \
	X(BINDING_USED,       410, "binding_used",        "This binding was already completed.", "该绑定已完成。") \
	X(INSUFFICIENT_ROLE,  403, "insufficient_role",   "Insufficient permission: only an Org Admin or Org Billing Admin can do this.", "权限不足：只有组织管理员或组织账单管理员可以执行此操作。") \
	X(ORG_BOUND,          409, "org_already_bound",   "This organization is already bound to a marketplace subscription.", "该组织已绑定云市场订阅。") \
	X(SUBSCRIPTION_BOUND, 409, "subscription_already_bound", "This subscription is already bound to an organization.", "该订阅已绑定至其他组织。") \
	X(SUBSCRIPTION_INACTIVE, 409, "subscription_inactive", "This subscription is no longer active; subscribe again on the marketplace.", "该订阅已失效，请在云市场重新订阅。") \
	X(NOT_BOUND,          409, "not_bound",           "This organization has no marketplace subscription bound.", "该组织未绑定云市场订阅。") \
	X(SNS_REJECTED,       403, "notification_rejected", "The notification could not be verified.", "通知验证失败。") \
	X(NOT_FOUND,          404, "not_found",           "Not found.", "未找到。") \
	X(METHOD,             405, "method_not_allowed",  "Method not allowed.", "不支持该请求方法。") \
	X(CONFLICT,           409, "conflict",            "The request conflicts with the current state.", "请求与当前状态冲突。") \
	X(RATE_LIMITED,       429, "rate_limited",        "Too many attempts; please wait and try again.", "尝试次数过多，请稍后再试。") \
	X(TICKET_INVALID,     400, "ticket_invalid",      "This link or session is not valid; please start again.", "该链接或会话无效，请重新开始。") \
	X(TICKET_EXPIRED,     410, "ticket_expired",      "This link or session has expired; please start again.", "该链接或会话已过期，请重新开始。") \
	X(ALIYUN_TOKEN,       403, "invalid_token",       "The token is missing or does not match the parameters.", "令牌缺失或与参数不符。") \
	X(ALIYUN_ACTION,      400, "unknown_action",      "This action is not supported.", "不支持该操作。") \
	X(ALIYUN_PRODUCT,     400, "wrong_product",       "This product code is not ours.", "商品编码与本产品不符。") \
	X(ALIYUN_CONFLICT,    409, "instance_conflict",   "This instance was created with other parameters; nothing was changed.", "该实例已以不同的参数创建，未做任何更改。") \
	X(ALIYUN_UNKNOWN,     404, "unknown_instance",    "No instance with this instanceId was created.", "不存在该 instanceId 的实例。") \
	X(ALIYUN_LINK_STALE,  403, "link_expired",        "This 免登 link has expired; click 免登 again.", "该免登链接已过期，请重新单击“免登”。") \
	X(ALIYUN_LINK_USED,   403, "link_used",           "This 免登 link was already used; click 免登 again.", "该免登链接已使用过，请重新单击“免登”。") \
	X(ALIYUN_OPENING,     409, "instance_opening",    "The instance is still being activated; try again in a minute.", "实例仍在开通中，请稍后再试。") \
	X(ALIYUN_USER_GONE,   409, "bound_user_gone",     "The user who bound this instance can no longer sign in to its organization.", "绑定该实例的用户已无法登录其组织。") \
	X(INTERNAL,           500, "internal",            "Internal error.", "内部错误。") \
	X(NOMEM,              500, "out_of_memory",       "Internal error (out of memory).", "内部错误（内存不足）。") \
	X(UPSTREAM,           502, "upstream_error",      "The marketplace answered with an error.", "云市场返回了错误。") \
	X(DB_DUPLICATE,       409, "already_exists",      "That already exists.", "该记录已存在。") \
	X(DB_DEADLOCK,        503, "busy",                "The service is busy; please try again.", "服务繁忙，请重试。") \
	X(DB,                 503, "db_unavailable",      "The database is unavailable; please try again.", "数据库暂不可用，请稍后重试。") \
	X(UNAVAILABLE,        503, "unavailable",         "The service is busy; please try again shortly.", "服务繁忙，请稍后重试。")

enum error_index {
#define X(name, status, code, en, zh) ERROR_INDEX_##name,
	ERROR_LIST(X)
#undef X
	ERROR_INDEX_COUNT
};

enum error {
	ERR_OK = 0,
#define X(name, status, code, en, zh) ERR_##name = -(ERROR_INDEX_##name + 1),
	ERROR_LIST(X)
#undef X
};

/* HTTP status for err (500 for a value not in the list, 200 for ERR_OK). */
int error_status(int err);

/* Stable client code, e.g. "invalid_field"; "internal" if unknown. Static. */
const char *error_code(int err);

/* Message in lang; static storage, never NULL. */
const char *error_message(int err, enum lang lang);

#endif
