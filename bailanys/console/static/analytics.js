// The analysts' page (issue 15): search the transcripts, chart the calls per
// day, page through the hits, export them as CSV, open a call and play its
// recording from a clicked word (the call's view: callview.js, shared with the
// reviewers' page). Text reaches the page through textContent only.
import { has, initLangSwitch, locale, t } from "./i18n.js";
import { el, svg } from "./dom.js";
import {
  callFacts, callTurns, followPlayback, getJson, label, masked, playFrom, wordsPlay,
} from "./callview.js";

const FILTERS = ["since", "until", "queue", "agent", "language", "topic", "disposition",
  "outcome", "channel", "sort"];
const MAX_BAR = 40; // px in the chart's 600-wide box: a few days stay bars, not blocks

const state = { params: new URLSearchParams(), result: null, counts: null, call: null, page: 1,
  user: null, due: null };
const REPORT_ROLES = ["analyst", "supervisor", "admin"];

// --- small helpers ---------------------------------------------------------------

function showError(code, message) {
  const box = document.getElementById("search-error");
  if (!code) {
    box.hidden = true;
    return;
  }
  box.textContent = has(`qerr_${code}`) ? t(`qerr_${code}`) : (message || t("qerr_unknown"));
  box.hidden = false;
}

// --- the search ------------------------------------------------------------------

function formParams(page) {
  const form = document.getElementById("search-form");
  const data = new FormData(form);
  const params = new URLSearchParams();
  const q = String(data.get("q") ?? "").trim();
  if (q) params.set("q", q);
  for (const name of FILTERS) {
    const value = String(data.get(name) ?? "").trim();
    if (value && !(name === "sort" && value === "relevance")) params.set(name, value);
  }
  for (const name of ["min_duration", "max_duration"]) {  // minutes on the page, seconds in the API
    const value = String(data.get(name) ?? "").trim();
    if (value) params.set(name, String(Math.round(Number(value) * 60)));
  }
  if (page > 1) params.set("page", String(page));
  return params;
}

function fillForm(params) {
  const form = document.getElementById("search-form");
  form.elements.q.value = params.get("q") ?? "";
  for (const name of FILTERS) form.elements[name].value = params.get(name) ?? "";
  if (!form.elements.sort.value) form.elements.sort.value = "relevance";
  for (const name of ["min_duration", "max_duration"]) {
    const value = params.get(name);
    form.elements[name].value = value ? String(Number(value) / 60) : "";
  }
}

async function search(params) {
  state.params = params;
  const page = Number(params.get("page") ?? "1");
  history.replaceState(null, "", `/analytics?${params}${location.hash}`);
  const exportParams = new URLSearchParams(params);
  exportParams.delete("page");
  document.getElementById("total").textContent = t("an_searching");
  const answer = await getJson(`/api/analytics/search?${params}`);
  if (!answer) return;
  if (answer.ok) {
    exportParams.set("lang", document.documentElement.lang);
    document.getElementById("export").href = `/api/analytics/export.csv?${exportParams}`;
  }
  if (!answer.ok) {
    state.result = null;
    showError(answer.body.error ?? "failed", answer.body.message);
    renderResults();
    return;
  }
  showError(null);
  state.result = answer.body;
  state.counts = null;
  state.page = page;
  renderResults();
  if (answer.body.partial) countAll(params);
}

// The fast answer read only the newest matches: ask for the exact total and
// calls per day (every match; slower), unless another search started since.
async function countAll(params) {
  const answer = await getJson(`/api/analytics/counts?${params}`);
  if (!answer?.ok || state.params !== params) return;
  state.counts = answer.body;
  renderResults();
}

function renderResults() {
  const result = state.result;
  const list = document.getElementById("hits");
  const total = document.getElementById("total");
  const counts = state.counts;
  renderPerDay(counts?.per_day ?? result?.per_day ?? []);
  if (!result) {
    total.textContent = "";
    list.replaceChildren();
    document.getElementById("pager").hidden = true;
    return;
  }
  if (counts) {
    total.textContent = t("an_total_counted", { n: counts.total.toLocaleString(locale()),
      m: result.total.toLocaleString(locale()) });
  } else {
    total.textContent = t(result.partial ? "an_total_partial" : "an_total",
      { n: result.total.toLocaleString(locale()) });
  }
  if (!result.hits.length) list.replaceChildren(el("li", { class: "empty", text: t("an_none") }));
  else list.replaceChildren(...result.hits.map(renderHit));
  const pager = document.getElementById("pager");
  pager.hidden = result.pages <= 1;
  document.getElementById("page-no").textContent = t("an_page", { page: result.page,
    pages: result.pages });
  document.getElementById("prev").disabled = result.page <= 1;
  document.getElementById("next").disabled = result.page >= result.pages;
}

function renderHit(hit) {
  const snippet = el("p", { class: "snippet" });
  for (const [text, isHit] of hit.snippet) {
    if (isHit) snippet.append(el("mark", {}, ...masked(text)));
    else snippet.append(...masked(text));
  }
  const meta = [hit.started_text, hit.queue, hit.agent, label("language_", hit.language)]
    .filter(Boolean).join(" · ");
  const open = el("a", { class: "open-call", href: `#call=${encodeURIComponent(hit.call_id)}`,
    "data-call": hit.call_id, "data-offset": hit.offset });
  open.append(el("span", { class: "offset", text: hit.offset_text }),
    el("span", { class: `channel channel-${hit.channel}`, text: label("channel_", hit.channel) }),
    el("span", { class: "meta", text: meta }));
  return el("li", { class: "hit", "data-call": hit.call_id }, open, snippet);
}

// Calls per day as bars (inline SVG: nothing loaded from outside).
function renderPerDay(days) {
  const chart = document.getElementById("per-day");
  chart.replaceChildren();
  chart.setAttribute("aria-label", t("an_per_day"));
  chart.parentElement.hidden = !days.length;
  if (!days.length) return;
  const [left, right, top, bottom] = [30, 596, 8, 90];
  const max = Math.max(1, ...days.map(([, n]) => n));
  const step = (right - left) / days.length;
  const width = Math.min(MAX_BAR, Math.max(1, step * 0.8));
  chart.append(svg("line", { class: "axis", x1: left, x2: right, y1: bottom, y2: bottom }),
    svg("text", { class: "tick", x: left - 4, y: top + 8, "text-anchor": "end" }, String(max)));
  days.forEach(([day, n], i) => {
    const h = ((bottom - top) * n) / max;
    const bar = svg("rect", { class: "bar", x: left + i * step + (step - width) / 2,
      y: bottom - h, width, height: h, "data-day": day, "data-count": n });
    bar.append(svg("title", {}, `${day}: ${n}`));
    chart.append(bar);
  });
  chart.append(svg("text", { class: "tick", x: left, y: 106 }, days[0][0]));
  if (days.length > 1) {
    chart.append(svg("text", { class: "tick", x: right, y: 106, "text-anchor": "end" },
      days[days.length - 1][0]));
  }
}

// --- the call --------------------------------------------------------------------

async function openCall(callId, offset) {
  const panel = document.getElementById("call-panel");
  const answer = await getJson(`/api/analytics/calls/${encodeURIComponent(callId)}`);
  if (!answer) return;
  state.call = answer.ok ? answer.body : { call_id: callId, turns: [], audio: false };
  panel.hidden = false;
  renderCall();
  const player = document.getElementById("player");
  player.pause();
  player.removeAttribute("src");  // preload="none": nothing is fetched before a play
  if (state.call.audio) player.src = `/api/analytics/calls/${encodeURIComponent(callId)}/audio`;
  if (offset != null) {
    const word = [...document.querySelectorAll("#turns .word")]
      .find((w) => Number(w.dataset.start) >= offset - 0.05);
    word?.scrollIntoView({ block: "center" });
  }
}

function renderCall() {
  const call = state.call;
  if (!call) return;
  document.getElementById("call-id").textContent = call.call_id;
  document.getElementById("call-facts").replaceChildren(...callFacts(call));
  document.getElementById("player").hidden = !call.audio;
  document.getElementById("audio-hint").hidden = !call.audio;
  document.getElementById("no-audio").hidden = Boolean(call.audio);
  document.getElementById("turns").replaceChildren(...callTurns(call));
}

function route() {
  const match = /^#call=(.+)$/.exec(location.hash);
  if (!match) {
    document.getElementById("call-panel").hidden = true;
    document.getElementById("player").pause();
    return;
  }
  const [callId, offset] = decodeURIComponent(match[1]).split("@");
  openCall(callId, offset ? Number(offset) : null);
}

// --- wiring ----------------------------------------------------------------------

async function showUser() {
  const answer = await getJson("/api/analytics/me");
  if (!answer?.ok) return;
  state.user = answer.body;
  renderUser();
  loadDue();
}

function renderUser() {
  const user = state.user;
  if (user) document.getElementById("who").textContent = `${user.name} · ${label("role_", user.role)}`;
  // the reviewers' workspace (bailanys/qa/web.py QA_ROLES), for those who may open it
  document.getElementById("qa-link").hidden = !["qa", "supervisor", "admin"].includes(user?.role);
  // the Reports page (bailanys/reports/web.py REPORT_ROLES)
  document.getElementById("reports-link").hidden = !REPORT_ROLES.includes(user?.role);
  renderDue();
}

// The semi-annual form's due date (issue 17: "the console reminds analysts"),
// where the Reports page is wired and the user may open it.
async function loadDue() {
  if (!REPORT_ROLES.includes(state.user?.role)) return;
  const answer = await getJson("/api/reports/due");
  state.due = answer?.ok ? answer.body.due : null;
  renderDue();
}

function renderDue() {
  const box = document.getElementById("due");
  const due = state.due;
  box.hidden = !due;
  if (!due) return;
  const [y, m, d] = due.date.split("-").map(Number);
  const [year, half] = due.period.split("-H");
  const vars = { period: t("rp_period_half", { year, n: half === "1" ? "I" : "II" }),
    date: new Date(y, m - 1, d).toLocaleDateString(locale()), days: due.days_left };
  box.replaceChildren(t(due.days_left > 0 ? "rp_due" : "rp_due_today", vars), " ",
    el("a", { href: "/reports", text: t("rp_due_open") }));
}

function init() {
  const form = document.getElementById("search-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search(formParams(1));
  });
  form.addEventListener("reset", () => setTimeout(() => {
    showError(null);
    state.result = null;
    renderResults();
  }));
  document.getElementById("prev").addEventListener("click", () => search(formParams(state.page - 1)));
  document.getElementById("next").addEventListener("click", () => search(formParams(state.page + 1)));
  document.getElementById("hits").addEventListener("click", (event) => {
    const link = event.target.closest("a.open-call");
    if (!link) return;
    event.preventDefault();
    location.hash = `call=${encodeURIComponent(`${link.dataset.call}@${link.dataset.offset}`)}`;
  });
  const player = document.getElementById("player");
  const turns = document.getElementById("turns");
  wordsPlay(turns, (start) => {
    if (state.call?.audio) playFrom(player, start);
  });
  document.getElementById("close-call").addEventListener("click", () => {
    history.replaceState(null, "", `/analytics?${state.params}`);
    route();
  });
  player.addEventListener("timeupdate", () => followPlayback(player, turns));
  window.addEventListener("hashchange", route);
  initLangSwitch(() => {
    renderUser();
    renderResults();
    renderCall();
    const link = document.getElementById("export");
    const url = new URL(link.href);
    url.searchParams.set("lang", document.documentElement.lang);
    link.href = `${url.pathname}${url.search}`;
  });
  showUser();
  const params = new URLSearchParams(location.search);
  fillForm(params);
  if ([...params.keys()].length) search(params);
  route();
}

init();
