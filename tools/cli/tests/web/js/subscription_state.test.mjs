// Table-driven test of web/js/subscription-state.js: every status x cancel-scheduled x
// pending-change x payment-failed x has-card combination, against the rules written
// out here (not computed by the module). Run: node --test tools/cli/tests/web/js/
import assert from "node:assert/strict";
import test from "node:test";

import { describeSubscription, planOffer } from "../../../../../web/js/subscription-state.js";

const STATUSES = ["active", "trialing", "past_due", "incomplete", "unpaid", "paused", "canceled", "incomplete_expired"];
const PERIOD_END = "2027-01-15T12:00:00Z";
const TRIAL_END = "2027-01-10T12:00:00Z";
const SINCE = "2026-12-15T12:00:00Z";
const OWNER = { isOwner: true };
const PLANS = [{ plan: "free", name: "Free" }, { plan: "solo", name: "Solo" }, { plan: "team", name: "Team" }];

// The latest attempt's decline and card, and the timeline (GET /api/billing/subscription).
const ATTEMPTS = [
  { at: "2026-12-15T12:00:00Z", outcome: "declined", decline_code: "generic_decline", card: { brand: "visa", last4: "0341" } },
  { at: "2026-12-18T12:00:00Z", outcome: "declined", decline_code: "insufficient_funds", card: { brand: "visa", last4: "0341" } },
];
const WAITING = [{ at: "2026-12-15T12:00:00Z", outcome: "action_required", decline_code: null, card: { brand: "mastercard", last4: "3155" } }];

function body({ status, cancel, pending, failed, card, requiresAction = false }) {
  const ended = status === "canceled" || status === "incomplete_expired";
  return {
    tenant_id: "t",
    plan_type: ended ? "free" : "team", // the API answers free once a subscription ended
    status,
    status_label: "ignored",
    cancel_at_period_end: ended ? false : cancel,
    current_period_end: PERIOD_END,
    trial_end: status === "trialing" ? TRIAL_END : null,
    payment_failed: failed
      ? {
          amount_due: 2900, currency: "usd", hosted_invoice_url: "https://invoice.example/i", next_payment_attempt: null, since: SINCE, requires_action: requiresAction,
          decline_code: requiresAction ? null : "insufficient_funds",
          card: requiresAction ? WAITING[0].card : ATTEMPTS[1].card,
          attempts: requiresAction ? WAITING : ATTEMPTS,
        }
      : null,
    pending_plan: pending && !ended ? { plan: "solo", effective_at: PERIOD_END } : null,
    has_payment_method: card,
  };
}

// The rules, as the issue states them.
function expectedDateLine({ status, cancel, pending, failed }) {
  if (["canceled", "incomplete_expired", "paused"].includes(status)) return null;
  if (["past_due", "incomplete", "unpaid"].includes(status)) return failed ? `Payment overdue since Dec 15, 2026` : null;
  if (cancel) return status === "trialing" ? "Access until Jan 10, 2027" : "Access until Jan 15, 2027";
  if (pending) return "Changes to Solo on Jan 15, 2027";
  if (status === "trialing") return "Trial ends on Jan 10, 2027";
  return "Renews on Jan 15, 2027";
}

function expectedBanner({ status, cancel, failed, card }, requiresAction) {
  const ended = status === "canceled" || status === "incomplete_expired";
  if (!ended && failed) return requiresAction ? "requires_action" : "payment_failed";
  if (["past_due", "incomplete", "unpaid"].includes(status)) return "payment_overdue";
  if (status === "incomplete_expired") return "checkout_not_completed";
  if (status === "paused") return "paused";
  if (status === "trialing" && card === false && !cancel) return "trial_without_card";
  return null;
}

const combos = [];
for (const status of STATUSES)
  for (const cancel of [false, true])
    for (const pending of [false, true])
      for (const failed of [false, true])
        for (const card of [true, false]) combos.push({ status, cancel, pending, failed, card });

test(`${combos.length} combinations: date line, banner, actions`, () => {
  assert.equal(combos.length, 8 * 2 * 2 * 2 * 2);
  for (const c of combos) {
    for (const requiresAction of [false, true]) {
      const name = JSON.stringify({ ...c, requiresAction });
      const model = describeSubscription(body({ ...c, requiresAction }), { plans: PLANS, user: OWNER });
      assert.equal(model.dateLine?.text ?? null, expectedDateLine(c), `date line of ${name}`);
      assert.equal(model.banner?.kind ?? null, expectedBanner(c, requiresAction), `banner of ${name}`);
      const willRenew = c.status === "active" && !c.cancel && !c.pending;
      assert.equal(model.dateLine?.kind === "renews", willRenew, `"Renews on" only if it renews: ${name}`);
      const ended = c.status === "canceled" || c.status === "incomplete_expired";
      assert.equal(model.plan.name, ended ? "Free" : "Team", name);
      assert.equal(model.actions.checkout, ended, `checkout only without a live subscription: ${name}`);
      assert.equal(model.actions.resume, !ended && c.cancel, name);
      assert.equal(model.actions.cancel, !ended && !c.cancel && c.status !== "incomplete", name);
      assert.equal(model.actions.changePlan, !ended && !c.cancel && ["active", "trialing"].includes(c.status), name);
      assert.equal(model.actions.undoPendingChange, !ended && c.pending, name);
      assert.equal(model.actions.endTrial, c.status === "trialing" && c.card && !c.cancel, `convert now needs a trial and a card: ${name}`);
      assert.match(model.status.label, /^[A-Z][a-z ]+$/, `sentence case: ${name}`);
      for (const action of model.banner?.actions ?? []) assert.match(action.label, /^[A-Z][a-z ]+$/, `sentence case: ${name}`);
      const banner = model.banner;
      const words = banner ? [banner.title, banner.text, ...banner.details, ...banner.timeline.map((r) => r.text)].join(" ") : "";
      assert.doesNotMatch(words, /\b[a-z]+_[a-z_]+\b/, `no raw code reaches the page: ${name}`);
      if (banner?.kind === "payment_failed") {
        assert.match(banner.text, /^Your bank declined the payment of \$29 on Visa ending in 0341 \(insufficient funds\)\. /, name);
        assert.deepEqual(banner.timeline.map((r) => r.text), ["Declined on Visa ending in 0341", "Declined on Visa ending in 0341 (insufficient funds)", "No further automatic attempts"], name);
      }
      if (banner?.kind === "requires_action") {
        assert.deepEqual(banner.details, ["The payment is on Mastercard ending in 3155."], name);
        assert.equal(banner.timeline[0].text, "Waiting for you to confirm the payment on Mastercard ending in 3155", name);
      }
    }
  }
});

test("status chip: sentence case label and tone per status; free is Free", () => {
  const tones = { active: "success", trialing: "info", past_due: "warning", incomplete: "warning", unpaid: "danger", paused: "paused", canceled: "neutral", incomplete_expired: "neutral" };
  const labels = { active: "Active", trialing: "Trial", past_due: "Past due", incomplete: "Incomplete", unpaid: "Unpaid", paused: "Paused", canceled: "Canceled", incomplete_expired: "Expired" };
  for (const status of STATUSES) {
    const model = describeSubscription(body({ status, cancel: false, pending: false, failed: false, card: true }));
    assert.deepEqual([model.status.label, model.status.tone], [labels[status], tones[status]], status);
  }
  const free = describeSubscription({ plan_type: "free", status: "active" });
  assert.deepEqual([free.status.label, free.plan.name, free.dateLine, free.banner], ["Free", "Free", null, null]);
});

test("3-D Secure: confirm payment goes to the hosted invoice page, for members too", () => {
  const sub = body({ status: "incomplete", cancel: false, pending: false, failed: true, card: true, requiresAction: true });
  const owner = describeSubscription(sub, { plans: PLANS, user: OWNER }).banner;
  assert.equal(owner.title, "Confirm your payment");
  assert.match(owner.text, /confirm the payment of \$29 for Team/);
  assert.deepEqual(owner.actions.map((a) => [a.kind, a.label]), [["confirm_payment", "Confirm payment"], ["update_card", "Update card"]]);
  assert.equal(owner.actions[0].href, "https://invoice.example/i");
  const member = describeSubscription(sub, { plans: PLANS, user: { isOwner: false } }).banner;
  assert.deepEqual(member.actions.map((a) => a.kind), ["confirm_payment"]);
  assert.ok(member.note);
});

test("a failed payment: amount, card and decline reason, next attempt, pay now, timeline", () => {
  const sub = body({ status: "past_due", cancel: false, pending: false, failed: true, card: true });
  sub.payment_failed = { ...sub.payment_failed, invoice_id: "in_1", next_payment_attempt: "2026-12-21T12:00:00Z", attempt_count: 2 };
  const banner = describeSubscription(sub, { plans: PLANS, user: OWNER }).banner;
  assert.equal(banner.title, "Payment failed");
  assert.equal(banner.text, "Your bank declined the payment of $29 on Visa ending in 0341 (insufficient funds). We will try again automatically on Dec 21, 2026.");
  assert.deepEqual(banner.details, []);
  assert.deepEqual(banner.actions.map((a) => a.kind), ["pay_now", "update_card"]);
  assert.deepEqual(banner.timeline.map((r) => [r.at, r.text, r.kind]), [
    ["2026-12-15T12:00:00Z", "Declined on Visa ending in 0341", "declined"],
    ["2026-12-18T12:00:00Z", "Declined on Visa ending in 0341 (insufficient funds)", "declined"],
    ["2026-12-21T12:00:00Z", "Next automatic attempt", "upcoming"],
  ]);
  // a generic decline (or one Stripe says to present as one) adds no reason
  for (const code of ["generic_decline", "do_not_honor", "lost_card", "stolen_card", "fraudulent", "something_new"]) {
    const generic = describeSubscription({ ...sub, payment_failed: { ...sub.payment_failed, decline_code: code } }, { plans: PLANS, user: OWNER }).banner;
    assert.equal(generic.text, "Your bank declined the payment of $29 on Visa ending in 0341. We will try again automatically on Dec 21, 2026.", code);
  }
  // nothing known of the card (older bodies): the amount and the plan, the attempts counted
  const older = describeSubscription({ ...sub, payment_failed: { ...sub.payment_failed, decline_code: null, card: null, attempts: undefined } }, { plans: PLANS, user: OWNER }).banner;
  assert.equal(older.text, "We could not collect $29 for your Team plan. We will try again automatically on Dec 21, 2026.");
  assert.deepEqual(older.timeline.map((r) => r.text), ["First attempt failed", "2 attempts so far", "Next automatic attempt"]);
  const expired = describeSubscription({ ...sub, payment_failed: { ...sub.payment_failed, decline_code: "expired_card", card: { brand: "amex", last4: "0005" } } }, { plans: PLANS, user: OWNER }).banner;
  assert.match(expired.text, /^Your bank declined the payment of \$29 on American Express ending in 0005 \(the card has expired\)\./);
  sub.payment_failed = { ...sub.payment_failed, invoice_id: null, next_payment_attempt: null };
  const last = describeSubscription(sub, { plans: PLANS, user: OWNER }).banner;
  assert.match(last.text, /will not try again automatically/);
  assert.deepEqual(last.actions.map((a) => a.kind), ["update_card", "view_invoice"]);
});

test("an automatic cancellation says why", () => {
  const sub = { plan_type: "free", status: "canceled", ended: { reason: "payment_failed", plan: "team", at: "2027-01-02T00:00:00Z" } };
  const banner = describeSubscription(sub, { plans: PLANS, user: OWNER }).banner;
  assert.equal(banner.title, "Your Team subscription was canceled");
  assert.match(banner.text, /could not collect the payment after several attempts.*ended automatically on Jan 2, 2027/);
  assert.deepEqual(banner.actions.map((a) => [a.label, a.href]), [["Choose a plan", "/pricing"]]);
  const asked = describeSubscription({ ...sub, ended: { reason: "cancellation_requested", plan: "team", at: null } }, { plans: PLANS, user: OWNER }).banner;
  assert.equal(asked.kind, "ended");
});

test("pricing offers: no second downgrade to a scheduled plan, no trial after one", () => {
  const rank = (p) => ["free", "solo", "team", "enterprise"].indexOf(p);
  const team = { plan: "team", trial_days: 14 };
  const solo = { plan: "solo", trial_days: 0 };
  const free = { plan: "free", trial_days: 0 };
  const nothing = { plan_type: "free", status: "active" };
  assert.equal(planOffer(nothing, team, { rank }).kind, "trial");
  assert.equal(planOffer(nothing, team, { rank, trialAvailable: false }).kind, "checkout");
  assert.equal(planOffer(nothing, free, { rank }).kind, "current");
  const scheduled = body({ status: "active", cancel: false, pending: true, failed: false, card: true });
  assert.equal(planOffer(scheduled, solo, { rank }).kind, "scheduled");
  assert.equal(planOffer(scheduled, team, { rank }).label, "Manage subscription");
  const overdue = body({ status: "past_due", cancel: false, pending: false, failed: true, card: true });
  assert.equal(planOffer(overdue, solo, { rank }).kind, "none");
  const active = body({ status: "active", cancel: false, pending: false, failed: false, card: true });
  assert.equal(planOffer(active, { plan: "enterprise", trial_days: 14 }, { rank }).kind, "upgrade");
  assert.equal(planOffer(active, free, { rank }).kind, "cancel");
});

test("the trial's warning: from 3 days before, with no card only, checked against the state", () => {
  const trial = (days, card, extra = {}) => ({ ...body({ status: "trialing", cancel: false, pending: false, failed: false, card }), trial_ends_in_days: days, ...extra });
  const warned = describeSubscription(trial(3, false), { plans: PLANS, user: OWNER });
  assert.equal(warned.banner.kind, "trial_ending");
  assert.equal(warned.banner.tone, "warning");
  assert.equal(warned.banner.title, "Your trial ends in 3 days");
  assert.match(warned.banner.text, /^Add a card to keep Team\. Without one, your subscription pauses on Jan 10, 2027/);
  assert.deepEqual(warned.banner.actions.map((a) => [a.kind, a.label]), [["add_card", "Add a card"]]);
  assert.equal(describeSubscription(trial(1, false), { plans: PLANS }).banner.title, "Your trial ends in 1 day");
  assert.equal(describeSubscription(trial(0, false), { plans: PLANS }).banner.title, "Your trial ends today");
  // before the warning: the quieter reminder; a card added, or converted: no warning at all
  assert.equal(describeSubscription(trial(4, false), { plans: PLANS }).banner.kind, "trial_without_card");
  assert.equal(describeSubscription(trial(3, true), { plans: PLANS }).banner, null);
  const converted = { ...trial(null, true), status: "active", trial_ends_in_days: null };
  assert.equal(describeSubscription(converted, { plans: PLANS }).banner, null);
  // days left come from the API (the subscription's clock) when it says them
  assert.equal(describeSubscription(trial(2, false), { plans: PLANS }).facts.trialDaysLeft, 2);
  assert.equal(describeSubscription(trial(undefined, false, { trial_end: new Date(Date.now() + 2.5 * 86_400_000).toISOString() }), { plans: PLANS }).facts.trialDaysLeft, 3);
});

test("a paused subscription: Free for now, add a card to resume", () => {
  const paused = { ...body({ status: "paused", cancel: false, pending: false, failed: false, card: false }) };
  const model = describeSubscription(paused, { plans: PLANS, user: OWNER });
  assert.equal(model.banner.title, "Your Team subscription is paused");
  assert.match(model.banner.text, /on the Free plan for now\. Add a card to keep Team/);
  assert.equal(model.dateLine, null);
  assert.equal(model.actions.changePlan, false);
});
