// The banner kinds of the presentation model, as data: the first entry whose `applies`
// is true is the page's banner. Add a kind by adding an entry (web/README.md).
//
//   { kind, tone: "danger"|"warning"|"info"|"neutral", applies(ctx), title(ctx),
//     text(ctx), details?(ctx) -> [string], timeline?(ctx) -> [{ at, text }],
//     actions(ctx) -> [action kind] }
// ctx = { sub, facts, plans, user }. Action kinds are the keys of ACTIONS; the page
// (subscription-view.js) binds each kind to what it does.

import { declineWording } from "./error-wording.js";
import { formatDate, formatMoney, planName } from "./format.js";

// Stripe warns three days before a trial ends (customer.subscription.trial_will_end):
// the trial's warning shows from then on.
export const TRIAL_WARNING_DAYS = 3;

export const ACTIONS = {
  confirm_payment: { label: "Confirm payment", ownerOnly: false, needs: "invoice_url" },
  pay_now: { label: "Pay now", ownerOnly: true },
  update_card: { label: "Update card", ownerOnly: true },
  add_card: { label: "Add a card", ownerOnly: true },
  view_invoice: { label: "View invoice", ownerOnly: false, needs: "invoice_url" },
  choose_plan: { label: "Choose a plan", ownerOnly: true, href: "/pricing" },
  resume: { label: "Resume subscription", ownerOnly: true },
};

function daysWording(days) {
  if (days <= 0) return "today";
  if (days === 1) return "in 1 day";
  return `in ${days} days`;
}

const amountOf = ({ facts }) => (facts.failed ? formatMoney(facts.failed.amount_due, facts.failed.currency) : "");
const cardOf = ({ facts }) => {
  const card = facts.failed?.card;
  return card?.last4 ? `${card.brand ? card.brand.charAt(0).toUpperCase() + card.brand.slice(1) : "Card"} ending in ${card.last4}` : null;
};
const planOf = ({ sub, plans }) => planName(sub.plan_type, plans);

function nextAttempt({ facts }) {
  const next = facts.failed?.next_payment_attempt;
  if (next) return `We will try again automatically on ${formatDate(next)}.`;
  if (facts.status === "unpaid") return "We will not try again automatically. Pay now to restore your subscription.";
  return "We will not try again automatically. Pay now or update your card to keep your subscription.";
}

// What we know of the attempts, oldest first.
export function attemptTimeline({ facts }) {
  const failed = facts.failed;
  if (!failed) return [];
  if (Array.isArray(failed.attempts) && failed.attempts.length) {
    return failed.attempts.map((a) => ({ at: a.at, text: a.text || (a.outcome === "succeeded" ? "Payment succeeded" : `Payment failed${a.reason ? `: ${declineWording(a.reason)}` : ""}`) }));
  }
  const rows = [];
  if (failed.since) rows.push({ at: failed.since, text: "First attempt failed" });
  const count = failed.attempt_count;
  if (count > 1) rows.push({ at: null, text: `${count} attempts so far` });
  if (failed.next_payment_attempt) rows.push({ at: failed.next_payment_attempt, text: "Next automatic attempt" });
  else rows.push({ at: null, text: "No further automatic attempts" });
  return rows;
}

function failureDetails(ctx) {
  const failed = ctx.facts.failed;
  const details = [];
  const card = cardOf(ctx);
  const reason = failed?.decline_code || failed?.decline_reason ? declineWording(failed.decline_code || failed.decline_reason) : null;
  if (card && reason) details.push(`${card}: ${reason}`);
  else if (card) details.push(card);
  else if (reason) details.push(reason);
  return details;
}

const payActions = ({ facts }) => [
  ...(facts.failed?.invoice_id ? ["pay_now"] : []),
  "update_card",
  ...(facts.failed?.invoice_id ? [] : ["view_invoice"]),
];

export const BANNERS = [
  {
    kind: "requires_action",
    tone: "warning",
    applies: ({ facts }) => facts.paid && facts.requiresAction,
    title: () => "Confirm your payment",
    text: (ctx) => `Your bank asks you to confirm the payment of ${amountOf(ctx)} for ${planOf(ctx)}. Nothing is wrong with your card: confirm it to ${ctx.facts.status === "incomplete" ? "start" : "keep"} your subscription.`,
    details: failureDetails,
    actions: () => ["confirm_payment", "update_card"],
  },
  {
    kind: "payment_failed",
    tone: "danger",
    applies: ({ facts }) => facts.paid && Boolean(facts.failed),
    title: () => "Payment failed",
    text: (ctx) => `We could not collect ${amountOf(ctx)} for your ${planOf(ctx)} plan. ${nextAttempt(ctx)}`,
    details: failureDetails,
    timeline: attemptTimeline,
    actions: payActions,
  },
  {
    kind: "payment_overdue",
    tone: "warning",
    applies: ({ facts }) => facts.owes && !facts.failed,
    title: ({ facts }) => (facts.status === "incomplete" ? "Your first payment is not complete" : "Payment overdue"),
    text: ({ facts }) => (facts.status === "incomplete"
      ? "Your subscription starts once the first payment goes through. Update your card to finish."
      : "The last invoice is not paid yet. Update your card so the next attempt goes through."),
    actions: () => ["update_card"],
  },
  {
    kind: "ended_after_failed_payment",
    tone: "neutral",
    applies: ({ facts }) => facts.ended && facts.endedInfo?.reason === "payment_failed",
    title: ({ facts, plans }) => `Your ${planName(facts.endedInfo.plan, plans) || "paid"} subscription was canceled`,
    text: ({ facts }) => `We could not collect the payment after several attempts, so the subscription ended automatically${facts.endedInfo.at ? ` on ${formatDate(facts.endedInfo.at)}` : ""}. You are on the Free plan now and nothing more will be charged. Choose a plan to subscribe again.`,
    actions: () => ["choose_plan"],
  },
  {
    kind: "checkout_not_completed",
    tone: "neutral",
    applies: ({ facts }) => facts.status === "incomplete_expired",
    title: () => "Your subscription did not start",
    text: () => "The first payment was not completed in time, so the subscription was not started and nothing was charged. Choose a plan to try again.",
    actions: () => ["choose_plan"],
  },
  {
    kind: "ended",
    tone: "neutral",
    applies: ({ facts }) => facts.ended && Boolean(facts.endedInfo),
    title: ({ facts, plans }) => `Your ${planName(facts.endedInfo.plan, plans) || "paid"} subscription ended`,
    text: ({ facts }) => `It ended${facts.endedInfo.at ? ` on ${formatDate(facts.endedInfo.at)}` : ""} as requested. You are on the Free plan now.`,
    actions: () => ["choose_plan"],
  },
  {
    // paused at the end of a trial without a card: the Free plan until a card is added
    kind: "paused",
    tone: "warning",
    applies: ({ facts }) => facts.paused,
    title: ({ sub, plans }) => `Your ${planName(sub.plan_type, plans)} subscription is paused`,
    text: ({ sub, plans }) => `Your trial ended without a card, so your account is on the Free plan for now. Add a card to keep ${planName(sub.plan_type, plans)}: it resumes as soon as the first payment goes through.`,
    actions: () => ["add_card"],
  },
  {
    // from Stripe's trial_will_end (three days before), as long as it still applies: a
    // card added or a trial converted since means no warning
    kind: "trial_ending",
    tone: "warning",
    applies: ({ facts }) => facts.trialing && facts.hasCard === false && !facts.cancelScheduled && facts.trialDaysLeft !== null && facts.trialDaysLeft <= TRIAL_WARNING_DAYS,
    title: ({ facts }) => `Your trial ends ${daysWording(facts.trialDaysLeft)}`,
    text: ({ sub, plans }) => `Add a card to keep ${planName(sub.plan_type, plans)}. Without one, your subscription pauses on ${formatDate(sub.trial_end)} and your account moves to the Free plan.`,
    actions: () => ["add_card"],
  },
  {
    kind: "trial_without_card",
    tone: "info",
    applies: ({ facts }) => facts.trialing && facts.hasCard === false && !facts.cancelScheduled,
    title: () => "Add a card to keep your plan",
    text: ({ sub, plans }) => `Your ${planName(sub.plan_type, plans)} trial ends on ${formatDate(sub.trial_end)}. Add a card before then to keep it; nothing is charged until the trial ends.`,
    actions: () => ["add_card"],
  },
];

function actionList(kinds, ctx) {
  const invoiceUrl = ctx.facts.failed?.hosted_invoice_url || null;
  return kinds
    .filter((kind) => ACTIONS[kind])
    .filter((kind) => !ACTIONS[kind].ownerOnly || ctx.user?.isOwner)
    .filter((kind) => ACTIONS[kind].needs !== "invoice_url" || invoiceUrl)
    .map((kind) => ({ kind, label: ACTIONS[kind].label, href: ACTIONS[kind].needs === "invoice_url" ? invoiceUrl : ACTIONS[kind].href || null }));
}

export function pickBanner(ctx) {
  const entry = BANNERS.find((b) => b.applies(ctx));
  if (!entry) return null;
  const actions = actionList(entry.actions(ctx), ctx);
  const ownerHidden = !ctx.user?.isOwner && entry.actions(ctx).some((k) => ACTIONS[k]?.ownerOnly);
  return {
    kind: entry.kind,
    tone: entry.tone,
    title: entry.title(ctx),
    text: entry.text(ctx),
    details: entry.details?.(ctx) ?? [],
    timeline: entry.timeline?.(ctx) ?? [],
    actions,
    note: ownerHidden ? "Only the account owner can update the card or pay." : null,
  };
}
