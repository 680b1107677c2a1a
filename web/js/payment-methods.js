// /settings/billing, "Payment methods": the tenant's cards (brand, last4, expiry, the
// default badge, an expiring warning) from GET /api/billing/payment-methods, and the
// owner's add (Checkout in setup mode) / make default / remove (confirmed). Coming back
// from the setup page (?setup=complete&session_id=...) verifies the session server-side
// and, while a payment has failed, offers to use the new card and pay now.

import { api, newIdempotencyKey } from "./api.js";
import { startSetup } from "./card-setup.js";
import { openDialog } from "./dialog.js";
import { h, loadingNote, withLoading } from "./dom.js";
import { brandName, cardName } from "./format.js";
import { requestRefresh } from "./recovery-actions.js";
import { showError } from "./shell.js";
import { toastError, toastInfo, toastSuccess } from "./toast.js";

const METHODS = "/api/billing/payment-methods";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function expiryText(card) {
  if (!card.exp_month || !card.exp_year) return "";
  return `${String(card.exp_month).padStart(2, "0")}/${String(card.exp_year).slice(-2)}`;
}

function cardItem(card, { owner, onChange }) {
  const label = `${brandName(card.brand)} ending in ${card.last4 ?? "····"}`;
  const badges = h(
    "span",
    { class: "badges" },
    card.default ? h("span", { class: "badge badge-current", "data-testid": "default-badge" }, "Default") : null,
    card.expired
      ? h("span", { class: "badge badge-danger", "data-testid": "expired-badge" }, "Expired")
      : card.expiring_soon
        ? h("span", { class: "badge badge-warning", "data-testid": "expiring-badge" }, "Expires soon")
        : null,
  );
  const actions = owner
    ? h(
        "span",
        { class: "card-actions" },
        card.default || card.expired // Stripe would decline an expired default at renewal
          ? null
          : h("button", { type: "button", class: "btn btn-secondary btn-small", "data-focus-key": `default-${card.id}`, "aria-label": `Make ${label} the default`, onclick: (e) => makeDefault(card, e.currentTarget, onChange) }, "Make default"),
        h("button", { type: "button", class: "btn btn-danger-outline btn-small", "data-focus-key": `remove-${card.id}`, "aria-label": `Remove ${label}`, onclick: (e) => confirmRemove(card, label, e.currentTarget, onChange) }, "Remove"),
      )
    : null;
  return h(
    "li",
    { class: "card-row", "data-testid": "payment-method", "data-id": card.id },
    h("span", { class: "card-label" }, h("strong", {}, label), h("span", { class: "muted" }, ` · expires ${expiryText(card)}`)),
    badges,
    actions,
  );
}

async function makeDefault(card, button, onChange) {
  try {
    await withLoading(button, "Saving…", () => api(`${METHODS}/${encodeURIComponent(card.id)}/default`, { method: "POST", idempotencyKey: newIdempotencyKey() }));
    toastSuccess("Default card updated: renewals and retries charge it from now on.");
    await onChange();
  } catch (err) {
    toastError(err.message);
  }
}

function confirmRemove(card, label, opener, onChange) {
  const body = [h("p", {}, `Remove ${label}? It can no longer be charged.`)];
  if (card.default) body.push(h("p", {}, "It is your default card: another card on file becomes the default."));
  return openDialog({
    title: "Remove this card?",
    body,
    confirmLabel: "Remove card",
    busyLabel: "Removing…",
    danger: true,
    opener,
    onConfirm: async () => {
      const result = await api(`${METHODS}/${encodeURIComponent(card.id)}`, { method: "DELETE", idempotencyKey: newIdempotencyKey() });
      toastSuccess(result.default_note ? `Card removed. ${result.default_note}` : "Card removed.");
      await onChange();
      return result;
    },
  });
}

export function mountPaymentMethods(root, user, { subscription }) {
  const owner = user.isOwner;
  let cards = [];

  function render(notice) {
    const list = cards.length
      ? h("ul", { class: "card-list" }, cards.map((card) => cardItem(card, { owner, onChange: load })))
      : h("p", { class: "muted" }, "No card on file yet.");
    const add = owner ? h("button", { type: "button", class: "btn btn-primary", "data-testid": "add-card", onclick: (e) => startSetup(e.currentTarget) }, "Add a card") : null;
    root.replaceChildren(
      h("h2", { class: "section-title", id: "payment-methods-title" }, "Payment methods"),
      notice || "",
      list,
      add ? h("div", { class: "actions" }, add) : h("p", { class: "muted" }, "Only the account owner can change payment methods."),
    );
  }

  async function load() {
    root.setAttribute("aria-busy", "true");
    try {
      cards = await api(METHODS);
      render();
    } catch (err) {
      showError(root, err, load);
    } finally {
      root.removeAttribute("aria-busy");
    }
    return cards;
  }

  // Back from the setup page: the session is verified by the server (never the URL),
  // which makes the saved card the default (the owner's return); the list shows it once
  // Stripe's webhook arrives. The card is the one the server names, never a guess from
  // what the list gained (the webhook may arrive before the page first loads).
  async function returned(sessionId) {
    history.replaceState(history.state, "", location.pathname);
    root.replaceChildren(loadingNote("Saving your card…"));
    let result;
    try {
      result = await api("/api/billing/verify-session", { method: "POST", body: { session_id: sessionId } });
    } catch (err) {
      toastError(err.message);
      return load();
    }
    if (!result.verified || result.mode !== "setup") {
      toastInfo("The card was not saved. Nothing changed.");
      return load();
    }
    const saved = result.payment_method || null;
    const name = cardName(saved) || "Your card";
    toastSuccess(result.made_default ? `Card saved. ${name} is now your default card.` : "Card saved.");
    for (let i = 0; i < 30; i += 1) {
      await load();
      const shown = saved ? cards.find((card) => card.id === saved.id) : null;
      if (!saved || (shown && (shown.default || !result.made_default))) break;
      await sleep(1000);
    }
    const sub = await subscription();
    if (saved && sub?.payment_failed && owner) render(payNowNotice(saved, sub, result.made_default));
  }

  function payNowNotice(card, sub, isDefault) {
    const label = isDefault ? "Pay now with this card" : "Make it the default and pay now";
    const pay = h("button", { type: "button", class: "btn btn-primary", "data-testid": "use-card-pay-now", onclick: (e) => useAndPay(card, sub, e.currentTarget, isDefault) }, label);
    const text = isDefault
      ? `${cardName(card)} is saved and is now your default card: the next automatic attempt charges it. Pay the overdue invoice with it now?`
      : `${cardName(card)} is saved. Make it your default card and pay the overdue invoice with it now?`;
    return h("div", { class: "notice notice-warning", role: "status", "data-testid": "pay-now-offer" }, h("p", {}, text), pay);
  }

  async function useAndPay(card, sub, button, isDefault) {
    try {
      await withLoading(button, "Paying…", async () => {
        if (!isDefault) await api(`${METHODS}/${encodeURIComponent(card.id)}/default`, { method: "POST", idempotencyKey: newIdempotencyKey() });
        await api(`/api/billing/invoices/${encodeURIComponent(sub.payment_failed.invoice_id)}/pay`, { method: "POST", idempotencyKey: newIdempotencyKey() });
      });
      toastSuccess("Payment sent. The banner goes as soon as Stripe confirms it.");
      await load();
      requestRefresh((s) => !s.payment_failed);
    } catch (err) {
      toastError(err.message);
      await load();
    }
  }

  return { load, returned };
}
