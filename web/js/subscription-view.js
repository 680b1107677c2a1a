// The subscription panel, drawn from the presentation model (subscription-state.js):
// status chip, date line, banner with its actions, pending change, owner actions.
// The actions themselves live in subscription-actions.js and recovery-actions.js.

import { h } from "./dom.js";
import { formatDate, formatMoney, intervalLabel } from "./format.js";
import { bannerView } from "./banner-view.js";
import { confirmCancel, openPortal, resume } from "./subscription-actions.js";
import { describeSubscription, subscriptionFacts } from "./subscription-state.js";
import { confirmEndTrial } from "./trial-actions.js";

// data-status: the subscription's status, or "free" without a paid subscription.
export function statusBadge(model) {
  return h("span", { class: `badge status-${model.status.key} tone-${model.status.tone}`, "data-status": model.status.key, "data-tone": model.status.tone }, model.status.label);
}

export function isPaid(sub) {
  return subscriptionFacts(sub).paid;
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

function priceLine(model, plans) {
  const plan = plans.find((p) => p.plan === model.plan.id);
  if (!plan || plan.amount === 0) return null;
  return h("p", { class: "price-line" }, `${formatMoney(plan.amount, plan.currency)} per ${intervalLabel(plan)}`);
}

function dateLine(model) {
  const line = model.dateLine;
  if (!line) return null;
  return h("p", { class: "date-line", "data-testid": "date-line", "data-kind": line.kind }, line.label, " ", h("strong", {}, formatDate(line.date)));
}

function actions(sub, model, user, onUpdate, plans) {
  if (!user.isOwner) {
    return h("p", { class: "hint", "data-testid": "member-note" }, "Only the account owner can change the plan, the card or cancel.");
  }
  const can = model.actions;
  const bar = h("div", { class: "actions" });
  if (can.manage) {
    bar.append(h("button", { type: "button", class: "btn btn-secondary", onclick: (e) => openPortal(e.currentTarget) }, "Manage subscription"));
  }
  if (can.checkout) bar.append(h("a", { class: "btn btn-primary", href: "/pricing" }, "See plans"));
  else if (can.changePlan) bar.append(h("a", { class: "btn btn-secondary", href: "/pricing" }, "Change plan"));
  if (can.endTrial) {
    bar.append(h("button", { type: "button", class: "btn btn-secondary", "data-action": "end-trial", onclick: (e) => confirmEndTrial(sub, onUpdate, e.currentTarget, plans) }, "End trial now"));
  }
  if (can.resume) {
    bar.append(h("button", { type: "button", class: "btn btn-primary", onclick: (e) => resume(e.currentTarget, onUpdate) }, "Resume subscription"));
  } else if (can.cancel) {
    bar.append(h("button", { type: "button", class: "btn btn-danger-outline", "data-action": "cancel", onclick: (e) => confirmCancel(sub, onUpdate, e.currentTarget) }, "Cancel subscription"));
  }
  const hint = !can.changePlan && !can.checkout && can.blockedReason ? h("p", { class: "hint", "data-testid": "blocked-reason" }, can.blockedReason) : null;
  return h("div", {}, bar, hint);
}

export function subscriptionPanel(sub, { plans = [], user, onUpdate }) {
  const model = describeSubscription(sub, { plans, user });
  const pending = model.pending
    ? h("p", { class: "notice", role: "status", "data-testid": "pending-plan" }, model.pending.text)
    : null;
  return h(
    "div",
    { class: "subscription", "data-banner": model.banner?.kind || "" },
    model.banner ? bannerView(model.banner, { sub, onUpdate }) : null,
    h(
      "section",
      { class: "panel", "aria-labelledby": "plan-title" },
      h("h2", { id: "plan-title" }, "Current plan"),
      h("div", { class: "plan-heading" }, h("p", { class: "plan-name", "data-testid": "plan-name" }, model.plan.name), h("div", { class: "badges" }, statusBadge(model))),
      priceLine(model, plans),
      dateLine(model),
      pending,
      actions(sub, model, user, onUpdate, plans),
    ),
  );
}
