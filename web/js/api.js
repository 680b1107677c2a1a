// fetch() for the billing API: bearer token, JSON in and out, readable errors.
// Every failure becomes an ApiError with a message fit to show to a person.

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

const BY_STATUS = {
  401: "Your session has expired or is not valid. Please sign in again.",
  403: "You are not allowed to do this.",
  404: "Not found.",
  409: "This conflicts with the current state of your subscription.",
  422: "The request was not valid.",
  429: "Too many requests. Please wait a moment and try again.",
  503: "The billing service is temporarily unavailable. Please try again in a moment.",
};

const BY_CODE = {
  owner_only: "Only the account owner can do this.",
  other_tenant: "This belongs to another account.",
  missing_scope: "This page is for operators (billing:admin) only.",
};

function fallbackMessage(status) {
  if (BY_STATUS[status]) return BY_STATUS[status];
  if (status >= 500) return "Something went wrong on our side. Please try again in a moment.";
  return `The request failed (HTTP ${status}).`;
}

function readableMessage(status, detail) {
  if (detail && BY_CODE[detail.code]) return BY_CODE[detail.code];
  if (status === 401 || status >= 500) return fallbackMessage(status);
  if (detail && typeof detail.message === "string" && detail.message.trim()) {
    const text = detail.message.trim();
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
  return fallbackMessage(status);
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
