// /admin/webhooks, "Trial extensions": an operator (billing:admin) gives a tenant more
// trial days (POST /api/billing/admin/tenants/{tenant_id}/trial: no proration, audited,
// capped) and sees the latest extensions (GET /api/billing/admin/trial-extensions).

import { api } from "./api.js";
import { h, withLoading } from "./dom.js";
import { formatDate, formatDateTime } from "./format.js";
import { currentUser } from "./session.js";
import { toastError, toastSuccess } from "./toast.js";

const form = document.getElementById("trial-extension");
const result = document.getElementById("trial-extension-result");
const recent = document.getElementById("trial-extensions");

function extensionsTable(rows) {
  if (!rows.length) return h("p", { class: "empty", role: "status" }, "No trial has been extended yet.");
  return h(
    "table",
    { class: "events", "data-testid": "trial-extensions" },
    h("caption", { class: "visually-hidden" }, "Trial extensions, newest first"),
    h("thead", {}, h("tr", {}, ["Tenant", "Days", "Trial end", "Reason", "Operator", "When"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h(
          "tr",
          { "data-tenant": r.tenant_id },
          h("td", {}, r.tenant_id),
          h("td", { class: "num" }, `+${r.extend_days}`),
          h("td", {}, `${formatDate(r.previous_trial_end)} → ${formatDate(r.new_trial_end)}`),
          h("td", {}, r.reason || "—"),
          h("td", {}, r.operator_sub),
          h("td", {}, formatDateTime(r.created_at)),
        ),
      ),
    ),
  );
}

async function loadRecent() {
  try {
    recent.replaceChildren(extensionsTable(await api("/api/billing/admin/trial-extensions?limit=20")));
  } catch (err) {
    recent.replaceChildren(h("p", { class: "error-text" }, `Could not load the extensions: ${err.message}`));
  }
}

async function extend(event) {
  event.preventDefault();
  const tenant = form.elements.tenant.value.trim();
  const days = Number(form.elements.days.value);
  const reason = form.elements.reason.value.trim();
  result.replaceChildren();
  try {
    const done = await withLoading(form.querySelector("button[type=submit]"), "Extending…", () =>
      api(`/api/billing/admin/tenants/${encodeURIComponent(tenant)}/trial`, { method: "POST", body: { extend_days: days, reason } }),
    );
    const left = done.max_extension_days - done.total_extended_days;
    result.replaceChildren(
      h(
        "p",
        { class: "notice notice-success", role: "status", "data-testid": "trial-extended" },
        `The trial of ${done.tenant_id} now ends on ${formatDate(done.trial_end)} (was ${formatDate(done.previous_trial_end)}). `,
        `${done.total_extended_days} of ${done.max_extension_days} extension days used; ${left} left. Nothing was prorated.`,
      ),
    );
    toastSuccess(`Trial extended by ${done.extend_days} days.`);
    loadRecent();
  } catch (err) {
    result.replaceChildren(h("p", { class: "notice notice-danger", role: "alert", "data-testid": "trial-extension-error" }, err.message));
    toastError(`Could not extend the trial: ${err.message}`);
  }
}

const user = currentUser();
if (form && user?.isOperator) {
  form.hidden = false;
  form.addEventListener("submit", extend);
  loadRecent();
} else if (form) {
  form.closest("section")?.setAttribute("hidden", "");
}
