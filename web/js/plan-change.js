// Changing the plan of an existing subscription: preview the proration first,
// then confirm. Upgrades apply now; downgrades at the end of the period.

import { api, newIdempotencyKey } from "./api.js";
import { openDialog } from "./dialog.js";
import { h, withLoading } from "./dom.js";
import { formatDate, formatMoney, planRank } from "./format.js";
import { toastError, toastSuccess } from "./toast.js";

export async function changePlan(button, { sub, target, onChanged }) {
  const upgrade = planRank(target.plan) > planRank(sub.plan_type);
  let preview;
  try {
    preview = await withLoading(button, "Loading preview…", () =>
      api("/api/billing/proration", { method: "POST", body: { plan: target.plan } }),
    );
  } catch (err) {
    toastError(`Could not preview the change to ${target.name}. ${err.message}`);
    return;
  }
  const periodEnd = formatDate(sub.current_period_end);
  const when = upgrade ? "Takes effect now." : `Takes effect at the end of the current period${periodEnd ? `, ${periodEnd}` : ""}.`;
  const invoiceDate = periodEnd ? `Next invoice, on ${periodEnd}` : "Next invoice";
  const rows = [
    h("dt", {}, upgrade ? "Prorated amount for the rest of this period" : "Charged now"),
    h("dd", { "data-testid": "proration-amount" }, formatMoney(upgrade ? preview.proration_amount : 0, preview.currency)),
    h("dt", {}, invoiceDate),
    h("dd", { "data-testid": "next-invoice" }, formatMoney(preview.next_invoice_amount, preview.currency)),
  ];
  await openDialog({
    title: `${upgrade ? "Upgrade" : "Downgrade"} to ${target.name}`,
    body: [
      h("p", { "data-testid": "effective" }, when),
      h("dl", { class: "facts" }, rows),
      h("p", { class: "hint" }, upgrade ? `You get ${target.name} right away; the prorated difference is added to your next invoice.` : "You keep your current plan until then; nothing is charged now."),
    ],
    confirmLabel: upgrade ? `Upgrade to ${target.name}` : `Downgrade to ${target.name}`,
    busyLabel: upgrade ? "Upgrading…" : "Scheduling…",
    opener: button,
    // a failure shows in the dialog only: one error per failure
    onConfirm: async () => {
      const result = await api("/api/billing/subscription/plan", {
        method: "POST",
        body: { plan: target.plan, proration_date: preview.proration_date },
        idempotencyKey: newIdempotencyKey(),
      });
      if (result.effective === "now") {
        toastSuccess(`Plan upgraded: you are now on ${target.name}.`);
      } else {
        const on = formatDate(result.pending_plan?.effective_at || result.current_period_end);
        toastSuccess(`Plan downgrade scheduled: ${target.name} from ${on}.`);
      }
      onChanged(result);
      return result;
    },
  });
}
