// /settings/billing, "Email notifications": each kind of billing email with what it says,
// from GET /api/notifications/preferences. The kinds a tenant may switch off (the API's
// `preferences`) get a switch the owner flips (PUT, one kind at a time, saved at once);
// the critical ones (the API's `critical`) say "Always sent". Members see the same,
// read-only. A failed save puts the switch back and says why; focus stays on the switch.

import { api } from "./api.js";
import { h, loadingNote } from "./dom.js";
import { showError, signInAgain } from "./shell.js";
import { toastError, toastSuccess } from "./toast.js";

const PREFERENCES = "/api/notifications/preferences";

// What each kind of email says (services/notifications/README.md, "What it sends").
export const KINDS = {
  payment_failed: ["Payment failed", "A payment did not go through: the amount, when we try again, and links to pay now or update your card."],
  payment_recovered: ["Payment recovered", "A payment that had failed is now paid."],
  cancellation_scheduled: ["Cancellation scheduled", "Your subscription is set to end: the date, and a link to resume it."],
  subscription_ended: ["Subscription ended", "Your subscription has ended, with a link to choose a plan."],
  trial_ending: ["Trial ending", "Three days before your trial ends, with a link to add a card when none is on file."],
  trial_extended: ["Trial extended", "Your trial was extended: its new end date."],
  plan_changed: ["Plan changed", "Your plan changed or will change: from which plan, to which, and when."],
  upcoming_renewal: ["Upcoming renewal", "Before a yearly plan renews: the date and the amount."],
  card_expiring: ["Card expiring", "Your default card expires soon: a reminder to update it before a payment fails."],
};

export function kindLabel(kind) {
  return KINDS[kind]?.[0] ?? kind.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());
}

function kindDescription(kind) {
  return KINDS[kind]?.[1] ?? "";
}

// The kinds in a stable order: the known ones as listed above, then any new one.
export function orderedKinds(prefs) {
  const all = new Set([...Object.keys(KINDS), ...prefs.critical, ...Object.keys(prefs.preferences)]);
  const known = [...all].filter((kind) => kind in prefs.preferences || prefs.critical.includes(kind));
  return known.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function rank(kind) {
  const index = Object.keys(KINDS).indexOf(kind);
  return index === -1 ? Number.MAX_SAFE_INTEGER : index;
}

export function mountNotificationSettings(section, user) {
  const owner = user.isOwner;
  // The heading stays (it names the section); loading, errors and the list go below it.
  const root = h("div", { class: "notify-body" });
  section.replaceChildren(h("h2", { class: "section-title", id: "notifications-title" }, "Email notifications"), root);
  let prefs = null;
  const saving = new Set();

  function item(kind) {
    const id = `notify-${kind}`;
    const descId = `${id}-desc`;
    const critical = prefs.critical.includes(kind);
    const on = critical || prefs.preferences[kind] !== false;
    let control;
    if (critical) {
      control = h("span", { class: "badge badge-always", "data-testid": "always-sent" }, "Always sent");
    } else {
      const input = h("input", {
        type: "checkbox",
        role: "switch",
        id,
        checked: on,
        disabled: !owner,
        "aria-describedby": descId,
        "data-kind": kind,
        onchange: (e) => toggle(kind, e.currentTarget),
      });
      control = h("span", { class: "switch" }, input, h("span", { class: "switch-state", "aria-hidden": "true" }, on ? "On" : "Off"));
    }
    const name = critical ? h("strong", { id }, kindLabel(kind)) : h("label", { for: id }, h("strong", {}, kindLabel(kind)));
    return h(
      "li",
      { class: "notify-row", "data-testid": "notification-kind", "data-kind": kind, "data-critical": critical ? "true" : "false" },
      h("span", { class: "notify-text" }, name, h("span", { class: "muted", id: descId }, kindDescription(kind))),
      control,
    );
  }

  function render() {
    const kinds = orderedKinds(prefs);
    root.replaceChildren(
      h("p", { class: "muted" }, "We email your account's billing address when something happens to your billing. Emails about payments and your subscription are always sent; you can switch off the reminders."),
      h("ul", { class: "notify-list" }, kinds.map(item)),
      owner ? "" : h("p", { class: "muted", "data-testid": "notifications-owner-only" }, "Only the account owner can change which emails are sent."),
      h("p", { class: "visually-hidden", role: "status", id: "notifications-status" }),
    );
  }

  function announce(text) {
    const status = root.querySelector("#notifications-status");
    if (status) status.textContent = text;
  }

  async function toggle(kind, input) {
    const wanted = input.checked;
    if (saving.has(kind)) {
      input.checked = !wanted; // one save at a time per switch
      return;
    }
    saving.add(kind);
    input.setAttribute("aria-busy", "true");
    setState(input, wanted);
    announce("Saving…");
    try {
      prefs = await api(PREFERENCES, { method: "PUT", body: { preferences: { [kind]: wanted } } });
      const now = prefs.preferences[kind] !== false;
      input.checked = now;
      setState(input, now);
      const text = `${kindLabel(kind)} emails are ${now ? "on" : "off"}.`;
      announce(text);
      toastSuccess(text);
    } catch (err) {
      input.checked = !wanted;
      setState(input, !wanted);
      announce("");
      if (err.status === 401) {
        signInAgain(root, err);
        return;
      }
      toastError(`We could not save this: ${lowerFirst(err.message)}`);
    } finally {
      saving.delete(kind);
      if (input.isConnected) {
        input.removeAttribute("aria-busy");
        input.focus();
      }
    }
  }

  async function load() {
    section.setAttribute("aria-busy", "true");
    root.replaceChildren(loadingNote());
    try {
      prefs = await api(PREFERENCES);
      render();
    } catch (err) {
      showError(root, err, load);
    } finally {
      section.removeAttribute("aria-busy");
    }
    return prefs;
  }

  return { load };
}

function setState(input, on) {
  const state = input.parentElement?.querySelector(".switch-state");
  if (state) state.textContent = on ? "On" : "Off";
}

function lowerFirst(text) {
  return text ? text.charAt(0).toLowerCase() + text.slice(1) : "try again in a moment.";
}
