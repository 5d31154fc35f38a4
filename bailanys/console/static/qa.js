// The reviewers' workspace (issue 16): the review queue with why each call is
// there; a call's dialogue and recording (callview.js, as on the analysts'
// page) beside its scorecard: automatic results with their evidence (a click
// plays the recording from that moment), manual criteria to answer, overrides
// with a reason, a comment, finalise; a finalised review is read-only and can
// be corrected (a new revision). Calibration (Cohen's kappa per criterion) and
// per agent / per queue reports with links to the calls, CSV. Text reaches the
// page through textContent only.
import { has, initLangSwitch, currentLang, locale, t } from "./i18n.js";
import { el } from "./dom.js";
import {
  callFacts, callTurns, clock, followPlayback, getJson, label, masked, playFrom, wordsPlay,
} from "./callview.js";

const state = { view: "queue", queue: { items: [], more: false }, call: null, qa: null,
  user: null, calibration: null, report: null, error: null };
const $ = (id) => document.getElementById(id);
const JSON_HEADERS = { "content-type": "application/json" };
// Refusals whose detail names criteria (answers.ReviewError).
const CRITERION_CODES = new Set(["unanswered", "unknown_criterion", "duplicate", "bad_outcome",
  "bad_value", "no_reason"]);

// --- small helpers ---------------------------------------------------------------

function names(obj) {
  return obj ? (obj[currentLang()] || obj.kk || obj.en || "") : "";
}

function criterionName(id, table) {
  return names(table?.[id]) || id;
}

function number(value, digits = 1) {
  return value == null ? "—" : Number(value).toLocaleString(locale(),
    { maximumFractionDigits: digits });
}

function showError(body) {
  const box = $("qa-error");
  state.error = body;  // shown again in the new language on a switch
  if (!body) {
    box.hidden = true;
    return;
  }
  const code = body.error ?? "failed";
  if (has(`qa_err_${code}`)) box.textContent = t(`qa_err_${code}`);
  else if (has(`qerr_${code}`)) box.textContent = t(`qerr_${code}`);
  else box.textContent = t("qa_err_refused", { message: body.message ?? code });
  if (body.detail && CRITERION_CODES.has(code)) {  // the criteria concerned, by name
    const table = cardNames();
    box.textContent += `: ${body.detail.split(",").map((id) => criterionName(id, table)).join(", ")}`;
  }
  box.hidden = false;
}

async function send(method, url, body) {
  const answer = await getJson(url, { method, headers: JSON_HEADERS,
    body: body === undefined ? undefined : JSON.stringify(body) });
  if (answer && !answer.ok) showError(answer.body);
  return answer?.ok ? answer.body : null;
}

function periodParams(form) {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(form)) if (String(value)) params.set(key, String(value));
  return params;
}

// --- the queue -------------------------------------------------------------------

async function loadQueue(more = false) {
  const offset = more ? state.queue.items.length : 0;
  const answer = await getJson(`/api/qa/queue?offset=${offset}`);
  if (!answer) return;
  if (!answer.ok) {
    showError(answer.body);
    return;
  }
  state.queue = { items: more ? [...state.queue.items, ...answer.body.items] : answer.body.items,
    more: answer.body.more };
  renderQueue();
}

function reasonBadge(reason) {
  const text = label("qa_reason_", reason.reason);
  return el("span", { class: `reason reason-${reason.reason}`, title: reason.detail || null,
    text: reason.detail && reason.reason === "flag" ? `${text}: ${reason.detail}` : text });
}

function renderQueue() {
  const body = $("queue").tBodies[0];
  const items = state.queue.items;
  if (!items.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "empty",
      text: t("qa_queue_empty") })));
  } else {
    body.replaceChildren(...items.map((item) => el("tr", { "data-call": item.call_id },
      el("td", {}, el("a", { class: "call", href: `#call=${encodeURIComponent(item.call_id)}`,
        text: item.call_id }), item.draft ? el("span", { class: "draft", text: t("qa_draft_mine") }) : null),
      el("td", { text: item.started_text ?? "—" }),
      el("td", { text: item.agent ?? "—" }),
      el("td", { text: item.queue ?? "—" }),
      el("td", { class: "num", text: number(item.total) }),
      el("td", { class: "reasons" }, ...(item.reasons ?? []).map(reasonBadge)))));
  }
  $("queue-more").hidden = !state.queue.more;
}

// --- the call and its scorecard -------------------------------------------------

async function openCall(callId) {
  const id = encodeURIComponent(callId);
  const [call, qa] = await Promise.all([getJson(`/api/analytics/calls/${id}`),
    getJson(`/api/qa/calls/${id}`)]);
  if (!call || !qa) return;
  state.call = call.ok ? call.body : { call_id: callId, turns: [], audio: false };
  state.qa = qa.ok ? qa.body : null;
  if (!qa.ok) showError(qa.body);
  const player = $("player");
  player.pause();
  player.removeAttribute("src");  // preload="none": nothing is fetched before a play
  if (state.call.audio) player.src = `/api/analytics/calls/${id}/audio`;
  renderCall();
  renderCard();
}

function renderCall() {
  const call = state.call;
  if (!call) return;
  $("call-id").textContent = call.call_id;
  $("call-facts").replaceChildren(...callFacts(call));
  $("player").hidden = !call.audio;
  $("audio-hint").hidden = !call.audio;
  $("no-audio").hidden = Boolean(call.audio);
  $("turns").replaceChildren(...callTurns(call));
}

// My latest review of the call (the one I edit or may correct), if any.
function myReview() {
  const mine = (state.qa?.reviews ?? []).filter((r) => r.reviewer === state.qa.me);
  return mine.sort((a, b) => a.revision - b.revision).at(-1) ?? null;
}

function outcomeBadge(outcome) {
  return el("span", { class: "outcome", "data-outcome": outcome, text: label("qa_out_", outcome) });
}

function evidenceNode(ev, audio) {
  const parts = [];
  if (ev.start != null) parts.push(clock(ev.start));
  if (ev.channel) parts.push(label("channel_", ev.channel));
  const node = el(ev.start != null && audio ? "button" : "span",
    { type: ev.start != null && audio ? "button" : null, class: "evidence",
      "data-start": ev.start ?? null, title: ev.start != null && audio ? t("qa_play_here") : null },
    el("span", { class: "offset", text: parts.join(" · ") }));
  if (ev.text) node.append(" «", ...masked(ev.text), "»");
  if (ev.value != null) node.append(` ${t("qa_value", { v: number(ev.value, 2) })}`);
  if (ev.note) node.append(el("span", { class: "note", text: ` ${note(ev.note)}` }));
  return node;
}

// A scorer's machine note ("not said", "no transcript") in the page's language
// when it is a known one, else as written.
function note(text) {
  const key = `qa_note_${text.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "")}`;
  return has(key) ? t(key) : text;
}

function select(name, options, value, disabled) {
  const node = el("select", { name, disabled: disabled || null });
  node.append(el("option", { value: "", text: "—" }),
    ...options.map(([v, text]) => el("option", { value: v, text })));
  node.value = value ?? "";
  return node;
}

function manualControls(c, answer, editing) {
  const scale = c.scale === "1-5"
    ? ["1", "2", "3", "4", "5"].map((v) => [v, v])
    : [["pass", t("qa_yes")], ["fail", t("qa_no")]];
  const current = answer ? (answer.outcome === "na" ? "na" : (c.scale === "1-5" && answer.value != null
    ? String(answer.value) : answer.outcome)) : "";
  return el("div", { class: "answer" },
    el("label", {}, el("span", { text: t("qa_answer") }),
      select(`a_${c.id}`, [...scale, ["na", t("qa_na")]], current, !editing)),
    el("label", { class: "grow" }, el("span", { text: t("qa_answer_comment") }),
      el("input", { name: `c_${c.id}`, maxlength: 300, value: answer?.comment ?? "",
        disabled: !editing || null })));
}

function overrideControls(c, answer, editing) {
  if (!editing && !answer?.override) return null;
  const box = el("div", { class: "answer override", "data-on": String(Boolean(answer?.override)) },
    el("label", { class: "check" }, el("input", { type: "checkbox", name: `o_${c.id}`,
      checked: answer?.override || null, disabled: !editing || null }),
    el("span", { text: t("qa_override") })),
    select(`ov_${c.id}`, [["pass", t("qa_out_pass")], ["fail", t("qa_out_fail")],
      ["na", t("qa_out_na")]], answer?.override ? answer.outcome : "", !editing),
    el("input", { name: `r_${c.id}`, maxlength: 300, class: "grow", value: answer?.reason ?? "",
      placeholder: t("qa_reason_placeholder"), disabled: !editing || null }));
  return box;
}

function criterionNode(c, result, answer, editing, audio) {
  const head = el("div", { class: "criterion-head" },
    el("span", { class: "criterion-name", text: names(c.names) }),
    c.critical ? el("span", { class: "critical", text: t("qa_critical") }) : null,
    c.kind === "manual" ? el("span", { class: "kind", text: t("qa_manual") })
      : outcomeBadge(result?.outcome ?? "na"));
  const node = el("li", { class: "criterion", "data-criterion": c.id, "data-kind": c.kind }, head);
  const evidence = result?.evidence ?? [];
  if (evidence.length || result?.value != null) {
    const list = el("div", { class: "evidence-list" }, ...evidence.map((e) => evidenceNode(e, audio)));
    if (!evidence.length) list.append(t("qa_value", { v: number(result.value, 2) }));
    node.append(list);
  }
  node.append(c.kind === "manual" ? manualControls(c, answer, editing)
    : overrideControls(c, answer, editing) ?? "");
  return node;
}

// The score: the finalised review's when I have one, else the automatic one.
function renderSummary(qa, review) {
  const shown = review?.state === "final" ? review : null;
  const total = shown ? shown.total : qa.score.total;
  const failed = (shown ? shown.critical_failed : qa.score.critical_failed) ?? [];
  const list = failed.map((id) => criterionName(id, cardNames())).join(", ");
  $("card-summary").replaceChildren(
    el("span", { class: "score",
      text: t(shown ? "qa_review_total" : "qa_auto_total", { n: number(total) }) }),
    el("span", { class: failed.length ? "kpi-fail" : "kpi-pass",
      text: failed.length ? t("qa_critical_failed", { list })
        : t(shown ? "qa_passed_kpi" : "qa_passed_auto") }),
    el("span", { class: "reasons" }, ...(qa.reasons ?? []).filter((r) => r.state === "open")
      .map(reasonBadge)));
}

function renderSections(qa, review) {
  const card = qa.card;
  if (!card) {
    $("sections").replaceChildren(el("p", { class: "empty", text: t("qa_no_card") }));
    return;
  }
  const editing = review?.state === "draft";
  const answers = new Map((review?.answers ?? []).map((a) => [a.criterion, a]));
  const results = new Map((qa.score.results ?? []).map((r) => [r.criterion, r]));
  $("sections").replaceChildren(...card.sections.map((s) => el("fieldset", { class: "section" },
    el("legend", { text: names(s.names) }),
    el("ol", { class: "criteria" }, ...s.criteria.map((c) => criterionNode(c, results.get(c.id),
      answers.get(c.id), editing, state.call?.audio))))));
}

// What I may do with my review (start, save, finalise, correct) and its state.
function renderActions(qa, review) {
  const editing = review?.state === "draft";
  const form = $("review-form");
  form.elements.comment.value = review?.comment ?? "";
  form.elements.comment.disabled = !editing;
  form.elements.comment.parentElement.hidden = !review;
  $("start-review").hidden = Boolean(review);
  $("save-review").hidden = !editing;
  $("finalise-review").hidden = !editing;
  $("correct-review").hidden = review?.state !== "final";
  $("review-state").replaceChildren(review ? el("span", { class: `state-${review.state}`,
    text: review.state === "final" ? t("qa_final", { when: review.finalised_text ?? "" })
      : t("qa_state_draft") }) : "");
  $("flag-box").hidden = !qa.may_flag;
}

// Every revision of every reviewer's review of the call.
function renderHistory(qa) {
  if (!qa.reviews.length) {
    $("history").replaceChildren(el("li", { class: "empty", text: t("qa_no_reviews") }));
    return;
  }
  $("history").replaceChildren(...qa.reviews.map((r) => el("li", { "data-review": r.id,
    "data-state": r.state }, `${r.reviewer} · ${t("qa_rev", { n: r.revision })} · `,
  el("span", { class: `state-${r.state}`, text: t(`qa_state_${r.state}`) }),
  r.state === "final" ? ` · ${t("qa_total")}: ${number(r.total)}` : "",
  r.counted ? el("span", { class: "counted", text: ` · ${t("qa_counted")}` }) : "")));
}

function renderCard() {
  const qa = state.qa;
  $("card-view").hidden = !qa;
  if (!qa) return;
  const card = qa.card;
  $("card-name").textContent = card ? `${names(card.names)} · ${t("qa_version", { n: card.version })}` : "";
  const review = myReview();
  renderSummary(qa, review);
  renderSections(qa, review);
  renderActions(qa, review);
  renderHistory(qa);
}

function cardNames() {
  const table = {};
  for (const s of state.qa?.card?.sections ?? []) for (const c of s.criteria) table[c.id] = c.names;
  return table;
}

function collectAnswers() {
  const form = $("review-form");
  const out = [];
  for (const s of state.qa.card?.sections ?? []) {
    for (const c of s.criteria) {
      if (c.kind === "manual") {
        const value = form.elements[`a_${c.id}`].value;
        const comment = form.elements[`c_${c.id}`].value.trim();
        if (!value) continue;
        if (value === "na") out.push({ criterion: c.id, outcome: "na", comment });
        else if (c.scale === "1-5") {
          out.push({ criterion: c.id, outcome: Number(value) >= 3 ? "pass" : "fail",
            value: Number(value), comment });
        } else out.push({ criterion: c.id, outcome: value, comment });
      } else if (form.elements[`o_${c.id}`]?.checked) {
        out.push({ criterion: c.id, outcome: form.elements[`ov_${c.id}`].value || "fail",
          override: true, reason: form.elements[`r_${c.id}`].value.trim() });
      }
    }
  }
  return { answers: out, comment: form.elements.comment.value.trim() };
}

// Unsaved answers survive a redraw (the language switch redraws the card).
function keepEdits() {
  const review = myReview();
  if (review?.state !== "draft" || !state.qa?.card) return;
  const { answers, comment } = collectAnswers();
  review.answers = answers;
  review.comment = comment;
}

async function act(work, doneKey) {
  showError(null);
  const review = await work();
  if (!review) return false;
  $("review-status").textContent = doneKey ? t(doneKey) : "";
  await openCall(state.qa.call_id);
  return true;
}

async function saveReview() {
  const review = myReview();
  return send("PUT", `/api/qa/reviews/${review.id}`, collectAnswers());
}

function wireCard() {
  $("start-review").addEventListener("click", () => act(() => send("POST",
    `/api/qa/calls/${encodeURIComponent(state.qa.call_id)}/review`)));
  $("save-review").addEventListener("click", () => act(saveReview, "qa_saved"));
  $("finalise-review").addEventListener("click", () => act(async () => {
    const saved = await saveReview();
    return saved && send("POST", `/api/qa/reviews/${saved.id}/finalise`);
  }, "qa_finalised"));
  $("correct-review").addEventListener("click", () => act(() => send("POST",
    `/api/qa/reviews/${myReview().id}/correct`)));
  const request = (what, body) => async () => {
    const answer = await send("POST",
      `/api/qa/calls/${encodeURIComponent(state.qa.call_id)}/${what}`, body?.());
    if (!answer) return;
    await openCall(state.qa.call_id);  // the new reason beside the score
    $("review-status").textContent = t(answer.queued ? "qa_queued" : "qa_already_queued");
  };
  $("flag").addEventListener("click", request("flag", () => ({ detail: $("flag-detail").value.trim() })));
  $("calibrate").addEventListener("click", request("calibrate"));
  $("sections").addEventListener("change", (event) => {
    if (event.target.name?.startsWith("o_")) {
      event.target.closest(".override").dataset.on = String(event.target.checked);
    }
  });
  $("sections").addEventListener("click", (event) => {
    const ev = event.target.closest("button.evidence");
    if (ev && state.call?.audio) playFrom($("player"), Number(ev.dataset.start));
  });
}

// --- calibration and reports -----------------------------------------------------

async function loadCalibration() {
  const answer = await getJson(`/api/qa/calibration?${periodParams($("calibration-form"))}`);
  if (!answer) return;
  if (!answer.ok) showError(answer.body);
  state.calibration = answer.ok ? answer.body : null;
  renderCalibration();
}

function callLinks(ids) {
  return ids.flatMap((id, i) => [i ? ", " : "", el("a", { href: `#call=${encodeURIComponent(id)}`,
    class: "call", text: id })]);
}

function renderCalibration() {
  const data = state.calibration;
  const body = $("calibration").tBodies[0];
  $("calibration-calls").textContent = data ? t("qa_calibration_calls", { n: data.calls ?? 0 }) : "";
  if (!data?.criteria?.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "empty", text: t("qa_none") })));
    return;
  }
  body.replaceChildren(...data.criteria.map((row) => el("tr", { "data-criterion": row.criterion },
    el("td", { text: names(row.names) || row.criterion }),
    el("td", { class: "num", text: number(row.calls, 0) }),
    el("td", { class: "num", text: number(row.agreement_pct) }),
    el("td", { class: "num", text: row.kappa == null ? t("qa_kappa_undefined") : number(row.kappa, 2) }),
    el("td", { class: "calls" }, ...callLinks(row.disagreed ?? [])))));
}

async function loadReport() {
  const params = periodParams($("report-form"));
  const answer = await getJson(`/api/qa/report?${params}`);
  if (!answer) return;
  if (!answer.ok) showError(answer.body);
  state.report = answer.ok ? answer.body : null;
  params.set("lang", currentLang());
  $("export").href = `/api/qa/export.csv?${params}`;
  renderReport();
}

function statsRow(key, stats, overall) {
  return el("tr", { class: overall ? "overall" : null, "data-key": key ?? "" },
    el("td", { text: key ?? "—" }), el("td", { text: stats.week ?? t("qa_whole_period") }),
    el("td", { class: "num", text: number(stats.scored, 0) }),
    el("td", { class: "num", text: number(stats.auto_total) }),
    el("td", { class: "num", text: number(stats.auto_pass_pct) }),
    el("td", { class: "num", text: number(stats.reviewed, 0) }),
    el("td", { class: "num", text: number(stats.reviewed_total) }),
    el("td", { class: "num", text: number(stats.kpi2_pct) }),
    el("td", { class: "failed" }, ...(stats.failed_most ?? []).map((f) => el("div", {},
      `${names(f.names) || f.criterion} (${f.failed}): `, ...callLinks(f.calls ?? [])))));
}

function renderReport() {
  const data = state.report;
  const body = $("report").tBodies[0];
  $("report-key").textContent = t(data?.by === "team" ? "qa_col_queue" : "qa_col_agent");
  if (!data?.groups?.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 9, class: "empty", text: t("qa_none") })));
    return;
  }
  body.replaceChildren(...data.groups.flatMap((g) => [
    ...g.weeks.map((w) => statsRow(g.key, w, false)), statsRow(g.key, g.overall, true)]));
}

// --- wiring ----------------------------------------------------------------------

function route() {
  const hash = location.hash || "#queue";
  const call = /^#call=(.+)$/.exec(hash);
  state.view = call ? "call" : (["#calibration", "#report"].includes(hash) ? hash.slice(1) : "queue");
  $("queue-view").hidden = state.view !== "queue";
  $("call-view").hidden = state.view !== "call";
  $("card-view").hidden = state.view !== "call";
  $("calibration-view").hidden = state.view !== "calibration";
  $("report-view").hidden = state.view !== "report";
  for (const tab of document.querySelectorAll("[data-tab]")) {
    tab.setAttribute("aria-current", String(tab.dataset.tab === state.view));
  }
  $("review-status").textContent = "";
  if (state.view !== "call") $("player").pause();
  if (call) openCall(decodeURIComponent(call[1]));
  else if (state.view === "queue") loadQueue();
  else if (state.view === "calibration") loadCalibration();
  else loadReport();
}

async function showUser() {
  const answer = await getJson("/api/analytics/me");
  if (!answer?.ok) return;
  state.user = answer.body;
  renderUser();
}

function renderUser() {
  const user = state.user;
  if (!user) return;
  $("who").textContent = `${user.name} · ${label("role_", user.role)}`;
  // the supervisor board is the supervisors' (a reviewer is sent back here)
  document.querySelector('.pages a[href="/"]').hidden = !["supervisor", "admin"].includes(user.role);
}

function init() {
  const player = $("player");
  const turns = $("turns");
  wordsPlay(turns, (start) => {
    if (state.call?.audio) playFrom(player, start);
  });
  player.addEventListener("timeupdate", () => followPlayback(player, turns));
  wireCard();
  $("queue-more").addEventListener("click", () => loadQueue(true));
  $("calibration-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadCalibration();
  });
  $("report-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadReport();
  });
  window.addEventListener("hashchange", () => {
    showError(null);
    route();
  });
  initLangSwitch(() => {
    keepEdits();
    showError(state.error);
    renderUser();
    renderQueue();
    renderCall();
    renderCard();
    renderCalibration();
    renderReport();
  });
  showUser();
  route();
}

init();
