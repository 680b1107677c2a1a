// /settings: where Stripe Checkout sends the browser back.
// ?success=true&session_id=...: verify the session server-side, say how it went in ONE
// place (a notice, or a toast for success), worded for the state the subscription is
// in, then drop the query from the URL. ?canceled=true: a neutral notice.

import { api } from "./api.js";
import { mountBilling } from "./billing-panel.js";
import { h, loadingNote } from "./dom.js";
import { planName } from "./format.js";
import { requireUser, signInAgain, startPage } from "./shell.js";
import { describeSubscription } from "./subscription-state.js";
import { toastInfo, toastSuccess } from "./toast.js";

startPage();
const root = document.getElementById("billing");
const status = document.getElementById("checkout-status");
const params = new URLSearchParams(location.search);
const user = requireUser(root);

function cleanUrl() {
  history.replaceState(history.state, "", location.pathname);
}

function notice(tone, text, ...extra) {
  return h("div", { class: `notice notice-${tone}`, role: tone === "danger" ? "alert" : "status", "data-testid": "checkout-result" }, h("p", {}, text), ...extra);
}

const toPricing = () => h("a", { class: "btn btn-secondary", href: "/pricing" }, "Back to plans");

// Not verified: what Stripe's session says, beside what the subscription shows.
function unverified(result, sub) {
  const model = sub ? describeSubscription(sub, { user }) : null;
  if (model?.banner && ["requires_action", "payment_failed", "payment_overdue"].includes(model.banner.kind)) {
    return notice("warning", "Your subscription is created but the first payment is not complete yet. Finish it below to start your plan.");
  }
  if (result.status === "expired") return notice("info", "This checkout expired before it was completed. Nothing was charged.", toPricing());
  if (result.status === "open") return notice("info", "This checkout is not finished yet. Nothing was charged.", toPricing());
  if (result.payment_status === "unpaid") return notice("warning", "The payment of this checkout is not complete yet. We will update your plan as soon as it is.");
  return notice("warning", "We could not confirm this checkout yet. Your plan will update as soon as the payment is confirmed.", toPricing());
}

async function verify(sessionId, billing) {
  status.replaceChildren(loadingNote("Verifying your payment…"));
  try {
    const result = await api("/api/billing/verify-session", { method: "POST", body: { session_id: sessionId } });
    cleanUrl();
    if (!result.verified) {
      const sub = await billing.load();
      status.replaceChildren(unverified(result, sub));
      return;
    }
    const name = planName(result.plan);
    status.replaceChildren(loadingNote("Updating your subscription…"));
    // the projection catches up with Stripe a moment later: show the plan (and say so)
    // once it has, never the "Incomplete" a 3-D Secure payment passes through on the way
    const sub = await billing.waitFor((s) => s.plan_type === result.plan && s.status !== "incomplete", { quiet: true });
    if (result.trial) toastSuccess(`Your ${name} trial has started.`);
    else toastSuccess(`Payment successful: you are now on the ${name} plan.`);
    status.replaceChildren(
      sub?.plan_type === result.plan && sub.status !== "incomplete" ? "" : notice("info", "Your payment is confirmed; your subscription will show the new plan in a moment."),
    );
  } catch (err) {
    cleanUrl();
    if (!billing.current) billing.load();
    if (err.status === 401) {
      signInAgain(status, err);
      return;
    }
    const retry = h("button", { type: "button", class: "btn btn-secondary", onclick: () => verify(sessionId, billing) }, "Verify again");
    const text = err.isNetwork ? "We could not reach the server to confirm your checkout. Check your connection and try again." : err.message;
    status.replaceChildren(notice("danger", text, err.status === 404 ? toPricing() : retry));
  }
}

if (user) {
  const billing = mountBilling(root, user);
  const sessionId = params.get("session_id");
  if (params.get("success") === "true" && sessionId) {
    // back from Checkout: the subscription is shown once verified and caught up, not the
    // state the projection held a moment before (Free, or Incomplete during 3-D Secure)
    root.replaceChildren(loadingNote("Loading your subscription…"));
    await verify(sessionId, billing);
  } else {
    billing.load();
    if (params.get("canceled") === "true") {
      toastInfo("Checkout canceled. You have not been charged.");
      cleanUrl();
    }
  }
} else if (params.has("success") || params.has("canceled")) {
  status.replaceChildren(h("p", { class: "notice" }, "Sign in to see the result of your checkout."));
}
