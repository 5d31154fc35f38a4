// Issue 22: the one console of several engines (`bailanys cluster console`).
// The server sends `engines` (one row per engine: up, its callers waiting
// now) and `partial` (an engine did not answer: the totals lack its calls).
// An engine's own console sends neither, and the strip stays hidden.

import { t } from "./i18n.js";
import { el } from "./dom.js";

export function renderEngines(engines, partial) {
  const box = document.getElementById("engines");
  if (!box) return;
  const rows = Array.isArray(engines) ? engines : [];
  box.hidden = rows.length === 0;
  box.dataset.partial = partial ? "1" : "0";
  const items = rows.map((e) => el("span", {
    class: "engine", "data-engine": e.name, "data-up": e.up ? "1" : "0",
    title: e.up ? "" : e.error,
  }, `${e.name}: ${e.up ? t("engine_up") : t("engine_down")}` +
     (e.up ? ` · ${t("engine_waiting")} ${e.waiting}` : "")));
  const head = el("strong", { text: t("engines_title") });
  const note = partial ? el("span", { class: "engines-partial", text: t("engines_partial") }) : null;
  box.replaceChildren(head, ...items, ...(note ? [note] : []));
}
