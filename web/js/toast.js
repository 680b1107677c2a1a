// Toasts: short notices at the corner of the screen. Failures stay longer and are
// announced assertively; the rest politely.

const DURATION = { success: 5000, info: 5000, error: 12000 };

function region() {
  let node = document.getElementById("toasts");
  if (!node) {
    node = document.createElement("div");
    node.id = "toasts";
    node.className = "toasts";
    node.setAttribute("aria-live", "polite");
    document.body.append(node);
  }
  if (!node.hasAttribute("popover")) node.setAttribute("popover", "manual");
  return node;
}

// A modal <dialog> sits in the browser's top layer, above any z-index: the toasts are a
// manual popover, shown again (so on top) whenever a toast or a dialog appears.
export function liftToasts() {
  const node = document.getElementById("toasts");
  if (!node || !node.showPopover) return;
  if (node.matches(":popover-open")) node.hidePopover();
  if (node.childElementCount > 0) node.showPopover();
}

export function toast(message, { kind = "info", duration } = {}) {
  const item = document.createElement("div");
  item.className = `toast toast-${kind}`;
  item.dataset.kind = kind;
  item.setAttribute("role", kind === "error" ? "alert" : "status");
  const text = document.createElement("p");
  text.textContent = message;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", "Dismiss notification");
  close.textContent = "×";
  item.append(text, close);
  region().append(item);
  liftToasts();
  const dismiss = () => {
    item.remove();
    liftToasts();
  };
  close.addEventListener("click", dismiss);
  setTimeout(dismiss, duration ?? DURATION[kind] ?? DURATION.info);
  return item;
}

export const toastSuccess = (message) => toast(message, { kind: "success" });
export const toastError = (message) => toast(message, { kind: "error" });
export const toastInfo = (message) => toast(message, { kind: "info" });
