// /pricing's view of where the tenant stands (from the presentation model): the status
// chip, trial days left, a past-due warning with a link to fix it; and whether a free
// trial may still be offered.

import { api } from "./api.js";
import { h } from "./dom.js";
import { describeSubscription } from "./subscription-state.js";

const TRIAL_BANNERS = new Set(["trial_ending", "paused"]);

export { trialDaysLeft } from "./subscription-state.js";

export function currentState(sub, plans) {
  const model = describeSubscription(sub, { plans });
  const parts = [h("span", {}, "Your plan: ", h("strong", {}, model.plan.name)), h("span", { class: `badge tone-${model.status.tone}`, "data-testid": "pricing-status", "data-status": model.status.key }, model.status.label)];
  const days = model.facts.trialDaysLeft;
  if (days !== null) parts.push(h("span", { "data-testid": "trial-left" }, days === 1 ? "1 day left in your trial" : `${days} days left in your trial`));
  else if (model.dateLine) parts.push(h("span", { class: "hint" }, model.dateLine.text));
  const summary = h("div", { class: "pricing-state", "data-testid": "pricing-state" }, parts);
  if (model.banner && TRIAL_BANNERS.has(model.banner.kind)) {
    // the trial's own warning, as the billing page words it, with the way to act on it
    const trial = h(
      "p",
      { class: `notice notice-${model.banner.tone}`, role: "status", "data-testid": "pricing-trial", "data-kind": model.banner.kind },
      h("strong", {}, model.banner.title), ". ", model.banner.text, " ",
      h("a", { href: "/settings/billing" }, "Add a card"),
    );
    return h("div", {}, summary, trial);
  }
  if (!model.banner || !["danger", "warning"].includes(model.banner.tone)) return summary;
  const warning = h(
    "p",
    { class: `notice notice-${model.banner.tone}`, role: "alert", "data-testid": "pricing-warning" },
    h("strong", {}, model.banner.title), ". ",
    h("a", { href: "/settings/billing" }, model.banner.kind === "requires_action" ? "Confirm your payment" : "Fix your payment"),
    " before changing plans.",
  );
  return h("div", {}, summary, warning);
}

// A tenant that has had a trial gets none again: GET /api/billing/checkout/trial ->
// { "trial_available": bool } (checkout's trials_used). Not answered (an older gateway):
// offer none if the subscription shows a trial.
export async function trialIsAvailable(sub) {
  if (typeof sub.trial_available === "boolean") return sub.trial_available;
  try {
    const answer = await api("/api/billing/checkout/trial");
    if (typeof answer?.trial_available === "boolean") return answer.trial_available;
  } catch {
    // not deployed: fall back on what the subscription shows
  }
  return !sub.trial_end && sub.status !== "trialing";
}
