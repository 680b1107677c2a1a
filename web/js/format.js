// Display formats: money from minor units, dates, plan names.

const LOCALE = "en-US";

function fractionDigits(currency) {
  try {
    return new Intl.NumberFormat(LOCALE, { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

// 2900 "usd" -> "$29"; 2486 "usd" -> "$24.86"; 500 "jpy" -> "¥500" (the currency's own
// minor unit). Whole amounts go without ".00".
export function formatMoney(minor, currency = "usd") {
  const code = String(currency || "usd").toUpperCase();
  const digits = fractionDigits(code);
  const value = Number(minor) / 10 ** digits;
  const whole = Number.isInteger(value);
  try {
    return new Intl.NumberFormat(LOCALE, { style: "currency", currency: code, minimumFractionDigits: whole ? 0 : digits }).format(value);
  } catch {
    return `${value.toFixed(digits)} ${code}`;
  }
}

export function formatDate(value) {
  if (value === null || value === undefined || value === "") return "";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium" }).format(date);
}

export function formatDateTime(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

export const PLAN_ORDER = ["free", "solo", "team", "enterprise"];

export function planName(plan, plans = []) {
  const found = plans.find((p) => p.plan === plan);
  if (found?.name) return found.name;
  if (!plan) return "";
  return plan.charAt(0).toUpperCase() + plan.slice(1);
}

export function planRank(plan) {
  const rank = PLAN_ORDER.indexOf(plan);
  return rank === -1 ? PLAN_ORDER.length : rank;
}

export function intervalLabel(plan) {
  const count = plan.interval_count || 1;
  return count === 1 ? plan.interval : `${count} ${plan.interval}s`;
}

const BRANDS = { visa: "Visa", mastercard: "Mastercard", amex: "American Express", discover: "Discover", diners: "Diners Club", jcb: "JCB", unionpay: "UnionPay" };

// Stripe's card brand ("visa", "amex" ...) as people write it.
export function brandName(brand) {
  return BRANDS[brand] || (brand ? brand[0].toUpperCase() + brand.slice(1) : "Card");
}

// "Visa ending in 0341" (null without the last four digits).
export function cardName(card) {
  return card?.last4 ? `${brandName(card.brand)} ending in ${card.last4}` : null;
}
