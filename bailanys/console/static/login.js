// The login page: the language switch, the error after a failed attempt, and
// after too many (the server answers 429 with this page and data-retry-after
// on <body>) how many minutes to wait, with the button off until then.
import { initLangSwitch, t } from "./i18n.js";

const wait = Number(document.body.dataset.retryAfter || 0);
const blocked = document.getElementById("login-blocked");
const submit = document.querySelector("form button[type=submit]");

function showBlocked() {
  blocked.textContent = t("login_blocked", { minutes: Math.max(1, Math.ceil(wait / 60)) });
}

initLangSwitch(() => {
  if (!blocked.hidden) showBlocked();
});
if (wait > 0) {
  blocked.hidden = false;
  showBlocked();
  submit.disabled = true;
  setTimeout(() => {
    blocked.hidden = true;
    submit.disabled = false;
  }, wait * 1000);
} else if (new URLSearchParams(location.search).has("error")) {
  document.getElementById("login-error").hidden = false;
}
