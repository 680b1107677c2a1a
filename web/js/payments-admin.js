// /admin/payments: operators (billing:admin) work the failed-payment queue: retry a
// payment with the tenant's default card, or ask for the payment-failed email now.
// A retry's answer is only "requested": the outcome comes by Stripe's webhook, so the
// page polls the tenant's row until it leaves the queue or Stripe's attempt is recorded.

import { api, newIdempotencyKey } from "./api.js";
import { openDialog } from "./dialog.js";
import { h, loadingNote, withLoading } from "./dom.js";
import { formatDate, formatDateTime, formatMoney, planName } from "./format.js";
import { requireUser, showError, startPage } from "./shell.js";
import { toastError, toastInfo, toastSuccess } from "./toast.js";

startPage();
const form = document.getElementById("filters");
const results = document.getElementById("queue");
const user = requireUser(results);
const QUEUE = "/api/billing/admin/past-due";
const POLL_EVERY_MS = 2000;
const POLL_FOR_MS = 60000;

function query(cursor) {
  const params = new URLSearchParams({ limit: "50" });
  const status = form.elements.status.value;
  const currency = form.elements.currency.value.trim();
  if (status) params.set("status", status);
  if (currency) params.set("currency", currency);
  if (cursor) params.set("cursor", cursor);
  return `${QUEUE}?${params}`;
}

function amount(row) {
  return row.amount_due === null ? "—" : formatMoney(row.amount_due, row.currency);
}

function nextAttempt(row) {
  if (row.next_payment_attempt) return formatDateTime(row.next_payment_attempt);
  if (row.stripe_gave_up) return h("span", { class: "error-text" }, "None: Stripe gave up");
  return "—";
}

function lastEmail(row) {
  const email = row.last_email;
  if (!email) return h("span", { class: "note-text" }, "None sent");
  return [
    `${email.kind.replaceAll("_", " ")} (${email.status})`,
    h("span", { class: "sub" }, `${formatDateTime(email.sent_at)}${email.to ? ` · ${email.to}` : ""}`),
  ];
}

function lastAction(row) {
  const action = row.last_action;
  if (!action) return h("span", { class: "note-text" }, "None");
  return [
    `${action.action.replaceAll("_", " ")}: ${action.outcome.replaceAll("_", " ")}`,
    h("span", { class: "sub" }, `${action.operator} · ${formatDateTime(action.requested_at)}`),
  ];
}

function reasonField(id) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, "Reason (optional, kept in the audit)"),
    h("input", { id, name: "reason", type: "text", maxlength: "500", autocomplete: "off" }),
  );
}

function reasonOf(id) {
  const value = document.getElementById(id)?.value.trim();
  return value ? { reason: value } : {};
}

async function confirmRetry(button, row, tr) {
  const id = `reason-retry-${row.tenant_id}`;
  const key = newIdempotencyKey();
  const answer = await openDialog({
    title: `Retry the payment of ${row.tenant_id}?`,
    body: [
      h("p", {}, `Stripe charges ${amount(row)} to the tenant's default card now. The result arrives by webhook; this row updates when it does.`),
      reasonField(id),
    ],
    confirmLabel: "Retry payment",
    busyLabel: "Requesting…",
    onConfirm: () =>
      api(`/api/billing/admin/tenants/${encodeURIComponent(row.tenant_id)}/retry-payment`, {
        method: "POST",
        body: reasonOf(id),
        idempotencyKey: key,
      }),
  });
  if (!answer) return;
  const outcome = answer.action.outcome;
  if (outcome === "stripe_declined") {
    toastError(`Stripe declined the card of ${row.tenant_id}; the tenant stays in the queue.`);
  } else if (outcome === "stripe_requires_action") {
    toastInfo(`The payment of ${row.tenant_id} needs the customer to authenticate (hosted invoice).`);
  } else {
    toastInfo(`Payment retry requested for ${row.tenant_id}; waiting for Stripe's confirmation…`);
  }
  await follow(row, tr, outcome);
}

async function confirmRemind(button, row, tr) {
  const id = `reason-remind-${row.tenant_id}`;
  const answer = await openDialog({
    title: `Send ${row.tenant_id} a payment reminder?`,
    body: [
      h("p", {}, "The payment-failed email goes out now, with the link to pay. It is still sent at most once a day."),
      reasonField(id),
    ],
    confirmLabel: "Send reminder",
    busyLabel: "Requesting…",
    onConfirm: () =>
      api(`/api/billing/admin/tenants/${encodeURIComponent(row.tenant_id)}/remind`, {
        method: "POST",
        body: reasonOf(id),
      }),
  });
  if (!answer) return;
  toastSuccess(`Reminder requested for ${row.tenant_id}.`);
  tr.replaceWith(queueRow({ ...row, last_action: answer.action }));
}

// Poll the tenant's row: gone from the queue = recovered; a new attempt = declined again.
async function follow(row, tr, outcome) {
  tr.classList.add("is-waiting");
  tr.setAttribute("aria-busy", "true");
  const deadline = Date.now() + POLL_FOR_MS;
  try {
    while (Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, POLL_EVERY_MS));
      let page;
      try {
        page = await api(`${QUEUE}?${new URLSearchParams({ tenant_id: row.tenant_id })}`);
      } catch {
        continue; // a blip: try again until the deadline
      }
      const now = page.tenants[0];
      if (!now) {
        toastSuccess(`Payment recovered: ${row.tenant_id} paid and left the queue.`);
        const body = tr.parentElement;
        tr.remove();
        if (body && !body.children.length && !results.querySelector(".more")) {
          results.replaceChildren(h("p", { class: "empty", role: "status" }, "No tenant has a failed payment."));
        }
        return;
      }
      if (outcome !== "stripe_paid" && now.attempts !== row.attempts) {
        toastError(`Stripe recorded the failed attempt for ${row.tenant_id} (attempt ${now.attempts}).`);
        tr.replaceWith(queueRow(now));
        return;
      }
    }
    toastInfo(`Still waiting for Stripe about ${row.tenant_id}; refresh the queue later.`);
  } finally {
    tr.classList.remove("is-waiting");
    tr.removeAttribute("aria-busy");
  }
}

function queueRow(row) {
  const tr = h("tr", { "data-tenant-id": row.tenant_id });
  const actions = h("div", { class: "actions" });
  if (row.stripe_invoice_id) {
    actions.append(h("button", { type: "button", class: "btn btn-primary btn-small", "aria-label": `Retry payment of ${row.tenant_id}`, onclick: (e) => confirmRetry(e.currentTarget, row, tr) }, "Retry payment"));
  }
  actions.append(h("button", { type: "button", class: "btn btn-secondary btn-small", "aria-label": `Send reminder to ${row.tenant_id}`, onclick: (e) => confirmRemind(e.currentTarget, row, tr) }, "Send reminder"));
  if (row.hosted_invoice_url) {
    actions.append(h("a", { class: "btn btn-link btn-small", href: row.hosted_invoice_url, target: "_blank", rel: "noopener noreferrer" }, "Invoice"));
  }
  tr.append(
    h("td", {}, h("code", {}, row.tenant_id)),
    h("td", {}, planName(row.plan)),
    h("td", {}, h("span", { class: `badge status-${row.status}`, "data-status": row.status }, row.status_label)),
    h("td", { class: "num", "data-testid": "amount" }, amount(row)),
    h("td", { class: "num" }, row.attempts === null ? "—" : String(row.attempts)),
    h("td", {}, nextAttempt(row)),
    h("td", { class: "num" }, row.days_past_due === null ? "—" : String(row.days_past_due), row.past_due_since ? h("span", { class: "sub" }, `since ${formatDate(row.past_due_since)}`) : null),
    h("td", {}, lastEmail(row)),
    h("td", { "data-testid": "last-action" }, lastAction(row)),
    h("td", {}, actions),
  );
  return tr;
}

function table(rows) {
  return h(
    "div",
    { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Failed-payment queue" },
    h(
      "table",
      { class: "events queue" },
      h("caption", { class: "visually-hidden" }, "Tenants with a failed payment, largest amount first"),
      h("thead", {}, h("tr", {}, ["Tenant", "Plan", "Status", "Amount due", "Attempts", "Next attempt", "Days past due", "Last email", "Last action", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.map(queueRow)),
    ),
  );
}

async function load(cursor, button) {
  const run = async () => {
    if (!cursor) {
      results.setAttribute("aria-busy", "true");
      results.replaceChildren(loadingNote("Loading the queue…"));
    }
    try {
      const page = await api(query(cursor));
      if (!cursor) {
        results.replaceChildren(page.tenants.length ? table(page.tenants) : h("p", { class: "empty", role: "status" }, "No tenant has a failed payment."));
      } else {
        results.querySelector("tbody").append(...page.tenants.map(queueRow));
      }
      results.querySelector(".more")?.remove();
      if (page.next_cursor) {
        const more = h("button", { type: "button", class: "btn btn-secondary more" }, "Load more");
        more.addEventListener("click", () => load(page.next_cursor, more));
        results.append(more);
      }
    } catch (err) {
      if (cursor) toastError(`Could not load more of the queue: ${err.message}`);
      else showError(results, err, () => load());
    } finally {
      results.removeAttribute("aria-busy");
    }
  };
  return button ? withLoading(button, "Loading…", run) : run();
}

if (user) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(undefined, form.querySelector("button[type=submit]"));
  });
  if (!user.isOperator) document.getElementById("scope-note").hidden = false;
  load();
} else {
  form.hidden = true;
}
