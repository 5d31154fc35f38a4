// The analysts' page (issue 15): search the transcripts, chart the calls per
// day, page through the hits, export them as CSV, open a call and play its
// recording from a clicked word. Text reaches the page through textContent
// only, never parsed as HTML: a transcript cannot inject markup. The masks of
// personal data ([IIN], [PHONE], [CARD], [EMAIL]) are shown as badges.
import { has, initLangSwitch, locale, t } from "./i18n.js";
import { el, svg } from "./dom.js";

const FILTERS = ["since", "until", "queue", "agent", "language", "topic", "disposition",
  "outcome", "channel", "sort"];
const MAX_BAR = 40; // px in the chart's 600-wide box: a few days stay bars, not blocks
const MASK = /\[(IIN|PHONE|CARD|EMAIL|NUMBER)\]/g;

const state = { params: new URLSearchParams(), result: null, counts: null, call: null, page: 1,
  user: null };

// --- small helpers ---------------------------------------------------------------

function label(prefix, value) {
  return value != null && has(`${prefix}${value}`) ? t(`${prefix}${value}`) : (value ?? "—");
}

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

// Text with its masks as badges: a list of nodes (text nodes and <span class="pii">).
function masked(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(MASK)) {
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    nodes.push(el("span", { class: "pii", "data-mask": match[1], title: t("pii_hidden"),
      text: t(`pii_${match[1]}`) }));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function showError(code, message) {
  const box = document.getElementById("search-error");
  if (!code) {
    box.hidden = true;
    return;
  }
  box.textContent = has(`qerr_${code}`) ? t(`qerr_${code}`) : (message || t("qerr_unknown"));
  box.hidden = false;
}

async function getJson(url) {
  const answer = await fetch(url, { credentials: "same-origin" });
  if (answer.status === 401) {
    location.assign("/login");
    return null;
  }
  const body = answer.headers.get("content-type")?.startsWith("application/json")
    ? await answer.json() : { error: answer.status === 404 ? "not_found" : "failed" };
  return { ok: answer.ok, status: answer.status, body };
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

function fact(key, value) {
  return value == null || value === "" ? [] : [el("dt", { text: t(key) }), el("dd", { text: value })];
}

function renderCall() {
  const call = state.call;
  if (!call) return;
  document.getElementById("call-id").textContent = call.call_id;
  const started = call.started_text ? `${call.started_text} (${call.timezone})` : null;
  document.getElementById("call-facts").replaceChildren(
    ...fact("an_started", started), ...fact("an_f_queue", call.queue),
    ...fact("an_f_agent", call.agent),
    ...fact("an_f_language", call.language ? label("language_", call.language) : null),
    ...fact("an_wait", call.wait != null ? clock(call.wait) : null),
    ...fact("an_duration", call.duration != null ? clock(call.duration) : null),
    ...fact("an_f_outcome", call.outcome ? label("outcome_", call.outcome) : null),
    ...fact("an_f_disposition", call.disposition), ...fact("an_f_topic", call.topic),
    ...fact("an_survey", call.survey_score));
  document.getElementById("player").hidden = !call.audio;
  document.getElementById("audio-hint").hidden = !call.audio;
  document.getElementById("no-audio").hidden = Boolean(call.audio);
  const turns = document.getElementById("turns");
  if (!call.turns?.length) {
    turns.replaceChildren(el("li", { class: "empty", text: t("an_no_transcript") }));
    return;
  }
  turns.replaceChildren(...call.turns.map((turn) => {
    const words = el("p", { class: "words" });
    turn.words.forEach((word, i) => {
      if (i) words.append(" ");
      const node = el("span", { class: "word", "data-start": word.start, "data-end": word.end,
        tabindex: call.audio ? 0 : null, role: call.audio ? "button" : null });
      node.append(...masked(word.text));
      words.append(node);
    });
    return el("li", { class: `turn turn-${turn.channel}`, "data-channel": turn.channel },
      el("div", { class: "turn-head" },
        el("span", { class: "who-said", text: label("channel_", turn.channel) }),
        el("span", { class: "offset", text: turn.start_text })),
      words);
  }));
}

// Play from a word: seek once the player knows the recording's length.
function playFrom(start) {
  const player = document.getElementById("player");
  if (!state.call?.audio) return;
  const go = () => {
    player.currentTime = start;
    player.play().catch(() => {});
  };
  if (player.readyState >= HTMLMediaElement.HAVE_METADATA) go();
  else {
    player.addEventListener("loadedmetadata", go, { once: true });
    player.preload = "metadata";
    player.load();
  }
}

function followPlayback() {
  const now = document.getElementById("player").currentTime;
  for (const word of document.querySelectorAll("#turns .word")) {
    const on = Number(word.dataset.start) <= now && now < Number(word.dataset.end);
    word.classList.toggle("now", on);
  }
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
}

function renderUser() {
  const user = state.user;
  if (user) document.getElementById("who").textContent = `${user.name} · ${label("role_", user.role)}`;
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
  document.getElementById("turns").addEventListener("click", (event) => {
    const word = event.target.closest(".word");
    if (word) playFrom(Number(word.dataset.start));
  });
  document.getElementById("turns").addEventListener("keydown", (event) => {
    const word = event.target.closest(".word");
    if (word && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      playFrom(Number(word.dataset.start));
    }
  });
  document.getElementById("close-call").addEventListener("click", () => {
    history.replaceState(null, "", `/analytics?${state.params}`);
    route();
  });
  document.getElementById("player").addEventListener("timeupdate", followPlayback);
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
