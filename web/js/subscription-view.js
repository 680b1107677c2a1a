// The subscription panel: plan, status badges, notices, payment-failure banner and
// (for owners) the actions. Pure rendering; the actions live in subscription-actions.js.

import { h } from "./dom.js";
import { formatDate, formatMoney, intervalLabel, planName } from "./format.js";
import { confirmCancel, openPortal, resume } from "./subscription-actions.js";

export const STATUS_LABELS = {
  active: "Active",
  trialing: "Trial",
  past_due: "Past Due",
  canceled: "Canceled",
  incomplete: "Incomplete",
  incomplete_expired: "Expired",
  unpaid: "Unpaid",
  paused: "Paused",
};
const ENDED = new Set(["canceled", "incomplete_expired"]);

export function statusBadge(sub) {
  const label = sub.status_label || STATUS_LABELS[sub.status] || sub.status;
  return h("span", { class: `badge status-${sub.status}`, "data-status": sub.status }, label);
}

export function isPaid(sub) {
  return sub.plan_type !== "free" && !ENDED.has(sub.status);
}

// A link from the API goes in an href only if it is https (or http to this machine, the
// sandbox of billing dev): never javascript:, data: or anything else.
export function followableUrl(raw) {
  if (typeof raw !== "string") return null;
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol === "https:") return url.href;
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  return url.protocol === "http:" && local ? url.href : null;
}

function failureBanner(sub, user) {
  const failed = sub.payment_failed;
  const amount = formatMoney(failed.amount_due, failed.currency);
  const next = failed.next_payment_attempt
    ? `We will try again on ${formatDate(failed.next_payment_attempt)}.`
    : "No further attempts are scheduled.";
  const actions = h("div", { class: "banner-actions" });
  if (user.isOwner) {
    actions.append(h("button", { type: "button", class: "btn btn-light", onclick: (e) => openPortal(e.currentTarget) }, "Update Payment"));
  }
  const invoiceUrl = followableUrl(failed.hosted_invoice_url);
  if (invoiceUrl) {
    actions.append(h("a", { class: "btn btn-outline-light", href: invoiceUrl, target: "_blank", rel: "noopener noreferrer" }, "View Invoice"));
  }
  return h(
    "div",
    { class: "banner banner-danger", role: "alert", "data-testid": "payment-failed" },
    h("p", {}, h("strong", {}, "Payment Failed"), ` - Your payment of ${amount} could not be processed. ${next}`),
    actions,
  );
}

function priceLine(sub, plans) {
  const plan = plans.find((p) => p.plan === sub.plan_type);
  if (!plan) return null;
  if (plan.amount === 0) return h("p", { class: "price-line" }, "No charge");
  return h("p", { class: "price-line" }, `${formatMoney(plan.amount, plan.currency)} per ${intervalLabel(plan)}`);
}

function dates(sub) {
  const rows = [];
  const add = (term, value) => value && rows.push(h("dt", {}, term), h("dd", {}, value));
  const trialing = sub.status === "trialing" && sub.trial_end;
  if (trialing) add(sub.cancel_at_period_end ? "Trial ends (not renewed)" : "Trial ends, first payment", formatDate(sub.trial_end));
  if (isPaid(sub) && !trialing) add(sub.cancel_at_period_end ? "Access until" : "Renews on", formatDate(sub.current_period_end));
  return rows.length ? h("dl", { class: "facts" }, rows) : null;
}

function actions(sub, user, onUpdate) {
  if (!user.isOwner) {
    return h("p", { class: "hint", "data-testid": "member-note" }, "Only the account owner can change the plan, payment method or cancel.");
  }
  const bar = h("div", { class: "actions" });
  if (sub.plan_type !== "free") {
    bar.append(h("button", { type: "button", class: "btn btn-secondary", onclick: (e) => openPortal(e.currentTarget) }, "Manage Subscription"));
  }
  bar.append(h("a", { class: "btn btn-secondary", href: "/pricing" }, sub.plan_type === "free" ? "See plans" : "Change plan"));
  if (isPaid(sub) && sub.cancel_at_period_end) {
    bar.append(h("button", { type: "button", class: "btn btn-primary", onclick: (e) => resume(e.currentTarget, onUpdate) }, "Resume subscription"));
  } else if (isPaid(sub)) {
    bar.append(h("button", { type: "button", class: "btn btn-danger-outline", "data-action": "cancel", onclick: () => confirmCancel(sub, onUpdate) }, "Cancel subscription"));
  }
  return bar;
}

export function subscriptionPanel(sub, { plans = [], user, onUpdate }) {
  const badges = h("div", { class: "badges" }, statusBadge(sub));
  if (sub.cancel_at_period_end && sub.current_period_end) {
    badges.append(h("span", { class: "badge badge-warning", "data-testid": "cancels-on" }, `Cancels on ${formatDate(sub.current_period_end)}`));
  }
  const pending = sub.pending_plan
    ? h("p", { class: "notice", role: "status", "data-testid": "pending-plan" }, `Your plan changes to ${planName(sub.pending_plan.plan, plans)} on ${formatDate(sub.pending_plan.effective_at)}. Until then you keep your current plan.`)
    : null;
  return h(
    "div",
    { class: "subscription" },
    sub.payment_failed ? failureBanner(sub, user) : null,
    h(
      "section",
      { class: "panel", "aria-labelledby": "plan-title" },
      h("h2", { id: "plan-title" }, "Current plan"),
      h("div", { class: "plan-heading" }, h("p", { class: "plan-name", "data-testid": "plan-name" }, planName(sub.plan_type, plans)), badges),
      priceLine(sub, plans),
      dates(sub),
      pending,
      actions(sub, user, onUpdate),
    ),
  );
}
