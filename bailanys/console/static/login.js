// The login page: the language switch, and the error after a failed attempt.
import { initLangSwitch } from "./i18n.js";

initLangSwitch();
if (new URLSearchParams(location.search).has("error")) {
  document.getElementById("login-error").hidden = false;
}
