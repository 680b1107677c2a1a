// The ONE presentation model of a subscription's state (web/README.md#presentation-model).
// Pure functions of the GET /api/billing/subscription body: no DOM, no fetch, so every
// page says the same thing and node can test every combination
// (tools/cli/tests/web/js/subscription_state.test.mjs).
//
//   describeSubscription(sub, { plans, user }) -> {
//     facts,                      // the flags every rule below reads
//     status: { key, label, tone },
//     plan: { id, name },
//     dateLine: { kind, label, date, text } | null,
//     banner: { kind, tone, title, text, details, timeline: [{ at, text, kind }], actions: [{ kind, label, href? }] } | null,
//     pending: { plan, name, date, text } | null,
//     actions: { manage, changePlan, cancel, resume, undoPendingChange, checkout, endTrial, blockedReason },
//   }

import { formatDate, planName } from "./format.js";
import { pickBanner } from "./subscription-banners.js";

// Status chip: sentence case, one tone each (css: .tone-<tone>).
export const STATUS = {
  active: { label: "Active", tone: "success" },
  trialing: { label: "Trial", tone: "info" },
  past_due: { label: "Past due", tone: "warning" },
  incomplete: { label: "Incomplete", tone: "warning" },
  unpaid: { label: "Unpaid", tone: "danger" },
  paused: { label: "Paused", tone: "paused" },
  canceled: { label: "Canceled", tone: "neutral" },
  incomplete_expired: { label: "Expired", tone: "neutral" },
};

const ENDED = new Set(["canceled", "incomplete_expired"]);
const OWES = new Set(["past_due", "incomplete", "unpaid"]);
const CHANGEABLE = new Set(["active", "trialing"]);

// What the rules read, from the API body; optional fields (added by later work) may be
// missing: `has_payment_method` unknown -> null.
export function subscriptionFacts(sub) {
  const status = sub?.status || "active";
  const plan = sub?.plan_type || "free";
  const ended = ENDED.has(status);
  const paid = plan !== "free" && !ended;
  const failed = sub?.payment_failed || null;
  return {
    status,
    plan,
    ended,
    paid,
    free: !paid,
    owes: paid && OWES.has(status),
    trialing: paid && status === "trialing",
    paused: paid && status === "paused",
    cancelScheduled: paid && Boolean(sub?.cancel_at_period_end),
    pending: paid ? sub?.pending_plan || null : null,
    failed,
    requiresAction: Boolean(failed?.requires_action),
    hasCard: typeof sub?.has_payment_method === "boolean" ? sub.has_payment_method : null,
    trialDaysLeft: paid && status === "trialing" ? trialDaysLeft(sub) : null,
    endedInfo: sub?.ended || null,
  };
}

const DAY_MS = 86_400_000;

// Whole days left in a trial, rounded up: the API's `trial_ends_in_days` (counted on the
// subscription's clock), else from `trial_end` and this browser's clock.
export function trialDaysLeft(sub, now = Date.now()) {
  if (typeof sub?.trial_ends_in_days === "number") return sub.trial_ends_in_days;
  if (sub?.status !== "trialing" || !sub?.trial_end) return null;
  return Math.max(0, Math.ceil((new Date(sub.trial_end).getTime() - now) / DAY_MS));
}

export function statusOf(sub, facts = subscriptionFacts(sub)) {
  if (facts.plan === "free" && !facts.ended) return { key: "free", label: "Free", tone: "neutral" };
  const known = STATUS[facts.status];
  if (known) return { key: facts.status, ...known };
  return { key: facts.status, label: sub?.status_label || facts.status, tone: "neutral" };
}

function line(kind, label, date) {
  if (!date) return null;
  return { kind, label, date, text: `${label} ${formatDate(date)}` };
}

// The one date beside the plan. "Renews on" only for a subscription that will renew, as
// it is, on that date.
export function dateLineOf(sub, facts = subscriptionFacts(sub), plans = []) {
  if (!facts.paid || facts.paused) return null;
  if (facts.owes) {
    const since = facts.failed?.since;
    return since ? line("overdue_since", "Payment overdue since", since) : null;
  }
  if (facts.cancelScheduled) {
    const end = facts.trialing ? sub.trial_end || sub.current_period_end : sub.current_period_end;
    return line("access_until", "Access until", end);
  }
  if (facts.pending) {
    return line("changes_on", `Changes to ${planName(facts.pending.plan, plans)} on`, facts.pending.effective_at);
  }
  if (facts.trialing) return line("trial_ends", "Trial ends on", sub.trial_end || sub.current_period_end);
  if (facts.status === "active") return line("renews", "Renews on", sub.current_period_end);
  return null;
}

export function pendingOf(facts, plans = []) {
  if (!facts.pending) return null;
  const name = planName(facts.pending.plan, plans);
  const date = facts.pending.effective_at;
  return { plan: facts.pending.plan, name, date, text: `Your plan changes to ${name} on ${formatDate(date)}. Until then you keep your current plan.` };
}

// Which plan actions the state allows (the page still hides owner actions from members).
export function actionsOf(facts) {
  const blockedReason = facts.owes
    ? "Settle the open payment before changing your plan."
    : facts.paused
      ? "Resume your subscription before changing your plan."
      : null;
  return {
    manage: facts.plan !== "free" || facts.ended,
    endTrial: facts.trialing && facts.hasCard === true && !facts.cancelScheduled,
    checkout: !facts.paid,
    changePlan: facts.paid && CHANGEABLE.has(facts.status) && !facts.cancelScheduled,
    cancel: facts.paid && !facts.cancelScheduled && facts.status !== "incomplete",
    resume: facts.cancelScheduled,
    undoPendingChange: Boolean(facts.pending),
    blockedReason: facts.cancelScheduled ? "Resume your subscription to change plans." : blockedReason,
  };
}

export function describeSubscription(sub, { plans = [], user = null } = {}) {
  const facts = subscriptionFacts(sub);
  const model = {
    facts,
    status: statusOf(sub, facts),
    plan: { id: facts.paid ? facts.plan : "free", name: planName(facts.paid ? facts.plan : "free", plans) },
    dateLine: dateLineOf(sub, facts, plans),
    pending: pendingOf(facts, plans),
    actions: actionsOf(facts),
  };
  model.banner = pickBanner({ sub, facts, plans, user });
  return model;
}

// What /pricing offers on the card of `plan` (an entry of GET /api/billing/plans).
// kind: current | scheduled | checkout | trial | upgrade | downgrade | cancel | none
export function planOffer(sub, plan, { trialAvailable = true, rank = (p) => p } = {}) {
  const facts = subscriptionFacts(sub);
  const current = facts.paid ? facts.plan : "free";
  if (plan.plan === current) return { kind: "current", label: facts.paid ? "Manage subscription" : null };
  if (facts.pending?.plan === plan.plan) return { kind: "scheduled", label: null };
  if (plan.plan === "free") return facts.paid && !facts.cancelScheduled ? { kind: "cancel", label: "Downgrade" } : { kind: "none", label: null };
  if (!facts.paid) {
    const trial = trialAvailable && plan.trial_days > 0;
    return trial ? { kind: "trial", label: "Start trial" } : { kind: "checkout", label: "Upgrade" };
  }
  if (!actionsOf(facts).changePlan) return { kind: "none", label: null };
  return rank(plan.plan) > rank(current) ? { kind: "upgrade", label: "Upgrade" } : { kind: "downgrade", label: "Downgrade" };
}
