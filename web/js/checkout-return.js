// /settings: where Stripe Checkout sends the browser back.
// ?success=true&session_id=...: verify the session server-side, say how it went,
// then drop the query from the URL. ?canceled=true: a neutral notice.

import { api } from "./api.js";
import { mountBilling } from "./billing-panel.js";
import { h, loadingNote } from "./dom.js";
import { planName } from "./format.js";
import { requireUser, startPage } from "./shell.js";
import { toastError, toastInfo, toastSuccess } from "./toast.js";

startPage();
const root = document.getElementById("billing");
const status = document.getElementById("checkout-status");
const params = new URLSearchParams(location.search);
const user = requireUser(root);

function cleanUrl() {
  history.replaceState(history.state, "", location.pathname);
}

async function verify(sessionId, billing) {
  status.replaceChildren(loadingNote("Verifying your payment…"));
  try {
    const result = await api("/api/billing/verify-session", { method: "POST", body: { session_id: sessionId } });
    if (result.verified) {
      const name = planName(result.plan);
      if (result.trial) toastSuccess(`Trial verified: your ${name} trial has started.`);
      else toastSuccess(`Payment successful: you are now on the ${name} plan.`);
      status.replaceChildren(loadingNote("Updating your subscription…"));
      const sub = await billing.waitFor((s) => s.plan_type === result.plan);
      status.replaceChildren(
        sub?.plan_type === result.plan ? "" : h("p", { class: "notice", role: "status" }, "Your payment is verified; your subscription will show the new plan in a moment."),
      );
    } else {
      const state = result.payment_status || result.status || "unknown";
      toastError(`Payment verification failed (${state}). You have not been upgraded; if you were charged, contact support.`);
      status.replaceChildren(h("p", { class: "notice notice-danger", role: "alert" }, "We could not verify this checkout. Your plan is unchanged."));
    }
    cleanUrl();
  } catch (err) {
    if (err.isNetwork) {
      toastError("Network error: we could not verify your payment. Check your connection and try again.");
    } else {
      toastError(`Payment verification failed: ${err.message}`);
    }
    cleanUrl();
    const retry = h("button", { type: "button", class: "btn btn-secondary", onclick: () => verify(sessionId, billing) }, "Verify again");
    status.replaceChildren(h("div", { class: "notice notice-danger", role: "alert" }, h("p", {}, err.message), retry));
  }
}

if (user) {
  const billing = mountBilling(root, user);
  const loaded = billing.load();
  const sessionId = params.get("session_id");
  if (params.get("success") === "true" && sessionId) {
    await loaded;
    await verify(sessionId, billing);
  } else if (params.get("canceled") === "true") {
    toastInfo("Checkout canceled. You have not been charged.");
    cleanUrl();
  }
} else if (params.has("success") || params.has("canceled")) {
  status.replaceChildren(h("p", { class: "notice" }, "Sign in to see the result of your checkout."));
}
