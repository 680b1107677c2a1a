// What every page shares: the header (navigation, who is signed in), the sign-in
// gate, and readable error panels.

import { h } from "./dom.js";
import { clearToken, currentUser, signInHref } from "./session.js";

const LINKS = [
  { href: "/pricing", label: "Pricing" },
  { href: "/settings/billing", label: "Billing" },
  { href: "/admin/webhooks", label: "Webhooks", operator: true },
  { href: "/admin/payments", label: "Failed payments", operator: true },
  { href: "/admin/metrics", label: "Revenue", operator: true },
  { href: "/admin/notifications", label: "Emails", operator: true },
];

export function renderHeader() {
  const header = document.getElementById("site-header");
  if (!header) return;
  const user = currentUser();
  const here = location.pathname.replace(/\/$/, "") || "/";
  const links = LINKS.filter((link) => !link.operator || user?.isOperator).map((link) =>
    h("li", {}, h("a", { href: link.href, "aria-current": link.href === here ? "page" : null }, link.label)),
  );
  // The account's name from the token's optional tenant_name claim; never its raw id.
  const who = [user?.tenantName, user?.isOperator ? "Operator" : null].filter(Boolean).join(" · ");
  const account = user
    ? h(
        "div",
        { class: "account" },
        who ? h("span", { class: "who" }, who) : null,
        h("button", { type: "button", class: "btn btn-link", onclick: signOut }, "Sign out"),
      )
    : h("div", { class: "account" }, h("a", { class: "btn btn-secondary", href: signInHref() }, "Sign in"));
  header.replaceChildren(
    h("a", { class: "brand", href: user?.isOperator ? "/admin/webhooks" : "/settings/billing" }, h("img", { src: "/favicon.svg", alt: "", width: 22, height: 22 }), "Billing"),
    h("nav", { "aria-label": "Main" }, h("ul", {}, links)),
    account,
  );
}

function signOut() {
  clearToken();
  location.assign("/");
}

// The signed-in user, or null after putting a "please sign in" panel in `container`.
export function requireUser(container) {
  const user = currentUser();
  if (user) return user;
  container.replaceChildren(
    h(
      "section",
      { class: "panel notice", "aria-labelledby": "signin-title" },
      h("h2", { id: "signin-title" }, "You are not signed in"),
      h("p", {}, "These pages act for a signed-in member of an account. In billing dev, sign in as a demo owner, member or operator."),
      h("a", { class: "btn btn-primary", href: signInHref() }, "Sign in"),
    ),
  );
  return null;
}

// A readable error in place of content, with a way to try again.
export function showError(container, error, retry) {
  const panel = h(
    "div",
    { class: "panel error-panel", role: "alert" },
    h("h2", {}, "We could not load this"),
    h("p", { class: "error-message" }, error?.message || "Something went wrong."),
  );
  if (error?.status === 401) {
    signInAgain(container, error);
    return;
  } else if (retry) {
    panel.append(h("button", { type: "button", class: "btn btn-secondary", onclick: retry }, "Try again"));
  }
  container.replaceChildren(panel);
}

// A 401 anywhere: one panel that says so and signs in again (no toast beside it).
export function signInAgain(container, error) {
  container.replaceChildren(
    h(
      "div",
      { class: "panel error-panel", role: "alert", "data-testid": "session-expired" },
      h("h2", {}, "Your session has expired"),
      h("p", { class: "error-message" }, error?.message || "Sign in again to continue."),
      h("a", { class: "btn btn-primary", href: signInHref() }, "Sign in again"),
    ),
  );
}

export function startPage() {
  renderHeader();
}
