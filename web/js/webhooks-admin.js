// /admin/webhooks: operators (billing:admin) see events that need attention and replay them.

import { api } from "./api.js";
import { h, loadingNote, withLoading } from "./dom.js";
import { formatDateTime } from "./format.js";
import { requireUser, showError, startPage } from "./shell.js";
import { toastError, toastInfo, toastSuccess } from "./toast.js";

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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const SETTLED = new Set(["processed", "failed", "parked"]);

// A replay only queues the event: follow it (GET /api/webhooks/events/{id}) and update the
// row in place until the worker has processed it or it failed again.
async function follow(eventId, row, { attempts = 40, interval = 1500 } = {}) {
  let current = row;
  for (let i = 0; i < attempts; i += 1) {
    await sleep(interval);
    let event;
    try {
      event = await api(`/api/webhooks/events/${encodeURIComponent(eventId)}`);
    } catch {
      continue; // a blip: ask again
    }
    const next = eventRow(event, SETTLED.has(event.status) ? null : "Replay queued, waiting for the worker…");
    current.replaceWith(next);
    current = next;
    if (event.status === "processed") {
      toastSuccess(`Replayed ${eventId}: processed.`);
      return;
    }
    if (event.status === "failed" || event.status === "parked") {
      toastError(`Replay of ${eventId} ${event.status === "parked" ? "was parked" : "failed again"}: ${event.error_message || event.note || "no detail"}.`);
      return;
    }
  }
  toastInfo(`${eventId} is still waiting to be processed. Reload to see its status.`);
}

async function replay(button, event, row) {
  try {
    const queued = await withLoading(button, "Replaying…", () =>
      api(`/api/webhooks/events/${encodeURIComponent(event.event_id)}/replay`, { method: "POST" }),
    );
    const next = eventRow(queued, "Replay queued, waiting for the worker…");
    row.replaceWith(next);
    toastInfo(`Replay queued: ${event.event_id}. This row updates when it is processed.`);
    follow(event.event_id, next);
  } catch (err) {
    toastError(`Could not replay ${event.event_id}. ${err.message}`);
  }
}

function eventRow(event, progress = null) {
  const row = h("tr", { "data-event-id": event.event_id, "data-status": event.status });
  const detail = progress
    ? h("span", { class: "note-text", role: "status", "data-testid": "replay-progress" }, progress)
    : event.error_message
      ? h("span", { class: "error-text" }, event.error_message)
      : h("span", { class: "note-text" }, event.note || "");
  const replayCell = h("td", {});
  if (REPLAYABLE.has(event.status) && !progress) {
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
  return h("div", { class: "table-scroll" }, tableOf(events));
}

function tableOf(events) {
  return h(
    "table",
    { class: "events" },
    h("caption", { class: "visually-hidden" }, "Webhook events, newest first"),
    h("thead", {}, h("tr", {}, ["Event", "Type", "Tenant", "Status", "Error or note", "Retries", "Received", "Action"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, events.map((event) => eventRow(event))),
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
        results.querySelector("tbody").append(...page.events.map((event) => eventRow(event)));
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
