// The banner kinds of the presentation model, as data: the first entry whose `applies`
// is true is the page's banner. Add a kind by adding an entry (web/README.md).
//
//   { kind, tone: "danger"|"warning"|"info"|"neutral", applies(ctx), title(ctx),
//     text(ctx), details?(ctx) -> [string],
//     timeline?(ctx) -> [{ at, text, kind: "declined"|"action_required"|"upcoming" }],
//     actions(ctx) -> [action kind] }
// ctx = { sub, facts, plans, user }. Action kinds are the keys of ACTIONS; the page
// (subscription-view.js) binds each kind to what it does.

import { declineReason } from "./error-wording.js";
import { cardName, formatDate, formatMoney, planName } from "./format.js";

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
const cardOf = ({ facts }) => cardName(facts.failed?.card);
const planOf = ({ sub, plans }) => planName(sub.plan_type, plans);

function nextAttempt({ facts }) {
  const next = facts.failed?.next_payment_attempt;
  if (next) return `We will try again automatically on ${formatDate(next)}.`;
  if (facts.status === "unpaid") return "We will not try again automatically. Pay now to restore your subscription.";
  return "We will not try again automatically. Pay now or update your card to keep your subscription.";
}

// The attempts, oldest first (the API's `attempts`; older bodies only count them), then
// what happens next. Plain words only: decline codes go through declineReason.
function attemptRow(attempt) {
  const card = cardName(attempt.card);
  const on = card ? ` on ${card}` : "";
  if (attempt.outcome === "action_required") return { at: attempt.at, text: `Waiting for you to confirm the payment${on}`, kind: "action_required" };
  const reason = declineReason(attempt.decline_code);
  return { at: attempt.at, text: `Declined${on}${reason ? ` (${reason})` : ""}`, kind: "declined" };
}

export function attemptTimeline({ facts }) {
  const failed = facts.failed;
  if (!failed) return [];
  const rows = [];
  if (Array.isArray(failed.attempts) && failed.attempts.length) {
    rows.push(...failed.attempts.map(attemptRow));
  } else {
    if (failed.since) rows.push({ at: failed.since, text: "First attempt failed", kind: "declined" });
    if (failed.attempt_count > 1) rows.push({ at: null, text: `${failed.attempt_count} attempts so far`, kind: "declined" });
  }
  if (failed.next_payment_attempt) rows.push({ at: failed.next_payment_attempt, text: "Next automatic attempt", kind: "upcoming" });
  else rows.push({ at: null, text: "No further automatic attempts", kind: "upcoming" });
  return rows;
}

// "Your bank declined the payment of $29 on Visa ending in 0341 (insufficient funds)."
function failedText(ctx) {
  const card = cardOf(ctx);
  const reason = declineReason(ctx.facts.failed?.decline_code);
  const why = reason ? ` (${reason})` : "";
  const what = card
    ? `Your bank declined the payment of ${amountOf(ctx)} on ${card}${why}.`
    : `We could not collect ${amountOf(ctx)} for your ${planOf(ctx)} plan${why}.`;
  return `${what} ${nextAttempt(ctx)}`;
}

function confirmDetails(ctx) {
  const card = cardOf(ctx);
  return card ? [`The payment is on ${card}.`] : [];
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
    details: confirmDetails,
    timeline: attemptTimeline,
    actions: () => ["confirm_payment", "update_card"],
  },
  {
    kind: "payment_failed",
    tone: "danger",
    applies: ({ facts }) => facts.paid && Boolean(facts.failed),
    title: () => "Payment failed",
    text: failedText,
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
