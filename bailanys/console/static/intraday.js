// The supervisors' intraday section (issue 21): today's 15-minute intervals
// beside the same weekday a week before (offered, answered, lost, average
// wait, agents logged in and available), per queue or for all, drawn here as
// SVG; the agent drill-down (a click on an agent's row); the CSV exports of
// a period. Data: /api/console/intervals, /api/console/agents/{agent},
// /api/console/intervals.csv, /api/console/agents.csv (bailanys/intraday/web.py).
// Texts: i18n.js, keys ix_*. Mounted on <section id="intraday">.

import { currentLang, has, locale, t } from "./i18n.js";
import { el, svg } from "./dom.js";

const REFRESH_MS = 60_000;
const W = 600;
const H = 150;
const PAD = { left: 34, right: 8, top: 10, bottom: 20 };
// Each chart: its series (key of today's or last week's lists, style class).
const CHARTS = [
  { id: "calls", title: "ix_chart_calls", series: [
    { key: "offered", cls: "ix-offered", label: "ix_offered" },
    { key: "answered", cls: "ix-answered", label: "ix_answered" },
    { key: "lost", cls: "ix-lost", label: "ix_lost" },
    { key: "offered", cls: "ix-offered ix-before", label: "ix_offered_before", before: true },
  ] },
  { id: "wait", title: "ix_chart_wait", series: [
    { key: "avg_wait", cls: "ix-wait", label: "ix_avg_wait" },
    { key: "avg_wait", cls: "ix-wait ix-before", label: "ix_avg_wait_before", before: true },
  ] },
  { id: "agents", title: "ix_chart_agents", series: [
    { key: "agents_logged_in", cls: "ix-logged", label: "ix_logged_in" },
    { key: "agents_available", cls: "ix-available", label: "ix_available" },
    { key: "agents_logged_in", cls: "ix-logged ix-before", label: "ix_logged_in_before",
      before: true },
  ] },
];

const state = { data: null, queue: "", agent: null, timer: null };
let root = null;

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

function fmtNumber(value, digits = 1) {
  if (value === null || value === undefined) return "—";
  return value.toLocaleString(locale(), { maximumFractionDigits: digits });
}

function fmtTime(epoch) {
  if (epoch === null || epoch === undefined) return "—";
  return new Date(epoch * 1000).toLocaleTimeString(locale(), {
    hour: "2-digit", minute: "2-digit", timeZone: "Asia/Almaty" });
}

function localDate(offsetDays = 0) {
  const now = new Date(Date.now() + offsetDays * 86_400_000);
  return now.toLocaleDateString("en-CA", { timeZone: "Asia/Almaty" });  // YYYY-MM-DD
}

function label(prefix, value) {
  // a queue's display name in the page's language (the queues file's `names`)
  const named = prefix === "queue_" && value ? state.data?.queue_labels?.[value]?.[currentLang()]
    : undefined;
  if (named) return named;
  return value && has(`${prefix}${value}`) ? t(`${prefix}${value}`) : (value || "—");
}

async function getJson(url) {
  const answer = await fetch(url, { credentials: "same-origin" });
  if (answer.status === 401) {
    window.location.assign("/login");
    return null;
  }
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(has(`ix_err_${body.error}`) ? t(`ix_err_${body.error}`)
    : t("ix_err_load"));
  return body;
}

// --- charts ------------------------------------------------------------------------

function chart(spec, data) {
  const n = data.labels.length;
  const values = spec.series.flatMap((s) => (s.before ? data.previous : data.today)[s.key]);
  const top = Math.max(1, ...values.filter((v) => v !== null));
  const x = (i) => PAD.left + (i + 0.5) * (W - PAD.left - PAD.right) / n;
  const y = (v) => H - PAD.bottom - v / top * (H - PAD.top - PAD.bottom);
  const node = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "ix-chart", role: "img",
    "data-chart": spec.id, "aria-label": t(spec.title) });
  for (const v of [0, top / 2, top]) {
    node.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v),
      class: "ix-grid" }));
    node.append(svg("text", { x: PAD.left - 4, y: y(v) + 3, class: "ix-axis",
      "text-anchor": "end" }, fmtNumber(v, 1)));
  }
  for (let i = 0; i < n; i += 8) {  // every two hours
    node.append(svg("text", { x: x(i), y: H - 5, class: "ix-axis", "text-anchor": "middle" },
      data.labels[i]));
  }
  if (data.current !== null) {
    node.append(svg("line", { x1: x(data.current), x2: x(data.current), y1: PAD.top,
      y2: H - PAD.bottom, class: "ix-now" }));
  }
  for (const s of spec.series) {
    const list = (s.before ? data.previous : data.today)[s.key];
    const total = list.reduce((sum, v) => sum + (v ?? 0), 0);
    const path = [];
    list.forEach((v, i) => {
      if (v === null) return;
      path.push(`${path.length && list[i - 1] !== null ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    });
    const line = svg("path", { d: path.join(" ") || "M0,0", class: `ix-line ${s.cls}`,
      "data-series": s.key, "data-before": s.before ? "1" : "0",
      "data-total": Math.round(total * 100) / 100 });
    line.append(svg("title", {}, t(s.label)));
    node.append(line);
    list.forEach((v, i) => {  // a point with no neighbour draws no line: a dot
      if (v === null || list[i - 1] != null || list[i + 1] != null) return;
      node.append(svg("circle", { cx: x(i), cy: y(v), r: 2.5, class: `ix-dot ${s.cls}` }));
    });
  }
  const legend = el("div", { class: "ix-legend" }, ...spec.series.map((s) =>
    el("span", { class: `ix-key ${s.cls}`, text: t(s.label) })));
  return el("figure", { class: "ix-figure" }, el("figcaption", { text: t(spec.title) }), node,
    legend);
}

function totals(data) {
  const sum = (list) => list.reduce((a, v) => a + (v ?? 0), 0);
  const today = data.today;
  return el("p", { class: "ix-totals", "data-offered": sum(today.offered),
    "data-answered": sum(today.answered), "data-lost": sum(today.lost) },
  t("ix_totals", { offered: sum(today.offered), answered: sum(today.answered),
    lost: sum(today.lost), before: sum(data.previous.offered), date: data.compare_date }));
}

function renderCharts() {
  const box = root.querySelector(".ix-charts");
  box.replaceChildren();
  if (!state.data) return;
  box.append(totals(state.data), ...CHARTS.map((spec) => chart(spec, state.data)));
}

function renderQueues() {
  const names = state.data ? state.data.queues : [];
  for (const select of root.querySelectorAll("select.ix-queue")) {
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "", text: t("ix_all_queues") }),
      ...names.map((q) => el("option", { value: q, text: label("queue_", q) })));
    select.value = names.includes(chosen) ? chosen : "";
  }
}

async function refresh() {
  const status = root.querySelector(".ix-status");
  const params = new URLSearchParams({ date: root.querySelector(".ix-date").value || localDate() });
  if (state.queue) params.set("queue", state.queue);
  try {
    state.data = await getJson(`/api/console/intervals?${params}`);
    status.textContent = "";
  } catch (err) {
    status.textContent = err.message;
  }
  if (state.data) show(state.data);
}

// --- exports -----------------------------------------------------------------------

const MAX_PERIOD_DAYS = 92;  // bailanys/intraday/web.py

// The period's problem (an ix_err_* key) or null.
function periodProblem(from, to) {
  if (!/^\d{4}-\d\d-\d\d$/.test(from) || !/^\d{4}-\d\d-\d\d$/.test(to)) return "ix_err_bad_date";
  if (to < from) return "ix_err_bad_period";
  if ((Date.parse(to) - Date.parse(from)) / 86_400_000 + 1 > MAX_PERIOD_DAYS) {
    return "ix_err_period_too_long";
  }
  return null;
}

function exportLinks() {
  const form = root.querySelector(".ix-export");
  const from = form.querySelector(".ix-from").value;
  const to = form.querySelector(".ix-to").value;
  const params = new URLSearchParams({ from, to, lang: currentLang() });
  const queue = form.querySelector(".ix-queue").value;
  if (queue) params.set("queue", queue);
  const problem = periodProblem(from, to);
  form.querySelector(".ix-export-status").textContent = problem ? t(problem) : "";
  for (const [cls, path] of [["ix-csv-intervals", "intervals.csv"], ["ix-csv-agents", "agents.csv"]]) {
    const link = form.querySelector(`.${cls}`);
    if (problem) {
      link.removeAttribute("href");
      link.setAttribute("aria-disabled", "true");
    } else {
      link.href = `/api/console/${path}?${params}`;
      link.removeAttribute("aria-disabled");
    }
  }
}

// --- the agent drill-down ------------------------------------------------------------

function row(cells) {
  return el("tr", {}, ...cells.map((c) => el("td", { text: c })));
}

function figure(key, value) {
  return el("div", { class: "ix-fig", "data-fig": key }, el("span", { text: t(`ix_${key}`) }),
    el("strong", { text: value }));
}

function renderAgent(out) {
  const dialog = document.getElementById("ix-agent");
  const body = dialog.querySelector(".ix-agent-body");
  dialog.dataset.agent = out.agent;
  dialog.querySelector(".ix-agent-name").textContent = out.name ? `${out.name} (${out.agent})`
    : out.agent;
  const calls = el("table", { class: "ix-calls" },
    el("thead", {}, row([t("ix_col_time"), t("ix_col_queue"), t("ix_col_duration"),
      t("ix_col_outcome"), t("ix_col_number")])),
    el("tbody", {}, ...out.calls.map((c) => {
      const tr = row([fmtTime(c.time), label("queue_", c.queue), fmtDuration(c.duration),
        c.talk === null ? t("ix_talking")
          : (c.outcome ? label("dk_outcome_", c.outcome) : t("ix_no_outcome")), c.caller || "—"]);
      tr.dataset.call = c.call_id;
      return tr;
    })));
  const breaks = el("table", { class: "ix-breaks" },
    el("thead", {}, row([t("ix_col_from"), t("ix_col_to"), t("ix_col_reason"),
      t("ix_col_duration")])),
    el("tbody", {}, ...out.breaks.map((b) => row([fmtTime(b.start),
      b.running ? t("ix_now") : fmtTime(b.end), label("reason_", b.reason),
      fmtDuration(b.seconds)]))));
  body.replaceChildren(
    el("div", { class: "ix-figs" },
      figure("login", fmtTime(out.first_login)),
      figure("logged_in_time", fmtDuration(out.logged_in_s)),
      figure("handled", String(out.handled)),
      figure("aht", fmtDuration(out.aht_s)),
      figure("occupancy", out.occupancy_pct === null ? "—" : `${fmtNumber(out.occupancy_pct)} %`),
      figure("break_time", fmtDuration(out.break_s))),
    el("h4", { text: t("ix_calls_today") }),
    out.calls.length ? calls : el("p", { text: t("ix_no_calls") }),
    el("h4", { text: t("ix_breaks") }),
    out.breaks.length ? breaks : el("p", { text: t("ix_no_breaks") }));
}

async function openAgent(agent) {
  state.agent = agent;
  const dialog = document.getElementById("ix-agent");
  try {
    const out = await getJson(`/api/console/agents/${encodeURIComponent(agent)}?date=${
      root.querySelector(".ix-date").value || localDate()}`);
    if (!out) return;
    renderAgent(out);
  } catch (err) {
    dialog.querySelector(".ix-agent-body").replaceChildren(el("p", { text: err.message }));
  }
  if (!dialog.open) dialog.showModal();
}

function onAgentClick(event) {
  if (event.target.closest("button, a, input, select, textarea, dialog")) return;
  const rowNode = event.target.closest("tr[data-agent], [data-agent-drill]");
  if (!rowNode || !rowNode.closest("#agents, [data-agent-drill]")) return;
  openAgent(rowNode.dataset.agent || rowNode.dataset.agentDrill);
}

// --- the section -------------------------------------------------------------------------

function build() {
  const today = localDate();
  const queueSelect = () => el("select", { class: "ix-queue" });
  root.replaceChildren(
    el("h2", { "data-i18n": "ix_title", text: t("ix_title") }),
    el("div", { class: "ix-controls" },
      el("label", {}, el("span", { "data-i18n": "ix_queue", text: t("ix_queue") }),
        queueSelect()),
      el("label", {}, el("span", { "data-i18n": "ix_date", text: t("ix_date") }),
        el("input", { type: "date", class: "ix-date", value: today, max: today })),
      el("span", { class: "ix-status", role: "status" })),
    el("div", { class: "ix-charts" }),
    el("form", { class: "ix-export" },
      el("h3", { "data-i18n": "ix_export", text: t("ix_export") }),
      el("label", {}, el("span", { "data-i18n": "ix_from", text: t("ix_from") }),
        el("input", { type: "date", class: "ix-from", value: localDate(-6), max: today })),
      el("label", {}, el("span", { "data-i18n": "ix_to", text: t("ix_to") }),
        el("input", { type: "date", class: "ix-to", value: today, max: today })),
      el("label", {}, el("span", { "data-i18n": "ix_queue", text: t("ix_queue") }),
        queueSelect()),
      el("a", { class: "ix-csv-intervals", download: "", "data-i18n": "ix_csv_intervals",
        text: t("ix_csv_intervals") }),
      el("a", { class: "ix-csv-agents", download: "", "data-i18n": "ix_csv_agents",
        text: t("ix_csv_agents") }),
      el("span", { class: "ix-export-status ix-status", role: "status" })));
  const dialog = el("dialog", { id: "ix-agent", class: "ix-agent" },
    el("div", { class: "ix-agent-head" },
      el("h3", { class: "ix-agent-name" }),
      el("button", { type: "button", class: "ix-agent-close", "data-i18n": "ix_close",
        text: t("ix_close") })),
    el("div", { class: "ix-agent-body" }));
  document.body.append(dialog);
  dialog.querySelector(".ix-agent-close").addEventListener("click", () => dialog.close());
  const chartQueue = root.querySelector(".ix-controls .ix-queue");
  chartQueue.addEventListener("change", () => {
    state.queue = chartQueue.value;
    refresh();
  });
  root.querySelector(".ix-date").addEventListener("change", refresh);
  root.querySelector(".ix-export").addEventListener("input", exportLinks);
  root.querySelector(".ix-export").addEventListener("change", exportLinks);
  root.querySelector(".ix-export").addEventListener("submit", (e) => e.preventDefault());
}

function onLanguage() {
  // after i18n.js applied the static texts: redraw what this section wrote itself
  setTimeout(() => {
    renderQueues();
    renderCharts();
    exportLinks();
    if (state.agent && document.getElementById("ix-agent").open) openAgent(state.agent);
  });
}

function show(data) {
  state.data = data;
  renderQueues();
  renderCharts();
  root.dataset.loaded = data.now;
}

export function mount(node, first = null) {
  root = node;
  build();
  exportLinks();
  document.addEventListener("click", onAgentClick);
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", onLanguage);
  }
  root.hidden = false;
  if (first) show(first);
  else refresh();
  state.timer = setInterval(refresh, REFRESH_MS);
}

// Supervisors and admins only: the API answers 403 to the others, who keep
// the section hidden.
async function start() {
  const node = document.getElementById("intraday");
  if (!node) return;
  const probe = await fetch(`/api/console/intervals?date=${localDate()}`,
    { credentials: "same-origin" }).catch(() => null);
  if (!probe || !probe.ok) return;
  mount(node, await probe.json().catch(() => null));
}

start();
