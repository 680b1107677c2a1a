// /admin/metrics: operators (billing:admin) read revenue metrics from the analytics
// ledger (GET /api/billing/admin/metrics): an MRR line with its movements as stacked
// bars, the plan mix, churn and conversion tiles, for a date range and one currency.
// Charts are Chart.js (window.Chart, vendored in js/vendor/ with its licence).

import { api } from "./api.js";
import { h, loadingNote, withLoading } from "./dom.js";
import { formatMoney, planName } from "./format.js";
import { requireUser, showError, startPage } from "./shell.js";

startPage();
const form = document.getElementById("range");
const results = document.getElementById("metrics");
const tiles = document.getElementById("tiles");
const movementsBox = document.getElementById("movements");
const currencySelect = document.getElementById("currency");
const user = requireUser(tiles);
const DAY_MS = 86_400_000;
const MOVEMENTS = [
  { key: "new_mrr", label: "New", color: "#2f855a", sign: 1 },
  { key: "expansion_mrr", label: "Expansion", color: "#68d391", sign: 1 },
  { key: "reactivated_mrr", label: "Reactivation", color: "#4299e1", sign: 1 },
  { key: "contraction_mrr", label: "Contraction", color: "#ed8936", sign: -1 },
  { key: "churned_mrr", label: "Churn", color: "#c53030", sign: -1 },
];
const PLAN_COLORS = { solo: "#4299e1", team: "#805ad5", enterprise: "#2c5282" };
let report = null;
const charts = {};

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function defaults() {
  const params = new URLSearchParams(location.search);
  const to = params.get("to") || isoDay(new Date());
  const from = params.get("from") || isoDay(new Date(Date.parse(to) - 29 * DAY_MS));
  form.elements.from.value = from;
  form.elements.to.value = to;
  form.elements.interval.value = params.get("interval") || "day";
  return params.get("currency") || "";
}

function pct(value) {
  return value === null || value === undefined ? "—" : `${value.toLocaleString("en-US", { maximumFractionDigits: 2 })} %`;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const days = seconds / 86_400;
  if (days >= 1) return `${days.toLocaleString("en-US", { maximumFractionDigits: 1 })} days`;
  return `${(seconds / 3600).toLocaleString("en-US", { maximumFractionDigits: 1 })} hours`;
}

function tile(label, value, detail, id) {
  return h(
    "div",
    { class: "tile", "data-testid": id },
    h("span", { class: "tile-label" }, label),
    h("strong", { class: "tile-value" }, value),
    detail ? h("span", { class: "tile-detail" }, detail) : null,
  );
}

function renderTiles(money, activity, currency) {
  const totals = money?.totals;
  const last = money?.series.at(-1);
  const cur = (amount) => (money ? formatMoney(amount, currency) : "—");
  tiles.replaceChildren(
    tile("MRR", cur(last?.mrr ?? 0), money ? `ARR ${cur(last.arr)}` : "no revenue in this currency", "tile-mrr"),
    tile("Paying subscriptions", String(last?.paying_subscriptions ?? 0), null, "tile-paying"),
    tile("Logo churn (30 days)", pct(last?.logo_churn_pct), "at the end of the range", "tile-logo-churn"),
    tile("Revenue churn (30 days)", pct(last?.revenue_churn_pct), "churn + contraction", "tile-revenue-churn"),
    tile("Trial conversion", pct(activity.trial_conversion_pct), `${activity.trial_conversions} of ${activity.trial_conversions + activity.trials_lost} ended · ${activity.trial_starts} started`, "tile-trial-conversion"),
    tile("Checkout conversion", pct(activity.checkout_conversion_pct), `${activity.checkout_completed} of ${activity.checkout_created} sessions`, "tile-checkout-conversion"),
    tile("Payment recovery", pct(totals?.recovery_rate_pct), totals ? `${totals.recovered_payments} of ${totals.failed_payments} failed · ${cur(totals.recovered_amount)} of ${cur(totals.failed_amount)}` : "no failed payment", "tile-recovery"),
    tile("Median time to recover", duration(totals?.median_time_to_recover_seconds), null, "tile-time-to-recover"),
    tile("Cancellations scheduled", String(activity.cancellations_scheduled), null, "tile-cancellations"),
    tile("Portal sessions", String(activity.portal_sessions), null, "tile-portal"),
  );
}

function renderMovements(money, currency) {
  if (!money) {
    movementsBox.replaceChildren(h("p", { class: "empty", role: "status" }, "No MRR in this currency for this range."));
    return;
  }
  const totals = money.totals;
  const rows = [
    ["Opening MRR", totals.opening_mrr],
    ...MOVEMENTS.map((m) => [m.label, m.sign * totals[m.key] || 0]),
    ["Closing MRR", money.series.at(-1).mrr],
  ];
  movementsBox.replaceChildren(
    h(
      "table",
      { class: "movements" },
      h("caption", { class: "visually-hidden" }, "MRR movements over the range"),
      h("tbody", {}, rows.map(([label, amount]) => h("tr", {}, h("th", { scope: "row" }, label), h("td", { class: "num", "data-testid": `movement-${label.toLowerCase().replaceAll(" ", "-")}` }, formatMoney(amount, currency))))),
    ),
  );
}

function drawCharts(money, currency) {
  const Chart = window.Chart;
  for (const chart of Object.values(charts)) chart.destroy();
  const series = money?.series ?? report.activity.series.map((p) => ({ start: p.start }));
  const labels = series.map((p) => p.start);
  const minor = (value) => formatMoney(value, currency);
  charts.mrr = new Chart(document.getElementById("mrr-chart"), {
    data: {
      labels,
      datasets: [
        { type: "line", label: "MRR", data: series.map((p) => p.mrr ?? 0), borderColor: "#1a202c", backgroundColor: "#1a202c", yAxisID: "mrr", tension: 0.2, order: 0 },
        ...MOVEMENTS.map((m) => ({ type: "bar", label: m.label, data: series.map((p) => m.sign * (p[m.key] ?? 0) || 0), backgroundColor: m.color, stack: "movements", yAxisID: "moves", order: 1 })),
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked: true },
        moves: { stacked: true, position: "right", title: { display: true, text: "movements" }, ticks: { callback: minor } },
        mrr: { position: "left", beginAtZero: true, title: { display: true, text: "MRR" }, ticks: { callback: minor } },
      },
      plugins: { tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${minor(item.raw)}` } } },
    },
  });
  const mix = money?.series.at(-1)?.active_subscriptions ?? {};
  const plans = Object.keys(mix);
  charts.plans = new Chart(document.getElementById("plan-chart"), {
    type: "doughnut",
    data: { labels: plans.map((p) => planName(p)), datasets: [{ data: plans.map((p) => mix[p]), backgroundColor: plans.map((p) => PLAN_COLORS[p] ?? "#a0aec0") }] },
    options: { responsive: true, maintainAspectRatio: false, animation: false },
  });
}

function render() {
  const currency = currencySelect.value;
  const money = report.currencies[currency];
  renderTiles(money, report.activity.totals, currency);
  renderMovements(money, currency);
  drawCharts(money, currency);
}

function fillCurrencies(wanted) {
  const found = Object.keys(report.currencies);
  const keep = found.includes(wanted) ? wanted : found.includes(currencySelect.value) ? currencySelect.value : found[0] ?? "";
  currencySelect.replaceChildren(...(found.length ? found : [""]).map((c) => h("option", { value: c }, c ? c.toUpperCase() : "—")));
  currencySelect.value = keep;
  currencySelect.disabled = found.length < 2;
}

async function load(button, wantedCurrency) {
  const run = async () => {
    results.setAttribute("aria-busy", "true");
    const params = new URLSearchParams({ from: form.elements.from.value, to: form.elements.to.value, interval: form.elements.interval.value });
    tiles.replaceChildren(loadingNote("Loading metrics…"));
    try {
      report = await api(`/api/billing/admin/metrics?${params}`);
      fillCurrencies(wantedCurrency);
      render();
    } catch (err) {
      showError(tiles, err, () => load());
    } finally {
      results.removeAttribute("aria-busy");
    }
  };
  return button ? withLoading(button, "Loading…", run) : run();
}

if (user) {
  const wanted = defaults();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(form.querySelector("button[type=submit]"));
  });
  currencySelect.addEventListener("change", () => report && render());
  if (!user.isOperator) document.getElementById("scope-note").hidden = false;
  load(undefined, wanted);
} else {
  form.hidden = true;
}
