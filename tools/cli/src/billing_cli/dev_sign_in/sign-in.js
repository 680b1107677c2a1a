// billing dev only: mint a token for a demo account and role, keep it for this tab.

import { api } from "/js/api.js";
import { withLoading } from "/js/dom.js";
import { setToken } from "/js/session.js";
import { startPage } from "/js/shell.js";

startPage();
const form = document.getElementById("sign-in");
const error = document.getElementById("sign-in-error");

// Only paths of this site: never send the token holder elsewhere.
function nextPath(role) {
  const next = new URLSearchParams(location.search).get("next");
  if (next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/dev/")) return next;
  return role === "operator" ? "/admin/webhooks" : "/settings/billing";
}

api("/dev/tenants")
  .then(({ tenants }) => {
    const list = document.getElementById("tenants");
    for (const tenant of tenants) {
      const option = document.createElement("option");
      option.value = tenant;
      list.append(option);
    }
  })
  .catch(() => {});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const tenantId = form.elements.tenant.value.trim();
  const role = form.elements.role.value;
  const tenantName = form.elements.tenantName.value.trim();
  try {
    const answer = await withLoading(form.querySelector("button[type=submit]"), "Signing in…", () =>
      api("/dev/token", { method: "POST", body: { tenant_id: tenantId, role, ...(tenantName ? { tenant_name: tenantName } : {}) }, token: "" }),
    );
    setToken(answer.token);
    location.assign(nextPath(role));
  } catch (err) {
    error.textContent = `Could not sign in: ${err.message}`;
    error.hidden = false;
  }
});
