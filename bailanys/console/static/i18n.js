// Every visible string of the console, in Kazakh (the default), Russian and
// English, and the language switch. Kazakh terms follow the regulator's
// standard (kz-contact-center-requirements-2023): "Кезек" queue, "Оператор",
// "Күтуде" waiting, "Үзіліс" break, "Қанағаттану деңгейі" satisfaction,
// "Жоғалған қоңыраулар үлесі" lost-call share.
//
// STRINGS is strict JSON between the markers: tests/console/test_static.py
// reads it to check that every language has every key the pages use.

export const LANGS = ["kk", "ru", "en"];
export const DEFAULT_LANG = "kk";
const STORAGE_KEY = "bailanys.lang";
// Number formats. Kazakh writes numbers as Russian does (1 286,5), but
// Chromium's ICU lacks Kazakh's number symbols and would print 1,286.5.
const LOCALES = { kk: "ru-RU", ru: "ru-RU", en: "en-GB" };

export const STRINGS = /*JSON*/ {
  "kk": {
    "app_title": "Супервайзер тақтасы",
    "language": "Тіл",
    "logout": "Шығу",
    "view_only": "Тек қарау",
    "conn_connecting": "Қосылуда…",
    "conn_online": "Байланыс бар",
    "conn_offline": "Байланыс үзілді, қайта қосылуда…",
    "role_supervisor": "Супервайзер",
    "role_analyst": "Талдаушы",
    "role_qa": "Сапа бақылаушысы",
    "role_admin": "Әкімші",
    "kpis": "Негізгі көрсеткіштер",
    "kpi_wait_s": "Мәзірден кейін жауап күту уақыты",
    "kpi_abandoned_wait_s": "Жауап күтпей үзгендердің күту уақыты",
    "kpi_accuracy_pct": "Ақпараттың дәлдігі мен толықтығы",
    "kpi_satisfaction_score": "Қанағаттану деңгейі",
    "kpi_csi_pct": "Қанағаттанған клиенттер үлесі (CSI)",
    "kpi_cdi_pct": "Қанағаттанбаған клиенттер үлесі (CDI)",
    "kpi_fcr_pct": "Бастапқы жүгінуде шешілген өтініштер (FCR)",
    "kpi_lost_pct": "Жоғалған қоңыраулар үлесі",
    "kpi_lost_after_30s_pct": "30 секунд күткеннен кейін жоғалған қоңыраулар",
    "kpi_dropped_pct": "Жүйе үзген қоңыраулар",
    "kpi_asa_s": "Жауап берудің орташа уақыты",
    "kpi_service_level_pct": "Қызмет деңгейі",
    "kpi_sl2_pct": "Қызмет деңгейі (SL2)",
    "kpi_aht_s": "Өтінішті өңдеудің орташа уақыты",
    "kpi_occupancy_pct": "Операторлардың жүктемесі",
    "limit": "шегі",
    "goal": "Мақсат",
    "no_data": "Дерек жоқ",
    "status_within": "Нормада",
    "status_warning": "Назар аударыңыз",
    "status_breach": "Шектен тыс",
    "status_no_data": "Дерек жоқ",
    "status_no_target": "Мақсат белгіленбеген",
    "unit_s": "с",
    "unit_min": "мин",
    "unit_points": "балл",
    "chart_title": "Соңғы сағатта күтудегі қоңыраулар",
    "chart_ago": "60 мин бұрын",
    "chart_now": "қазір",
    "queues": "Кезектер",
    "queue": "Кезек",
    "waiting": "Күтуде",
    "agents_free": "Бос операторлар",
    "no_queues": "Кезектер жоқ",
    "no_callers": "Күтіп тұрған ешкім жоқ",
    "col_position": "Орны",
    "col_call": "Қоңырау",
    "col_waited": "Күту уақыты",
    "col_language": "Тіл",
    "col_callback": "Кері қоңырау",
    "col_caller_state": "Күйі",
    "language_kk": "қазақша",
    "language_ru": "орысша",
    "yes": "иә",
    "no": "жоқ",
    "caller_waiting": "Күтуде",
    "caller_ringing": "Операторға қоңырау шалынуда",
    "caller_callback": "Кері қоңырауды күтуде",
    "caller_calling_back": "Кері қоңырау шалынуда",
    "caller_connected": "Сөйлесуде",
    "agents": "Операторлар",
    "no_agents": "Операторлар жоқ",
    "col_agent": "Оператор",
    "col_state": "Күйі",
    "col_in_state": "Күйдегі уақыты",
    "col_reason": "Себебі",
    "col_current_call": "Ағымдағы қоңырау",
    "col_actions": "Әрекеттер",
    "state_logged_out": "Жүйеден тыс",
    "state_available": "Бос",
    "state_ringing": "Қоңырау түсуде",
    "state_on_call": "Сөйлесуде",
    "state_wrap_up": "Қоңыраудан кейінгі өңдеу",
    "state_break": "Үзіліс",
    "logout_pending": "жүйеден шығуды күтуде",
    "act_agent_login": "Жүйеге кіргізу",
    "act_agent_logout": "Жүйеден шығару",
    "act_agent_pause": "Үзіліске шығару",
    "act_agent_unpause": "Жұмысқа қайтару",
    "act_disposition": "Нәтиже",
    "pause_title": "Үзіліс себебі",
    "reason_lunch": "Түскі ас",
    "reason_rest": "Демалыс",
    "reason_training": "Оқыту",
    "reason_meeting": "Жиналыс",
    "reason_technical": "Техникалық ақау",
    "reason_other": "Басқа",
    "reason_auto_pause": "Жауап бермеді (автоматты үзіліс)",
    "confirm": "Растау",
    "cancel": "Болдырмау",
    "disposition_title": "Қоңырау нәтижесі",
    "field_call": "Қоңырау",
    "field_agent": "Оператор",
    "field_resolved": "Мәселе шешілді",
    "field_topic": "Тақырып",
    "save": "Сақтау",
    "ack": "Орындалды",
    "err_forbidden": "Бұл әрекетке рұқсатыңыз жоқ",
    "err_refused": "Әрекет орындалмады",
    "err_timeout": "Жауап күту уақыты өтті",
    "err_session_expired": "Сеанс аяқталды, қайта кіріңіз",
    "err_bad_field": "Өріс дұрыс толтырылмаған",
    "err_bad_message": "Хабарлама қате",
    "err_unknown_action": "Белгісіз әрекет",
    "err_internal": "Ішкі қате",
    "err_offline": "Байланыс жоқ, әрекет жіберілмеді",
    "login_title": "Жүйеге кіру",
    "login_blocked": "Сәтсіз кіру әрекеттері тым көп. {minutes} минуттан кейін қайталап көріңіз.",
    "login_user": "Пайдаланушы",
    "login_password": "Құпиясөз",
    "login_submit": "Кіру",
    "login_error": "Пайдаланушы аты немесе құпиясөз қате"
  },
  "ru": {
    "app_title": "Панель супервайзера",
    "language": "Язык",
    "logout": "Выйти",
    "view_only": "Только просмотр",
    "conn_connecting": "Подключение…",
    "conn_online": "На связи",
    "conn_offline": "Связь потеряна, переподключение…",
    "role_supervisor": "Супервайзер",
    "role_analyst": "Аналитик",
    "role_qa": "Контроль качества",
    "role_admin": "Администратор",
    "kpis": "Ключевые показатели",
    "kpi_wait_s": "Ожидание ответа после голосового меню",
    "kpi_abandoned_wait_s": "Ожидание клиентов, не дождавшихся ответа",
    "kpi_accuracy_pct": "Точность и полнота информации",
    "kpi_satisfaction_score": "Удовлетворённость клиентов",
    "kpi_csi_pct": "Доля удовлетворённых (CSI)",
    "kpi_cdi_pct": "Доля неудовлетворённых (CDI)",
    "kpi_fcr_pct": "Решение с первого обращения",
    "kpi_lost_pct": "Доля потерянных вызовов",
    "kpi_lost_after_30s_pct": "Потерянные после 30 секунд ожидания",
    "kpi_dropped_pct": "Вызовы, прерванные системой",
    "kpi_asa_s": "Среднее время ответа",
    "kpi_service_level_pct": "Уровень обслуживания",
    "kpi_sl2_pct": "Уровень обслуживания (SL2)",
    "kpi_aht_s": "Среднее время обработки обращения",
    "kpi_occupancy_pct": "Загрузка операторов",
    "limit": "предел",
    "goal": "Цель",
    "no_data": "Нет данных",
    "status_within": "В норме",
    "status_warning": "Внимание",
    "status_breach": "Нарушение",
    "status_no_data": "Нет данных",
    "status_no_target": "Цель не задана",
    "unit_s": "с",
    "unit_min": "мин",
    "unit_points": "балл",
    "chart_title": "Ожидающие вызовы за последний час",
    "chart_ago": "60 мин назад",
    "chart_now": "сейчас",
    "queues": "Очереди",
    "queue": "Очередь",
    "waiting": "Ожидают",
    "agents_free": "Свободных операторов",
    "no_queues": "Очередей нет",
    "no_callers": "Никто не ожидает",
    "col_position": "Позиция",
    "col_call": "Вызов",
    "col_waited": "Время ожидания",
    "col_language": "Язык",
    "col_callback": "Обратный звонок",
    "col_caller_state": "Состояние",
    "language_kk": "казахский",
    "language_ru": "русский",
    "yes": "да",
    "no": "нет",
    "caller_waiting": "Ожидает",
    "caller_ringing": "Звонок оператору",
    "caller_callback": "Ждёт обратного звонка",
    "caller_calling_back": "Обратный звонок",
    "caller_connected": "В разговоре",
    "agents": "Операторы",
    "no_agents": "Операторов нет",
    "col_agent": "Оператор",
    "col_state": "Состояние",
    "col_in_state": "Время в состоянии",
    "col_reason": "Причина",
    "col_current_call": "Текущий вызов",
    "col_actions": "Действия",
    "state_logged_out": "Не в системе",
    "state_available": "Свободен",
    "state_ringing": "Входящий вызов",
    "state_on_call": "В разговоре",
    "state_wrap_up": "Поствызывная обработка",
    "state_break": "Перерыв",
    "logout_pending": "ожидает выхода",
    "act_agent_login": "Ввести в систему",
    "act_agent_logout": "Вывести из системы",
    "act_agent_pause": "На перерыв",
    "act_agent_unpause": "Снять с перерыва",
    "act_disposition": "Результат",
    "pause_title": "Причина перерыва",
    "reason_lunch": "Обед",
    "reason_rest": "Отдых",
    "reason_training": "Обучение",
    "reason_meeting": "Совещание",
    "reason_technical": "Технические проблемы",
    "reason_other": "Другое",
    "reason_auto_pause": "Не ответил (автопауза)",
    "confirm": "Подтвердить",
    "cancel": "Отмена",
    "disposition_title": "Результат обращения",
    "field_call": "Вызов",
    "field_agent": "Оператор",
    "field_resolved": "Вопрос решён",
    "field_topic": "Тема",
    "save": "Сохранить",
    "ack": "Выполнено",
    "err_forbidden": "У вас нет прав на это действие",
    "err_refused": "Действие отклонено",
    "err_timeout": "Истекло время ожидания ответа",
    "err_session_expired": "Сеанс истёк, войдите снова",
    "err_bad_field": "Поле заполнено неверно",
    "err_bad_message": "Ошибка в сообщении",
    "err_unknown_action": "Неизвестное действие",
    "err_internal": "Внутренняя ошибка",
    "err_offline": "Нет связи, действие не отправлено",
    "login_title": "Вход в систему",
    "login_blocked": "Слишком много неудачных попыток входа. Повторите попытку через {minutes} мин.",
    "login_user": "Пользователь",
    "login_password": "Пароль",
    "login_submit": "Войти",
    "login_error": "Неверное имя пользователя или пароль"
  },
  "en": {
    "app_title": "Supervisor console",
    "language": "Language",
    "logout": "Log out",
    "view_only": "View only",
    "conn_connecting": "Connecting…",
    "conn_online": "Connected",
    "conn_offline": "Disconnected, reconnecting…",
    "role_supervisor": "Supervisor",
    "role_analyst": "Analyst",
    "role_qa": "QA reviewer",
    "role_admin": "Administrator",
    "kpis": "Key indicators",
    "kpi_wait_s": "Wait for an answer after the voice menu",
    "kpi_abandoned_wait_s": "Wait of callers who hung up",
    "kpi_accuracy_pct": "Accurate, complete information",
    "kpi_satisfaction_score": "Customer satisfaction",
    "kpi_csi_pct": "Satisfied share (CSI)",
    "kpi_cdi_pct": "Dissatisfied share (CDI)",
    "kpi_fcr_pct": "First-contact resolution",
    "kpi_lost_pct": "Lost-call share",
    "kpi_lost_after_30s_pct": "Lost after a 30 s wait",
    "kpi_dropped_pct": "Calls dropped by the engine",
    "kpi_asa_s": "Average speed of answer",
    "kpi_service_level_pct": "Service level",
    "kpi_sl2_pct": "Service level (SL2)",
    "kpi_aht_s": "Average handling time",
    "kpi_occupancy_pct": "Agent occupancy",
    "limit": "limit",
    "goal": "Goal",
    "no_data": "No data",
    "status_within": "Within target",
    "status_warning": "Warning",
    "status_breach": "Breach",
    "status_no_data": "No data",
    "status_no_target": "No target",
    "unit_s": "s",
    "unit_min": "min",
    "unit_points": "pts",
    "chart_title": "Calls waiting over the last hour",
    "chart_ago": "60 min ago",
    "chart_now": "now",
    "queues": "Queues",
    "queue": "Queue",
    "waiting": "Waiting",
    "agents_free": "Agents free",
    "no_queues": "No queues",
    "no_callers": "Nobody waiting",
    "col_position": "Position",
    "col_call": "Call",
    "col_waited": "Waited",
    "col_language": "Language",
    "col_callback": "Callback",
    "col_caller_state": "State",
    "language_kk": "Kazakh",
    "language_ru": "Russian",
    "yes": "yes",
    "no": "no",
    "caller_waiting": "Waiting",
    "caller_ringing": "Ringing an agent",
    "caller_callback": "Awaiting a callback",
    "caller_calling_back": "Calling back",
    "caller_connected": "Talking",
    "agents": "Agents",
    "no_agents": "No agents",
    "col_agent": "Agent",
    "col_state": "State",
    "col_in_state": "Time in state",
    "col_reason": "Reason",
    "col_current_call": "Current call",
    "col_actions": "Actions",
    "state_logged_out": "Logged out",
    "state_available": "Available",
    "state_ringing": "Ringing",
    "state_on_call": "On a call",
    "state_wrap_up": "Wrap-up",
    "state_break": "Break",
    "logout_pending": "logging out",
    "act_agent_login": "Log in",
    "act_agent_logout": "Log out",
    "act_agent_pause": "Break",
    "act_agent_unpause": "Back to work",
    "act_disposition": "Disposition",
    "pause_title": "Break reason",
    "reason_lunch": "Lunch",
    "reason_rest": "Rest",
    "reason_training": "Training",
    "reason_meeting": "Meeting",
    "reason_technical": "Technical problem",
    "reason_other": "Other",
    "reason_auto_pause": "Did not answer (auto pause)",
    "confirm": "Confirm",
    "cancel": "Cancel",
    "disposition_title": "Call disposition",
    "field_call": "Call",
    "field_agent": "Agent",
    "field_resolved": "Resolved",
    "field_topic": "Topic",
    "save": "Save",
    "ack": "Done",
    "err_forbidden": "You may not do this",
    "err_refused": "Refused",
    "err_timeout": "No answer in time",
    "err_session_expired": "Session expired, log in again",
    "err_bad_field": "A field is not valid",
    "err_bad_message": "Bad message",
    "err_unknown_action": "Unknown action",
    "err_internal": "Internal error",
    "err_offline": "Not connected: the action was not sent",
    "login_title": "Sign in",
    "login_blocked": "Too many failed sign-in attempts. Try again in {minutes} min.",
    "login_user": "User",
    "login_password": "Password",
    "login_submit": "Sign in",
    "login_error": "Wrong user name or password"
  }
} /*END*/;

let lang = readLang();

function readLang() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(saved)) return saved;
  } catch (e) {
    // storage disabled: the default it is
  }
  return DEFAULT_LANG;
}

export function currentLang() {
  return lang;
}

export function locale() {
  return LOCALES[lang];
}

export function has(key) {
  return key in STRINGS[lang];
}

// The string for key in the current language ({name} filled from vars).
export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS[DEFAULT_LANG][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

// Fill every [data-i18n] (text), [data-i18n-placeholder] and [data-i18n-title].
export function applyI18n(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-lang]")) {
    el.setAttribute("aria-pressed", String(el.dataset.lang === lang));
  }
}

export function setLang(next) {
  if (!LANGS.includes(next)) return;
  lang = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch (e) {
    // not remembered: fine
  }
  applyI18n();
}

// Wire the [data-lang] buttons; onChange runs after the static strings changed.
export function initLangSwitch(onChange = () => {}) {
  for (const el of document.querySelectorAll("[data-lang]")) {
    el.addEventListener("click", () => {
      setLang(el.dataset.lang);
      onChange();
    });
  }
  applyI18n();
}
