// Every error code the pages can meet, in plain words: ours (error.code of the API),
// Stripe's (error codes and card decline codes passed through by the API), HTTP statuses.
// The one place to word a failure; api.js and the banners read it.

export const BY_STATUS = {
  401: "Your session has expired. Sign in again to continue.",
  403: "You are not allowed to do this.",
  404: "We could not find what you asked for.",
  409: "This conflicts with the current state of your subscription. Reload the page and try again.",
  422: "Something in the request was not valid.",
  429: "Too many requests. Wait a moment and try again.",
  503: "Billing is temporarily unavailable. Try again in a moment.",
};

export const BY_CODE = {
  owner_only: "Only the account owner can do this.",
  other_tenant: "This belongs to another account.",
  missing_scope: "This page is for operators only.",
  stripe_not_found: "We could not find this at our payment provider. It may have expired: start again.",
  // Stripe's error codes (https://docs.stripe.com/error-codes)
  resource_missing: "We could not find this checkout. Start again from the pricing page.",
  checkout_session_not_found: "We could not find this checkout. Start again from the pricing page.",
  session_not_found: "We could not find this checkout. Start again from the pricing page.",
  invoice_payment_intent_requires_action: "Your bank asks you to confirm this payment first.",
  card_declined: "Your card was declined.",
  expired_card: "Your card has expired.",
  incorrect_cvc: "The card's security code is wrong.",
  processing_error: "The card could not be processed. Try again in a moment.",
  rate_limit: "Too many requests. Wait a moment and try again.",
  stripe_unavailable: "Our payment provider is not answering. Try again in a moment.",
};

// Card decline codes (https://docs.stripe.com/declines/codes).
export const DECLINES = {
  generic_decline: "The bank declined the card without giving a reason.",
  insufficient_funds: "The card has insufficient funds.",
  // Stripe: present lost_card, stolen_card, pickup_card and fraudulent as a generic
  // decline (never tell the person at the keyboard the card was reported)
  lost_card: "The bank declined the card without giving a reason.",
  stolen_card: "The bank declined the card without giving a reason.",
  expired_card: "The card has expired.",
  incorrect_cvc: "The card's security code is wrong.",
  do_not_honor: "The bank declined the card. Ask your bank why, or use another card.",
  card_velocity_exceeded: "The card is over its spending limit.",
  authentication_required: "Your bank asks you to confirm the payment.",
  card_declined: "Your card was declined.",
};

// Why the bank declined, as the few words in brackets after "Your bank declined the
// payment ... (insufficient funds)." null: nothing worth saying beyond "declined" (a
// generic decline, or one Stripe says to present as generic).
export const DECLINE_REASONS = {
  insufficient_funds: "insufficient funds",
  expired_card: "the card has expired",
  incorrect_cvc: "wrong security code",
  incorrect_number: "wrong card number",
  invalid_expiry_year: "wrong expiry date",
  invalid_expiry_month: "wrong expiry date",
  card_velocity_exceeded: "over the card's limit",
  withdrawal_count_limit_exceeded: "over the card's limit",
  processing_error: "a processing error, try again",
  authentication_required: "the bank asks you to confirm it",
  card_not_supported: "the card does not support this payment",
  currency_not_supported: "the card does not support this currency",
  payment_intent_payment_attempt_failed: "no card on file",
};

export function declineReason(code) {
  return (code && DECLINE_REASONS[code]) || null;
}

export function declineWording(code) {
  if (!code) return "";
  return DECLINES[code] || BY_CODE[code] || "Your card was declined.";
}

// A message from the API that names Stripe's internals ("No such checkout.session",
// "(checkout.sessions.retrieve)") is not for people.
const DEVELOPER_TEXT = /\b(no such|stripe has|[a-z_]+\.[a-z_]+\.[a-z_]+|\(\w+\.\w+)/i;

export function wordingFor(status, code, message) {
  if (code && BY_CODE[code]) return BY_CODE[code];
  if (status === 401 || status >= 500) return BY_STATUS[status] || "Something went wrong on our side. Try again in a moment.";
  if (typeof message === "string" && message.trim() && !DEVELOPER_TEXT.test(message)) {
    const text = message.trim();
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
  if (BY_STATUS[status]) return BY_STATUS[status];
  if (status === 400) return "Something in the request was not valid.";
  return "Something went wrong. Try again in a moment.";
}
