// The supervisors' wallboard (issue 21): the headline (longest wait now and
// callers waiting, in total and per queue), the table of today's service
// level, average wait and lost calls per queue and per language, the alerts
// (row colours from the engine's threshold levels, a Web Audio beep that can
// be muted, a blinking title while an alarm lasts) and the TV mode (/tv or
// /?tv=1: large type, no controls, the queues in turn, those in alarm always;
// &lang=ru picks the language, &rotate=N the turn in seconds). The engine evaluates
// the thresholds (bailanys/queue/thresholds.py) and sends the levels in the
// `board` part (PROTOCOL.md); this module only draws them.
import { currentLang, has, locale, setLang, t } from "./i18n.js";
import { el } from "./dom.js";
import { morphChildren } from "./keyed.js";

const MUTE_KEY = "bailanys.wallboard.muted";
const BLINK_MS = 1000;
const ROTATE_MS = 8000;
const BEEP_HZ = 880;
// level -> the KPI tile's status it is as bad as (app.js colours tiles by status)
const AS_STATUS = { warn: "warning", alarm: "breach" };
const STATUS_RANK = { no_data: 0, no_target: 0, within: 1, warning: 2, breach: 3 };

const params = new URLSearchParams(location.search);
export const TV = location.pathname === "/tv" || params.get("tv") === "1";

let clock = () => Date.now() / 1000; // the server's clock, from app.js
const alerts = { seen: new Set(), blink: 0, on: false, audio: null, beeps: 0 };
const rotation = { index: 0, timer: 0 };

// --- formatting -------------------------------------------------------------------

function fmtDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

function fmt(value, unit) {
  if (value === null || value === undefined) return "—";
  const digits = unit === "%" ? 1 : 0;
  const number = value.toLocaleString(locale(), { minimumFractionDigits: digits,
    maximumFractionDigits: digits });
  return unit === "%" ? `${number} %` : `${number} ${t("unit_s")}`;
}

// The longest wait now, counting up every second (app.js's tick() updates [data-since]).
function longest(row, stamp, cls) {
  if (row.longest_wait_s === null || row.longest_wait_s === undefined) {
    return el("span", { class: cls, text: "—" });
  }
  const since = stamp - row.longest_wait_s;
  return el("span", { class: `${cls} live`, "data-since": since,
    text: fmtDuration(clock() - since) });
}

export function rowName(row) {
  if (row.kind === "total") return t("board_total");
  if (row.kind === "language") {
    return has(`language_${row.name}`) ? t(`language_${row.name}`) : t("board_language_unknown");
  }
  return row.label?.[currentLang()] ?? row.name;
}

// --- the headline -----------------------------------------------------------------

function headlineItem(row, stamp) {
  const key = row.kind === "total" ? "total" : `queue:${row.name}`;
  const levels = row.levels ?? {};
  return el("div", { class: "hl", "data-hl": key, "data-kind": row.kind, "data-level": row.level },
    el("div", { class: "hl-name", text: rowName(row) }),
    el("div", { class: "hl-figures" },
      el("div", { class: "hl-fig", "data-fig": "longest_wait_s", "data-level": levels.longest_wait_s },
        longest(row, stamp, "hl-value"),
        el("span", { class: "hl-label", text: t("board_longest_now") })),
      el("div", { class: "hl-fig", "data-fig": "waiting", "data-level": levels.waiting },
        el("span", { class: "hl-value", text: String(row.waiting ?? 0) }),
        el("span", { class: "hl-label", text: t("board_waiting_now") }))));
}

// --- the table --------------------------------------------------------------------

const COLUMNS = [
  ["board_col_name", null], ["board_col_waiting", "waiting"],
  ["board_col_longest", "longest_wait_s"], ["board_col_sl", "service_level_pct"],
  ["board_col_wait", "wait_s"], ["board_col_lost", "lost_pct"],
  ["board_col_offered", null], ["board_col_answered", null],
];

function tableRow(row, stamp) {
  const levels = row.levels ?? {};
  const cell = (figure, content) => el("td", { class: "num", "data-fig": figure,
    "data-level": levels[figure] }, content);
  return el("tr", { "data-board": `${row.kind}:${row.name}`, "data-level": row.level },
    el("th", { scope: "row", class: "board-name", text: rowName(row) }),
    cell("waiting", String(row.waiting ?? 0)),
    cell("longest_wait_s", longest(row, stamp, "board-longest")),
    cell("service_level_pct", fmt(row.service_level_pct, "%")),
    cell("wait_s", fmt(row.wait_s, "s")),
    cell("lost_pct", fmt(row.lost_pct, "%")),
    el("td", { class: "num", text: String(row.offered ?? 0) }),
    el("td", { class: "num", text: String(row.answered ?? 0) }));
}

function group(key, rows, stamp) {
  if (!rows.length) return [];
  return [el("tr", { class: "board-group" }, el("th", { colspan: COLUMNS.length, text: t(key) })),
    ...rows.map((r) => tableRow(r, stamp))];
}

export function renderBoard(board, stamp) {
  const head = document.getElementById("headline");
  const table = document.getElementById("board");
  if (!head || !table) return;
  if (!board || !board.total) {
    head.replaceChildren(el("p", { class: "empty", text: t("no_data") }));
    table.replaceChildren();
    return;
  }
  const queues = board.queues ?? [];
  // Issue 21: drawn detached, then only what changed is written (keyed.js).
  morphChildren(head, [headlineItem(board.total, stamp),
    ...queues.map((q) => headlineItem(q, stamp))]);
  morphChildren(table, [
    el("thead", {}, el("tr", {}, ...COLUMNS.map(([key]) => el("th", { text: t(key) })))),
    el("tbody", {}, ...group("board_queues", queues, stamp),
      ...group("board_languages", board.languages ?? [], stamp),
      ...group("board_all", [board.total], stamp))]);
  markRotation();
  raiseAlerts(board);
}

// --- the "wait after menu" tile: the live longest wait beside KPI 1 -----------------

// KPI 1 averages ended waits (docs/kpi.md); the tile also says how long callers
// wait now, and takes the colour of whichever is worse.
export function waitNow(board, stamp, kpiStatus) {
  const total = board?.total;
  if (!total) return { status: kpiStatus, node: null, live: false };
  const level = total.levels?.longest_wait_s ?? "ok";
  const liveStatus = AS_STATUS[level] ?? "within";
  const worse = (STATUS_RANK[liveStatus] ?? 0) > (STATUS_RANK[kpiStatus] ?? 0) && level !== "ok";
  const node = el("div", { class: "kpi-beside kpi-now", "data-kpi-now": "wait_s", "data-level": level },
    el("span", { text: `${t("board_longest_now")}: ` }), longest(total, stamp, "kpi-now-value"),
    el("span", { text: ` · ${t("board_waiting_now")}: ${total.waiting ?? 0}` }));
  return { status: worse ? liveStatus : kpiStatus, node, live: worse };
}

// --- alerts: sound and title --------------------------------------------------------

function muted() {
  try {
    return localStorage.getItem(MUTE_KEY) === "1";
  } catch (e) {
    return false;
  }
}

function renderMute() {
  const button = document.getElementById("mute");
  if (!button) return;
  const off = muted();
  button.setAttribute("aria-pressed", String(off));
  button.textContent = off ? t("board_sound_off") : t("board_sound_on");
}

function beep() {
  if (muted()) return;
  alerts.beeps += 1;
  document.body.dataset.beeps = String(alerts.beeps);
  try {
    alerts.audio ??= new AudioContext();
    const ctx = alerts.audio;
    if (ctx.state === "suspended") ctx.resume().catch(() => {});
    for (const start of [0, 0.35]) { // two short beeps
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = BEEP_HZ;
      gain.gain.setValueAtTime(0.2, ctx.currentTime + start);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + start + 0.25);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + start);
      osc.stop(ctx.currentTime + start + 0.25);
    }
  } catch (e) {
    // no audio output (a browser without sound): the colours and the title remain
  }
}

function blinkTitle(on) {
  document.body.dataset.alert = on ? "alarm" : "";
  if (on && !alerts.blink) {
    alerts.blink = setInterval(() => {
      alerts.on = !alerts.on;
      document.title = alerts.on ? `⚠ ${t("board_alarm_title")} · ${t("app_title")}` : t("app_title");
    }, BLINK_MS);
  } else if (!on && alerts.blink) {
    clearInterval(alerts.blink);
    alerts.blink = 0;
    alerts.on = false;
    document.title = t("app_title");
  }
}

// A beep for every figure that newly reaches "alarm"; the title blinks while any is.
function raiseAlerts(board) {
  const now = new Set();
  for (const row of [board.total, ...(board.queues ?? []), ...(board.languages ?? [])]) {
    for (const [figure, level] of Object.entries(row.levels ?? {})) {
      if (level === "alarm") now.add(`${row.kind}:${row.name}:${figure}`);
    }
  }
  const fresh = [...now].some((key) => !alerts.seen.has(key));
  alerts.seen = now;
  if (fresh) beep();
  blinkTitle(now.size > 0);
}

// --- TV mode ----------------------------------------------------------------------

function markRotation() {
  if (!TV) return;
  const items = [...document.querySelectorAll('#headline .hl[data-kind="queue"]')];
  items.forEach((item, i) => item.classList.toggle("hl-current", i === rotation.index % items.length));
  const current = items[rotation.index % Math.max(1, items.length)];
  document.body.dataset.tvQueue = current ? current.dataset.hl.slice("queue:".length) : "";
}

export function initWallboard(serverNow) {
  clock = serverNow;
  const button = document.getElementById("mute");
  button?.addEventListener("click", () => {
    try {
      localStorage.setItem(MUTE_KEY, muted() ? "0" : "1");
    } catch (e) {
      // not remembered
    }
    renderMute();
    if (!muted()) alerts.audio?.resume?.().catch(() => {}); // a click unlocks audio
  });
  renderMute();
  if (params.get("lang")) setLang(params.get("lang")); // a TV has no language buttons
  if (TV) {
    document.documentElement.classList.add("tv");
    document.body.classList.add("tv");
    const every = Number(params.get("rotate")) * 1000 || ROTATE_MS;
    rotation.timer = setInterval(() => {
      rotation.index += 1;
      markRotation();
    }, every);
  }
}

export { renderMute };
