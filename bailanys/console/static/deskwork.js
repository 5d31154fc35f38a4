// The operators' desktop's HTTP side (desk.js holds the websocket): the
// knowledge base searched with the robot's matcher (GET /desk/api/kb) so the
// operator's answer is the robot's, and a request (case) registered from the
// call (POST /desk/api/cases: the caller's phone comes from the call on the
// server, never typed) with its number and deadline, then the reply templates
// for it (GET /desk/api/replies). Text reaches the page through textContent only.
import { currentLang, has, t } from "./i18n.js";
import { el } from "./dom.js";
import { getJson } from "./callview.js";

const $ = (id) => document.getElementById(id);
const JSON_HEADERS = { "content-type": "application/json" };

// The knowledge base and the requests are in Kazakh and Russian: English readers get Russian.
function dataLang(pop) {
  if (pop?.language === "kk" || pop?.language === "ru") return pop.language;
  return currentLang() === "kk" ? "kk" : "ru";
}

// A refusal's words: ours for the codes we know, else the server's message.
function refusal(answer) {
  if (answer.status === 403) return t("err_forbidden");
  const body = answer.body;
  const code = body?.error ?? "failed";
  if (has(`dk_api_${code}`)) return t(`dk_api_${code}`);
  return t("dk_err_refused", { message: body?.message ?? code });
}

function kbHit(hit) {
  return el("li", { class: "kb-hit", "data-faq": hit.faq_id },
    el("h3", { class: "kb-title", text: hit.title }),
    hit.question && hit.question !== hit.title ? el("p", { class: "hint", text: hit.question }) : null,
    el("p", { class: "kb-answer", text: hit.answer }),
    hit.sms ? el("p", { class: "kb-sms" }, el("span", { class: "kb-label", text: `${t("dk_kb_sms")}: ` }),
      el("span", { text: hit.sms })) : null);
}

// What the forms last showed, drawn again in a new language.
const shown = { kb: null, made: null, replies: [] };

function drawKb() {
  const status = $("kb-status");
  const kb = shown.kb;
  if (!kb) return;
  if (kb.searching) status.textContent = t("an_searching");
  else if (kb.refused) status.textContent = refusal(kb.refused);
  else status.textContent = kb.hits.length ? t("dk_kb_found", { n: kb.hits.length }) : t("an_none");
  $("kb-results").replaceChildren(...(kb.hits ?? []).map(kbHit));
}

async function searchKb(query, lang) {
  shown.kb = { searching: true, hits: [] };
  drawKb();
  const answer = await getJson(`/desk/api/kb?${new URLSearchParams({ q: query, lang })}`);
  if (!answer) return;
  shown.kb = answer.ok ? { hits: answer.body.results ?? [] } : { refused: answer, hits: [] };
  drawKb();
}

function reply(item) {
  const text = el("p", { class: "reply-text", text: item.text });
  const copy = el("button", { type: "button", class: "link", text: t("dk_copy") });
  copy.addEventListener("click", () => navigator.clipboard?.writeText(item.text));
  return el("li", { "data-reply": item.id }, el("strong", { text: item.title }), text, copy);
}

function drawCase() {
  const made = shown.made;
  const result = $("case-result");
  result.hidden = !made;
  if (!made) return;
  result.dataset.number = made.number;
  result.textContent = made.duplicate_of
    ? t("dk_case_duplicate", { open: made.duplicate_of, deadline: made.deadline ?? "—" })
    : t("dk_case_made", { number: made.number, deadline: made.deadline ?? "—" });
  const replies = shown.replies;
  $("replies").replaceChildren(...(replies.length
    ? [el("li", { class: "hint", text: t("dk_replies") }), ...replies.map(reply)] : []));
}

async function loadReplies(number, lang) {
  const answer = await getJson(`/desk/api/replies?${new URLSearchParams({ case: number, lang })}`);
  shown.replies = answer?.ok ? (answer.body.replies ?? []) : [];
  drawCase();
}

function caseBody(form, page) {
  const pop = page.current();
  const questions = form.questions.value.split("\n").map((q) => q.trim()).filter(Boolean);
  const kind = form.kind.value;
  return {
    call_id: pop?.call_id ?? "", topic: page.topic(), description: form.description.value.trim(),
    questions, kind, category: kind === "complaint" ? form.category.value : null,
    iin: form.iin.value.trim() || null, language: dataLang(pop),
  };
}

async function createCase(form, page) {
  const body = caseBody(form, page);
  if (!body.call_id) {
    page.showError(t("dk_err_no_call"));
    return;
  }
  if (!body.topic) {
    page.showError(t("dk_err_no_topic"));
    return;
  }
  const answer = await getJson("/desk/api/cases", { method: "POST", headers: JSON_HEADERS,
    body: JSON.stringify(body) });
  if (!answer) return;
  if (!answer.ok) {
    page.showError(refusal(answer));
    return;
  }
  page.showError(null);
  const made = answer.body;
  shown.made = made;
  shown.replies = [];
  drawCase();
  form.reset();
  form.querySelector(".complaint-only").hidden = true;
  page.onCase(made.duplicate_of || made.number);
  await loadReplies(made.number, body.language);
}

// Draw the knowledge base's answers and the request made again (a new language).
export function renderWork() {
  drawKb();
  drawCase();
}

// Wire the two forms; page: {current() -> pop, topic() -> id, topicName, showError, onCase(number)}.
export function initWork(page) {
  $("kb-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const query = event.target.q.value.trim();
    if (query) searchKb(query, dataLang(page.current()));
  });
  const form = $("case-form");
  form.kind.addEventListener("change", () => {
    form.querySelector(".complaint-only").hidden = form.kind.value !== "complaint";
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    createCase(form, page);
  });
}
