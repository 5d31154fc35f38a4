// Issue 19 on the supervisor page: "escalation when a deadline passes (console
// alert + the supervisor's list)". The `cases` state (PROTOCOL.md) becomes the
// panel of overdue requests and, when a new escalation arrives, the alert
// banner (aria-live: a screen reader says it too). Numbers, topics,
// departments and dates only: the state carries no personal data.
import { currentLang, locale, t } from "./i18n.js";
import { el } from "./dom.js";

// Escalations already seen (number + time), so a delta raises only new ones.
const seen = new Set();
let primed = false;
let shown = null; // the escalations the banner tells about

const key = (item) => `${item.number}@${item.escalated}`;

function named(list, id) {
  const lang = currentLang() === "kk" ? "kk" : "ru";
  const found = (list ?? []).find((item) => item.id === id);
  return found ? found[lang] : id || "—";
}

function fmtDate(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(locale());
}

function row(item, cases, topics) {
  return el("tr", { "data-case": item.number },
    el("td", { class: "case-number", text: item.number }),
    el("td", { class: "case-topic", text: named(topics, item.topic) }),
    el("td", { class: "case-department", text: named(cases.departments, item.department) }),
    el("td", { class: "case-deadline", text: fmtDate(item.deadline) }),
    el("td", { class: "case-days", text: t("cases_days", { n: item.days }) }));
}

function alertText(item, cases, topics) {
  return t("case_alert", {
    number: item.number, topic: named(topics, item.topic),
    department: named(cases.departments, item.department), deadline: fmtDate(item.deadline),
  });
}

// Show the banner for the escalations not seen before (the newest first).
function raise(fresh, cases, topics) {
  const banner = document.getElementById("case-alert");
  shown = fresh;
  const parts = [alertText(fresh[0], cases, topics)];
  if (fresh.length > 1) parts.push(t("case_alert_more", { n: fresh.length - 1 }));
  banner.querySelector(".case-alert-text").textContent = parts.join(" ");
  banner.dataset.alertCase = fresh[0].number;
  banner.hidden = false;
}

// Render the panel, and raise the alert for escalations the page has not seen:
// none on the first state it gets (those are the store's, listed, not new),
// those that came while it was offline on a reconnection's snapshot.
// (Only supervisors and admins get this page: the others' home is elsewhere.)
export function renderCases(cases, topics) {
  const panel = document.getElementById("cases-panel");
  if (!cases || !cases.enabled) {
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  document.getElementById("cases-count").textContent = String(cases.overdue);
  panel.dataset.overdue = String(cases.overdue);
  const items = cases.items ?? [];
  document.querySelector("#cases tbody").replaceChildren(
    ...items.map((item) => row(item, cases, topics)));
  document.getElementById("cases-none").hidden = items.length > 0;
  const latest = (cases.latest ?? []).filter((item) => item.escalated !== null);
  const fresh = latest.filter((item) => !seen.has(key(item)));
  for (const item of fresh) seen.add(key(item));
  if (primed && fresh.length) raise(fresh, cases, topics);
  primed = true;
  const banner = document.getElementById("case-alert");
  if (!banner.hidden && !fresh.length && shown) raise(shown, cases, topics); // language switched
  if (!banner.hidden && !items.some((item) => item.number === banner.dataset.alertCase)) {
    banner.hidden = true; // answered or back in work meanwhile
  }
}

document.getElementById("case-alert-close").addEventListener("click", () => {
  document.getElementById("case-alert").hidden = true;
});
