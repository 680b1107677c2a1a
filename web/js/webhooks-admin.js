// /admin/webhooks: operators (billing:admin) see events that need attention and replay them.

import { api } from "./api.js";
import { h, loadingNote, withLoading } from "./dom.js";
import { formatDateTime } from "./format.js";
import { requireUser, showError, startPage } from "./shell.js";
import { toastError, toastSuccess } from "./toast.js";

startPage();
const form = document.getElementById("filters");
const results = document.getElementById("events");
const user = requireUser(results);
const REPLAYABLE = new Set(["failed", "parked"]);

function query(cursor) {
  const params = new URLSearchParams({ limit: "50" });
  const status = form.elements.status.value;
  const type = form.elements.type.value.trim();
  if (status) params.set("status", status);
  if (type) params.set("type", type);
  if (cursor) params.set("cursor", cursor);
  return `/api/webhooks/events?${params}`;
}

async function replay(button, event, row) {
  try {
    const updated = await withLoading(button, "Replaying…", () =>
      api(`/api/webhooks/events/${encodeURIComponent(event.event_id)}/replay`, { method: "POST" }),
    );
    toastSuccess(`Replay succeeded: ${event.event_id} is queued for processing (${updated.status}).`);
    row.replaceWith(eventRow(updated));
  } catch (err) {
    toastError(`Replay failed for ${event.event_id}: ${err.message}`);
  }
}

function eventRow(event) {
  const row = h("tr", { "data-event-id": event.event_id });
  const detail = event.error_message
    ? h("span", { class: "error-text" }, event.error_message)
    : h("span", { class: "note-text" }, event.note || "");
  const replayCell = h("td", {});
  if (REPLAYABLE.has(event.status)) {
    replayCell.append(h("button", { type: "button", class: "btn btn-secondary btn-small", "aria-label": `Replay ${event.event_id}`, onclick: (e) => replay(e.currentTarget, event, row) }, "Replay"));
  }
  row.append(
    h("td", {}, h("code", {}, event.event_id)),
    h("td", {}, event.event_type),
    h("td", {}, event.tenant_id || "—"),
    h("td", {}, h("span", { class: `badge event-${event.status}` }, event.status)),
    h("td", { class: "detail" }, detail),
    h("td", { class: "num" }, String(event.retry_count)),
    h("td", {}, formatDateTime(event.received_at)),
    replayCell,
  );
  return row;
}

function table(events) {
  return h(
    "table",
    { class: "events" },
    h("caption", { class: "visually-hidden" }, "Webhook events, newest first"),
    h("thead", {}, h("tr", {}, ["Event", "Type", "Tenant", "Status", "Error or note", "Retries", "Received", "Action"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, events.map(eventRow)),
  );
}

async function load(cursor, button) {
  const run = async () => {
    if (!cursor) {
      results.setAttribute("aria-busy", "true");
      results.replaceChildren(loadingNote("Loading events…"));
    }
    try {
      const page = await api(query(cursor));
      if (!cursor) {
        results.replaceChildren(page.events.length ? table(page.events) : h("p", { class: "empty", role: "status" }, "No events match these filters."));
      } else {
        results.querySelector("tbody").append(...page.events.map(eventRow));
      }
      results.querySelector(".more")?.remove();
      if (page.next_cursor) {
        const more = h("button", { type: "button", class: "btn btn-secondary more" }, "Load more");
        more.addEventListener("click", () => load(page.next_cursor, more));
        results.append(more);
      }
    } catch (err) {
      if (cursor) toastError(`Could not load more events: ${err.message}`);
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
  if (!user.isOperator) {
    document.getElementById("scope-note").hidden = false;
  }
  load();
} else {
  form.hidden = true;
}
