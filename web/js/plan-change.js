// Changing the plan (or the billing interval) of an existing subscription: the owner
// chooses "Now" or "At renewal" and sees Stripe's preview for that very choice beside it,
// then confirms. Defaults: upgrades now, downgrades at renewal; a yearly price moves to
// monthly at renewal only (the API answers 422 when_not_possible otherwise).

import { api, newIdempotencyKey } from "./api.js";
import { openDialog } from "./dialog.js";
import { h, withLoading } from "./dom.js";
import { formatDate, formatMoney, planRank } from "./format.js";
import { toastError, toastSuccess } from "./toast.js";

const INTERVAL_RANK = { month: 0, year: 1 };

function direction(sub, target, interval) {
  const byPlan = planRank(target.plan) - planRank(sub.plan_type);
  if (byPlan !== 0) return byPlan > 0 ? "upgrade" : "downgrade";
  return INTERVAL_RANK[interval] > INTERVAL_RANK[sub.interval || "month"] ? "upgrade" : "downgrade";
}

function preview(target, interval, when) {
  return api("/api/billing/proration", { method: "POST", body: { plan: target.plan, interval, when } });
}

export async function changePlan(button, { sub, target, interval = sub.interval || "month", onChanged }) {
  const kind = direction(sub, target, interval);
  const shorter = INTERVAL_RANK[interval] < INTERVAL_RANK[sub.interval || "month"];
  let when = kind === "upgrade" ? "now" : "period_end";
  let shown;
  try {
    shown = await withLoading(button, "Loading preview…", () => preview(target, interval, when));
  } catch (err) {
    toastError(`Could not preview the change to ${target.name}. ${err.message}`);
    return;
  }
  const renewal = formatDate(sub.current_period_end);
  const effective = h("p", { "data-testid": "effective" });
  const charged = h("dd", { "data-testid": "proration-amount" });
  const next = h("dd", { "data-testid": "next-invoice" });
  const chargedLabel = h("dt", {});
  const hint = h("p", { class: "hint" });
  const render = () => {
    const now = shown.effective === "now";
    effective.textContent = now ? "Takes effect now." : `Takes effect at the end of the current period${renewal ? `, ${renewal}` : ""}.`;
    chargedLabel.textContent = now ? "Prorated amount for the rest of this period" : "Charged now";
    charged.textContent = formatMoney(now ? shown.proration_amount : 0, shown.currency);
    next.textContent = formatMoney(shown.next_invoice_amount, shown.currency);
    hint.textContent = now
      ? `You get ${target.name} right away; the prorated difference is settled on the invoice.`
      : "You keep your current plan until then; nothing is charged now.";
  };
  render();
  const choice = (value, label, disabled) =>
    h(
      "label",
      { class: "choice" },
      h("input", {
        type: "radio",
        name: "when",
        value,
        checked: value === when,
        disabled,
        onchange: async (event) => {
          when = value;
          const group = event.currentTarget.closest("fieldset");
          group?.setAttribute("aria-busy", "true");
          try {
            shown = await preview(target, interval, when);
            render();
          } catch (err) {
            hint.textContent = `Could not preview this choice. ${err.message}`;
          } finally {
            group?.removeAttribute("aria-busy");
          }
        },
      }),
      ` ${label}`,
    );
  const whenGroup = h(
    "fieldset",
    { class: "when", "data-testid": "when" },
    h("legend", {}, "When"),
    choice("now", "Now", shorter),
    choice("period_end", renewal ? `At renewal (${renewal})` : "At renewal", false),
    shorter ? h("p", { class: "hint" }, "A yearly plan moves to monthly billing at renewal.") : null,
  );
  const title = `${kind === "upgrade" ? "Upgrade" : "Downgrade"} to ${target.name}${interval !== (sub.interval || "month") ? `, billed ${interval === "year" ? "yearly" : "monthly"}` : ""}`;
  await openDialog({
    title,
    body: [whenGroup, effective, h("dl", { class: "facts" }, chargedLabel, charged, h("dt", {}, renewal ? `Next invoice, on ${renewal}` : "Next invoice"), next), hint],
    confirmLabel: kind === "upgrade" ? `Upgrade to ${target.name}` : `Downgrade to ${target.name}`,
    busyLabel: kind === "upgrade" ? "Upgrading…" : "Scheduling…",
    opener: button,
    // a failure shows in the dialog only: one error per failure
    onConfirm: async () => {
      const result = await api("/api/billing/subscription/plan", {
        method: "POST",
        body: { plan: target.plan, interval, when, proration_date: shown.proration_date },
        idempotencyKey: newIdempotencyKey(),
      });
      if (result.effective === "now") {
        toastSuccess(`Plan ${kind === "upgrade" ? "upgraded" : "changed"}: you are now on ${target.name}.`);
      } else {
        const on = formatDate(result.pending_plan?.effective_at || result.current_period_end);
        toastSuccess(`Plan ${kind === "upgrade" ? "change" : "downgrade"} scheduled: ${target.name} from ${on}.`);
      }
      onChanged(result);
      return result;
    },
  });
}

// Undo a scheduled change (DELETE /api/billing/subscription/pending-change): the tenant
// keeps its plan and price.
export async function keepCurrentPlan(button, { currentName, onChanged }) {
  try {
    const result = await withLoading(button, "Keeping…", () =>
      api("/api/billing/subscription/pending-change", { method: "DELETE", idempotencyKey: newIdempotencyKey() }),
    );
    toastSuccess(`Scheduled change undone: you stay on ${currentName}.`);
    onChanged(result);
  } catch (err) {
    toastError(`Could not undo the scheduled change. ${err.message}`);
  }
}
