// Adding or replacing a card: Stripe Checkout in setup mode, our own flow
// (POST /api/billing/payment-methods/setup). Its return (/settings/billing?setup=complete)
// is verified server-side, and the card saved becomes the default (the next retry
// charges it).

import { api, newIdempotencyKey } from "./api.js";
import { withLoading } from "./dom.js";
import { toastError } from "./toast.js";

export async function startSetup(button) {
  const go = async () => {
    const { url } = await api("/api/billing/payment-methods/setup", { method: "POST", idempotencyKey: newIdempotencyKey() });
    location.assign(url);
  };
  try {
    if (button) await withLoading(button, "Opening…", go);
    else await go();
  } catch (err) {
    toastError(err.message);
  }
}
