// Listen, whisper, barge (issue 21): the buttons of a busy agent's row on the
// supervisor page, and what a click on one sends (PROTOCOL.md, monitor.*).
// The engine rings the supervisor's own phone; `monitors` in the snapshot and
// the deltas says who is on which call, ringing or joined.
import { t } from "./i18n.js";
import { el } from "./dom.js";

export const MONITOR_MODES = ["listen", "whisper", "barge"];

// The logged-in supervisor's monitor now, or null.
export function myMonitor(monitors, login) {
  return (monitors ?? []).find((m) => m.supervisor === login) ?? null;
}

// Listen / whisper / barge for an agent on a call, and stop when `mine` is on
// that agent's call (the current mode pressed). Nothing for an idle agent.
export function monitorButtons(agent, mine) {
  if (!agent.current_call) return [];
  const onThis = mine !== null && mine.agent === agent.user;
  const buttons = MONITOR_MODES.map((mode) => el("button", {
    type: "button", class: "monitor-mode", "data-monitor": mode,
    "aria-pressed": onThis && mine.mode === mode ? "true" : "false",
    title: t(`mon_${mode}_hint`), text: t(`mon_${mode}`),
  }));
  if (onThis) {
    buttons.push(el("button", { type: "button", class: "monitor-stop", "data-monitor": "stop",
      title: t("mon_stop_hint"), text: t("mon_stop") }));
  }
  const group = el("span", { class: "monitor", role: "group", "aria-label": t("mon_group") }, ...buttons);
  if (onThis && mine.state === "ringing") {
    group.append(el("span", { class: "monitor-ringing", role: "status", text: t("mon_ringing") }));
  }
  return [group];
}

// The action a click on `button` asks for: [name, fields], or null when the
// button is not one of these.
export function monitorAction(button, agent, mine) {
  const what = button?.dataset?.monitor;
  if (!what) return null;
  if (what === "stop") return ["monitor.stop", {}];
  if (mine !== null && mine.agent === agent) return ["monitor.mode", { mode: what }];
  return ["monitor.start", { agent, mode: what }];
}
