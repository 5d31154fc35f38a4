// The analysts' Reports page (issue 17): choose a report (the semi-annual form,
// the quarterly analysis, the feedback analysis), its period and language;
// see it in the page (the server's HTML in a sandboxed frame: no scripts run
// in it) or download it as XLSX or PDF. The semi-annual form's due date is a
// reminder at the top. Supervisors record their verdict on complaints about
// the centre (row 20 of the form counts the confirmed ones); analysts import
// other channels' contacts from CSV. Text reaches the page through textContent
// only; errors come as codes, translated here.
import { currentLang, has, initLangSwitch, locale, t } from "./i18n.js";
import { el } from "./dom.js";
import { getJson, label } from "./callview.js";

const state = { me: null, due: null, complaints: null, imports: [], error: null,
  status: null, imported: null };
const $ = (id) => document.getElementById(id);
const ROMAN = ["", "I", "II", "III", "IV"];

// --- small helpers ---------------------------------------------------------------

function showError(body) {
  state.error = body;  // shown again in the new language on a switch
  const box = $("rp-error");
  if (!body) {
    box.hidden = true;
    return;
  }
  const code = body.error ?? "failed";
  $("rp-error-text").textContent = has(`rp_err_${code}`) ? t(`rp_err_${code}`)
    : t("rp_err_refused", { message: body.message ?? code });
  $("rp-problems").replaceChildren(...(body.problems ?? []).map((p) => el("li", { text: p })));
  box.hidden = false;
}

function day(iso) {
  if (!iso) return "—";
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(locale());
}

// "2026-H2" -> "2026 жылғы II жартыжылдық"; "2026-Q3"; "2026-10-01..2026-12-31".
export function periodLabel(period) {
  const half = /^(\d{4})-H([12])$/.exec(period);
  if (half) return t("rp_period_half", { year: half[1], n: ROMAN[Number(half[2])] });
  const quarter = /^(\d{4})-Q([1-4])$/.exec(period);
  if (quarter) return t("rp_period_quarter", { year: quarter[1], n: ROMAN[Number(quarter[2])] });
  const range = /^(\S+)\.\.(\S+)$/.exec(period);
  return range ? `${day(range[1])} – ${day(range[2])}` : period;
}

function setStatus(key, vars = {}) {
  state.status = key ? [key, vars] : null;
  $("report-status").textContent = key ? t(key, vars) : "";
}

// --- the report ------------------------------------------------------------------

function showFields() {
  const form = $("report-form");
  const kind = form.elements.kind.value;
  for (const node of form.querySelectorAll(".for-year")) node.hidden = kind === "feedback";
  for (const node of form.querySelectorAll(".for-half")) node.hidden = kind !== "semiannual";
  for (const node of form.querySelectorAll(".for-quarter")) node.hidden = kind !== "quarterly";
  for (const node of form.querySelectorAll(".for-range")) node.hidden = kind !== "feedback";
}

function setPeriod(kind, period) {
  const form = $("report-form");
  form.elements.kind.value = kind;
  const match = /^(\d{4})-([HQ])([1-4])$/.exec(period ?? "");
  if (match) {
    form.elements.year.value = match[1];
    form.elements[match[2] === "H" ? "half" : "quarter"].value = match[3];
  }
  showFields();
}

function requested(format) {
  const form = $("report-form");
  const kind = form.elements.kind.value;
  const year = form.elements.year.value;
  let period = "";
  if (kind === "semiannual" && year) period = `${year}-H${form.elements.half.value}`;
  if (kind === "quarterly" && year) period = `${year}-Q${form.elements.quarter.value}`;
  if (kind === "feedback" && form.elements.since.value && form.elements.until.value) {
    period = `${form.elements.since.value}..${form.elements.until.value}`;
  }
  if (!period) return null;
  const params = new URLSearchParams({ period, lang: form.elements.lang.value, format });
  return { kind, period, url: `/api/reports/${kind}?${params}` };
}

function show() {
  const wanted = requested("html");
  if (!wanted) {
    showError({ error: "no_period" });
    return;
  }
  showError(null);
  setStatus("rp_making");
  const frame = $("view");
  frame.dataset.period = wanted.period;
  frame.src = wanted.url;
}

// The frame's page came: the report, or a refusal (JSON, or text without a session).
function shown() {
  const frame = $("view");
  if (!frame.getAttribute("src")) return;
  const doc = frame.contentDocument;  // null: the browser refused to show the answer
  if (!doc || doc.contentType !== "text/html") {
    frame.hidden = true;
    setStatus(null);
    let body = { error: "failed" };
    try {
      body = JSON.parse(doc?.body?.textContent ?? "");
    } catch (e) {
      if ((doc?.body?.textContent ?? "").startsWith("401")) location.assign("/login");
    }
    showError(body);
    return;
  }
  frame.hidden = false;
  frame.style.height = `${Math.max(300, doc.documentElement.scrollHeight + 20)}px`;
  setStatus("rp_shown", { period: periodLabel(frame.dataset.period) });
}

function filename(answer, fallback) {
  const match = /filename="([^"]+)"/.exec(answer.headers.get("content-disposition") ?? "");
  return match ? match[1] : fallback;
}

async function download(format) {
  const wanted = requested(format);
  if (!wanted) {
    showError({ error: "no_period" });
    return;
  }
  showError(null);
  setStatus("rp_making");
  const answer = await fetch(wanted.url, { credentials: "same-origin" });
  if (answer.status === 401) {
    location.assign("/login");
    return;
  }
  if (!answer.ok) {
    setStatus(null);
    const json = answer.headers.get("content-type")?.startsWith("application/json");
    showError(json ? await answer.json() : { error: "failed" });
    return;
  }
  const name = filename(answer, `${wanted.kind}.${format}`);
  const link = el("a", { href: URL.createObjectURL(await answer.blob()), download: name,
    hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  setStatus("rp_made", { name });
}

// --- the reminder ----------------------------------------------------------------

async function loadDue() {
  const answer = await getJson("/api/reports/due");
  state.due = answer?.ok ? answer.body.due : null;
  renderDue();
}

function renderDue() {
  const box = $("due");
  const due = state.due;
  box.hidden = !due;
  if (!due) return;
  const vars = { period: periodLabel(due.period), date: day(due.date), days: due.days_left };
  const open = el("button", { type: "button", class: "link", text: t("rp_due_open") });
  open.addEventListener("click", () => {
    setPeriod("semiannual", due.period);
    show();
  });
  box.replaceChildren(t(due.days_left > 0 ? "rp_due" : "rp_due_today", vars), " ", open);
}

// --- complaints ------------------------------------------------------------------

async function loadComplaints(params = new URLSearchParams()) {
  const answer = await getJson(`/api/reports/complaints?${params}`);
  if (!answer) return;
  if (!answer.ok) {
    showError(answer.body);
    return;
  }
  state.complaints = answer.body;
  const form = $("complaints-form");
  form.elements.since.value = answer.body.since;
  form.elements.until.value = answer.body.until;
  renderComplaints();
}

function verdictText(confirmed) {
  return t(`rp_verdict_${confirmed}`);  // null, true or false
}

function renderComplaints() {
  const data = state.complaints;
  const body = $("complaints").tBodies[0];
  if (!data) return;
  $("complaints-more").hidden = !data.more;
  $("complaints-more").textContent = t("rp_more", { n: data.items.length });
  if (!data.items.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "empty",
      text: t("rp_complaints_none") })));
    return;
  }
  body.replaceChildren(...data.items.map((item) => {
    const call = el("a", { class: "call", href: `/analytics#call=${encodeURIComponent(item.call_id)}`,
      title: t("rp_listen"), text: item.call_id });
    const actions = el("td", { class: "actions" });
    if (data.may_judge) {
      for (const confirmed of [true, false]) {
        const button = el("button", { type: "button", "data-confirmed": String(confirmed),
          "aria-pressed": String(item.confirmed === confirmed),
          text: t(confirmed ? "rp_confirm" : "rp_reject") });
        button.addEventListener("click", () => judge(item, confirmed));
        actions.append(button);
      }
    }
    return el("tr", { "data-call": item.call_id },
      el("td", {}, call), el("td", { text: item.started_text ?? "—" }),
      el("td", { text: item.agent || "—" }),
      el("td", { class: "verdict", "data-confirmed": String(item.confirmed),
        text: verdictText(item.confirmed) }), actions);
  }));
}

async function judge(item, confirmed) {
  const answer = await getJson(`/api/calls/${encodeURIComponent(item.call_id)}/complaint`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ confirmed }) });
  if (!answer) return;
  if (!answer.ok) {
    showError(answer.body);
    return;
  }
  showError(null);
  item.confirmed = answer.body.confirmed;
  renderComplaints();
}

// --- imports ---------------------------------------------------------------------

async function loadImports() {
  const answer = await getJson("/api/reports/imports");
  if (!answer?.ok) return;
  state.imports = answer.body.items;
  renderImports();
}

function renderImports() {
  const body = $("imports").tBodies[0];
  if (!state.imports.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "empty",
      text: t("rp_imports_none") })));
  } else {
    body.replaceChildren(...state.imports.map((item) => el("tr", { "data-batch": item.id },
      el("td", { text: item.name }), el("td", { text: `${day(item.since)} – ${day(item.until)}` }),
      el("td", { class: "num", text: Number(item.rows).toLocaleString(locale()) }),
      el("td", { text: item.imported_text ?? "—" }), el("td", { text: item.user || "—" }))));
  }
  const done = state.imported;
  $("import-status").textContent = done ? t(done.replaced ? "rp_imported_replaced"
    : "rp_imported", { name: done.name, rows: Number(done.rows).toLocaleString(locale()) }) : "";
}

async function upload(event) {
  event.preventDefault();
  const form = $("import-form");
  const file = form.elements.file.files[0];
  if (!file) {
    showError({ error: "no_file" });
    return;
  }
  const params = new URLSearchParams({ name: file.name, since: form.elements.since.value,
    until: form.elements.until.value, lang: currentLang() });
  const answer = await getJson(`/api/reports/imports?${params}`, { method: "POST",
    headers: { "content-type": "text/csv" }, body: file });
  if (!answer) return;
  if (!answer.ok) {
    state.imported = null;
    showError(answer.body);
    renderImports();
    return;
  }
  showError(null);
  state.imported = answer.body;
  form.elements.file.value = "";
  await loadImports();
}

// --- wiring ----------------------------------------------------------------------

async function loadMe() {
  const answer = await getJson("/api/reports/me");
  if (!answer?.ok) return;
  state.me = answer.body;
  const defaults = answer.body.defaults;
  setPeriod("semiannual", defaults.semiannual);
  const form = $("report-form");
  form.elements.lang.value = currentLang() === "ru" ? "ru" : "kk";  // the reader's, by default
  form.elements.quarter.value = defaults.quarterly.slice(-1);
  const [year, quarter] = defaults.quarterly.split("-Q").map(Number);
  form.elements.since.value = `${year}-${String(3 * quarter - 2).padStart(2, "0")}-01`;
  form.elements.until.value = new Date(Date.UTC(year, 3 * quarter, 0)).toISOString().slice(0, 10);
  renderMe();
}

function renderMe() {
  const me = state.me;
  if (!me) return;
  $("who").textContent = `${me.name} · ${label("role_", me.role)}`;
  $("home-link").hidden = !["supervisor", "admin"].includes(me.role);  // the live board
}

function init() {
  const form = $("report-form");
  form.elements.kind.addEventListener("change", showFields);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  for (const id of ["get-xlsx", "get-pdf"]) {
    $(id).addEventListener("click", () => download($(id).dataset.format));
  }
  $("view").addEventListener("load", shown);
  $("complaints-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    const params = new URLSearchParams();
    for (const [key, value] of data) if (String(value)) params.set(key, String(value));
    loadComplaints(params);
  });
  $("import-form").addEventListener("submit", upload);
  initLangSwitch(() => {
    renderMe();
    renderDue();
    renderComplaints();
    renderImports();
    showError(state.error);
    if (state.status?.[0] === "rp_shown") {  // the period's name in the new language
      setStatus("rp_shown", { period: periodLabel($("view").dataset.period) });
    } else if (state.status) {
      setStatus(...state.status);
    }
  });
  showFields();
  loadMe();
  loadDue();
  loadComplaints();
  loadImports();
}

init();
