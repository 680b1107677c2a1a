// Convert a trial now (architecture 8.3): the charge is shown before the owner confirms
// (POST /api/billing/subscription/trial/end/preview), then
// POST /api/billing/subscription/trial/end ends the trial and charges it at once.

import { api, newIdempotencyKey } from "./api.js";
import { openDialog } from "./dialog.js";
import { h, withLoading } from "./dom.js";
import { formatDate, formatMoney, planName } from "./format.js";
import { SUBSCRIPTION } from "./subscription-actions.js";
import { toastError, toastSuccess } from "./toast.js";

export async function confirmEndTrial(sub, onUpdate, opener, plans = []) {
  let preview;
  try {
    preview = await withLoading(opener, "Checking the charge…", () => api(`${SUBSCRIPTION}/trial/end/preview`, { method: "POST" }));
  } catch (err) {
    toastError(`Could not show what ending the trial costs. ${err.message}`);
    return undefined;
  }
  const plan = planName(sub.plan_type, plans);
  const amount = formatMoney(preview.amount_due, preview.currency);
  const renews = preview.period_end ? formatDate(preview.period_end) : null;
  return openDialog({
    title: "End your trial now?",
    body: [
      h("p", { "data-testid": "trial-end-charge" }, `Your card is charged ${amount} now for ${plan}.`),
      h("p", {}, renews ? `Your trial ends today and ${plan} renews on ${renews}.` : `Your trial ends today.`),
    ],
    confirmLabel: `Pay ${amount} now`,
    busyLabel: "Charging…",
    cancelLabel: "Keep my trial",
    opener,
    onConfirm: async () => {
      const updated = await api(`${SUBSCRIPTION}/trial/end`, { method: "POST", idempotencyKey: newIdempotencyKey() });
      toastSuccess(`Your trial has ended: ${plan} is active and ${amount} was charged.`);
      onUpdate(updated);
      return updated;
    },
  });
}
