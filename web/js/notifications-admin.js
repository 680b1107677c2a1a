// /admin/notifications: operators (billing:admin) read the send log of billing emails
// (GET /api/notifications/log: failed first, by status, kind and tenant, the server's
// error beside each) and preview each kind in each language
// (GET /api/notifications/preview/{kind}?locale=).
//
// The preview's HTML is not inserted as HTML: it is parsed inert (DOMParser: no script
// runs, nothing loads), then rebuilt element by element from an allow-list into a shadow
// root, its inline styles set through the CSSOM and its <style> block adopted as a
// constructed sheet (the pages' CSP allows no inline style); links keep http(s) only.

import { api } from "./api.js";
import { h, loadingNote, withLoading } from "./dom.js";
import { formatDateTime } from "./format.js";
import { KINDS, kindLabel } from "./notification-settings.js";
import { requireUser, showError, startPage } from "./shell.js";
import { toastError } from "./toast.js";

startPage();
const filters = document.getElementById("log-filters");
const results = document.getElementById("send-log");
const previewForm = document.getElementById("preview-form");
const previewBox = document.getElementById("preview");
const user = requireUser(results);

const STATUS_CLASS = { sent: "event-processed", pending: "event-pending", failed: "event-failed", skipped: "event-parked" };
const STATUS_LABEL = { sent: "Sent", pending: "Pending", failed: "Failed", skipped: "Skipped" };

for (const select of [filters.elements.kind, previewForm.elements.kind]) {
  for (const kind of Object.keys(KINDS)) select.append(h("option", { value: kind }, kindLabel(kind)));
}

function logQuery() {
  const params = new URLSearchParams({ limit: "100" });
  const status = filters.elements.status.value;
  const kind = filters.elements.kind.value;
  const tenant = filters.elements.tenant.value.trim();
  if (status) params.set("status", status);
  if (kind) params.set("kind", kind);
  if (tenant) params.set("tenant_id", tenant);
  return `/api/notifications/log?${params}`;
}

function statusBadge(status) {
  return h("span", { class: `badge ${STATUS_CLASS[status] || "event-pending"}`, "data-testid": "mail-status" }, STATUS_LABEL[status] || status);
}

function detail(entry) {
  if (entry.status === "failed" || (entry.status === "pending" && entry.last_error)) {
    return h("span", { class: "error-text" }, entry.last_error || "");
  }
  if (entry.status === "skipped") return h("span", { class: "note-text" }, entry.last_error || "");
  return h("span", { class: "note-text" }, entry.sent_at ? `Sent ${formatDateTime(entry.sent_at)}` : "");
}

function entryRow(entry) {
  return h(
    "tr",
    { "data-testid": "mail-row", "data-status": entry.status, "data-kind": entry.kind },
    h("td", {}, formatDateTime(entry.created_at)),
    h("td", {}, h("code", {}, entry.tenant_id)),
    h("td", {}, kindLabel(entry.kind)),
    h("td", {}, entry.to || "—"),
    h("td", {}, statusBadge(entry.status)),
    h("td", { class: "detail" }, detail(entry)),
    h("td", { class: "num" }, String(entry.attempts)),
    h("td", {}, h("code", {}, entry.subject_id)),
  );
}

function logTable(entries) {
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "events", "aria-label": "Billing emails, newest first" },
      h("thead", {}, h("tr", {}, ["Queued", "Tenant", "Kind", "To", "Status", "Error or note", "Attempts", "About"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, entries.map(entryRow)),
    ),
  );
}

async function loadLog(button) {
  const run = async () => {
    results.setAttribute("aria-busy", "true");
    results.replaceChildren(loadingNote("Loading emails…"));
    try {
      const { entries } = await api(logQuery());
      results.replaceChildren(
        entries.length ? logTable(entries) : h("p", { class: "empty", role: "status" }, "No emails match these filters."),
      );
    } catch (err) {
      showError(results, err, () => loadLog());
    } finally {
      results.removeAttribute("aria-busy");
    }
  };
  return button ? withLoading(button, "Loading…", run) : run();
}

// -- the preview: the mail's HTML rebuilt from an allow-list -------------------------
const ELEMENTS = new Set(["a", "b", "br", "center", "div", "em", "h2", "h3", "h4", "hr", "i", "li", "ol", "p", "small", "span", "strong", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"]);
const RENAMED = { h1: "h3", h2: "h4" }; // under the page's own h2
const DROPPED = new Set(["script", "style", "iframe", "object", "embed", "title", "meta", "link", "head", "form", "input", "button", "img", "svg", "template"]);
const ATTRIBUTES = new Set(["align", "valign", "width", "height", "colspan", "rowspan", "role", "lang", "dir", "cellpadding", "cellspacing", "border", "class"]);

function safeHref(value) {
  try {
    const url = new URL(value, location.origin);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

function rebuild(target, source) {
  for (const node of source.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      target.append(node.textContent);
      continue;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) continue;
    const tag = RENAMED[node.localName] || node.localName;
    if (DROPPED.has(tag)) continue;
    if (!ELEMENTS.has(tag)) {
      rebuild(target, node); // unknown wrapper: keep its content only
      continue;
    }
    const element = document.createElement(tag);
    for (const attribute of node.attributes) {
      const name = attribute.name.toLowerCase();
      if (name === "style") element.style.cssText = attribute.value;
      else if (name === "href" && tag === "a") {
        const href = safeHref(attribute.value);
        if (href) Object.assign(element, { href, target: "_blank", rel: "noopener noreferrer" });
      } else if (ATTRIBUTES.has(name)) element.setAttribute(name, attribute.value);
    }
    rebuild(element, node);
    target.append(element);
  }
}

export function renderMail(host, html) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  const shadow = host.shadowRoot ?? host.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  try {
    sheet.replaceSync([...doc.querySelectorAll("style")].map((style) => style.textContent).join("\n"));
  } catch {
    // an unparsable block: the inline styles still apply
  }
  shadow.adoptedStyleSheets = [sheet];
  const body = document.createElement("div");
  body.className = doc.body.className;
  body.style.cssText = doc.body.getAttribute("style") || "";
  rebuild(body, doc.body);
  if (doc.documentElement.lang) body.lang = doc.documentElement.lang;
  shadow.replaceChildren(body);
}

async function preview(button) {
  const kind = previewForm.elements.kind.value;
  const locale = previewForm.elements.locale.value;
  const run = async () => {
    previewBox.setAttribute("aria-busy", "true");
    try {
      const mail = await api(`/api/notifications/preview/${encodeURIComponent(kind)}?locale=${encodeURIComponent(locale)}`);
      const frame = h("div", { class: "mail-frame", "data-testid": "mail-html" });
      previewBox.replaceChildren(
        h("p", { class: "mail-subject" }, h("span", { class: "muted" }, "Subject: "), h("strong", { "data-testid": "mail-subject" }, mail.subject)),
        frame,
        h("details", { class: "mail-text" }, h("summary", {}, "Plain-text part"), h("pre", { "data-testid": "mail-text" }, mail.text)),
      );
      renderMail(frame, mail.html);
    } catch (err) {
      if (err.status === 401) showError(previewBox, err);
      else toastError(`Could not preview this email: ${err.message}`);
    } finally {
      previewBox.removeAttribute("aria-busy");
    }
  };
  return withLoading(button, "Loading…", run);
}

if (user) {
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    loadLog(filters.querySelector("button[type=submit]"));
  });
  previewForm.addEventListener("submit", (event) => {
    event.preventDefault();
    preview(previewForm.querySelector("button[type=submit]"));
  });
  if (!user.isOperator) document.getElementById("scope-note").hidden = false;
  loadLog();
} else {
  filters.hidden = true;
  previewForm.hidden = true;
}
