// The operators' desktop's screen pop (issue 19): the caller as the server
// masks it, language, wait, the topic guessed, the IVR path, the robot's turns,
// the last 90 days' contacts and the open requests (overdue ones marked), in
// the page's language. desk.js owns the websocket and calls showPop. Text
// reaches the page through textContent only.
import { currentLang, has, locale, t } from "./i18n.js";
import { el } from "./dom.js";
import { clock } from "./callview.js";

const $ = (id) => document.getElementById(id);
let topicName = (id) => id ?? "—";

function label(prefix, value) {
  return value != null && has(`${prefix}${value}`) ? t(`${prefix}${value}`) : (value ?? "—");
}

function date(ts) {
  return new Date(ts * 1000).toLocaleDateString(locale());
}

function fact(key, value, attrs = {}) {
  return value == null || value === "" ? [] : [el("dt", { text: t(key) }), el("dd", { ...attrs, text: value })];
}

export function callerText(caller) {
  if (!caller || caller.anonymous || !caller.number) return t("dk_anonymous");
  return caller.number;
}

// A name the server sent in each language ({kk, ru}): the page's, else the other.
function named(names) {
  return names ? (names[currentLang()] ?? names.ru ?? names.kk ?? null) : null;
}

function ivrStep(step) {
  const chose = named(step.label);
  const what = step.kind === "input"
    ? (chose ? t("dk_ivr_chose", { input: step.input ?? "", label: chose })
      : t("dk_ivr_pressed", { input: step.input ?? "" }))
    : label("dk_ivr_", step.kind);
  return el("li", { "data-kind": step.kind, "data-node": step.node ?? "", text: what });
}

function robotTurn(turn) {
  const parts = [label("dk_robot_", turn.kind)];
  if (turn.kind === "faq" && turn.faq) parts.push(named(turn.title) ?? turn.faq);
  if (turn.service) parts.push(label("dk_service_", turn.service));
  if (turn.topic) parts.push(`${t("field_topic")}: ${topicName(turn.topic)}`);
  if (turn.reason) parts.push(`${t("col_reason")}: ${label("dk_handover_", turn.reason)}`);
  return el("li", { "data-kind": turn.kind, text: parts.join(" · ") });
}

function historyRow(item) {
  return el("tr", {},
    el("td", { text: date(item.at) }),
    el("td", { text: label("dk_channel_", item.channel) }),
    el("td", { text: topicName(item.topic) }),
    el("td", { text: item.outcome ? label("dk_outcome_", item.outcome) : "—" }));
}

function caseRow(item) {
  return el("tr", { "data-case": item.number, class: item.overdue ? "overdue" : null },
    el("td", { text: item.number }),
    el("td", { text: label("dk_case_", item.status) }),
    el("td", { text: topicName(item.topic) }),
    el("td", { text: item.deadline ? `${item.deadline}${item.overdue ? ` · ${t("dk_overdue")}` : ""}` : "—" }));
}

function emptyRow(key) {
  return el("tr", {}, el("td", { colspan: 4, class: "empty", text: t(key) }));
}

// Draw pop (the "pop" message's) with topic ids named by names(id).
export function showPop(pop, names) {
  topicName = names;
  $("pop-facts").replaceChildren(
    ...fact("dk_caller", callerText(pop.caller), { id: "pop-caller" }),
    ...fact("col_language", pop.language ? label("language_", pop.language) : "—"),
    ...fact("dk_waited", pop.waited_s != null ? clock(pop.waited_s) : "—"),
    ...fact("dk_topic_guess", topicName(pop.topic_guess), { id: "pop-topic" }),
    ...fact("queue", pop.queue));
  // What the caller did: keys and words, misses and silences; the nodes passed
  // through are the flow's own names, not the operator's words.
  const ivr = (pop.ivr ?? []).filter((step) => step.kind !== "node");
  $("pop-ivr").replaceChildren(...(ivr.length ? ivr.map(ivrStep) : [el("li", { class: "empty", text: t("dk_none") })]));
  const robot = pop.robot ?? [];
  $("pop-robot").replaceChildren(...(robot.length ? robot.map(robotTurn) : [el("li", { class: "empty", text: t("dk_none") })]));
  const history = pop.history ?? [];
  $("pop-history").tBodies[0].replaceChildren(...(history.length ? history.map(historyRow) : [emptyRow("dk_no_history")]));
  const cases = pop.open_cases ?? [];
  $("pop-cases").tBodies[0].replaceChildren(...(cases.length ? cases.map(caseRow) : [emptyRow("dk_no_cases")]));
}
