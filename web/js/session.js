// The bearer token of the signed-in user, kept in sessionStorage (per tab, gone on close).
// The host product normally provides it; `billing dev` has a sign-in page that mints one.

const KEY = "billing.token";

export function getToken() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function clearToken() {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // storage disabled: nothing to clear
  }
}

function decodePart(part) {
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

// The token's claims, for display and to hide what the role may not do.
// The server checks the signature and decides; this only shapes the page.
export function currentUser() {
  const token = getToken();
  if (!token) return null;
  try {
    const claims = decodePart(token.split(".")[1]);
    if (typeof claims.exp === "number" && claims.exp * 1000 < Date.now()) return null;
    const scopes = typeof claims.scope === "string" ? claims.scope.split(" ") : [];
    return {
      userId: claims.sub,
      tenantId: claims.tenant_id,
      tenantName: typeof claims.tenant_name === "string" && claims.tenant_name.trim() ? claims.tenant_name.trim() : null,
      role: claims.role,
      scopes,
      isOwner: claims.role === "owner",
      isOperator: scopes.includes("billing:admin"),
    };
  } catch {
    return null;
  }
}

export function signInHref(next = location.pathname + location.search) {
  return `/dev/sign-in?next=${encodeURIComponent(next)}`;
}
