// The supervisor page: a websocket client of PROTOCOL.md. It renders the
// KPIs, the calls waiting over the last hour, the queues with their callers
// and the agents, counts times up every second on the server's clock, and
// sends actions. Data reaches the page through textContent only, never parsed
// as HTML: a caller's or agent's name cannot inject markup.
import { currentLang, has, initLangSwitch, locale, t } from "./i18n.js";
import { el, svg } from "./dom.js";
import { applyPatch, morphChildren, reconcile, setAttr, setText } from "./keyed.js";
import { renderCases } from "./casealerts.js";
import { reconnect as reconnectWhileLoggedIn } from "./session.js";
import { monitorAction, monitorButtons, myMonitor } from "./monitor.js";
import { initWallboard, renderBoard, renderMute, waitNow } from "./wallboard.js";
import { renderEngines } from "./clusterview.js";

const HOUR_S = 3600;
const STATUSES = ["within", "warning", "breach", "no_data", "no_target"];
// unit -> [i18n key of its symbol, fraction digits]
const UNITS = { s: ["unit_s", 0], min: ["unit_min", 1], "%": [null, 1], points: ["unit_points", 2] };
const MAX_RETRY_MS = 15000;

const state = {
  data: { queues: [], agents: [], kpis: {}, history: [], topics: [], board: null },
  at: {}, // key -> server time (s) of the message that brought its value
  user: null,
  offsetMs: 0, // server clock minus browser clock
  ws: null,
  nextId: 1,
  retryMs: 1000,
};

const serverNow = () => (Date.now() + state.offsetMs) / 1000;

// --- small helpers ---------------------------------------------------------------

function fmtDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

const numberFormats = new Map(); // "locale digits" -> Intl.NumberFormat (making one is slow)
function fmtNumber(value, digits) {
  const key = `${locale()} ${digits}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits });
    numberFormats.set(key, format);
  }
  return format.format(value);
}

function fmtValue(value, unit) {
  const [key, digits] = UNITS[unit] ?? [null, 1];
  const number = fmtNumber(value, digits);
  if (unit === "%") return `${number} %`;
  if (key) return `${number} ${t(key)}`;
  return unit ? `${number} ${unit}` : number;
}

function label(prefix, value) {
  return has(`${prefix}${value}`) ? t(`${prefix}${value}`) : String(value);
}

// --- rendering -------------------------------------------------------------------

function renderUser() {
  const who = document.getElementById("who");
  const user = state.user;
  if (!user) return;
  const parts = [user.name, label("role_", user.role)];
  if (!user.can_act) parts.push(t("view_only"));
  who.textContent = parts.join(" · ");
  document.body.classList.toggle("view-only", !user.can_act);
  // the recorded prompts' page (issue 21) is the administrators' only
  for (const a of document.querySelectorAll(".nav-admin")) a.hidden = user.role !== "admin";
}

// KPIs come as bailanys.metrics' Kpi.to_json(): {value, samples, status, limit, goal},
// keyed by name; the unit follows the name's suffix unless the KPI names one.
const SUFFIX_UNITS = { _s: "s", _pct: "%", _score: "points" };
// A KPI shown inside another's tile, not as a tile of its own: KPI 2 over the
// automatically scored calls beside KPI 2 over the reviewed ones (docs/kpi.md).
const BESIDE = { accuracy_pct: "accuracy_auto_pct" };
const SHOWN_BESIDE = new Set(Object.values(BESIDE));
const LOWER_IS_BETTER = new Set(["wait_s", "abandoned_wait_s", "lost_pct", "lost_after_30s_pct",
  "dropped_pct", "cdi_pct", "asa_s", "aht_s"]);

function kpiUnit(id, kpi) {
  if (kpi.unit) return kpi.unit;
  const suffix = Object.keys(SUFFIX_UNITS).find((s) => id.endsWith(s));
  return suffix ? SUFFIX_UNITS[suffix] : "";
}

function kpiStatus(kpi) {
  if (kpi.value === null || kpi.value === undefined) return "no_data";
  return STATUSES.includes(kpi.status) ? kpi.status : "no_target";
}

function targetText(id, kpi, unit) {
  const parts = [];
  if (kpi.goal != null) parts.push(`${t("goal")}: ${fmtValue(kpi.goal, unit)}`);
  if (kpi.limit != null) {
    const lower = LOWER_IS_BETTER.has(id) || (kpi.goal != null && kpi.goal < kpi.limit);
    parts.push(`${t("limit")} ${lower ? "≤" : "≥"} ${fmtValue(kpi.limit, unit)}`);
  }
  return parts.join(" · ");
}

function besideLine(id) {
  const kpi = state.data.kpis?.[id];
  if (!kpi) return null;
  const value = kpi.value == null ? t("no_data") : fmtValue(kpi.value, kpiUnit(id, kpi));
  return el("div", { class: "kpi-beside", "data-kpi-beside": id, "data-status": kpiStatus(kpi),
    text: `${t(`kpi_${id}`)}: ${value}` });
}

function renderKpis() {
  const box = document.getElementById("kpis");
  const entries = Object.entries(state.data.kpis ?? {}).filter(([id]) => !SHOWN_BESIDE.has(id));
  if (!entries.length) {
    box.replaceChildren(el("p", { class: "empty", text: t("no_data") }));
    return;
  }
  morphChildren(box, entries.map(([id, kpi]) => {
    let status = kpiStatus(kpi);
    // Issue 21: KPI 1 counts ended waits; the callers waiting now sit beside it.
    const now = id === "wait_s" ? waitNow(state.data.board, state.at.board ?? serverNow(), status)
      : null;
    if (now) status = now.status;
    const unit = kpiUnit(id, kpi);
    const name = has(`kpi_${id}`) ? t(`kpi_${id}`) : (kpi.label?.[currentLang()] ?? id);
    const value = kpi.value == null ? t("no_data") : fmtValue(kpi.value, unit);
    return el("div", { class: "kpi", "data-kpi": id, "data-status": status },
      el("div", { class: "kpi-label", text: name }),
      el("div", { class: "kpi-value", text: value }),
      BESIDE[id] ? besideLine(BESIDE[id]) : null,
      now?.node ?? null,
      el("div", { class: "kpi-target", text: targetText(id, kpi, unit) }),
      el("div", { class: "kpi-status", text: now?.live ? t("board_status_live") : t(`status_${status}`) }));
  }));
}

function renderChart() {
  const chart = document.getElementById("chart");
  const [left, right, top, bottom, height] = [34, 592, 10, 116, 140];
  const now = serverNow();
  const from = now - HOUR_S;
  const points = (state.data.history ?? [])
    .filter((p) => Number.isFinite(p.t) && Number.isFinite(p.waiting) && p.t >= from)
    .sort((a, b) => a.t - b.t);
  const max = Math.max(1, ...points.map((p) => p.waiting));
  const x = (time) => (left + (Math.min(time, now) - from) / HOUR_S * (right - left)).toFixed(1);
  const y = (value) => (bottom - value / max * (bottom - top)).toFixed(1);
  const nodes = [
    svg("line", { x1: left, y1: bottom, x2: right, y2: bottom, class: "axis" }),
    svg("line", { x1: left, y1: top, x2: left, y2: bottom, class: "axis" }),
    svg("text", { x: left - 4, y: top + 8, "text-anchor": "end", class: "tick" }, String(max)),
    svg("text", { x: left - 4, y: bottom, "text-anchor": "end", class: "tick" }, "0"),
    svg("text", { x: left, y: height - 6, class: "tick" }, t("chart_ago")),
    svg("text", { x: right, y: height - 6, "text-anchor": "end", class: "tick" }, t("chart_now")),
  ];
  if (points.length) {
    const line = points.map((p) => `${x(p.t)},${y(p.waiting)}`).join(" ");
    const first = x(points[0].t);
    const last = x(points[points.length - 1].t);
    nodes.push(svg("polygon", { points: `${first},${bottom} ${line} ${last},${bottom}`, class: "area" }));
    nodes.push(svg("polyline", { points: line, class: "line" }));
  } else {
    nodes.push(svg("text", { x: (left + right) / 2, y: (top + bottom) / 2, "text-anchor": "middle",
      class: "empty" }, t("no_data")));
  }
  chart.replaceChildren(...nodes);
  chart.dataset.points = String(points.length);
  const latest = points.length ? points[points.length - 1].waiting : t("no_data");
  chart.setAttribute("aria-label", `${t("chart_title")}: ${latest}`);
}

const CALLER_COLUMNS = ["col_position", "col_number", "col_waited", "col_language", "col_callback",
  "col_caller_state"];

// Issue 21: each queue's card and each caller's row are made once (keyed by
// queue name and call id) and updated in place (keyed.js).
const queueCards = new Map(); // name -> card record
const stamps = new WeakMap(); // a queue or agent object -> server time of the message that brought it

function liveCell(cell, since) {
  // A live time (tick() counts it up): the cell's span keeps its node.
  let span = cell.firstChild;
  if (!span || span.nodeName !== "SPAN") {
    span = el("span", { class: "live" });
    cell.replaceChildren(span);
  }
  if (!Number.isFinite(since)) {
    setAttr(span, "data-since", null);
    setAttr(span, "class", null);
    setText(span, "—");
    return;
  }
  const old = Number(span.dataset.since);
  // The same start to half a second (waits are rounded): left as it is.
  if (!(Math.abs(old - since) < 0.5)) setAttr(span, "data-since", since);
  setAttr(span, "class", "live");
  setText(span, fmtDuration(serverNow() - Number(span.dataset.since)));
}

function makeCaller() {
  const cells = CALLER_COLUMNS.map(() => el("td"));
  cells[0].className = "num";
  cells[1].className = "call";
  return { node: el("tr", {}, ...cells), cells };
}

function updateCaller(record, c, stamp) {
  const [pos, call, waited, language, callback, callerState] = record.cells;
  setAttr(record.node, "data-call", c.call_id);
  setAttr(record.node, "data-state", c.state ?? "waiting");
  setText(pos, c.position);
  setAttr(call, "title", c.call_id);
  setText(call, c.number || t("number_hidden"));
  liveCell(waited, stamp - (c.waited ?? 0));
  setText(language, c.language ? label("language_", c.language) : "—");
  setText(callback, c.callback ? t("yes") : t("no"));
  setText(callerState, label("caller_", c.state ?? "waiting"));
}

function makeQueue(queue) {
  const record = {
    name: el("span", { class: "queue-name" }),
    count: el("span", { class: "count" }),
    free: el("span", { class: "free" }),
    empty: el("p", { class: "empty" }),
    body: el("tbody"),
    head: el("thead"),
    callers: new Map(),
  };
  record.h3 = el("h3", {}, record.name, record.count, record.free);
  record.table = el("table", { class: "callers" }, record.head, record.body);
  record.node = el("article", { class: "queue", "data-queue": queue.name }, record.h3);
  return record;
}

function updateQueue(record, queue) {
  const waiting = queue.waiting ?? [];
  const stamp = stamps.get(queue) ?? state.at.queues ?? serverNow();
  setText(record.name, `${t("queue")}: ${queue.label?.[currentLang()] ?? queue.name}`);
  setAttr(record.count, "data-count", waiting.length);
  setText(record.count, `${t("waiting")}: ${waiting.length}`);
  if (queue.agents_available == null) record.free.remove();
  else {
    if (!record.free.parentNode) record.h3.append(record.free);
    setText(record.free, `${t("agents_free")}: ${queue.agents_available}`);
  }
  if (record.rows !== waiting.length) {
    record.rows = waiting.length;
    record.node.style.setProperty("--rows", String(waiting.length));
  }
  const shown = waiting.length ? record.table : record.empty;
  if (record.node.lastChild !== shown) record.node.replaceChildren(record.h3, shown);
  if (!waiting.length) {
    setText(record.empty, t("no_callers"));
    record.callers.clear();
    record.body.replaceChildren();
    return;
  }
  if (!record.head.firstChild) {
    record.head.append(el("tr", {}, ...CALLER_COLUMNS.map((key) => el("th", { text: t(key) }))));
  }
  reconcile(record.body, record.callers, waiting, (c) => c.call_id, makeCaller,
    (r, c) => updateCaller(r, c, stamp), stamp);
}

function renderQueues() {
  const box = document.getElementById("queues");
  const queues = state.data.queues ?? [];
  if (!queues.length) {
    queueCards.clear();
    box.replaceChildren(el("p", { class: "empty", text: t("no_queues") }));
    return;
  }
  reconcile(box, queueCards, queues, (q) => q.name, makeQueue, updateQueue);
}

function agentButtons(agent) {
  const button = (name) => el("button", { type: "button", "data-action": name, text: t(`act_${name}`) });
  if (agent.state === "logged_out") return [button("agent_login")];
  const buttons = [button(agent.state === "break" ? "agent_unpause" : "agent_pause")];
  if (agent.current_call) buttons.push(button("disposition"));
  // Issue 21: listen, whisper, barge (monitor.js).
  buttons.push(...monitorButtons(agent, myMonitor(state.data.monitors, state.user?.login)));
  buttons.push(button("agent_logout"));
  return buttons;
}

// Issue 21: one row per agent, made once and updated in place; the buttons
// are made again only when what they depend on changed.
const agentRows = new Map(); // user -> row record

function makeAgent(agent) {
  const record = {
    user: el("span", { class: "agent-user" }),
    name: el("span", { class: "agent-name" }),
    state: el("span", { class: "state" }),
    since: el("td"),
    reason: el("td", { class: "reason" }),
    call: el("td", { class: "call" }),
    actions: el("div", { class: "actions" }),
    buttons: null,
  };
  record.who = el("td", {}, record.user);
  const cells = [record.who, el("td", {}, record.state), record.since, record.reason, record.call];
  if (state.user?.can_act) cells.push(el("td", { class: "acting" }, record.actions));
  record.node = el("tr", { "data-agent": agent.user }, ...cells);
  return record;
}

function updateAgent(record, a, mine) {
  setAttr(record.node, "data-state", a.state);
  setText(record.user, a.user);
  if (a.name && a.name !== a.user) {
    if (!record.name.parentNode) record.who.append(record.name);
    setText(record.name, a.name);
  } else record.name.remove();
  let stateText = label("state_", a.state);
  if (a.logout_pending) stateText += ` (${t("logout_pending")})`;
  setAttr(record.state, "data-state", a.state);
  setText(record.state, stateText);
  liveCell(record.since, a.since);
  setText(record.reason, a.reason ? label("reason_", a.reason) : "");
  setAttr(record.call, "data-current-call", a.current_call ?? "");
  setText(record.call, a.current_call ?? "");
  if (!state.user?.can_act) return;
  const onThis = mine && mine.agent === a.user ? `${mine.mode}:${mine.state}` : "";
  const buttons = `${a.state}|${Boolean(a.current_call)}|${onThis}`;
  if (record.buttons !== buttons) {
    record.buttons = buttons;
    record.actions.replaceChildren(...agentButtons(a));
  }
}

function renderAgents() {
  const body = document.querySelector("#agents tbody");
  const agents = state.data.agents ?? [];
  if (!agents.length) {
    agentRows.clear();
    body.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "empty", text: t("no_agents") })));
    return;
  }
  const mine = myMonitor(state.data.monitors, state.user?.login);
  const context = mine ? `${mine.agent}:${mine.mode}:${mine.state}` : "";
  reconcile(body, agentRows, agents, (a) => a.user, makeAgent, (r, a) => updateAgent(r, a, mine),
    context);
}

// A new language or user: every row and card is made again.
function forgetRows() {
  agentRows.clear();
  queueCards.clear();
  document.querySelector("#agents tbody").replaceChildren();
  document.getElementById("queues").replaceChildren();
}

// The topic classifier's topics (issue 17) as the disposition form's choices:
// the value is the id the engine checks, the label the name in the page's language.
function renderTopics() {
  const lang = currentLang() === "kk" ? "kk" : "ru";
  const options = (state.data.topics ?? []).map(
    (topic) => el("option", { value: topic.id, label: topic[lang], text: topic[lang] }));
  document.getElementById("topic-list").replaceChildren(...options);
}

const RENDER = {
  queues: renderQueues, agents: renderAgents, kpis: renderKpis, history: renderChart,
  topics: renderTopics,
  // Issue 19: the overdue requests and the escalation alert.
  cases: () => renderCases(state.data.cases, state.data.topics),
  monitors: renderAgents, // issue 21: the pressed listen/whisper/barge button
  // Issue 21: the wallboard, and the live wait beside KPI 1.
  board: () => {
    renderBoard(state.data.board, state.at.board ?? serverNow());
    renderKpis();
  },
  // Issue 22: the cluster console's engines, and the totals that lack a part.
  engines: () => renderEngines(state.data.engines, state.data.partial),
  partial: () => renderEngines(state.data.engines, state.data.partial),
};

function renderAll() {
  renderUser();
  for (const render of Object.values(RENDER)) render();
}

function tick() {
  const now = serverNow();
  for (const node of document.querySelectorAll("[data-since]")) {
    setText(node, fmtDuration(now - Number(node.dataset.since)));
  }
}

let toastTimer = 0;
function toast(text, kind = "ok") {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
}

// --- the websocket ---------------------------------------------------------------

// Issue 21: deltas are applied to the state as they come and drawn once per
// animation frame, however many arrived; the page then tells the server what
// it drew ({"type": "rendered", "seq"}: flow control, PROTOCOL.md). A hidden
// tab gets no animation frames: a timer draws it then (the alerts still fire).
const FALLBACK_MS = 250;
const frame = { keys: new Set(), seq: null, raf: 0, timer: 0 };

function drawPending() {
  cancelAnimationFrame(frame.raf);
  clearTimeout(frame.timer);
  frame.raf = 0;
  frame.timer = 0;
  const keys = [...frame.keys];
  frame.keys.clear();
  for (const key of keys) drawSafely(RENDER[key]);
  document.body.dataset.rendered = String(frame.seq ?? "");
  acknowledge();
}

// A drawing that fails is logged; the page still acknowledges, or the server
// would hold every later change for it.
function drawSafely(render) {
  try {
    render();
  } catch (e) {
    console.error(e);
  }
}

function acknowledge() {
  if (frame.seq === null || !state.ws || state.ws.readyState !== WebSocket.OPEN) return;
  state.ws.send(JSON.stringify({ type: "rendered", seq: frame.seq }));
}

function schedule() {
  if (frame.raf || frame.timer) return;
  frame.raf = requestAnimationFrame(drawPending);
  frame.timer = setTimeout(drawPending, FALLBACK_MS);
}

function stampAll(value, now) {
  if (Array.isArray(value)) for (const item of value) if (item && typeof item === "object") stamps.set(item, now);
}

function onMessage(msg) {
  if (typeof msg.now === "number") state.offsetMs = msg.now * 1000 - Date.now();
  if (msg.type === "snapshot") {
    state.user = msg.user;
    state.data = { ...state.data, ...msg.data };
    for (const key of Object.keys(RENDER)) state.at[key] = msg.now;
    stampAll(state.data.queues, msg.now);
    forgetRows();
    frame.keys.clear();
    frame.seq = msg.seq ?? null;
    drawSafely(renderAll);
    document.body.dataset.rendered = String(frame.seq ?? "");
    acknowledge();
  } else if (msg.type === "delta") {
    for (const [key, value] of Object.entries(msg.data ?? {})) {
      state.data[key] = value;
      state.at[key] = msg.now;
      if (key === "queues") stampAll(value, msg.now);
      if (RENDER[key]) frame.keys.add(key);
    }
    for (const [key, patch] of Object.entries(msg.patch ?? {})) {
      state.data[key] = applyPatch(state.data[key], patch, (item) => stamps.set(item, msg.now));
      state.at[key] = msg.now;
      if (RENDER[key]) frame.keys.add(key);
    }
    frame.seq = msg.seq ?? null;
    if (frame.keys.size) schedule();
    else acknowledge();
  } else if (msg.type === "ack") {
    toast(t("ack"));
  } else if (msg.type === "error") {
    const key = `err_${msg.code}`;
    toast(has(key) ? `${t(key)}: ${msg.message}` : msg.message, "error");
  }
}

function setConn(status) {
  const node = document.getElementById("conn");
  node.dataset.conn = status;
  node.dataset.i18n = `conn_${status}`;
  node.textContent = t(`conn_${status}`);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/ws?flow=1`);
  let opened = false;
  state.ws = ws;
  setConn("connecting");
  ws.addEventListener("open", () => {
    opened = true;
    state.retryMs = 1000;
    setConn("online");
  });
  ws.addEventListener("message", (event) => {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    onMessage(msg);
  });
  ws.addEventListener("close", (event) => {
    state.ws = null;
    setConn("offline");
    if (event.code === 1008) { // the session ended (logout, expiry)
      location.assign("/login");
      return;
    }
    setTimeout(reconnect, opened ? 1000 : state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, MAX_RETRY_MS);
  });
}

const reconnect = () => reconnectWhileLoggedIn("/", state, connect, MAX_RETRY_MS);

function sendAction(name, fields) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) {
    toast(t("err_offline"), "error");
    return;
  }
  const id = state.nextId++;
  state.ws.send(JSON.stringify({ type: "action", id, action: { name, ...fields } }));
}

// --- actions ---------------------------------------------------------------------

const pauseDialog = document.getElementById("pause-dialog");
const dispositionForm = document.getElementById("disposition-form");

document.getElementById("agents").addEventListener("click", (event) => {
  const monitor = event.target.closest("button[data-monitor]");
  if (monitor) {
    const mine = myMonitor(state.data.monitors, state.user?.login);
    sendAction(...monitorAction(monitor, monitor.closest("[data-agent]").dataset.agent, mine));
    return;
  }
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const row = button.closest("[data-agent]");
  const agent = row.dataset.agent;
  const name = button.dataset.action;
  if (name === "agent_pause") {
    pauseDialog.dataset.agent = agent;
    pauseDialog.returnValue = "";
    pauseDialog.querySelector(".pause-agent").textContent = `${t("col_agent")}: ${agent}`;
    pauseDialog.showModal();
  } else if (name === "disposition") {
    dispositionForm.elements.agent.value = agent;
    dispositionForm.elements.call_id.value = row.querySelector("[data-current-call]").dataset.currentCall;
    dispositionForm.elements.topic.focus();
  } else {
    sendAction(name, { agent });
  }
});

pauseDialog.addEventListener("close", () => {
  if (pauseDialog.returnValue !== "confirm") return;
  const reason = document.getElementById("pause-reason").value;
  sendAction("agent_pause", { agent: pauseDialog.dataset.agent, reason });
});

dispositionForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(dispositionForm);
  sendAction("disposition", {
    call_id: String(form.get("call_id")).trim(),
    agent: String(form.get("agent")).trim(),
    resolved: form.get("resolved") === "on",
    topic: String(form.get("topic")).trim() || null,
  });
});

initWallboard(serverNow);
initLangSwitch(() => {
  forgetRows();
  renderAll();
  renderMute();
});
renderAll();
setInterval(tick, 1000);
setInterval(renderChart, 30000);
connect();
