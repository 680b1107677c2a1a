// Toasts: short notices at the corner of the screen. Failures stay longer and are
// announced assertively; the rest politely.

const DURATION = { success: 5000, info: 5000, error: 12000 };

let regionNode = null;

function region() {
  regionNode ??= document.getElementById("toasts");
  if (!regionNode) {
    regionNode = document.createElement("div");
    regionNode.id = "toasts";
    regionNode.className = "toasts";
    regionNode.setAttribute("aria-live", "polite");
    document.body.append(regionNode);
  }
  return regionNode;
}

// A modal <dialog> sits in the browser's top layer and makes the rest of the page inert:
// while one is open the toasts live inside it (shown above its overlay, and their close
// buttons work), and go back to the page when it closes (dialog.js calls this).
export function liftToasts() {
  const node = region();
  const modals = [...document.querySelectorAll("dialog[open]")].filter((d) => d.matches(":modal"));
  const host = modals.at(-1) ?? document.body;
  if (node.parentElement !== host) host.append(node);
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
