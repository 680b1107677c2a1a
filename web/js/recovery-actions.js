// What the banner's buttons do: pay the open invoice now, update or add a card.
// Links (confirm payment, view invoice, choose a plan) need no code.

import { api, newIdempotencyKey } from "./api.js";
import { withLoading } from "./dom.js";
import { startSetup } from "./card-setup.js";
import { resume } from "./subscription-actions.js";
import { toastError, toastSuccess } from "./toast.js";

// Tells the billing panel to re-read the subscription until the change shows.
export function requestRefresh(until) {
  document.dispatchEvent(new CustomEvent("billing:refresh", { detail: { until } }));
}

// POST /api/billing/invoices/{id}/pay (architecture 8.4). Where it is not deployed yet
// the hosted invoice page takes the payment.
async function payNow(button, { sub }) {
  const failed = sub.payment_failed;
  try {
    await withLoading(button, "Paying…", () =>
      api(`/api/billing/invoices/${encodeURIComponent(failed.invoice_id)}/pay`, { method: "POST", idempotencyKey: newIdempotencyKey() }),
    );
    toastSuccess("Payment received. Thank you!");
    requestRefresh((s) => !s.payment_failed);
  } catch (err) {
    if ((err.status === 404 || err.status === 405) && failed.hosted_invoice_url) {
      window.open(failed.hosted_invoice_url, "_blank", "noopener");
      return;
    }
    toastError(err.message);
  }
}

// "Update card" and "Add a card", on every page that shows the banner: our own setup flow
// (Checkout in setup mode), never the portal. Its return makes the new card the default.
const HANDLERS = {
  pay_now: payNow,
  update_card: (button) => startSetup(button),
  add_card: (button) => startSetup(button),
  resume: (button, { onUpdate }) => resume(button, onUpdate),
};

export function runAction(kind, button, ctx) {
  const handler = HANDLERS[kind];
  if (handler) return handler(button, ctx);
  return undefined;
}

// Other pages' parts add a handler for a new action kind here.
export function registerAction(kind, handler) {
  HANDLERS[kind] = handler;
}
