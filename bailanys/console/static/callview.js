// A call's view, shared by the analysts' page (analytics.js) and the reviewers'
// page (qa.js): the facts, the dialogue word by word, and the recording's
// player that jumps to a clicked word or moment. Text reaches the page through
// textContent only, never parsed as HTML: a transcript cannot inject markup.
// The masks of personal data ([IIN], [PHONE], [CARD], [EMAIL]) are badges.
import { has, t } from "./i18n.js";
import { el } from "./dom.js";

const MASK = /\[(IIN|PHONE|CARD|EMAIL|NUMBER)\]/g;

export function label(prefix, value) {
  return value != null && has(`${prefix}${value}`) ? t(`${prefix}${value}`) : (value ?? "—");
}

export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

// Text with its masks as badges: a list of nodes (text nodes and <span class="pii">).
export function masked(text) {
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

export async function getJson(url, options = {}) {
  const answer = await fetch(url, { credentials: "same-origin", ...options });
  if (answer.status === 401) {
    location.assign("/login");
    return null;
  }
  const body = answer.headers.get("content-type")?.startsWith("application/json")
    ? await answer.json()
    : { error: { 404: "not_found", 413: "too_large" }[answer.status] ?? "failed" };
  return { ok: answer.ok, status: answer.status, body };
}

function fact(key, value) {
  return value == null || value === "" ? [] : [el("dt", { text: t(key) }), el("dd", { text: value })];
}

// The call's facts as <dt>/<dd> pairs (an /api/analytics/calls/{id} answer).
export function callFacts(call) {
  const started = call.started_text ? `${call.started_text} (${call.timezone})` : null;
  return [
    ...fact("an_started", started), ...fact("an_f_queue", call.queue),
    ...fact("an_f_agent", call.agent),
    ...fact("an_f_language", call.language ? label("language_", call.language) : null),
    ...fact("an_wait", call.wait != null ? clock(call.wait) : null),
    ...fact("an_duration", call.duration != null ? clock(call.duration) : null),
    ...fact("an_f_outcome", call.outcome ? label("outcome_", call.outcome) : null),
    ...fact("an_f_disposition", call.disposition), ...fact("an_f_topic", call.topic),
    ...fact("an_survey", call.survey_score)];
}

// The dialogue: one <li> per turn, one focusable .word per word.
export function callTurns(call) {
  if (!call.turns?.length) return [el("li", { class: "empty", text: t("an_no_transcript") })];
  return call.turns.map((turn) => {
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
  });
}

// Play from a moment: seek once the player knows the recording's length.
export function playFrom(player, start) {
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

// Highlight the word being played.
export function followPlayback(player, turns) {
  const now = player.currentTime;
  for (const word of turns.querySelectorAll(".word")) {
    const on = Number(word.dataset.start) <= now && now < Number(word.dataset.end);
    word.classList.toggle("now", on);
  }
}

// Clicking (or Enter / Space on) a word plays from it.
export function wordsPlay(turns, play) {
  turns.addEventListener("click", (event) => {
    const word = event.target.closest(".word");
    if (word) play(Number(word.dataset.start));
  });
  turns.addEventListener("keydown", (event) => {
    const word = event.target.closest(".word");
    if (word && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      play(Number(word.dataset.start));
    }
  });
}
