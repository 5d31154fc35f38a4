// The administrators' Prompts page (issue 21): which prompts of which flows
// play a voice talent's recording and which are synthesised, per language,
// and an upload per prompt and language (WAV, MP3, OGG, M4A; the server
// levels, trims and converts it). Text reaches the page through textContent
// only; errors come as codes, translated here.
import { has, initLangSwitch, locale, t } from "./i18n.js";
import { el } from "./dom.js";
import { getJson, label } from "./callview.js";

const state = { rows: [], flows: [], me: null, error: null, done: null };
const $ = (id) => document.getElementById(id);

function showError(body) {
  state.error = body;
  const box = $("pr-error");
  box.hidden = !body;
  if (!body) return;
  const code = body.error ?? "failed";
  box.textContent = has(`pr_err_${code}`) ? t(`pr_err_${code}`)
    : t("pr_err_refused", { message: body.message ?? code });
}

function showDone(entry) {
  state.done = entry;
  const box = $("pr-status");
  box.hidden = !entry;
  if (!entry) return;
  const n = (x) => Number(x).toLocaleString(locale(), { maximumFractionDigits: 1 });
  box.textContent = t("pr_done", { key: entry.key, lang: entry.lang,
    seconds: n(entry.duration_s), before: n(entry.loudness_before_dbfs),
    after: n(entry.loudness_after_dbfs) });
}

// The browser's own file button speaks the browser's language: a label in ours instead.
function uploadCell(row) {
  const input = el("input", { type: "file", class: "file-input",
    accept: ".wav,.mp3,.ogg,.m4a,audio/*", "aria-label": `${row.key} ${row.lang}` });
  const chosen = el("span", { class: "chosen", text: t("pr_choose") });
  input.addEventListener("change", () => {
    chosen.textContent = input.files[0]?.name ?? t("pr_choose");
  });
  const button = el("button", { type: "button", class: "upload", text: t("pr_upload") });
  button.addEventListener("click", () => upload(row, input, button));
  return el("td", { class: "upload-cell" }, el("label", { class: "pick" }, input, chosen), button);
}

function render() {
  const form = $("pr-filter");
  const flowSelect = form.elements.flow;
  const chosen = flowSelect.value;
  flowSelect.replaceChildren(el("option", { value: "", text: t("pr_all") }),
    ...state.flows.map((f) => el("option", { value: f,
      text: f === "phrases" ? t("pr_phrases") : f })));
  flowSelect.value = state.flows.includes(chosen) ? chosen : "";
  const lang = form.elements.lang.value;
  const rows = state.rows.filter((r) => (!flowSelect.value || r.flow === flowSelect.value)
    && (!lang || r.lang === lang));
  $("prompts").tBodies[0].replaceChildren(...rows.map((r) => {
    const source = r.source ? `${r.source} · ${Number(r.duration_s).toLocaleString(locale())} s`
      : "—";
    return el("tr", { "data-key": r.key, "data-lang": r.lang, "data-state": r.state },
      el("td", { class: "key", text: r.key }),
      el("td", { text: label("pr_lang_", r.lang) }),
      el("td", { class: `state ${r.state}`, text: label("pr_state_", r.state),
        title: r.via && r.via !== r.key ? t("pr_via", { key: r.via }) : null }),
      el("td", { class: "text", text: r.text }),
      el("td", { class: "source", text: source }),
      uploadCell(r));
  }));
  const recorded = rows.filter((r) => r.state === "recorded").length;
  $("pr-count").textContent = t("pr_count", { recorded, total: rows.length });
  if (state.me) $("who").textContent = `${state.me.name} · ${label("role_", state.me.role)}`;
}

async function load() {
  const answer = await getJson("/api/prompts");
  if (!answer) return;
  if (!answer.ok) {
    showError(answer.body);
    return;
  }
  Object.assign(state, { rows: answer.body.rows, flows: answer.body.flows, me: answer.body.me });
  render();
}

async function upload(row, input, button) {
  const file = input.files[0];
  if (!file) {
    showError({ error: "no_file" });
    return;
  }
  button.disabled = true;
  const params = new URLSearchParams({ key: row.key, lang: row.lang, name: file.name });
  try {
    const answer = await getJson(`/api/prompts/upload?${params}`, { method: "POST",
      headers: { "content-type": "application/octet-stream" }, body: file });
    if (!answer) return;
    if (!answer.ok) {
      showDone(null);
      showError(answer.body);
      return;
    }
    showError(null);
    showDone(answer.body);
    await load();
  } finally {
    button.disabled = false;
  }
}

function init() {
  const form = $("pr-filter");
  form.elements.flow.addEventListener("change", render);
  form.elements.lang.addEventListener("change", render);
  initLangSwitch(() => {
    render();
    showError(state.error);
    showDone(state.done);
  });
  load();
}

init();
