"""Build a :class:`~bailanys.ivr.model.Flow` from a YAML file, reporting every problem.

Loading never raises on bad input: :func:`load_flow` returns the flow (or
``None``) and a list of :class:`~bailanys.yamlsrc.Problem`, each naming
the file, line and field.  The checks that need the whole graph
(references, reachability, loops with no input) are in
:mod:`bailanys.ivr.checks`; this module checks each field.  A node's body is
read by its kind's ``read`` in :mod:`bailanys.ivr.kinds`, with the field
readers of :class:`Fields` and the shared parts (prompts, retries, menu
options, cases, questions) of :class:`FlowBuilder`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import time as dtime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bailanys.ivr import checks
from bailanys.ivr.kinds import NODE_KINDS
from bailanys.ivr.model import (
    KEYPAD,
    WEEKDAYS,
    Case,
    Collect,
    Condition,
    Flow,
    MenuOption,
    Node,
    Prompt,
    Retry,
    SurveyQuestion,
)
from bailanys.reports.model import REGIONS
from bailanys.reports.regions import is_region
from bailanys.timezone import ALMATY_NAME
from bailanys.yamlsrc import Path_, Problem, Source, load, load_file

#: Languages a flow may use: the ones every caller-facing phrase exists in.
SUPPORTED_LANGUAGES = ("kk", "ru")
VALIDATORS = ("iin",)
DEFAULT_TIMEOUT_S = 6.0  # silence after a prompt before "no input"
DEFAULT_RETRIES = 2  # tries after the first (three in all), as common IVR practice
DEFAULT_INTERDIGIT_S = 4.0
DEFAULT_TIMEZONE = ALMATY_NAME  # Kazakhstan, UTC+5 since 1 March 2024

_TOP_KEYS = (
    "flow", "description", "numbers", "languages", "timezone", "start", "defaults", "prompts",
    "nodes",
)
_DEFAULT_KEYS = ("timeout_s", "retries", "interdigit_s", "no_input", "no_match")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_NUMBER = re.compile(r"^[0-9A-Za-z+*#._\-]+$")
#: A topic id of configs/topics.yaml (bailanys.reports.topics).
_TOPIC_ID = re.compile(r"^[a-z0-9_]+$")

T = TypeVar("T")


def load_flow(path: Path) -> tuple[Flow | None, list[Problem]]:
    """Load and check one flow file."""
    src = load_file(path)
    return _build(src, path.parent)


def load_flow_text(text: str, file: str, base_dir: Path | None = None) -> tuple[Flow | None,
                                                                            list[Problem]]:
    src = load(text, file)
    return _build(src, base_dir or Path(file).parent)


def _build(src: Source, base_dir: Path) -> tuple[Flow | None, list[Problem]]:
    if src.data is None:
        return None, src.problems
    builder = FlowBuilder(src, base_dir)
    flow = builder.flow()
    if flow is not None:
        for path, message in checks.check_graph(flow, builder.node_paths):
            src.problem(path, message)
    problems = sorted(src.problems, key=lambda p: (p.line, p.field))
    return (flow if not problems else None), problems


class FlowBuilder:
    def __init__(self, src: Source, base_dir: Path) -> None:
        self.src = src
        self.base_dir = base_dir
        self.languages: tuple[str, ...] = SUPPORTED_LANGUAGES
        self.shared: dict[str, Prompt] = {}
        self.defaults: dict[str, Any] = {}
        self.node_paths: dict[str, Path_] = {}

    def err(self, path: Path_, message: str) -> None:
        self.src.problem(path, message)

    # ------------------------------------------------------------ top level

    def flow(self) -> Flow | None:
        data = self.src.data
        if not isinstance(data, dict):
            self.err((), "a flow file is a mapping with keys: " + ", ".join(_TOP_KEYS))
            return None
        for key in data:
            if key not in _TOP_KEYS:
                self.err((key,), f"unknown key; expected one of: {', '.join(_TOP_KEYS)}")
        name = self._str(data, ("flow",), required=True) or "?"
        if name != "?" and not _NAME.match(name):
            self.err(("flow",), "a flow name is letters, digits, '_' and '-'")
        numbers = self._str_list(data, ("numbers",), pattern=_NUMBER, what="a dialled number")
        langs = self._str_list(data, ("languages",), required=True, what="a language")
        if data.get("languages") == []:
            self.err(("languages",), "list at least one of: " + ", ".join(SUPPORTED_LANGUAGES))
        for i, lang in enumerate(langs):
            if lang not in SUPPORTED_LANGUAGES:
                self.err(("languages", i), f"unsupported language {lang!r}; "
                         f"supported: {', '.join(SUPPORTED_LANGUAGES)}")
        if len(set(langs)) != len(langs):
            self.err(("languages",), "a language is listed twice")
        self.languages = tuple(dict.fromkeys(lang for lang in langs if lang in SUPPORTED_LANGUAGES))
        tz = self._str(data, ("timezone",)) or DEFAULT_TIMEZONE
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            self.err(("timezone",), f"unknown time zone {tz!r} (an IANA name such as Asia/Almaty)")
        self._defaults(data.get("defaults"))
        self._shared_prompts(data.get("prompts"))
        start = self._str(data, ("start",), required=True) or ""
        nodes_data = data.get("nodes")
        nodes: dict[str, Node] = {}
        if not isinstance(nodes_data, dict) or not nodes_data:
            self.err(("nodes",), "a flow needs a mapping of nodes")
        else:
            for node_id, body in nodes_data.items():
                path: Path_ = ("nodes", node_id)
                self.node_paths[node_id] = path
                if not _NAME.match(node_id):
                    self.err(path, "a node name is letters, digits, '_' and '-'")
                node = self._node(node_id, body, path)
                if node is not None:
                    nodes[node_id] = node
        if not self.languages:
            return None
        content = repr(sorted(_flatten(data))).encode()
        return Flow(
            name=name,
            file=self.src.file,
            version=hashlib.sha256(content).hexdigest()[:12],
            numbers=tuple(numbers),
            languages=self.languages,
            timezone=tz,
            start=start,
            nodes=nodes,
        )

    def _defaults(self, data: Any) -> None:
        if data is None:
            return
        if not isinstance(data, dict):
            self.err(("defaults",), "expected a mapping")
            return
        for key in data:
            if key not in _DEFAULT_KEYS:
                self.err(("defaults", key),
                         f"unknown key; expected one of: {', '.join(_DEFAULT_KEYS)}")
        self.defaults = dict(data)

    def _shared_prompts(self, data: Any) -> None:
        if data is None:
            return
        if not isinstance(data, dict):
            self.err(("prompts",), "expected a mapping of prompt name -> text per language")
            return
        for name, body in data.items():
            prompt = self._prompt_value(body, ("prompts", name), allow_ref=False)
            if prompt is not None:
                self.shared[name] = prompt

    # ------------------------------------------------------------ nodes

    def _node(self, node_id: str, body: Any, path: Path_) -> Node | None:
        if not isinstance(body, dict):
            self.err(path, "a node is a mapping with a 'type'")
            return None
        kind = body.get("type")
        if not isinstance(kind, str) or kind not in NODE_KINDS:
            self.err(path + ("type",), f"unknown node type {kind!r}; expected one of: "
                     + ", ".join(NODE_KINDS))
            return None
        f = Fields(self, body, path)
        node: Node = NODE_KINDS[kind].read(f, node_id, self.src.line(path))
        f.finish()
        return node

    def say_prompt(self, f: Fields) -> Prompt | None:
        has = [key for key in ("text", "file", "readback") if key in f.body]
        if len(has) != 1:
            self.err(f.path, "a say node needs exactly one of 'text' or 'file' (or 'readback')")
            for key in ("text", "file", "readback"):
                f.take(key)
            return None
        if has == ["text"]:
            return f.prompt("text", True)
        if has == ["readback"]:
            var = f.text("readback", True) or ""
            if not _NAME.match(var):
                self.err(f.path + ("readback",), "a variable name is letters, digits and '_'")
            return Prompt(readback=var)
        return self._files(f)

    def _files(self, f: Fields) -> Prompt | None:
        path = f.path + ("file",)
        data = f.take("file")
        if not isinstance(data, dict):
            self.err(path, "give a recorded file per language: {kk: path.wav, ru: path.wav}")
            return None
        files: dict[str, str] = {}
        for lang, name in data.items():
            if lang not in self.languages:
                self.err(path + (lang,), f"language {lang!r} is not one of the flow's")
                continue
            if not isinstance(name, str) or not name:
                self.err(path + (lang,), "expected a file path")
                continue
            p = (self.base_dir / name).resolve()
            if not p.is_file():
                self.err(path + (lang,), f"file not found: {p}")
            elif p.suffix.lower() != ".wav":
                self.err(path + (lang,), "recorded prompts are WAV files")
            files[lang] = str(p)
        for lang in self.languages:
            if lang not in data:
                self.err(path, f"missing the {lang!r} recording")
        return Prompt(files=files)

    def retry(self, f: Fields) -> Retry:
        timeout = f.number("timeout_s", self.defaults.get("timeout_s", DEFAULT_TIMEOUT_S), 0.5, 120)
        retries = f.whole("retries", self.defaults.get("retries", DEFAULT_RETRIES), 0, 10)
        no_input = f.prompt("no_input", False) or self._default_prompt("no_input")
        no_match = f.prompt("no_match", False) or self._default_prompt("no_match")
        return Retry(float(timeout), retries, no_input, no_match)

    def _default_prompt(self, key: str) -> Prompt | None:
        if key not in self.defaults:
            return None
        return self._prompt_value(self.defaults[key], ("defaults", key))

    def options(self, f: Fields) -> tuple[MenuOption, ...]:
        path = f.path + ("options",)
        data = f.take("options")
        if not isinstance(data, list) or not data:
            self.err(path, "a menu needs a list of options")
            return ()
        out: list[MenuOption] = []
        keys: dict[str, int] = {}
        words_seen: dict[tuple[str, str], int] = {}
        for i, item in enumerate(data):
            p = path + (i,)
            if not isinstance(item, dict):
                self.err(p, "an option is a mapping: {key: '1', words: {...}, next: node}")
                continue
            of = Fields(self, item, p)
            key_raw = of.take("key")
            key: str | None = None
            if key_raw is None and "key" in item:
                self.err(p + ("key",), "empty key (an unquoted # starts a comment: write '#')")
            elif key_raw is not None:
                key = str(key_raw)
                if len(key) != 1 or key not in KEYPAD:
                    self.err(p + ("key",), f"{key!r} is not one keypad key ({KEYPAD})")
                elif key in keys:
                    self.err(p + ("key",), f"key {key!r} is already used by option {keys[key] + 1}")
                else:
                    keys[key] = i
            words = self._words(of, p + ("words",))
            for lang, ws in words.items():
                for w in ws:
                    seen = words_seen.get((lang, w.casefold()))
                    if seen is not None and seen != i:
                        self.err(p + ("words", lang),
                                 f"{w!r} is already said for option {seen + 1}")
                    words_seen[(lang, w.casefold())] = i
            if key is None and not words:
                self.err(p, "an option needs a 'key', 'words', or both")
            nxt = of.node("next", True) or ""
            topic, region = self._labels(of, p)
            of.finish()
            out.append(MenuOption(key, words, nxt, self.src.line(p), topic, region))
        return tuple(out)

    def _labels(self, f: Fields, path: Path_) -> tuple[str | None, str | None]:
        """An option's ``topic`` (an id's form here; the classifier is checked by
        ``bailanys config check``) and ``region`` (one of the 20): issue 17."""
        topic = f.text("topic", False)
        if topic is not None and not _TOPIC_ID.match(topic):
            self.err(path + ("topic",), "a topic id is lower-case latin letters, digits and _")
            topic = None
        region = f.text("region", False)
        if region is not None and not is_region(region):
            self.err(path + ("region",), f"unknown region {region!r} (expected one of "
                     f"{', '.join(r.id for r in REGIONS)})")
            region = None
        return topic, region

    def _words(self, f: Fields, path: Path_) -> dict[str, tuple[str, ...]]:
        data = f.take("words")
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.err(path, "give spoken keywords per language: {kk: [...], ru: [...]}")
            return {}
        out: dict[str, tuple[str, ...]] = {}
        for lang, ws in data.items():
            if lang not in self.languages:
                self.err(path + (lang,), f"language {lang!r} is not one of the flow's")
                continue
            items = [ws] if isinstance(ws, str) else ws
            if not isinstance(items, list) or not all(isinstance(w, str) and w.strip()
                                                        for w in items):
                self.err(path + (lang,), "expected a keyword or a list of keywords")
                continue
            out[lang] = tuple(" ".join(w.lower().split()) for w in items)
        for lang in self.languages:
            if lang not in data:
                self.err(path, f"missing the {lang!r} keywords")
        return out

    def collect(self, node_id: str, line: int, f: Fields) -> Collect:
        prompt = f.prompt("prompt", True) or Prompt()
        into = f.text("into", True) or ""
        if into and not _NAME.match(into):
            self.err(f.path + ("into",), "a variable name is letters, digits and '_'")
        min_len = f.whole("min_length", 1, 1, 64)
        max_len = f.whole("max_length", max(min_len, 16), 1, 64)
        if min_len > max_len:
            self.err(f.path + ("min_length",), f"min_length {min_len} > max_length {max_len}")
        term_raw = f.take("terminator", "#")
        terminator = None if term_raw in (None, "", False) else str(term_raw)
        if terminator is not None and (len(terminator) != 1 or terminator not in KEYPAD):
            self.err(f.path + ("terminator",), f"{terminator!r} is not one keypad key")
        validator = f.text("validator", False)
        if validator is not None and validator not in VALIDATORS:
            self.err(f.path + ("validator",), f"unknown validator {validator!r}; known: "
                     + ", ".join(VALIDATORS))
        if validator == "iin" and (min_len > 12 or max_len < 12):
            self.err(f.path + ("validator",), "an IIN has 12 digits: min_length/max_length")
        invalid = f.prompt("invalid", False)
        interdigit = f.number("interdigit_s",
                              self.defaults.get("interdigit_s", DEFAULT_INTERDIGIT_S), 0.5, 60)
        return Collect(node_id, line, prompt, into, min_len, max_len, terminator, validator,
                       invalid, float(interdigit), self.retry(f), f.node("next", True) or "",
                       f.node("fallback", True) or "")

    def questions(self, f: Fields) -> tuple[SurveyQuestion, ...]:
        path = f.path + ("questions",)
        data = f.take("questions")
        if not isinstance(data, list) or not data:
            self.err(path, "a survey needs a list of questions: [{id: q1, prompt: {...}}]")
            return ()
        out: list[SurveyQuestion] = []
        ids: set[str] = set()
        for i, item in enumerate(data):
            p = path + (i,)
            if not isinstance(item, dict):
                self.err(p, "a question is a mapping: {id: ..., prompt: {...}}")
                continue
            qf = Fields(self, item, p)
            qid = qf.text("id", True) or f"q{i + 1}"
            if qid in ids:
                self.err(p + ("id",), f"question id {qid!r} is used twice")
            ids.add(qid)
            prompt = qf.prompt("prompt", True) or Prompt()
            qf.finish()
            out.append(SurveyQuestion(qid, prompt))
        return tuple(out)

    def cases(self, f: Fields) -> tuple[Case, ...]:
        path = f.path + ("cases",)
        data = f.take("cases")
        if not isinstance(data, list) or not data:
            self.err(path, "a branch needs a list of cases: [{when: {...}, next: node}]")
            return ()
        out: list[Case] = []
        for i, item in enumerate(data):
            p = path + (i,)
            if not isinstance(item, dict):
                self.err(p, "a case is a mapping: {when: {...}, next: node}")
                continue
            cf = Fields(self, item, p)
            when = self._condition(cf.take("when"), p + ("when",))
            nxt = cf.node("next", True) or ""
            cf.finish()
            out.append(Case(when, nxt, self.src.line(p)))
        return tuple(out)

    def _condition(self, data: Any, path: Path_) -> Condition:
        if not isinstance(data, dict) or not data:
            self.err(path, "a condition is a mapping, e.g. {time: '09:00-21:00', weekdays: "
                     "[mon, tue]} or {var: choice, equals: '1'}")
            return Condition()
        cf = Fields(self, data, path)
        time_range = None
        raw_time = cf.text("time", False)
        if raw_time is not None:
            time_range = _time_range(raw_time)
            if time_range is None:
                self.err(path + ("time",), f"{raw_time!r} is not a range 'HH:MM-HH:MM'")
        weekdays = None
        if "weekdays" in data:
            names = cf.str_list("weekdays")
            bad = [n for n in names if n.lower()[:3] not in WEEKDAYS]
            if bad:
                self.err(path + ("weekdays",), f"unknown weekday {bad[0]!r}; use "
                         + ", ".join(WEEKDAYS))
            weekdays = frozenset(WEEKDAYS.index(n.lower()[:3]) for n in names if n not in bad)
        var = cf.text("var", False)
        equals_raw = cf.take("equals")
        equals = None if equals_raw is None else str(equals_raw)
        one_of_raw = cf.take("one_of")
        one_of = None
        if one_of_raw is not None:
            if not isinstance(one_of_raw, list):
                self.err(path + ("one_of",), "expected a list of values")
            else:
                one_of = frozenset(str(v) for v in one_of_raw)
        if (equals is not None or one_of is not None) and var is None:
            self.err(path, "'equals' and 'one_of' need 'var'")
        if var is not None and equals is None and one_of is None:
            self.err(path, "'var' needs 'equals' or 'one_of'")
        language = cf.text("language", False)
        if language is not None and language not in self.languages:
            self.err(path + ("language",), f"{language!r} is not one of the flow's languages")
        queue = cf.text("queue", False)
        agents = cf.flag_opt("agents_available")
        waiting = cf.whole_opt("waiting_at_most", 0, 100000)
        if (agents is not None or waiting is not None) and queue is None:
            self.err(path, "'agents_available' and 'waiting_at_most' need 'queue'")
        if queue is not None and agents is None and waiting is None:
            self.err(path, "'queue' needs 'agents_available' or 'waiting_at_most'")
        cf.finish()
        return Condition(time_range, weekdays, var, equals, one_of, language, queue, agents,
                         waiting)

    # ------------------------------------------------------------ prompts

    def _prompt_value(self, data: Any, path: Path_, *, allow_ref: bool = True) -> Prompt | None:
        if isinstance(data, str) and allow_ref and data.startswith("@"):
            ref = data[1:]
            if ref not in self.shared:
                self.err(path, f"no shared prompt named {ref!r} under 'prompts'")
                return None
            return self.shared[ref]
        if not isinstance(data, dict):
            hint = " or '@name' of a shared prompt" if allow_ref else ""
            self.err(path, f"give the text per language: {{kk: ..., ru: ...}}{hint}")
            return None
        texts: dict[str, str] = {}
        for lang, text in data.items():
            if lang not in self.languages:
                self.err(path + (lang,), f"language {lang!r} is not one of the flow's "
                         f"({', '.join(self.languages)})")
                continue
            if not isinstance(text, str) or not text.strip():
                self.err(path + (lang,), "expected a non-empty text")
                continue
            if any(ch.isdigit() for ch in text):
                self.err(path + (lang,), "write numbers as words: the text is spoken by TTS")
            texts[lang] = " ".join(text.split())
        for lang in self.languages:
            if lang not in data:
                self.err(path, f"missing the {lang!r} text")
        return Prompt(texts=texts)

    # ------------------------------------------------------------ scalar helpers

    def _str(self, data: dict[str, Any], path: Path_, *, required: bool = False) -> str | None:
        value = data.get(str(path[-1]))
        if value is None:
            if required:
                self.err(path, "required")
            return None
        if not isinstance(value, str | int) or isinstance(value, bool):
            self.err(path, "expected a text")
            return None
        return str(value)

    def _str_list(self, data: dict[str, Any], path: Path_, *, required: bool = False,
                  pattern: re.Pattern[str] | None = None, what: str = "a value") -> list[str]:
        value = data.get(str(path[-1]))
        if value is None:
            if required:
                self.err(path, "required")
            return []
        if not isinstance(value, list):
            value = [value]
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str | int) or isinstance(item, bool):
                self.err(path + (i,), f"expected {what}")
                continue
            text = str(item)
            if pattern is not None and not pattern.match(text):
                self.err(path + (i,), f"{text!r} is not {what}")
                continue
            out.append(text)
        return out


class Fields:
    """Takes the known fields of one mapping; :meth:`finish` reports the unknown ones."""

    def __init__(self, b: FlowBuilder, body: dict[str, Any], path: Path_) -> None:
        self.b = b
        self.body = body
        self.path = path
        self.used: set[str] = {"type"} if "type" in body else set()

    def take(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        return self.body.get(key, default)

    def _get(
        self, key: str, required: bool, check: Callable[[Any], T | None], what: str
    ) -> T | None:
        value = self.take(key)
        if value is None:
            if required:
                self.b.err(self.path + (key,), "required")
            return None
        result = check(value)
        if result is None:
            self.b.err(self.path + (key,), f"expected {what}")
        return result

    def text(self, key: str, required: bool) -> str | None:
        return self._get(key, required, lambda v: str(v) if isinstance(v, str | int) and not
                         isinstance(v, bool) else None, "a text")

    def node(self, key: str, required: bool) -> str | None:
        return self.text(key, required)

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, False, lambda v: v if isinstance(v, bool) else None, "true or false")
        return default if value is None else value

    def flag_opt(self, key: str) -> bool | None:
        return self._get(key, False, lambda v: v if isinstance(v, bool) else None, "true or false")

    def number(self, key: str, default: Any, lo: float, hi: float) -> float:
        value = self.take(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            self.b.err(self.path + (key,), f"expected a number of seconds from {lo:g} to {hi:g}")
            return float(lo)
        return float(value)

    def whole(self, key: str, default: Any, lo: int, hi: int) -> int:
        value = self.take(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.b.err(self.path + (key,), f"expected a whole number from {lo} to {hi}")
            return lo
        return value

    def whole_opt(self, key: str, lo: int, hi: int) -> int | None:
        if key not in self.body:
            return None
        return self.whole(key, None, lo, hi)

    def str_list(self, key: str) -> list[str]:
        self.used.add(key)
        return self.b._str_list(self.body, self.path + (key,))

    def prompt(self, key: str, required: bool) -> Prompt | None:
        value = self.take(key)
        if value is None:
            if required:
                self.b.err(self.path + (key,), "required")
            return None
        return self.b._prompt_value(value, self.path + (key,))

    def finish(self) -> None:
        allowed = sorted(self.used - {"type"})
        for key in self.body:
            if key not in self.used:
                self.b.err(self.path + (key,), "unknown field; expected one of: "
                           + ", ".join(allowed))


def _time_range(text: str) -> tuple[dtime, dtime] | None:
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if m is None:
        return None
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
        return None
    end = dtime(0, 0) if h2 == 24 else dtime(h2, m2)
    start = dtime(h1, m1)
    if start == end:
        return None
    return start, end


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(data, dict):
        return [kv for k, v in data.items() for kv in _flatten(v, f"{prefix}/{k}")]
    if isinstance(data, list):
        return [kv for i, v in enumerate(data) for kv in _flatten(v, f"{prefix}[{i}]")]
    return [(prefix, repr(data))]
