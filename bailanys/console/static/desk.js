// The operators' desktop (issue 19, "Operators' desktop"): a websocket client
// of /desk/ws (bailanys/desk/PROTOCOL.md). It shows the agent's state with a
// timer and the wrap-up countdown, sends ready / break with a reason / log
// out, shows the screen pop of the call ringing the operator's phone (the
// caller as the server masks it, language, wait, the IVR path, the robot's
// turns, the topic guessed, 90 days of history, open requests), the call's
// phase with a timer, and sends the disposition and transfers. The pop is
// drawn by deskpop.js; the knowledge base and the request form are deskwork.js's. Data reaches the page through
// textContent only, never parsed as HTML.
import { currentLang, has, initLangSwitch, t } from "./i18n.js";
import { el } from "./dom.js";
import { clock, getJson } from "./callview.js";
import { reconnect as reconnectWhileLoggedIn } from "./session.js";
import { initWork, renderWork } from "./deskwork.js";
import { callerText, showPop } from "./deskpop.js";

const MAX_RETRY_MS = 15000;
const FIRST_RETRY_MS = 500;
const $ = (id) => document.getElementById(id);

const desk = {
  hello: null, state: null, pop: null, call: null, topics: [], transfer: null,
  ws: null, nextId: 1, retryMs: FIRST_RETRY_MS, offsetMs: 0, pending: new Map(), error: null,
};
const serverNow = () => (Date.now() + desk.offsetMs) / 1000;

// --- names -----------------------------------------------------------------------

function label(prefix, value) {
  return value != null && has(`${prefix}${value}`) ? t(`${prefix}${value}`) : (value ?? "—");
}

// A name in the page's language from {kk, ru[, en]}: kk and ru are the classifier's.
function named(obj, fallback) {
  if (!obj) return fallback;
  const lang = currentLang();
  return obj[lang] || (lang === "kk" ? obj.kk : obj.ru) || obj.ru || obj.kk || fallback;
}

export function topicName(id) {
  if (!id) return "—";
  return named(desk.topics.find((topic) => topic.id === id), id);
}

function breakName(reason) {
  const known = (desk.hello?.break_reasons ?? []).map(reasonEntry).find((r) => r.id === reason);
  return known?.names ? named(known.names, reason) : label("reason_", reason);
}

// A break reason as hello sends it: a name, or {name|id, kk, ru}.
function reasonEntry(item) {
  if (typeof item === "string") return { id: item, names: null };
  return { id: item.name ?? item.id, names: item };
}

// --- the agent's state -------------------------------------------------------------

function renderState() {
  const st = desk.state;
  const node = $("agent-state");
  const name = st?.state ?? "logged_out";
  node.dataset.state = name;
  let text = label("state_", name);
  if (name === "break" && st?.reason) text += `: ${breakName(st.reason)}`;
  node.textContent = text;
  const timer = $("agent-timer");
  if (Number.isFinite(st?.since)) timer.dataset.since = st.since;
  else delete timer.dataset.since;
  $("act-ready").textContent = t(name === "logged_out" ? "dk_login" : "dk_ready");
  // Ringing or on a call, "ready" takes back a break or logout asked for after the call.
  $("act-ready").disabled = name === "available";
  $("act-break").disabled = name === "break" || name === "logged_out";
  $("act-logout").disabled = name === "logged_out";
  tick();
}

function renderBreakReasons() {
  const select = $("break-reason");
  const kept = select.value;
  select.replaceChildren(...(desk.hello?.break_reasons ?? []).map(reasonEntry).map(
    (r) => el("option", { value: r.id, text: r.names ? named(r.names, r.id) : label("reason_", r.id) })));
  if (kept) select.value = kept;
}

// The timers: time in state, the wrap-up countdown, the call's talking time.
function tick() {
  const now = serverNow();
  for (const node of document.querySelectorAll("[data-since]")) {
    node.textContent = clock(now - Number(node.dataset.since));
  }
  const wrap = $("wrap-up");
  const until = desk.state?.state === "wrap_up" ? desk.state.wrap_up_until : null;
  wrap.hidden = !Number.isFinite(until);
  if (!wrap.hidden) wrap.textContent = t("dk_wrap_left", { left: clock(until - now) });
}

// --- the screen pop (deskpop.js draws it) ---------------------------------------------

function renderPop() {
  $("pop-empty").hidden = Boolean(desk.pop);
  $("pop-body").hidden = !desk.pop;
  renderPhase();
  if (desk.pop) showPop(desk.pop, topicName);
}

// What a screen reader says: the call's phase and, as it rings, who calls (the
// pop itself is not a live region: its talking timer would be read every second).
function announce() {
  const pop = desk.pop;
  const call = desk.call;
  if (!call) return;
  const parts = [label("dk_phase_", call.phase)];
  if (pop && call.phase === "ringing") {
    parts.push(callerText(pop.caller));
    if (pop.language) parts.push(label("language_", pop.language));
    if (pop.topic_guess) parts.push(`${t("dk_topic_guess")}: ${topicName(pop.topic_guess)}`);
  }
  $("pop-announce").textContent = parts.join(", ");
}

function renderPhase() {
  const call = desk.call;
  const phase = $("call-phase");
  const timer = $("call-timer");
  phase.dataset.phase = call?.phase ?? "";
  phase.textContent = call ? label("dk_phase_", call.phase) : "";
  if (call?.phase === "connected" && Number.isFinite(call.at)) timer.dataset.since = call.at;
  else {
    delete timer.dataset.since;
    timer.textContent = "";
  }
  renderTransfer();
}

// --- the disposition and topics ------------------------------------------------------

// The classifier's topics under their groups (the groups are headings, not
// choices); the filter matches a topic's kk or ru name, its id or its group's name.
function renderTopics() {
  const select = $("topic");
  const kept = select.value || desk.pop?.topic_guess || "";
  const filter = $("topic-filter").value.trim().toLocaleLowerCase();
  const matches = (item) => [item?.kk, item?.ru, item?.id].some((name) => name?.toLocaleLowerCase().includes(filter));
  const parents = new Set(desk.topics.map((topic) => topic.parent).filter(Boolean));
  const groups = new Map(desk.topics.filter((topic) => parents.has(topic.id)).map((g) => [g.id, g]));
  const option = (topic) => el("option", { value: topic.id, text: named(topic, topic.id) });
  const shown = desk.topics.filter((topic) => !groups.has(topic.id) && (!filter || topic.id === kept
    || matches(topic) || matches(groups.get(topic.parent))));
  const nodes = [];
  for (const topic of shown) {
    const group = groups.get(topic.parent);
    const last = nodes[nodes.length - 1];
    if (!group) nodes.push(option(topic));
    else if (last?.dataset.group === group.id) last.append(option(topic));
    else nodes.push(el("optgroup", { label: named(group, group.id), "data-group": group.id }, option(topic)));
  }
  select.replaceChildren(...nodes);
  if (kept) select.value = kept;
}

async function loadTopics() {
  const answer = await getJson(desk.hello?.topics_url ?? "/desk/api/topics");
  if (!answer?.ok) return;
  desk.topics = answer.body.topics ?? [];
  renderTopics();
  renderPop();
}

function startDisposition(pop) {
  const form = $("disposition");
  form.reset();
  form.elements.call_id.value = pop.call_id;
  $("topic-filter").value = "";
  $("topic").value = "";
  renderTopics();
  if (pop.topic_guess) $("topic").value = pop.topic_guess;
}

// --- transfer ------------------------------------------------------------------------

function renderTargets() {
  const select = $("transfer").elements.target;
  const kept = select.value;
  select.replaceChildren(...(desk.hello?.transfer_targets ?? []).map((target) => el("option",
    { value: target.name, text: `${named(target, target.name)} (${label("dk_kind_", target.kind)})` })));
  if (kept) select.value = kept;
}

function renderTransfer() {
  const talking = desk.call?.phase === "connected";
  const attended = talking && desk.transfer === "attended";
  for (const button of $("transfer").querySelectorAll("button[name=mode]")) button.disabled = !talking || attended;
  $("transfer-complete").hidden = !attended;
  $("transfer-cancel").hidden = !attended;
}

// --- the websocket -------------------------------------------------------------------

function showError(text) {
  desk.error = text;
  $("desk-error").hidden = !text;
  $("desk-error").textContent = text ?? "";
}

function errorText(msg) {
  const key = `err_${msg.code}`;
  if (!has(key)) return msg.message;
  return msg.message ? `${t(key)}: ${msg.message}` : t(key);
}

let toastTimer = 0;
export function toast(text, kind = "ok") {
  const box = $("toast");
  box.textContent = text;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
}

function onMessage(msg) {
  if (typeof msg.now === "number") desk.offsetMs = msg.now * 1000 - Date.now();
  if (msg.type === "hello") {
    desk.hello = msg;
    const agent = msg.agent ?? {};
    $("who").textContent = [agent.name || agent.user, agent.name && agent.name !== agent.user ? agent.user : null,
      msg.read_only ? t("view_only") : null].filter(Boolean).join(" · ");
    document.body.classList.toggle("view-only", Boolean(msg.read_only));
    renderBreakReasons();
    renderTargets();
    loadTopics();
  } else if (msg.type === "state") {
    desk.state = msg;
    renderState();
  } else if (msg.type === "pop") {
    const again = desk.pop?.call_id === msg.pop.call_id; // sent again after a reconnect
    desk.pop = msg.pop;
    if (!again) {
      desk.call = { call_id: msg.pop.call_id, phase: "ringing", at: msg.pop.at };
      desk.transfer = null;
      startDisposition(msg.pop); // a new call: the form starts over, with the guess
    }
    renderPop();
    announce();
  } else if (msg.type === "call") {
    if (desk.pop && msg.call_id !== desk.pop.call_id) return;
    desk.call = msg;
    if (msg.phase === "transferred") {
      desk.transfer = null;
      const form = $("disposition");
      if (!form.outcome.value) form.querySelector('input[value="transferred"]').checked = true;
    }
    renderPhase();
    announce();
  } else if (msg.type === "ack" || msg.type === "error") {
    settle(msg);
  }
}

function settle(msg) {
  const done = desk.pending.get(msg.id);
  desk.pending.delete(msg.id);
  if (msg.type === "error") showError(errorText(msg));
  else showError(null);
  done?.(msg);
}

function setConn(status) {
  const node = $("conn");
  node.dataset.conn = status;
  node.dataset.i18n = `conn_${status}`;
  node.textContent = t(`conn_${status}`);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/desk/ws${location.search}`);
  desk.ws = ws;
  setConn("connecting");
  ws.addEventListener("open", () => {
    desk.retryMs = FIRST_RETRY_MS;
    setConn("online");
  });
  ws.addEventListener("message", (event) => {
    try {
      onMessage(JSON.parse(event.data));
    } catch (e) {
      // a message the page cannot read is dropped; the next state repairs the view
    }
  });
  ws.addEventListener("close", (event) => {
    desk.ws = null;
    setConn("offline");
    for (const done of desk.pending.values()) done({ type: "error", code: "offline" });
    desk.pending.clear();
    if (event.code === 1008) { // the session ended (logout, expiry)
      location.assign("/login");
      return;
    }
    setTimeout(reconnect, desk.retryMs);
    desk.retryMs = Math.min(desk.retryMs * 2, MAX_RETRY_MS);
  });
}

const reconnect = () => reconnectWhileLoggedIn("/desk", desk, connect, MAX_RETRY_MS);

// Send an action; resolves with the server's ack or error.
export function act(name, fields = {}) {
  return new Promise((resolve) => {
    if (!desk.ws || desk.ws.readyState !== WebSocket.OPEN) {
      showError(t("err_offline"));
      resolve({ type: "error", code: "offline" });
      return;
    }
    const id = desk.nextId++;
    desk.pending.set(id, resolve);
    desk.ws.send(JSON.stringify({ type: "action", id, action: { name, ...fields } }));
  });
}

// --- the page's controls --------------------------------------------------------------

// A break or logout asked for on a call starts after it: the ack says it was taken.
async function stateAction(name, fields) {
  if ((await act(name, fields)).type === "ack") toast(t("ack"));
}

$("act-ready").addEventListener("click", () => stateAction("ready"));
$("act-break").addEventListener("click", () => stateAction("pause", { reason: $("break-reason").value }));
$("act-logout").addEventListener("click", () => stateAction("logout"));
$("topic-filter").addEventListener("input", renderTopics);
$("topic-filter").addEventListener("keydown", (event) => {
  if (event.key === "ArrowDown") $("topic").focus();
});

$("disposition").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const fields = { call_id: form.call_id.value, topic: form.topic.value, outcome: form.outcome.value };
  if (!fields.call_id) {
    showError(t("dk_err_no_call"));
    return;
  }
  const notes = form.notes.value.trim();
  if (notes) fields.notes = notes;
  if (form.case.value) fields.case = form.case.value;
  const answer = await act("disposition", fields);
  if (answer.type === "ack") toast(t("dk_saved"));
});

$("transfer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const mode = event.submitter?.value ?? "blind";
  const answer = await act("transfer", { call_id: desk.call?.call_id, target: event.target.target.value, mode });
  if (answer.type === "ack" && mode === "attended") desk.transfer = "attended";
  renderTransfer();
});

for (const [id, mode] of [["transfer-complete", "complete"], ["transfer-cancel", "cancel"]]) {
  $(id).addEventListener("click", async () => {
    const target = $("transfer").elements.target.value;
    const answer = await act("transfer", { call_id: desk.call?.call_id, target, mode });
    if (answer.type === "ack") desk.transfer = null;
    renderTransfer();
  });
}

function renderAll() {
  renderState();
  renderBreakReasons();
  renderTargets();
  renderTopics();
  renderPop();
  renderWork();
  if (desk.error) $("desk-error").textContent = desk.error;
}

initWork({ current: () => desk.pop, topic: () => $("topic").value, topicName, showError,
  onCase: (number) => {
    $("disposition").case.value = number;
    $("disposition").querySelector('input[value="request_created"]').checked = true;
  } });
initLangSwitch(renderAll);
renderAll();
setInterval(tick, 1000);
connect();
