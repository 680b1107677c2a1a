// Modal dialogs on <dialog>: labelled, focus kept inside (Tab wraps), Escape closes,
// focus goes back to the control that opened it.

import { h } from "./dom.js";
import { signInHref } from "./session.js";
import { liftToasts } from "./toast.js";

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
let counter = 0;

function trapFocus(dialog, event) {
  if (event.key !== "Tab") return;
  const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null);
  if (items.length === 0) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

function restoreFocus(opener, key) {
  if (opener instanceof HTMLElement && opener.isConnected) {
    opener.focus();
    return;
  }
  if (!key) return;
  const again = [...document.querySelectorAll("[data-focus-key], [data-action]")].find((el) => (el.dataset.focusKey || el.dataset.action) === key);
  again?.focus();
}

// The failure of the confirm, in the dialog only (no toast beside it); a 401 offers
// to sign in again.
function showDialogError(node, err) {
  node.replaceChildren(err?.message || "Something went wrong.");
  if (err?.status === 401) {
    node.append(" ", h("a", { href: signInHref(), class: "btn btn-primary btn-small" }, "Sign in again"));
  }
  node.hidden = false;
}

// openDialog({ title, body: [nodes], confirmLabel, busyLabel, danger, confirmEnabled,
//              onConfirm: async () => result }) -> Promise<result | undefined (dismissed)>
// `setup(controls)` gets { setConfirmEnabled, confirm } to wire inputs.
// `opener`: the control to give focus back to (default: the focused element). When it was
// redrawn meanwhile, the control with the same data-focus-key (or data-action) gets it.
export function openDialog({ title, body = [], confirmLabel = "Confirm", busyLabel = "Working…", cancelLabel = "Cancel", danger = false, confirmEnabled = true, onConfirm, setup, opener = document.activeElement }) {
  counter += 1;
  const titleId = `dialog-title-${counter}`;
  const bodyId = `dialog-body-${counter}`;
  const openerKey = opener instanceof HTMLElement ? opener.dataset.focusKey || opener.dataset.action : null;
  const error = h("p", { class: "dialog-error", role: "alert", hidden: true });
  const cancel = h("button", { type: "button", class: "btn btn-secondary" }, cancelLabel);
  const confirm = h("button", { type: "submit", class: danger ? "btn btn-danger" : "btn btn-primary" }, confirmLabel);
  confirm.disabled = !confirmEnabled;
  const form = h(
    "form",
    { method: "dialog", class: "dialog-form" },
    h("h2", { id: titleId }, title),
    h("div", { id: bodyId, class: "dialog-body" }, body),
    error,
    h("div", { class: "dialog-actions" }, cancel, confirm),
  );
  const dialog = h("dialog", { "aria-labelledby": titleId, "aria-describedby": bodyId, class: "dialog" }, form);
  document.body.append(dialog);

  return new Promise((resolve) => {
    let result;
    let busy = false;
    const close = () => dialog.close();
    dialog.addEventListener("keydown", (event) => trapFocus(dialog, event));
    dialog.addEventListener("cancel", (event) => {
      if (busy) event.preventDefault(); // Escape waits for the request in flight
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      liftToasts(); // the toasts go back to the page
      restoreFocus(opener, openerKey);
      resolve(result);
    });
    cancel.addEventListener("click", close);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (busy || confirm.disabled) return;
      busy = true;
      error.hidden = true;
      const label = confirm.textContent;
      confirm.disabled = true;
      confirm.setAttribute("aria-busy", "true");
      confirm.textContent = busyLabel;
      try {
        result = onConfirm ? await onConfirm() : true;
        busy = false;
        close();
      } catch (err) {
        busy = false;
        confirm.disabled = false;
        confirm.removeAttribute("aria-busy");
        confirm.textContent = label;
        showDialogError(error, err);
      }
    });
    setup?.({ setConfirmEnabled: (on) => { if (!busy) confirm.disabled = !on; }, confirmButton: confirm });
    dialog.showModal();
    liftToasts();
    const firstInput = dialog.querySelector("input, select, textarea");
    (firstInput || cancel).focus();
  });
}
