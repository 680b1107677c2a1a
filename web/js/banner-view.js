// Draws a banner of the presentation model (subscription-banners.js) and binds each
// action kind to what it does (recovery-actions.js).

import { h } from "./dom.js";
import { formatDate } from "./format.js";
import { runAction } from "./recovery-actions.js";

function actionControl(action, ctx, primary) {
  const cls = primary ? "btn btn-primary" : "btn btn-secondary";
  if (action.href) {
    const external = /^https?:/.test(action.href);
    return h("a", { class: cls, href: action.href, "data-action": action.kind, target: external ? "_blank" : null, rel: external ? "noopener noreferrer" : null }, action.label);
  }
  return h("button", { type: "button", class: cls, "data-action": action.kind, onclick: (e) => runAction(action.kind, e.currentTarget, ctx) }, action.label);
}

function timelineView(rows) {
  if (!rows.length) return null;
  return h(
    "ol",
    { class: "timeline", "aria-label": "Payment attempts", "data-testid": "attempts" },
    rows.map((row) => h("li", { class: `timeline-${row.kind || "declined"}` }, row.at ? h("time", { datetime: row.at }, formatDate(row.at)) : null, row.at ? " · " : null, row.text)),
  );
}

export function bannerView(banner, ctx) {
  const urgent = banner.tone === "danger" || banner.tone === "warning";
  return h(
    "section",
    { class: `banner banner-${banner.tone}`, role: urgent ? "alert" : "status", "data-testid": "banner", "data-kind": banner.kind, "aria-labelledby": "banner-title" },
    h("h2", { id: "banner-title", class: "banner-title" }, banner.title),
    h("p", {}, banner.text),
    banner.details.length ? h("ul", { class: "banner-details" }, banner.details.map((d) => h("li", {}, d))) : null,
    timelineView(banner.timeline),
    banner.actions.length ? h("div", { class: "banner-actions" }, banner.actions.map((a, i) => actionControl(a, ctx, i === 0))) : null,
    banner.note ? h("p", { class: "banner-note" }, banner.note) : null,
  );
}
