// /settings/billing, "Invoices": the tenant's invoices from GET /api/billing/invoices,
// newest first, 10 at a time ("Show more" follows next_cursor): number, date, period,
// amount, a status chip, and links to Stripe's invoice page and PDF (https only).

import { api } from "./api.js";
import { h } from "./dom.js";
import { formatDate, formatMoney } from "./format.js";
import { showError } from "./shell.js";
import { followableUrl } from "./subscription-view.js";
import { toastError } from "./toast.js";

const PAGE = 10;
const STATUS = { paid: ["Paid", "status-active"], open: ["Open", "status-past_due"], void: ["Void", "status-canceled"], uncollectible: ["Uncollectible", "status-unpaid"], draft: ["Draft", "status-trialing"] };

export function statusChip(status) {
  const [label, cls] = STATUS[status] || [status || "Unknown", "status-canceled"];
  return h("span", { class: `badge ${cls}`, "data-testid": "invoice-status", "data-status": status || "" }, label);
}

function link(url, text, label) {
  const href = followableUrl(url);
  return href ? h("a", { href, target: "_blank", rel: "noopener", "aria-label": label }, text) : null;
}

function row(invoice) {
  const name = invoice.number || invoice.id;
  const period = invoice.period_start && invoice.period_end ? `${formatDate(invoice.period_start)} – ${formatDate(invoice.period_end)}` : "";
  return h(
    "tr",
    { "data-testid": "invoice-row", "data-id": invoice.id },
    h("th", { scope: "row", "data-label": "Invoice" }, name),
    h("td", { "data-label": "Date" }, formatDate(invoice.created)),
    h("td", { "data-label": "Period" }, period),
    h("td", { "data-label": "Amount", class: "num" }, formatMoney(invoice.total ?? invoice.amount_due ?? 0, invoice.currency)),
    h("td", { "data-label": "Status" }, statusChip(invoice.status)),
    h(
      "td",
      { "data-label": "Links", class: "links" },
      link(invoice.hosted_invoice_url, "View", `View invoice ${name}`),
      " ",
      link(invoice.invoice_pdf, "PDF", `Download invoice ${name} as PDF`),
    ),
  );
}

export function mountInvoices(root) {
  let rows = [];
  let cursor = null;

  function render() {
    const more = cursor
      ? h("button", { type: "button", class: "btn btn-secondary btn-small", "data-testid": "invoices-more", onclick: (e) => next(e.currentTarget) }, "Show more invoices")
      : null;
    const table = rows.length
      ? h(
          "table",
          { class: "invoices", "aria-labelledby": "invoices-title" },
          h("thead", {}, h("tr", {}, ["Invoice", "Date", "Period", "Amount", "Status", "Links"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, rows.map(row)),
        )
      : h("p", { class: "muted" }, "No invoices yet.");
    root.replaceChildren(h("h2", { class: "section-title", id: "invoices-title" }, "Invoices"), h("div", { class: "table-wrap" }, table), more ? h("div", { class: "actions" }, more) : "");
  }

  async function fetchPage(after) {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (after) query.set("cursor", after);
    return api(`/api/billing/invoices?${query}`);
  }

  async function load() {
    try {
      const page = await fetchPage(null);
      rows = page.invoices;
      cursor = page.next_cursor;
      render();
    } catch (err) {
      showError(root, err, load);
    }
  }

  async function next(button) {
    button.disabled = true;
    try {
      const page = await fetchPage(cursor);
      rows = rows.concat(page.invoices);
      cursor = page.next_cursor;
      const focusIndex = rows.length - page.invoices.length;
      render();
      root.querySelectorAll("tbody tr th")[focusIndex]?.setAttribute("tabindex", "-1");
      root.querySelectorAll("tbody tr th")[focusIndex]?.focus();
    } catch (err) {
      button.disabled = false;
      toastError(err.message);
    }
  }

  return { load };
}
