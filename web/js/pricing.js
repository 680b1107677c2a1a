// /pricing: a card per plan, prices from GET /api/billing/plans (never hard-coded).

import { api, newIdempotencyKey } from "./api.js";
import { h, loadingNote, withLoading } from "./dom.js";
import { formatDate, formatMoney, intervalLabel, planRank } from "./format.js";
import { changePlan, keepCurrentPlan } from "./plan-change.js";
import { comparisonTable, intervalSwitch, priceFor } from "./pricing-compare.js";
import { requireUser, showError, startPage } from "./shell.js";
import { openPortal, SUBSCRIPTION } from "./subscription-actions.js";
import { currentState, trialIsAvailable } from "./pricing-state.js";
import { planOffer } from "./subscription-state.js";
import { isPaid } from "./subscription-view.js";
import { toastError, toastInfo } from "./toast.js";

startPage();
const root = document.getElementById("plans");
const user = requireUser(root);
let interval = null; // "month" | "year": the switch; the subscription's interval at first

async function startCheckout(button, plan, trial) {
  try {
    const session = await withLoading(button, "Redirecting…", () =>
      api("/api/billing/checkout", { method: "POST", body: { plan: plan.plan, trial, interval }, idempotencyKey: newIdempotencyKey() }),
    );
    toastInfo(`Checkout started for ${plan.name}. Taking you to the secure payment page…`);
    button.disabled = true;
    location.assign(session.url);
  } catch (err) {
    toastError(`Could not start checkout. ${err.message}`);
  }
}

// The card's button, from the presentation model's offer for this plan.
function action(plan, sub, reload, trialAvailable) {
  const offer = planOffer(sub, plan, { trialAvailable, rank: planRank });
  const key = `plan-${plan.plan}`;
  switch (offer.kind) {
    case "current":
      if (sub.pending_plan) {
        // a change is scheduled: offer to keep this plan (undo), never the change again
        return h("button", { type: "button", class: "btn btn-secondary", "data-focus-key": key, "data-testid": "keep-current", onclick: (e) => keepCurrentPlan(e.currentTarget, { currentName: plan.name, onChanged: reload }) }, `Keep ${plan.name}`);
      }
      if (isPaid(sub) && plan.plan !== "free" && interval !== (sub.interval || "month") && plan.prices?.[interval]) {
        return h("button", { type: "button", class: "btn btn-primary", "data-focus-key": key, "data-testid": "switch-interval", onclick: (e) => changePlan(e.currentTarget, { sub, target: plan, interval, onChanged: reload }) }, interval === "year" ? "Switch to yearly" : "Switch to monthly");
      }
      return offer.label ? h("button", { type: "button", class: "btn btn-secondary", "data-focus-key": key, onclick: (e) => openPortal(e.currentTarget) }, offer.label) : null;
    case "cancel":
      return h("a", { class: "btn btn-secondary", href: "/settings/billing?cancel=1" }, offer.label);
    case "trial":
    case "checkout":
      return h("button", { type: "button", class: "btn btn-primary", "data-focus-key": key, onclick: (e) => startCheckout(e.currentTarget, plan, offer.kind === "trial") }, offer.label);
    case "upgrade":
    case "downgrade":
      return h(
        "button",
        { type: "button", class: offer.kind === "upgrade" ? "btn btn-primary" : "btn btn-secondary", "data-focus-key": key, onclick: (e) => changePlan(e.currentTarget, { sub, target: plan, interval, onChanged: reload }) },
        offer.label,
      );
    default:
      return null;
  }
}

// "Upgrade" alone is ambiguous to a screen reader among four cards: say which plan.
function described(control, titleId) {
  control?.setAttribute("aria-describedby", titleId);
  return control;
}

function card(plan, sub, reload, trialAvailable) {
  const current = plan.plan === (isPaid(sub) ? sub.plan_type : "free");
  const pending = sub.pending_plan?.plan === plan.plan;
  const titleId = `plan-${plan.plan}`;
  const badges = h("div", { class: "badges" });
  if (current) badges.append(h("span", { class: "badge badge-current" }, "Current plan"));
  if (pending) badges.append(h("span", { class: "badge badge-warning", "data-testid": "scheduled" }, `Starts ${formatDate(sub.pending_plan.effective_at)}`));
  const shown = priceFor(plan, interval);
  const price = formatMoney(shown.amount, shown.currency);
  return h(
    "article",
    { class: current ? "plan-card is-current" : "plan-card", "aria-labelledby": titleId, "data-plan": plan.plan },
    h("h2", { id: titleId }, plan.name),
    badges,
    h("p", { class: "price" }, h("span", { class: "amount" }, price), shown.amount === 0 ? h("span", { class: "per" }, " forever") : h("span", { class: "per" }, ` per ${shown.interval ?? intervalLabel(plan)}`)),
    interval === "year" && plan.yearly_saving_percent ? h("p", { class: "hint", "data-testid": "saving" }, `Save ${plan.yearly_saving_percent}% with yearly billing`) : null,
    plan.trial_days > 0 && trialAvailable && !isPaid(sub) ? h("p", { class: "trial" }, `${plan.trial_days}-day free trial`) : null,
    user.isOwner ? described(action(plan, sub, reload, trialAvailable), titleId) : null,
  );
}

async function load() {
  root.setAttribute("aria-busy", "true");
  root.replaceChildren(loadingNote("Loading plans…"));
  try {
    const [catalogue, sub] = await Promise.all([api("/api/billing/plans"), api(SUBSCRIPTION)]);
    const plans = [...catalogue.plans].sort((a, b) => planRank(a.plan) - planRank(b.plan));
    const trialAvailable = await trialIsAvailable(sub);
    interval ??= isPaid(sub) && sub.interval ? sub.interval : "month";
    const render = () => {
      const grid = h("div", { class: "plan-grid" }, plans.map((plan) => card(plan, sub, load, trialAvailable)));
      const table = comparisonTable(catalogue, plans, sub, (plan) => (user.isOwner ? action(plan, sub, load, trialAvailable) : null));
      const note = user.isOwner ? null : h("p", { class: "hint", "data-testid": "member-note" }, "Only the account owner can change the plan.");
      const toggle = intervalSwitch(plans, interval, (chosen) => {
        interval = chosen;
        render();
        root.querySelector(`input[name='interval'][value='${chosen}']`)?.focus();
      });
      root.replaceChildren(currentState(sub, plans), toggle, grid, table, note ?? "");
    };
    render();
  } catch (err) {
    showError(root, err, load);
  } finally {
    root.removeAttribute("aria-busy");
  }
}

if (user) load();
