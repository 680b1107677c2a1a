// Loads the tenant's subscription into a container and keeps it current: again
// when the tab comes back into view (after the portal), and on request.

import { api } from "./api.js";
import { loadingNote } from "./dom.js";
import { showError } from "./shell.js";
import { SUBSCRIPTION } from "./subscription-actions.js";
import { subscriptionFacts } from "./subscription-state.js";
import { subscriptionPanel } from "./subscription-view.js";
import { toastError, toastSuccess } from "./toast.js";

const FAILURE_SEEN = "billing.paymentFailureSeen";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function mountBilling(root, user) {
  let plans = [];
  let current = null;

  // A failure seen earlier in this tab (also before the portal round trip) that is
  // gone now means the new payment method paid the invoice.
  function announceChange(before, after) {
    const seenFailure = sessionStorage.getItem(FAILURE_SEEN) === "1";
    if (after.payment_failed) {
      sessionStorage.setItem(FAILURE_SEEN, "1");
      if (before && !before.payment_failed) toastError("A payment failed. See the banner to fix it.");
    } else if (seenFailure || before?.payment_failed) {
      sessionStorage.removeItem(FAILURE_SEEN);
      // A failure gone with the subscription (Stripe gave up and canceled) was not paid:
      // the banner explains that. One message per payment: not after the action's own.
      const paid = subscriptionFacts(after).paid;
      if (paid && !document.querySelector(".toast-success")) toastSuccess("Your outstanding invoice is paid. Thank you!");
    }
  }

  function render(sub) {
    announceChange(current, sub);
    current = sub;
    root.replaceChildren(subscriptionPanel(sub, { plans, user, onUpdate: render }));
    root.dispatchEvent(new CustomEvent("billing:rendered", { bubbles: true, detail: { sub } }));
  }

  async function loadPlans() {
    const catalogue = await api("/api/billing/plans").catch(() => null); // names and prices are a nicety here
    plans = catalogue?.plans ?? [];
  }

  async function load() {
    root.setAttribute("aria-busy", "true");
    root.replaceChildren(loadingNote("Loading your subscription…"));
    try {
      const [sub] = await Promise.all([api(SUBSCRIPTION), loadPlans()]);
      render(sub);
      return sub;
    } catch (err) {
      showError(root, err, load);
      return null;
    } finally {
      root.removeAttribute("aria-busy");
    }
  }

  // Re-read without a spinner; errors leave the page as it is.
  async function refresh() {
    try {
      const sub = await api(SUBSCRIPTION);
      if (JSON.stringify(sub) !== JSON.stringify(current)) render(sub);
      return sub;
    } catch {
      return current;
    }
  }

  // Billing events arrive a moment after Stripe: poll until `done(sub)` or give up.
  // `quiet`: show nothing in between (a loading note, then the state awaited or, on giving
  // up, the last one read): a checkout return must not flash the states Stripe passed
  // through on the way (a 3-D Secure payment's "Incomplete" before "Active").
  async function waitFor(done, { attempts = 20, interval = 1000, quiet = false } = {}) {
    if (!quiet) {
      for (let i = 0; i < attempts; i += 1) {
        const sub = await refresh();
        if (sub && done(sub)) return sub;
        await sleep(interval);
      }
      return current;
    }
    root.setAttribute("aria-busy", "true");
    if (!current) root.replaceChildren(loadingNote("Loading your subscription…"));
    let last = null;
    try {
      await loadPlans();
      for (let i = 0; i < attempts; i += 1) {
        last = (await api(SUBSCRIPTION).catch(() => null)) ?? last;
        if (last && done(last)) break;
        await sleep(interval);
      }
    } finally {
      root.removeAttribute("aria-busy");
    }
    if (!last) return load(); // never read: the page's error state, with a retry
    render(last);
    return last;
  }

  // A banner action (pay now ...) asks to re-read until its effect shows.
  document.addEventListener("billing:refresh", (event) => {
    const until = event.detail?.until;
    if (until) waitFor(until, { attempts: 15 });
    else refresh();
  });

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && current) refresh();
  });

  return { load, refresh, waitFor, get current() { return current; } };
}
