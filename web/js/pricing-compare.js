// /pricing's monthly/yearly switch and its comparison table (plans as columns, features
// and limits as rows, the current plan marked, the right button per column). What each
// plan includes comes from GET /api/billing/plans (the domain's plan catalogue).

import { h } from "./dom.js";
import { isPaid } from "./subscription-view.js";

// The price of `plan` for the interval shown: { amount, currency, interval }.
export function priceFor(plan, interval) {
  const price = plan.prices?.[interval];
  if (price) return { ...price, interval };
  return { amount: plan.amount, currency: plan.currency, interval: plan.interval };
}

export function intervalSwitch(plans, interval, onChange) {
  const saving = Math.max(0, ...plans.map((p) => p.yearly_saving_percent || 0));
  const option = (value, label) =>
    h(
      "label",
      { class: value === interval ? "segment is-selected" : "segment" },
      h("input", { type: "radio", name: "interval", value, checked: value === interval, onchange: () => onChange(value) }),
      ` ${label}`,
    );
  return h(
    "fieldset",
    { class: "interval-switch", "data-testid": "interval-switch" },
    h("legend", {}, "Billing"),
    option("month", "Monthly"),
    option("year", saving ? `Yearly (save ${saving}%)` : "Yearly"),
  );
}

function cell(row, plan) {
  const value = row.kind === "limit" ? plan.limits?.[row.key] : plan.features?.[row.key];
  if (row.kind === "limit") return value === null || value === undefined ? "Unlimited" : Number(value).toLocaleString("en-US");
  if (row.kind === "support") return value ? String(value).charAt(0).toUpperCase() + String(value).slice(1) : "—";
  return value ? h("span", { "aria-label": "Included" }, "✓") : h("span", { "aria-label": "Not included" }, "—");
}

export function comparisonTable(catalogue, plans, sub, actionFor) {
  const rows = catalogue.comparison || [];
  if (!rows.length) return "";
  const current = isPaid(sub) ? sub.plan_type : "free";
  const head = h(
    "tr",
    {},
    h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Feature")),
    plans.map((plan) =>
      h(
        "th",
        { scope: "col", "data-plan": plan.plan, class: plan.plan === current ? "is-current" : null },
        plan.name,
        plan.plan === current ? h("span", { class: "badge badge-current", "data-testid": "compare-current" }, "Current") : null,
      ),
    ),
  );
  const body = rows.map((row) =>
    h("tr", { "data-row": row.key }, h("th", { scope: "row" }, row.label), plans.map((plan) => h("td", { "data-plan": plan.plan }, cell(row, plan)))),
  );
  const foot = h(
    "tr",
    {},
    h("th", { scope: "row" }, h("span", { class: "visually-hidden" }, "Choose")),
    plans.map((plan) => h("td", { "data-plan": plan.plan }, plan.plan === current && !sub.pending_plan ? h("span", { class: "hint" }, "Current") : actionFor(plan) ?? "")),
  );
  return h(
    "div",
    { class: "table-wrap" },
    h("table", { class: "invoices compare", "data-testid": "compare" }, h("caption", {}, "Compare plans"), h("thead", {}, head), h("tbody", {}, body), h("tfoot", {}, foot)),
  );
}
