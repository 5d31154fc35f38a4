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
  if (has(`dk_err_${code}`)) return t(`dk_err_${code}`);
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

async function searchKb(query, lang) {
  const status = $("kb-status");
  const list = $("kb-results");
  status.textContent = t("an_searching");
  const answer = await getJson(`/desk/api/kb?${new URLSearchParams({ q: query, lang })}`);
  if (!answer) return;
  if (!answer.ok) {
    list.replaceChildren();
    status.textContent = refusal(answer);
    return;
  }
  const hits = answer.body.results ?? [];
  status.textContent = hits.length ? t("dk_kb_found", { n: hits.length }) : t("an_none");
  list.replaceChildren(...hits.map(kbHit));
}

function reply(item) {
  const text = el("p", { class: "reply-text", text: item.text });
  const copy = el("button", { type: "button", class: "link", text: t("dk_copy") });
  copy.addEventListener("click", () => navigator.clipboard?.writeText(item.text));
  return el("li", { "data-reply": item.id }, el("strong", { text: item.title }), text, copy);
}

async function loadReplies(number, lang) {
  const answer = await getJson(`/desk/api/replies?${new URLSearchParams({ case: number, lang })}`);
  const list = $("replies");
  if (!answer?.ok) {
    list.replaceChildren();
    return;
  }
  const replies = answer.body.replies ?? [];
  list.replaceChildren(...(replies.length ? [el("li", { class: "hint", text: t("dk_replies") }), ...replies.map(reply)] : []));
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
  const result = $("case-result");
  result.dataset.number = made.number;
  result.textContent = made.duplicate_of
    ? t("dk_case_duplicate", { open: made.duplicate_of, deadline: made.deadline ?? "—" })
    : t("dk_case_made", { number: made.number, deadline: made.deadline ?? "—" });
  result.hidden = false;
  form.reset();
  form.querySelector(".complaint-only").hidden = true;
  page.onCase(made.duplicate_of || made.number);
  await loadReplies(made.number, body.language);
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
