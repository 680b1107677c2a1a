// Owner actions on the subscription: Customer Portal, cancel (typing CANCEL), resume.

import { api, newIdempotencyKey } from "./api.js";
import { openDialog } from "./dialog.js";
import { h, withLoading } from "./dom.js";
import { formatDate, planName } from "./format.js";
import { toastError, toastInfo, toastSuccess } from "./toast.js";

export const SUBSCRIPTION = "/api/billing/subscription";

// The portal opens in a new tab. The tab is opened during the click (so no popup
// blocker interferes) and pointed at the portal once the API answers.
export async function openPortal(button) {
  const tab = window.open("about:blank", "_blank");
  try {
    const { url } = await withLoading(button, "Opening…", () => api("/api/billing/checkout"));
    if (tab && !tab.closed) {
      tab.opener = null;
      tab.location.href = url;
      toastInfo("The billing portal opened in a new tab. This page updates when you come back.");
    } else {
      location.assign(url);
    }
  } catch (err) {
    tab?.close();
    toastError(`Could not open the billing portal. ${err.message}`);
  }
}

export function confirmCancel(sub, onUpdate, opener) {
  const endDate = formatDate(sub.current_period_end);
  const pending = sub.pending_plan;
  const dropsChange = pending
    ? h("p", { class: "dialog-warning", "data-testid": "drops-pending" }, `You have a change to ${planName(pending.plan)} scheduled for ${formatDate(pending.effective_at)}. Cancelling drops that change: your subscription ends instead.`)
    : null;
  const inputId = "cancel-confirm-input";
  const input = h("input", { id: inputId, name: "confirm", type: "text", autocomplete: "off", spellcheck: "false", "aria-describedby": "cancel-hint" });
  return openDialog({
    title: "Cancel subscription?",
    body: [
      h("p", {}, endDate ? `Your subscription stays active until the end of the current period, ${endDate}.` : "Your subscription stays active until the end of the current period."),
      dropsChange,
      h("p", {}, "After that your account moves to the Free plan and you will not be charged again. You can resume any time before then."),
      h("label", { for: inputId }, "Type CANCEL to confirm"),
      input,
      h("p", { id: "cancel-hint", class: "hint" }, "Capital letters, exactly as shown."),
    ],
    confirmLabel: "Cancel subscription",
    busyLabel: "Cancelling…",
    cancelLabel: "Keep subscription",
    danger: true,
    opener,
    confirmEnabled: false,
    setup: ({ setConfirmEnabled }) => {
      input.addEventListener("input", () => setConfirmEnabled(input.value.trim() === "CANCEL"));
    },
    onConfirm: async () => {
      try {
        const updated = await api(SUBSCRIPTION, { method: "DELETE", idempotencyKey: newIdempotencyKey() });
        const until = formatDate(updated.current_period_end);
        toastSuccess(until ? `Cancellation scheduled. Your subscription ends on ${until}.` : "Cancellation scheduled.");
        onUpdate(updated);
        return updated;
      } catch (err) {
        throw err; // shown in the dialog: one error per failure
      }
    },
  });
}

export async function resume(button, onUpdate) {
  try {
    const updated = await withLoading(button, "Resuming…", () =>
      api(`${SUBSCRIPTION}/resume`, { method: "POST", idempotencyKey: newIdempotencyKey() }),
    );
    const renews = formatDate(updated.current_period_end);
    toastSuccess(renews ? `Subscription resumed. It renews on ${renews}.` : "Subscription resumed.");
    onUpdate(updated);
  } catch (err) {
    toastError(`Could not resume the subscription. ${err.message}`);
  }
}
