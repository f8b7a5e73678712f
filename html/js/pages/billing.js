// SPDX-License-Identifier: MIT
// billing.js: /console/billing — 账单 of the current org, in two tabs.
// 账单概览: 当月账单 (应付总额, 账单周期, 下个账单日; the free credit it used, usage of
// hours not settled yet, and usage billed nowhere shown apart), 免费额度 (left, granted,
// each grant's expiry), and the payment area: 已绑定 + 亚马逊云科技 Marketplace 订阅 with
// the ID that reveals the subscribing account, or 云市场扣费渠道 阿里云 云市场 with
// 查看阿里云账单; a subscription being cancelled; the grace window's live countdown; a
// suspended org; or, with nothing bound, where to subscribe. Org Admins and Org Billing
// Admins may 解绑. 历史账单: the closed months, what was due, the free credit used and what
// was billed nowhere. Money is shown rounded down to cents, as the server rounds.

import { el, fill, icon } from '../dom.js';
import { t, tx, has } from '../i18n.js';
import { api } from '../api.js';
import { consoleApp } from '../shell.js';
import {
  alertBox, button, card, dialog, emptyState, errorText, formatTime, noOrgState, pageHeader, spinner, table, tag, timeEl, toast,
} from '../ui.js';

const MARKETS = ['aws-cn', 'aws', 'aliyun'];
const TABS = ['overview', 'history'];
const SYMBOLS = { CNY: '¥', USD: '$' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/*
 * Integer micro-units as money with 2 decimals: 1234500000 CNY → ¥1,234.50. Integer arithmetic
 * only (BigInt), rounded toward zero like the server, which rounds exact amounts down to whole
 * micro-units: a bill never shows more than is charged (1239999 → ¥1.23). micros is a JSON
 * integer, a string of digits or a BigInt; anything else shows as —.
 */
export function money(micros, currency) {
  let n;
  try {
    n = BigInt(micros ?? 0);
  } catch {
    return '—';
  }
  const negative = n < 0n;
  const cents = (negative ? -n : n) / 10000n;
  const whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const amount = `${whole}.${(cents % 100n).toString().padStart(2, '0')}`;
  const text = SYMBOLS[currency] ? `${SYMBOLS[currency]}${amount}` : `${amount} ${currency || ''}`.trim();
  return negative && cents > 0n ? `-${text}` : text;
}

/* "2026-11-01" as 2026年11月1日 (zh) or Nov 1, 2026 (en); the date is a calendar day, no time zone. */
export function longDate(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(ymd || '');
  if (!m) return ymd || '—';
  const mo = Number(m[2]);
  return t('date.long', { y: Number(m[1]), m: mo, d: Number(m[3]), mon: MONTHS[mo - 1] || m[2] });
}

function period(bill) {
  return t('billing.range', { start: longDate(bill.period_start), end: longDate(bill.period_end) });
}

/* Seconds as 00:59:58 (hours grow past 99 if they must). */
function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

function marketName(id) {
  return has(`mp.name.${id}`) ? t(`mp.name.${id}`) : id;
}

function currentTab() {
  const tab = new URLSearchParams(location.search).get('tab');
  return TABS.includes(tab) ? tab : 'overview';
}

function rememberTab(tab) {
  const url = new URL(location.href);
  if (tab === 'overview') url.searchParams.delete('tab');
  else url.searchParams.set('tab', tab);
  history.replaceState(null, '', url.pathname + url.search);
}

// The grace countdown's timer; one per page, stopped whenever the page is drawn again.
let timer = null;

function stopTimer() {
  if (timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}

function stat(label, value, id) {
  return el('div', { class: 'stat' }, el('div', { class: 'stat-label' }, label),
    el('div', { class: 'stat-value', id }, value));
}

/* A label and an amount on one line, under a card's figures. */
function line(label, value, id, hint) {
  return el('div', { class: 'bill-line' },
    el('dt', null, label),
    el('dd', null, el('span', { class: 'bill-line-value', id }, value),
      hint ? el('span', { class: 'muted small bill-line-hint' }, hint) : null));
}

function positive(micros) {
  try {
    return BigInt(micros ?? 0) > 0n;
  } catch {
    return false;
  }
}

/* Usage billed nowhere (hours with no marketplace bound): never part of the amount due. */
function unbilledNote(bill, id) {
  if (!positive(bill.unbilled_micros)) return null;
  return alertBox('warning', el('p', { class: 'alert-title' }, t('billing.unbilled')),
    el('p', { id }, tx('billing.unbilledBody', { amount: el('strong', null, money(bill.unbilled_micros, bill.currency)) })));
}

function currentBillCard(o) {
  const bill = o.current_bill;
  return card({ title: t('billing.current'), attrs: { id: 'current-bill' } },
    el('div', { class: 'stats' },
      stat(t('billing.amountDue'), money(bill.amount_due_micros, bill.currency), 'amount-due'),
      stat(t('billing.period'), period(bill), 'bill-period'),
      stat(t('billing.nextBill'), longDate(bill.next_bill_date), 'next-bill')),
    el('dl', { class: 'bill-lines' },
      line(t('billing.creditUsed'), money(bill.credit_used_micros, bill.currency), 'credit-used'),
      line(t('billing.openUsage'), money(bill.open_usage_micros, bill.currency), 'open-usage', t('billing.openUsageHint'))),
    unbilledNote(bill, 'unbilled-text'));
}

/* Each grant not expired yet: what was granted, what is left, until when. */
function grantsTable(c) {
  const columns = [{ label: t('billing.credits.granted'), cls: 'num' }, { label: t('billing.credits.remaining'), cls: 'num' },
    { label: t('billing.credits.validUntil') }];
  const rows = c.grants.map((g) => ({
    attrs: { dataset: { expires: g.expires_at } },
    cells: [money(g.granted_micros, c.currency), money(g.remaining_micros, c.currency), timeEl(g.expires_at)],
  }));
  return table(columns, rows, { id: 'credit-grants' });
}

function creditsCard(o) {
  const c = o.free_credits;
  const grants = c.grants || [];
  return card({ title: t('billing.freeCredits'), cls: 'credits-card', attrs: { id: 'free-credits' } },
    el('div', { class: 'stat-value big', id: 'free-credits-value' }, money(c.remaining_micros, c.currency)),
    grants.length > 0 ? el('dl', { class: 'bill-lines' },
      line(t('billing.credits.grantedTotal'), money(c.granted_micros, c.currency), 'credits-granted'),
      c.expires_at ? line(t('billing.credits.nextExpiry'), timeEl(c.expires_at), 'credits-expiry') : null) : null,
    grants.length > 0 ? grantsTable(c) : null,
    el('p', { class: 'muted small' }, t('billing.freeCreditsHint')));
}

/* Where to subscribe: one entry per configured marketplace listing. */
function subscribeEntries(o) {
  const list = (o.marketplaces || []).filter((m) => m.listing_url);
  if (list.length === 0) return el('p', { class: 'muted', id: 'no-listing' }, t('billing.noListing'));
  return el('div', { class: 'subscribe-list', id: 'subscribe-entries' }, list.map((m) => el('a', {
    class: 'btn subscribe-entry',
    href: m.listing_url,
    target: '_blank',
    rel: 'noopener noreferrer',
    dataset: { marketplace: m.id },
  }, has(`billing.subscribe.${m.id}`) ? t(`billing.subscribe.${m.id}`) : marketName(m.id))));
}

function unbindButton(ctx, o, reload) {
  const p = o.payment;
  const channel = has(`billing.sub.${p.marketplace}`) ? t(`billing.sub.${p.marketplace}`) : marketName(p.marketplace);
  return button(t('billing.unbind'), {
    kind: 'link danger',
    small: true,
    attrs: { id: 'unbind' },
    onClick: async () => {
      const ok = await dialog({
        title: t('billing.unbindTitle'),
        body: el('p', null, tx('billing.unbindBody', { org: el('strong', null, o.org.name), channel })),
        confirmText: t('billing.unbind'),
        danger: true,
        onConfirm: () => api.post(`/api/orgs/${encodeURIComponent(o.org.id)}/billing/unbind`, {}),
      });
      if (!ok || ctx.stale()) return;
      toast(t('billing.unbound'));
      await reload();
    },
  });
}

/* The bound channel: 已绑定, its name, the ID that reveals the account, who bound it, the bill link. */
function boundBody(o) {
  const p = o.payment;
  const m = MARKETS.includes(p.marketplace) ? p.marketplace : null;
  const frozen = p.subscription_status === 'expired' || o.status === 'suspended';
  const idButton = el('button', {
    type: 'button',
    class: 'id-toggle',
    id: 'payment-id',
    title: t('billing.idTitle'),
    'aria-expanded': 'false',
    'aria-controls': 'payment-account',
  }, t('billing.idButton'));
  const account = el('div', { class: 'payment-account', id: 'payment-account', hidden: true },
    // An older AWS listing gives no account ID, only the customer identifier (客户标识符).
    el('span', { class: 'muted', id: 'payment-account-label' },
      !p.account_id && p.customer_identifier ? t('mp.customerIdentifier') : m ? t(`mp.account.${m}`) : 'ID'),
    el('code', { class: 'account-id', id: 'payment-account-id' }, p.account_id || p.customer_identifier || '—'));
  idButton.addEventListener('click', () => {
    const open = account.hidden;
    account.hidden = !open;
    idButton.setAttribute('aria-expanded', String(open));
    idButton.classList.toggle('open', open);
  });
  const notes = [];
  if (p.subscription_status === 'unsubscribe_pending') {
    notes.push(alertBox('warning', el('p', { class: 'alert-title' }, t('billing.cancelling.title')),
      el('p', { id: 'payment-cancelling' }, t('billing.cancelling.body'))));
  }
  if (frozen) {
    notes.push(alertBox('error', el('p', { class: 'alert-title' }, t('billing.frozen.title')),
      el('p', { id: 'payment-frozen' }, t('billing.frozen.body'))));
  }
  const who = p.bound_by ? tx('billing.boundBy', { email: p.bound_by, time: timeEl(p.bound_at) })
    : tx('billing.boundAt', { time: timeEl(p.bound_at) });
  return el('div', { class: 'payment', id: 'payment', dataset: { marketplace: p.marketplace, status: p.subscription_status } },
    el('div', { class: 'payment-line' },
      frozen ? tag(t('billing.suspended.title'), 'red', { id: 'payment-tag' }) : tag(t('tag.bound'), 'green', { id: 'payment-tag' }),
      el('span', { class: ['payment-name', m && `mp-${m}`], id: 'payment-name' },
        has(`billing.sub.${p.marketplace}`) ? t(`billing.sub.${p.marketplace}`) : marketName(p.marketplace)),
      idButton,
      p.subscription_status === 'pending' ? tag(t('billing.pending'), 'gray', { id: 'payment-pending' }) : null),
    account,
    el('p', { class: 'muted small payment-meta' }, who),
    notes,
    p.bill_url ? el('div', { class: 'payment-foot' }, el('a', {
      href: p.bill_url, target: '_blank', rel: 'noopener noreferrer', id: 'bill-link',
    }, t('billing.aliyunBill'), ' ', icon('external'))) : null);
}

function paymentCard(ctx, o, reload) {
  const p = o.payment;
  const title = p && p.marketplace === 'aliyun' ? t('billing.channel') : t('billing.payment');
  const actions = p && o.can_manage ? unbindButton(ctx, o, reload) : null;
  let body;
  if (p) {
    body = boundBody(o);
  } else {
    body = el('div', { class: 'payment none', id: 'payment', dataset: { status: o.status } },
      el('div', { class: 'payment-line' }, tag(t('billing.none.title'), 'gray', { id: 'payment-tag' })),
      el('p', { class: 'muted' }, t('billing.none.body')),
      subscribeEntries(o));
  }
  return card({ title, actions, cls: 'payment-card', attrs: { id: 'payment-card' } },
    body,
    o.can_manage ? null : el('p', { class: 'muted small manage-hint', id: 'manage-hint' }, t('billing.manageHint')));
}

/* The banner for an org in its grace window (a live countdown) or suspended. */
function statusBanner(ctx, o, reload) {
  if (o.status === 'grace' && !o.payment) {
    const endsAt = performance.now() + o.grace_seconds_left * 1000;
    const left = () => Math.max(0, Math.ceil((endsAt - performance.now()) / 1000));
    const digits = el('span', { class: 'countdown-digits', id: 'grace-countdown', role: 'timer' }, clock(left()));
    timer = setInterval(() => {
      if (ctx.stale() || !digits.isConnected) {
        stopTimer();
        return;
      }
      const s = left();
      digits.textContent = clock(s);
      if (s <= 0) {
        stopTimer();
        reload();
      }
    }, 1000);
    return el('div', { class: 'status-banner grace', id: 'billing-status', dataset: { status: 'grace' } },
      el('div', { class: 'countdown' }, el('div', { class: 'countdown-label' }, t('billing.grace.title')), digits),
      el('div', { class: 'status-text' },
        el('p', { id: 'grace-text' }, tx('billing.grace.body', {
          org: el('strong', null, o.org.name),
          deadline: el('strong', null, formatTime(o.grace_deadline, true)),
        }))));
  }
  if (o.status === 'suspended' && !o.payment) {
    return el('div', { class: 'status-banner suspended', id: 'billing-status', dataset: { status: 'suspended' } },
      el('div', { class: 'status-icon' }, icon('alert')),
      el('div', { class: 'status-text' },
        el('p', { class: 'status-title' }, t('billing.suspended.title')),
        el('p', { id: 'suspended-text' }, tx('billing.suspended.body', { org: el('strong', null, o.org.name) }))));
  }
  return null;
}

async function overview(panel, ctx) {
  stopTimer();
  const base = `/api/orgs/${encodeURIComponent(ctx.org.id)}/billing`;
  const o = await api.get(base);
  if (ctx.stale() || !panel.isConnected) return;
  const reload = () => overview(panel, ctx).catch((err) => fill(panel, alertBox('error', errorText(err))));
  fill(panel,
    statusBanner(ctx, o, reload),
    currentBillCard(o),
    el('div', { class: 'billing-grid' }, creditsCard(o), paymentCard(ctx, o, reload)));
  panel.dataset.status = o.status;
}

async function billsTab(panel, ctx) {
  stopTimer();
  const { bills } = await api.get(`/api/orgs/${encodeURIComponent(ctx.org.id)}/billing/history`);
  if (ctx.stale() || !panel.isConnected) return;
  if (!bills || bills.length === 0) {
    fill(panel, card({ attrs: { id: 'bills' } },
      el('div', { id: 'bills-empty' }, emptyState(t('billing.history.empty'), t('billing.history.emptyHint')))));
    return;
  }
  const columns = [{ label: t('billing.period') }, { label: t('billing.amountDue'), cls: 'num' },
    { label: t('billing.creditUsed'), cls: 'num' }, { label: t('billing.unbilled'), cls: 'num' }];
  const rows = bills.map((b) => ({
    attrs: { dataset: { period: b.period_start } },
    cells: [period(b), money(b.amount_due_micros, b.currency), money(b.credit_used_micros, b.currency),
      money(b.unbilled_micros, b.currency)],
  }));
  fill(panel, card({ attrs: { id: 'bills' }, flush: true }, table(columns, rows, { id: 'bills-table' })),
    el('p', { class: 'muted small' }, t('billing.history.note')));
}

function tabBar(active, onSelect) {
  const tabs = TABS.map((key) => el('button', {
    type: 'button',
    role: 'tab',
    class: ['tab', key === active && 'active'],
    id: `tab-${key}`,
    'aria-selected': key === active ? 'true' : 'false',
    'aria-controls': 'billing-panel',
    dataset: { tab: key },
    on: { click: () => onSelect(key) },
  }, t(`billing.tab.${key}`)));
  return el('div', { class: 'tabs', role: 'tablist', 'aria-label': t('billing.title') }, tabs);
}

async function render(main, ctx) {
  stopTimer();
  if (!ctx.org) {
    fill(main, noOrgState());
    return;
  }
  const panel = el('div', { class: 'tab-panel', id: 'billing-panel', role: 'tabpanel' }, spinner());
  let bar;
  const show = async (tab) => {
    rememberTab(tab);
    const next = tabBar(tab, select);
    bar.replaceWith(next);
    bar = next;
    fill(panel, spinner());
    panel.dataset.tab = tab;
    await (tab === 'history' ? billsTab(panel, ctx) : overview(panel, ctx));
  };
  const select = (tab) => show(tab).catch((err) => fill(panel, alertBox('error', errorText(err))));
  const tab = currentTab();
  bar = tabBar(tab, select);
  fill(main,
    pageHeader(t('billing.title'), tx('billing.subtitle', { org: el('strong', null, ctx.org.name) })),
    bar,
    panel);
  panel.dataset.tab = tab;
  await (tab === 'history' ? billsTab(panel, ctx) : overview(panel, ctx));
}

consoleApp({ page: 'billing', title: 'billing.title', render });
