// /pricing: a card per plan, prices from GET /api/billing/plans (never hard-coded).

import { api, newIdempotencyKey } from "./api.js";
import { h, loadingNote, withLoading } from "./dom.js";
import { formatDate, formatMoney, intervalLabel, planRank } from "./format.js";
import { changePlan } from "./plan-change.js";
import { requireUser, showError, startPage } from "./shell.js";
import { openPortal, SUBSCRIPTION } from "./subscription-actions.js";
import { isPaid } from "./subscription-view.js";
import { toastError, toastInfo } from "./toast.js";

startPage();
const root = document.getElementById("plans");
const user = requireUser(root);

async function startCheckout(button, plan, trial) {
  try {
    const session = await withLoading(button, "Redirecting…", () =>
      api("/api/billing/checkout", { method: "POST", body: { plan: plan.plan, trial }, idempotencyKey: newIdempotencyKey() }),
    );
    toastInfo(`Checkout started for ${plan.name}. Taking you to the secure payment page…`);
    button.disabled = true;
    location.assign(session.url);
  } catch (err) {
    toastError(`Checkout failed: ${err.message}`);
  }
}

function action(plan, sub, reload) {
  const current = plan.plan === sub.plan_type && isPaid(sub);
  const onFree = !isPaid(sub);
  if (plan.plan === "free") {
    if (onFree) return null;
    return h("a", { class: "btn btn-secondary", href: "/settings/billing?cancel=1" }, "Downgrade");
  }
  if (current) {
    return h("button", { type: "button", class: "btn btn-secondary", onclick: (e) => openPortal(e.currentTarget) }, "Manage Subscription");
  }
  if (onFree) {
    const trial = plan.trial_days > 0;
    return h("button", { type: "button", class: "btn btn-primary", onclick: (e) => startCheckout(e.currentTarget, plan, trial) }, trial ? "Start trial" : "Upgrade");
  }
  const upgrade = planRank(plan.plan) > planRank(sub.plan_type);
  return h(
    "button",
    { type: "button", class: upgrade ? "btn btn-primary" : "btn btn-secondary", onclick: (e) => changePlan(e.currentTarget, { sub, target: plan, onChanged: reload }) },
    upgrade ? "Upgrade" : "Downgrade",
  );
}

// "Upgrade" alone is ambiguous to a screen reader among four cards: say which plan.
function described(control, titleId) {
  control?.setAttribute("aria-describedby", titleId);
  return control;
}

function card(plan, sub, reload) {
  const current = plan.plan === (isPaid(sub) ? sub.plan_type : "free");
  const pending = sub.pending_plan?.plan === plan.plan;
  const titleId = `plan-${plan.plan}`;
  const badges = h("div", { class: "badges" });
  if (current) badges.append(h("span", { class: "badge badge-current" }, "Current Plan"));
  if (pending) badges.append(h("span", { class: "badge badge-warning" }, `Starts ${formatDate(sub.pending_plan.effective_at)}`));
  const price = plan.amount === 0 ? "Free" : formatMoney(plan.amount, plan.currency);
  return h(
    "article",
    { class: current ? "plan-card is-current" : "plan-card", "aria-labelledby": titleId, "data-plan": plan.plan },
    h("h2", { id: titleId }, plan.name),
    badges,
    h("p", { class: "price" }, h("span", { class: "amount" }, price), plan.amount === 0 ? "" : h("span", { class: "per" }, ` / ${intervalLabel(plan)}`)),
    plan.trial_days > 0 ? h("p", { class: "trial" }, `${plan.trial_days}-day free trial`) : null,
    user.isOwner ? described(action(plan, sub, reload), titleId) : null,
  );
}

async function load() {
  root.setAttribute("aria-busy", "true");
  root.replaceChildren(loadingNote("Loading plans…"));
  try {
    const [catalogue, sub] = await Promise.all([api("/api/billing/plans"), api(SUBSCRIPTION)]);
    const plans = [...catalogue.plans].sort((a, b) => planRank(a.plan) - planRank(b.plan));
    const grid = h("div", { class: "plan-grid" }, plans.map((plan) => card(plan, sub, load)));
    const note = user.isOwner ? null : h("p", { class: "hint", "data-testid": "member-note" }, "Only the account owner can change the plan.");
    root.replaceChildren(grid, note ?? "");
  } catch (err) {
    showError(root, err, load);
  } finally {
    root.removeAttribute("aria-busy");
  }
}

if (user) load();
