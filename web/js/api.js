// fetch() for the billing API: bearer token, JSON in and out, readable errors.
// Every failure becomes an ApiError with a message fit to show to a person.

import { wordingFor } from "./error-wording.js";
import { getToken } from "./session.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status; // 0: the request never got an answer
    this.code = code;
  }

  get isNetwork() {
    return this.status === 0;
  }
}

// The words for each failure live in error-wording.js (one place).
function readableMessage(status, detail) {
  return wordingFor(status, detail?.code, detail?.message);
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function newIdempotencyKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export async function api(path, { method = "GET", body, idempotencyKey, token } = {}) {
  const headers = { Accept: "application/json" };
  const bearer = token ?? getToken();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, "network_error", "Could not reach the server. Check your connection and try again.");
  }
  const data = await readJson(response);
  if (response.ok) return data;
  const detail = data && typeof data === "object" && data.error && typeof data.error === "object" ? data.error : null;
  throw new ApiError(response.status, detail?.code || `http_${response.status}`, readableMessage(response.status, detail));
}
