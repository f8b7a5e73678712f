// SPDX-License-Identifier: MIT
// i18n.js: every string of the console in Chinese (default) and English,
// the current language, and the 中文 / English switch. The words follow the
// seeds (/work/shared/seeds). The language is the `lang` cookie, else the
// browser's first language (the server decides the same way for its error
// messages), else Chinese.

const STRINGS = {
  // Product and chrome
  'app.name': ['mpbind', 'mpbind'],
  'app.tagline': ['云市场订阅与组织账单', 'Marketplace subscriptions and organization billing'],
  'lang.zh': ['中文', '中文'],
  'lang.en': ['English', 'English'],
  'lang.label': ['语言', 'Language'],
  'nav.orgs': ['组织', 'Organizations'],
  'nav.projects': ['项目', 'Projects'],
  'nav.billing': ['账单', 'Billing'],
  'nav.members': ['组织用户', 'Org Users'],
  'nav.events': ['事件', 'Events'],
  'nav.settings': ['系统设置', 'Settings'],
  'nav.unavailable': ['暂未开放', 'Not available yet'],
  'nav.label': ['控制台导航', 'Console navigation'],
  'org.current': ['当前组织', 'Current organization'],
  'org.none': ['暂无组织', 'No organization'],
  'user.menu': ['用户菜单', 'User menu'],
  'user.account': ['账号设置', 'Account settings'],
  'user.logout': ['退出登录', 'Sign out'],
  'common.loading': ['加载中…', 'Loading…'],
  'common.cancel': ['取消', 'Cancel'],
  'common.confirm': ['确定', 'OK'],
  'common.save': ['保存', 'Save'],
  'common.copy': ['复制', 'Copy'],
  'common.copied': ['已复制', 'Copied'],
  'common.actions': ['操作', 'Actions'],
  'common.you': ['我', 'You'],
  'common.current': ['当前', 'Current'],
  'common.backHome': ['返回控制台', 'Back to the console'],

  // Roles
  'role.admin': ['组织管理员', 'Org Admin'],
  'role.billing': ['组织账单管理员', 'Org Billing Admin'],
  'role.member': ['组织成员', 'Org Member'],

  // Sign-in and registration
  'login.title': ['登录', 'Sign in'],
  'login.subtitle': ['使用企业邮箱登录控制台', 'Sign in to the console with your work e-mail'],
  'login.submit': ['登录', 'Sign in'],
  'login.noAccount': ['没有账号?', 'No account?'],
  'login.toRegister': ['注册', 'Sign up'],
  'login.retryAfter': ['请在 {seconds} 秒后重试。', 'Try again in {seconds} seconds.'],
  'register.title': ['注册', 'Sign up'],
  'register.subtitle': ['创建账号，开始使用控制台', 'Create an account to use the console'],
  'register.submit': ['注册', 'Sign up'],
  'register.haveAccount': ['已有账号?', 'Already have an account?'],
  'register.toLogin': ['登录', 'Sign in'],
  'field.email': ['企业邮箱', 'Work e-mail'],
  'field.emailPlaceholder': ['name@company.com', 'name@company.com'],
  'field.password': ['密码', 'Password'],
  'field.required': ['请填写此项。', 'Please fill in this field.'],
  'field.emailInvalid': ['请输入有效的邮箱地址。', 'Please enter a valid e-mail address.'],
  'policy.title': ['密码要求', 'Password requirements'],
  'policy.length': ['10–128 个字符', '10–128 characters'],
  'policy.mix': ['至少包含一个字母和一个数字', 'At least one letter and one digit'],
  'policy.email': ['不能包含邮箱 @ 前面的部分', 'Must not contain the part of your e-mail before @'],
  'policy.unmet': ['密码不符合要求。', 'The password does not meet the requirements.'],

  // Organizations
  'orgs.title': ['组织', 'Organizations'],
  'orgs.subtitle': ['您加入的全部组织。组织管理员可以管理成员与账单。',
    'Every organization you belong to. Org Admins manage members and billing.'],
  'orgs.create': ['创建组织', 'Create organization'],
  'orgs.creationOff': ['当前不支持自行创建组织，请提交工单联系我们为您创建。',
    'Creating organizations is switched off; please contact support to have one created.'],
  'orgs.support': ['提交工单', 'Contact support'],
  'orgs.col.name': ['组织名称', 'Organization name'],
  'orgs.col.id': ['组织 ID', 'Organization ID'],
  'orgs.col.members': ['成员人数', 'Members'],
  'orgs.col.role': ['我的角色', 'My role'],
  'orgs.col.created': ['创建时间', 'Created'],
  'orgs.empty': ['您还没有加入任何组织。', 'You do not belong to any organization yet.'],
  'orgs.emptyHint': ['创建一个组织，或请组织管理员向您发送邀请。',
    'Create an organization, or ask an Org Admin to invite you.'],
  'orgs.emptyHintNoCreate': ['请组织管理员向您发送邀请，或提交工单联系我们为您创建组织。',
    'Ask an Org Admin to invite you, or contact support to have an organization created.'],
  'orgs.rename': ['重命名', 'Rename'],
  'orgs.renameTitle': ['重命名组织', 'Rename organization'],
  'orgs.leave': ['退出组织', 'Leave'],
  'orgs.leaveTitle': ['退出组织', 'Leave organization'],
  'orgs.leaveBody': ['确定要退出组织 {name} 吗？退出后需要重新受邀才能加入。',
    'Leave the organization {name}? You will need a new invitation to join again.'],
  'orgs.left': ['已退出组织 {name}。', 'You left {name}.'],
  'orgs.created': ['组织 {name} 已创建。', 'Organization {name} created.'],
  'orgs.renamed': ['组织已重命名。', 'Organization renamed.'],
  'orgs.nameField': ['组织名称', 'Organization name'],
  'orgs.nameHint': ['1–100 个字符', '1–100 characters'],
  'orgs.switchTo': ['设为当前组织', 'Switch to'],
  'invites.title': ['待处理的邀请', 'Pending invitations'],
  'invites.line': ['{inviter} 邀请您以{role}身份加入', '{inviter} invited you to join as {role}'],
  'invites.expires': ['有效期至 {time}', 'Expires {time}'],
  'invites.accept': ['接受', 'Accept'],
  'invites.decline': ['拒绝', 'Decline'],
  'invites.accepted': ['您已加入组织 {name}。', 'You joined {name}.'],
  'invites.declined': ['已拒绝邀请。', 'Invitation declined.'],

  // Members
  'members.title': ['组织用户', 'Org Users'],
  'members.subtitle': ['{org} 的成员与邀请。', 'Members and invitations of {org}.'],
  'members.col.email': ['邮箱', 'E-mail'],
  'members.col.role': ['角色', 'Role'],
  'members.col.joined': ['加入时间', 'Joined'],
  'members.readOnly': ['仅组织管理员可以邀请、移除成员或修改角色。',
    'Only Org Admins can invite or remove members and change roles.'],
  'members.changeRole': ['修改角色', 'Change role'],
  'members.changeRoleTitle': ['修改角色', 'Change role'],
  'members.changeRoleBody': ['为 {email} 选择新的角色：', 'Choose a new role for {email}:'],
  'members.roleChanged': ['已将 {email} 的角色修改为{role}。', '{email} is now {role}.'],
  'members.remove': ['移除', 'Remove'],
  'members.removeTitle': ['移除成员', 'Remove member'],
  'members.removeBody': ['确定要将 {email} 移出组织 {org} 吗？', 'Remove {email} from {org}?'],
  'members.removed': ['已移除 {email}。', '{email} was removed.'],
  'members.invite': ['邀请用户', 'Invite user'],
  'members.inviteHint': ['被邀请人使用该邮箱登录或注册后即可接受邀请。',
    'The invitee accepts after signing in or signing up with this e-mail.'],
  'members.inviteSubmit': ['发送邀请', 'Invite'],
  'members.inviteRole': ['角色', 'Role'],
  'members.inviteCreated': ['邀请已创建。请将以下链接发送给 {email}：',
    'Invitation created. Send this link to {email}:'],
  'members.pending': ['待接受的邀请', 'Pending invitations'],
  'members.pendingEmpty': ['没有待接受的邀请。', 'No pending invitations.'],
  'members.col.expires': ['有效期至', 'Expires'],
  'members.revoke': ['撤回', 'Withdraw'],
  'members.revokeTitle': ['撤回邀请', 'Withdraw invitation'],
  'members.revokeBody': ['确定要撤回发给 {email} 的邀请吗？', 'Withdraw the invitation to {email}?'],
  'members.revoked': ['邀请已撤回。', 'Invitation withdrawn.'],
  'members.noOrg': ['请先创建或加入一个组织。', 'Create or join an organization first.'],
  'members.toOrgs': ['前往组织页面', 'Go to Organizations'],

  // Events
  'events.title': ['事件', 'Events'],
  'events.subtitle': ['{org} 的操作记录，最新的在前。', 'Activity in {org}, newest first.'],
  'events.col.time': ['时间', 'Time'],
  'events.col.actor': ['操作人', 'Actor'],
  'events.col.action': ['操作', 'Action'],
  'events.col.detail': ['详情', 'Details'],
  'events.more': ['加载更多', 'Load more'],
  'events.empty': ['暂无事件。', 'No events yet.'],
  'events.forbidden': ['仅组织管理员和组织账单管理员可查看事件', 'Only Org Admins and Org Billing Admins can view events'],
  'events.forbiddenHint': ['如需查看，请联系组织管理员为您分配相应角色。',
    'Ask an Org Admin for one of those roles if you need to see them.'],
  'events.user': ['用户 #{id}', 'user #{id}'],
  'actor.system': ['系统', 'System'],
  'actor.operator': ['运维人员', 'Operator'],
  'actor.aws': ['亚马逊云科技 Marketplace', 'AWS Marketplace'],
  'actor.aws-cn': ['亚马逊云科技 Marketplace', 'AWS Marketplace (China)'],
  'actor.aliyun': ['阿里云 云市场', 'Alibaba Cloud Marketplace'],
  'action.org.created': ['创建组织', 'Created the organization'],
  'action.org.renamed': ['重命名组织', 'Renamed the organization'],
  'action.invitation.created': ['邀请', 'Invited'],
  'action.invitation.revoked': ['撤回邀请', 'Withdrew an invitation'],
  'action.invitation.declined': ['拒绝邀请', 'Declined an invitation'],
  'action.member.joined': ['加入组织', 'Joined'],
  'action.member.role_changed': ['修改角色', 'Changed a role'],
  'action.member.removed': ['移除成员', 'Removed a member'],
  'action.member.left': ['退出组织', 'Left'],
  'action.binding.created': ['绑定云市场订阅', 'Bound a marketplace subscription'],
  'action.binding.ended': ['解绑云市场订阅', 'Unbound a marketplace subscription'],
  'detail.name': ['名称：{name}', 'Name: {name}'],
  'detail.invited': ['{email}（{role}）', '{email} ({role})'],
  'detail.joined': ['{email}，角色：{role}', '{email} as {role}'],
  'detail.roleChanged': ['{who}：{from} → {to}', '{who}: {from} → {to}'],
  'detail.removed': ['{who}（{role}）', '{who} ({role})'],
  'detail.accountClosed': ['{email}（账号已注销）', '{email} (account closed)'],
  'detail.binding': ['{marketplace}，账号 {account}', '{marketplace}, account {account}'],
  'detail.bindingEnded': ['{marketplace}，账号 {account}；{reason}', '{marketplace}, account {account}; {reason}'],
  'reason.unbound': ['在控制台解绑', 'unbound in the console'],

  // Account
  'account.title': ['账号设置', 'Account settings'],
  'account.profile': ['账号信息', 'Account'],
  'account.email': ['邮箱', 'E-mail'],
  'account.since': ['注册时间', 'Member since'],
  'account.password': ['修改密码', 'Change password'],
  'account.passwordHint': ['修改后，您在其他设备上的登录将全部退出。',
    'Changing it signs you out on every other device.'],
  'account.current': ['当前密码', 'Current password'],
  'account.new': ['新密码', 'New password'],
  'account.repeat': ['确认新密码', 'Repeat the new password'],
  'account.mismatch': ['两次输入的新密码不一致。', 'The new passwords do not match.'],
  'account.passwordChanged': ['密码已修改，其他设备上的登录已退出。',
    'Password changed; your other sessions were signed out.'],
  'account.close': ['注销账号', 'Close account'],
  'account.closeHint': ['注销后您将退出全部组织，且无法恢复。如果您是某个组织唯一的组织管理员，请先将其他成员设为组织管理员。',
    'Closing your account removes you from every organization and cannot be undone. If you are the only Org Admin of an organization, make someone else an Org Admin first.'],
  'account.closeConfirmTitle': ['注销账号', 'Close account'],
  'account.closeConfirmBody': ['确定要注销账号 {email} 吗？此操作无法撤销。',
    'Close the account {email}? This cannot be undone.'],
  'account.closeSubmit': ['注销账号', 'Close account'],
  'account.closed': ['账号已注销', 'Account closed'],
  'account.closedBody': ['您的账号已注销，感谢使用。', 'Your account has been closed. Thank you for using mpbind.'],

  // Invitation link
  'invite.title': ['组织邀请', 'Invitation'],
  'invite.signedOut': ['您收到了一个加入组织的邀请。请使用收到邀请的邮箱登录或注册，然后接受邀请。',
    'You have been invited to join an organization. Sign in or sign up with the e-mail address the invitation was sent to, then accept it.'],
  'invite.body': ['{org} 邀请您以{role}身份加入。', '{org} invites you to join as {role}.'],
  'invite.orgId': ['组织 ID', 'Organization ID'],
  'invite.signedInAs': ['当前登录账号：{email}', 'Signed in as {email}'],
  'invite.accept': ['接受邀请', 'Accept invitation'],
  'invite.decline': ['拒绝', 'Decline'],
  'invite.accepted': ['您已加入组织 {org}。', 'You joined {org}.'],
  'invite.declined': ['您已拒绝该邀请。', 'You declined the invitation.'],
  'invite.enter': ['进入控制台', 'Go to the console'],
  'invite.switch': ['退出并切换账号', 'Sign out and switch account'],
  'invite.missing': ['该邀请链接不完整或不存在，请向组织管理员索取新的邀请链接。',
    'This invitation link is incomplete or does not exist; ask the Org Admin for a new one.'],
  'invite.invalidHint': ['请向组织管理员索取新的邀请。', 'Ask the Org Admin for a new invitation.'],

  // Errors the page words itself (others come from the server, localised)
  'error.network': ['网络连接失败，请检查网络后重试。', 'Could not reach the server; check your connection and try again.'],
  'error.unexpected': ['服务返回了无法识别的响应（HTTP {status}）。', 'The server sent an unexpected answer (HTTP {status}).'],

  // Binding wizard (shared with the marketplace pages)
  'step.login': ['登录账号', 'Sign in'],
  'step.bind': ['绑定组织', 'Bind organization'],
  'step.done': ['完成授权', 'Authorize'],
  'tag.noPermission': ['权限不足', 'Insufficient permission'],
  'tag.bound': ['已绑定', 'Bound'],
  'tag.boundSubscription': ['已绑定云市场订阅', 'Marketplace subscription already bound'],
  'tag.cancelling': ['当前订阅正在取消', 'Current subscription is being cancelled'],

  // Marketplaces
  'mp.name.aws-cn': ['亚马逊云科技 Marketplace', 'AWS Marketplace (China)'],
  'mp.name.aws': ['AWS Marketplace', 'AWS Marketplace'],
  'mp.name.aliyun': ['阿里云 云市场', 'Alibaba Cloud Marketplace'],
  'mp.account.aws-cn': ['亚马逊云科技 Account ID', 'AWS account ID'],
  'mp.account.aws': ['AWS Account ID', 'AWS account ID'],
  'mp.account.aliyun': ['阿里云账号 UID', 'Alibaba Cloud account UID'],
  'mp.customerIdentifier': ['客户标识符', 'Customer identifier'],

  // Binding wizard (/bind)
  'bind.title': ['授权使用云市场扣费', 'Authorize marketplace billing'],
  'bind.title.aws-cn': ['授权使用 亚马逊云科技 Marketplace 扣费', 'Authorize billing through AWS Marketplace (China)'],
  'bind.title.aws': ['授权使用 AWS Marketplace 扣费', 'Authorize billing through AWS Marketplace'],
  'bind.title.aliyun': ['授权使用 阿里云 云市场扣费', 'Authorize billing through Alibaba Cloud Marketplace'],
  'bind.subscription': ['云市场订阅', 'Marketplace subscription'],
  'bind.loginLead': ['登录您的账号，然后为您的组织绑定此云市场订阅。',
    'Sign in, then bind this marketplace subscription to one of your organizations.'],
  'bind.registerLead': ['注册账号后即可继续，为您的组织绑定此云市场订阅。',
    'Sign up to continue and bind this marketplace subscription to an organization.'],
  'bind.signedInAs': ['当前登录账号：{email}', 'Signed in as {email}'],
  'bind.switchAccount': ['切换账号', 'Switch account'],
  'bind.pickLead': ['选择需要绑定该支付方式的组织。列表中会罗列出所有您加入的组织，您仅能选择绑定您负责管理的一个组织。',
    'Choose the organization this payment method is for. Every organization you belong to is listed; you can bind one that you manage.'],
  'bind.col.pick': ['选择', 'Select'],
  'bind.confirm': ['确认绑定', 'Confirm binding'],
  'bind.pickFirst': ['请选择一个组织。', 'Choose an organization.'],
  'bind.cancellingHint': ['组织 {org} 当前的云市场订阅正在取消。绑定后，自下一个整点起由此订阅扣费，服务不受影响。',
    "{org}'s current marketplace subscription is being cancelled. Once bound, this subscription pays from the next full hour, with no interruption."],
  'bind.none.title': ['当前没有可以绑定的组织', 'No organization can be bound'],
  'bind.empty.title': ['组织列表中无组织', 'You do not belong to any organization'],
  'bind.empty.why': ['如果您曾关闭过账号或退出所有组织，您的组织列表中会没有组织。',
    'If you closed an account or left every organization before, the list is empty.'],
  'bind.why.role': ['权限不足：您的角色必须为组织管理员或组织账单管理员才可将云市场订阅绑定至组织。如果您是组织成员，您不具备操作权限，请联系组织管理员。',
    'Insufficient permission: only an Org Admin or Org Billing Admin can bind a marketplace subscription to an organization. If you are an Org Member, ask an Org Admin.'],
  'bind.why.bound': ['已绑定云市场订阅：每个组织只能绑定一个云市场订阅。如需更新组织已绑定的云市场订阅，请先在该组织的账单概览中解绑，再重新绑定新的云市场订阅。',
    'Marketplace subscription already bound: an organization has at most one. To replace it, unbind it on that organization\u2019s billing overview first, then bind the new one.'],
  'bind.youCan': ['您可以：', 'You can:'],
  'bind.remedy.create': ['创建一个以您为管理员的新组织。', 'Create a new organization with you as its Org Admin.'],
  'bind.remedy.invite': ['等待其他用户向您发送组织邀请，并将您设置为组织管理员或组织账单管理员。',
    'Ask an Org Admin to invite you as an Org Admin or Org Billing Admin.'],
  'bind.remedy.support': ['{link}，联系我们为您创建一个新组织。', '{link} to have an organization created for you.'],
  'bind.remedy.supportLink': ['提交工单', 'Contact support'],
  'bind.createOrg': ['创建组织', 'Create organization'],
  'bind.createAnother': ['创建新组织', 'Create a new organization'],
  'bind.createTitle': ['创建新组织', 'Create a new organization'],
  'bind.createHint': ['您将成为新组织的组织管理员。', 'You will be the Org Admin of the new organization.'],
  'bind.created': ['组织 {name} 已创建并已选中，单击“确认绑定”完成授权。',
    'Organization {name} was created and selected; click Confirm binding to finish.'],
  'bind.refreshed': ['组织列表已刷新，请重新选择。', 'The list was refreshed; please choose again.'],
  'bind.success': ['授权成功', 'Authorized'],
  'bind.done.aws-cn': ['您的组织 {org} 已成功开通亚马逊云科技 Marketplace 扣费。',
    'Your organization {org} now pays through AWS Marketplace (China).'],
  'bind.done.aws': ['您的组织 {org} 已成功开通 AWS Marketplace 扣费。', 'Your organization {org} now pays through AWS Marketplace.'],
  'bind.done.aliyun': ['您的组织 {org} 已成功开通阿里云云市场扣费。',
    'Your organization {org} now pays through Alibaba Cloud Marketplace.'],
  'bind.enter': ['进入控制台', 'Go to the console'],
  'bind.home': ['返回首页', 'Go to the home page'],
  'bind.problem.binding_not_found': ['没有进行中的绑定', 'No binding in progress'],
  'bind.problem.ticket_invalid': ['绑定链接无效', 'This binding link is not valid'],
  'bind.problem.ticket_expired': ['绑定已过期', 'This binding has expired'],
  'bind.problem.binding_used': ['该绑定已完成', 'This binding is already complete'],
  'bind.problem.subscription_inactive': ['云市场订阅已失效', 'The marketplace subscription is no longer active'],
  'bind.problem.other': ['无法继续绑定', 'The binding cannot continue'],
  'bind.problem.restart': ['请回到云市场重新开始：在亚马逊云科技 Marketplace 的订阅页面单击“设置您的账户”，或在阿里云云市场的“已购买服务列表”中单击“免登”。绑定链接的有效期为一小时。',
    'Start again from the marketplace: click "Set up your account" on the AWS Marketplace subscription page, or 免登 (sign in) in the Alibaba Cloud Marketplace list of purchased services. A binding link is valid for one hour.'],
  'bind.problem.restart.aws-cn': ['请回到亚马逊云科技 Marketplace 的订阅页面，重新单击“设置您的账户”。绑定链接的有效期为一小时。',
    'Go back to your subscription on AWS Marketplace (China) and click "Set up your account" again. A binding link is valid for one hour.'],
  'bind.problem.restart.aws': ['请回到 AWS Marketplace 的订阅页面，重新单击“设置您的账户”。绑定链接的有效期为一小时。',
    'Go back to your subscription on AWS Marketplace and click "Set up your account" again. A binding link is valid for one hour.'],
  'bind.problem.restart.aliyun': ['请回到阿里云云市场的“已购买服务列表”，重新单击“免登”。绑定链接的有效期为一小时。',
    'Go back to the list of purchased services on Alibaba Cloud Marketplace and click 免登 (sign in) again. A binding link is valid for one hour.'],
  'bind.problem.used': ['该订阅已完成绑定，您可以在控制台的账单概览中查看支付方式。',
    'The subscription is bound; its organization\u2019s billing overview in the console shows it.'],
  'bind.problem.inactive': ['请在云市场重新订阅，然后再次绑定。', 'Subscribe again on the marketplace, then bind again.'],
  'bind.bound.title': ['此订阅已绑定组织', 'This subscription is already bound'],
  'bind.bound.body': ['此云市场订阅已绑定至组织 {org}（组织 ID：{id}）。',
    'This marketplace subscription is bound to the organization {org} (ID {id}).'],
  'bind.bound.signIn': ['如果您是该组织的成员，请登录后进入它的账单概览。',
    'If you belong to that organization, sign in to go to its billing overview.'],
  'bind.bound.notMember': ['当前登录账号 {email} 不是该组织的成员。如需查看该组织的账单，请联系它的组织管理员邀请您加入，或切换为该组织成员的账号。',
    'You are signed in as {email}, who is not a member of that organization. Ask its Org Admin to invite you, or switch to an account that is a member.'],
  'bind.bound.rebind': ['如需将此订阅改绑到其他组织，请由该组织的组织管理员或组织账单管理员先在账单概览中解绑。',
    'To bind this subscription to another organization, an Org Admin or Org Billing Admin of that organization must unbind it on its billing overview first.'],

  // Billing (/console/billing)
  'billing.title': ['账单', 'Billing'],
  'billing.subtitle': ['{org} 的账单与支付方式。', 'Bills and payment method of {org}.'],
  'billing.tab.overview': ['账单概览', 'Overview'],
  'billing.tab.history': ['历史账单', 'Bill history'],
  'billing.current': ['当月账单', 'This month'],
  'billing.amountDue': ['应付总额', 'Amount due'],
  'billing.period': ['账单周期', 'Billing period'],
  'billing.nextBill': ['下个账单日', 'Next bill date'],
  'billing.range': ['{start} - {end}', '{start} – {end}'],
  'billing.freeCredits': ['免费额度', 'Free credits'],
  'billing.freeCreditsHint': ['免费额度优先抵扣用量费用，超出部分通过云市场扣费。',
    'Free credits are spent first; only the rest is charged through the marketplace.'],
  'billing.creditUsed': ['免费额度抵扣', 'Paid from free credits'],
  'billing.openUsage': ['待结算用量', 'Usage being counted'],
  'billing.openUsageHint': ['按小时结算，结算后先抵扣免费额度', 'settled hourly; free credits are spent first'],
  'billing.unbilled': ['未扣费用量', 'Unbilled usage'],
  'billing.unbilledBody': ['组织未绑定云市场订阅期间（例如宽限期内）产生的用量 {amount} 未通过任何云市场扣费，不计入应付总额。',
    'Usage of {amount} while no marketplace subscription was bound (for example in a grace window) was not charged through any marketplace and is not part of the amount due.'],
  'billing.credits.grantedTotal': ['已发放', 'Granted'],
  'billing.credits.nextExpiry': ['最近到期', 'Next expiry'],
  'billing.credits.granted': ['发放额度', 'Granted'],
  'billing.credits.remaining': ['剩余额度', 'Remaining'],
  'billing.credits.validUntil': ['有效期至', 'Valid until'],
  'billing.payment': ['支付方式', 'Payment method'],
  'billing.channel': ['云市场扣费渠道', 'Marketplace billing channel'],
  'billing.sub.aws-cn': ['亚马逊云科技 Marketplace 订阅', 'AWS Marketplace (China) subscription'],
  'billing.sub.aws': ['AWS Marketplace 订阅', 'AWS Marketplace subscription'],
  'billing.sub.aliyun': ['阿里云 云市场', 'Alibaba Cloud Marketplace'],
  'billing.idButton': ['ID', 'ID'],
  'billing.idTitle': ['查看用于订阅的账号 ID', 'Show the subscribing account ID'],
  'billing.boundBy': ['{email} 绑定于 {time}', 'Bound by {email} on {time}'],
  'billing.boundAt': ['绑定于 {time}', 'Bound on {time}'],
  'billing.aliyunBill': ['查看阿里云账单', 'View Alibaba Cloud bill'],
  'billing.pending': ['等待云市场确认订阅', 'Waiting for the marketplace to confirm'],
  'billing.unbind': ['解绑', 'Unbind'],
  'billing.unbindTitle': ['解绑云市场订阅', 'Unbind the marketplace subscription'],
  'billing.unbindBody': ['确定要解绑组织 {org} 的{channel}吗？解绑后组织进入宽限期，服务在宽限期内继续；请在宽限期结束前绑定新的云市场订阅，以免影响服务。',
    'Unbind the {channel} of {org}? The organization enters its grace window, during which service continues; bind a new marketplace subscription before it ends to avoid any impact.'],
  'billing.unbound': ['已解绑，宽限期已开始。', 'Unbound; the grace window has started.'],
  'billing.manageHint': ['仅组织管理员和组织账单管理员可以绑定或解绑云市场订阅。',
    'Only Org Admins and Org Billing Admins can bind or unbind a marketplace subscription.'],
  'billing.cancelling.title': ['订阅正在取消', 'The subscription is being cancelled'],
  'billing.cancelling.body': ['该订阅已在云市场取消，取消生效后将自动解绑，组织进入宽限期。如需切换订阅账号，请使用新账号在云市场订阅，并在“设置您的账户”后将其绑定至本组织。',
    'This subscription was cancelled on the marketplace. When that takes effect it is unbound and the organization enters its grace window. To switch the paying account, subscribe with the new account and bind it to this organization after "Set up your account".'],
  'billing.frozen.title': ['云市场实例已冻结', 'Marketplace instance frozen'],
  'billing.frozen.body': ['阿里云云市场已冻结该实例（通常因为欠费），组织的服务已暂停，数据会保留。请在阿里云续费，续费后服务自动恢复。',
    'Alibaba Cloud Marketplace froze this instance (usually for unpaid bills). The organization\u2019s service is suspended and its data kept. Renew on Alibaba Cloud and service resumes.'],
  'billing.grace.title': ['宽限期剩余', 'Grace window left'],
  'billing.grace.body': ['组织 {org} 当前没有绑定云市场订阅，服务在宽限期内继续。请在 {deadline} 前在云市场订阅并绑定至本组织，以免影响服务。',
    '{org} has no marketplace subscription bound; service continues during the grace window. Subscribe on a marketplace and bind it to this organization before {deadline} to avoid any impact.'],
  'billing.suspended.title': ['服务已暂停', 'Service suspended'],
  'billing.suspended.body': ['组织 {org} 的宽限期已结束，且没有可用的支付方式，服务已暂停（数据会保留）。请在云市场订阅并绑定至本组织，绑定后服务立即恢复。',
    'The grace window of {org} is over and it has no payment method, so its service is suspended (data is kept). Subscribe on a marketplace and bind it to this organization; service resumes as soon as it is bound.'],
  'billing.none.title': ['未绑定支付方式', 'No payment method'],
  'billing.none.body': ['在以下云市场订阅，并在订阅后将其绑定至本组织：', 'Subscribe on one of these marketplaces, then bind the subscription to this organization:'],
  'billing.subscribe.aws-cn': ['前往亚马逊云科技 Marketplace 订阅', 'Subscribe on AWS Marketplace (China)'],
  'billing.subscribe.aws': ['前往 AWS Marketplace 订阅', 'Subscribe on AWS Marketplace'],
  'billing.subscribe.aliyun': ['前往阿里云云市场开通', 'Subscribe on Alibaba Cloud Marketplace'],
  'billing.noListing': ['当前没有可订阅的云市场，请提交工单联系我们。', 'No marketplace is available; please contact support.'],
  'billing.history.empty': ['暂无历史账单', 'No bills yet'],
  'billing.history.emptyHint': ['每月 1 日生成上个月的账单。', 'A bill for the month before is made on the 1st of every month.'],
  'billing.history.note': ['每月的账单周期为当月 1 日至次月 1 日。', 'Each bill covers the 1st of a month to the 1st of the next.'],
  'date.long': ['{y}年{m}月{d}日', '{mon} {d}, {y}'],

  // Events of binding and billing
  'action.binding.replaced': ['切换云市场订阅', 'Replaced the marketplace subscription'],
  'action.billing.suspended': ['服务暂停（宽限期结束）', 'Suspended (grace window over)'],
  'action.session.sso': ['免登进入控制台', 'Signed in from the marketplace'],
  'reason.unsubscribed': ['在云市场取消订阅', 'unsubscribed on the marketplace'],
  'reason.released': ['云市场实例已释放', 'instance released on the marketplace'],
  'reason.subscribe_failed': ['云市场订阅失败', 'subscription failed on the marketplace'],
  'reason.grace_ended': ['宽限期已结束，且未绑定新的订阅', 'the grace window ended with no new subscription bound'],

  // Events of marketplace notifications
  'action.subscription.active': ['云市场订阅成功', 'Subscribed on the marketplace'],
  'action.subscription.failed': ['云市场订阅失败', 'Marketplace subscription failed'],
  'action.subscription.cancelling': ['云市场取消订阅中', 'Unsubscribing on the marketplace'],
  'action.subscription.ended': ['云市场取消订阅成功', 'Unsubscribed on the marketplace'],
  'action.entitlements.updated': ['云市场权益已更新', 'Marketplace entitlements updated'],
  'action.binding.switched': ['订阅切换立即生效', 'Subscription switch took effect at once'],
  'detail.entitlements': ['{marketplace}，{count} 项权益', '{marketplace}, {count} entitlements'],
  'detail.switched': ['{marketplace}，账号 {account} 已取消订阅，新绑定的订阅即时接替',
    '{marketplace}: account {account} unsubscribed; the newly bound subscription took over at once'],
  'detail.reason': ['原因：{reason}', 'Reason: {reason}'],
};

const LANGS = ['zh', 'en'];
const COOKIE = 'lang';

function cookieLang() {
  const m = document.cookie.match(/(?:^|;\s*)lang=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : null;
}

let current = detect();

/* The language the server would choose for this browser: the cookie, else en when the browser's
 * first language is English, else zh. */
function detect() {
  const c = cookieLang();
  if (c !== null) return c === 'en' ? 'en' : 'zh';
  const first = (navigator.languages && navigator.languages[0]) || navigator.language || '';
  return first.toLowerCase().startsWith('en') ? 'en' : 'zh';
}

export function lang() {
  return current;
}

/* The string for key in the current language with {name} placeholders filled from params
 * (plain text: the caller puts the result into textContent). Unknown keys come back as the key. */
export function t(key, params) {
  const entry = STRINGS[key];
  let s = entry ? entry[LANGS.indexOf(current)] : key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

/* Like t, but a list of strings and nodes, so a param may be an element (e.g. <strong>name</strong>).
 * Feed the result to dom.el as children. */
export function tx(key, params) {
  const entry = STRINGS[key];
  const s = entry ? entry[LANGS.indexOf(current)] : key;
  const out = [];
  let last = 0;
  s.replace(/\{(\w+)\}/g, (m, k, at) => {
    out.push(s.slice(last, at));
    out.push(params && k in params ? params[k] : m);
    last = at + m.length;
    return m;
  });
  out.push(s.slice(last));
  return out.filter((part) => part !== '');
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(STRINGS, key);
}

/* Switches the language: sets the cookie (the server then answers in it too), updates <html lang>
 * and tells the page to re-render through the 'langchange' event. */
export function setLang(next) {
  current = next === 'en' ? 'en' : 'zh';
  document.cookie = `${COOKIE}=${current}; Path=/; Max-Age=31536000; SameSite=Lax`;
  applyDocumentLang();
  window.dispatchEvent(new CustomEvent('langchange', { detail: current }));
}

export function applyDocumentLang() {
  document.documentElement.lang = current === 'en' ? 'en' : 'zh-CN';
}

applyDocumentLang();
