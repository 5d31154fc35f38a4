"""The flow loader (bailanys.ivr.loader, yamlsrc, checks): every problem with its line and field.

Broken flows are written here as YAML text, short enough to count lines by
eye.  Most start with ``HEAD`` (four lines), so the first node is on line 5.
"""

from __future__ import annotations

import random
import re
import wave
from datetime import time as dtime
from pathlib import Path

import pytest

from bailanys.ivr.checks import check_graph
from bailanys.ivr.loader import load_flow, load_flow_text
from bailanys.ivr.model import Branch, Collect, Flow, Hangup, Node, Prompt, Say
from bailanys.yamlsrc import Problem

ROOT = Path(__file__).resolve().parents[2]
FLOW_1414 = ROOT / "ivr_flows" / "1414.yaml"
FILE = "t.yaml"

HEAD = """\
flow: t
languages: [kk, ru]
start: a
nodes:
"""

OK = HEAD + """\
  a:
    type: say
    text: {kk: Сәлем, ru: Привет}
    next: b
  b:
    type: hangup
"""

MENU = HEAD + """\
  a:
    type: menu
    prompt: {kk: Таңдаңыз, ru: Выберите}
    options:
      - key: "1"
        words: {kk: [бір], ru: [один]}
        next: x
      - key: "2"
        words: {kk: [екі], ru: [два]}
        next: y
    fallback: x
  x:
    type: hangup
  y:
    type: hangup
"""
# line 12 is the second option's `- key: "2"`, 13 its words, 14 its next

#: file:line: field: message, or file:line: message for the whole file
LINE_FORMAT = re.compile(
    r"^t\.yaml:[1-9][0-9]*: (?:[A-Za-z_][\w\-]*(?:\.[\w\-@]+|\[\d+\])*: )?\S.*$"
)


def load(text: str) -> tuple[Flow | None, list[Problem]]:
    return load_flow_text(text, FILE, ROOT)


def only(text: str) -> Problem:
    """The one problem of ``text``."""
    flow, problems = load(text)
    assert flow is None
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_1414_loads_with_no_problems() -> None:
    flow, problems = load_flow(FLOW_1414)
    assert problems == []
    assert flow is not None
    assert flow.name == "hotline-1414"
    assert flow.numbers == ("1414",)
    assert flow.languages == ("kk", "ru")
    assert flow.start == "greeting"
    assert {"greeting", "language", "main_menu", "busy"} <= set(flow.nodes)


def test_small_flow_loads() -> None:
    flow, problems = load(OK)
    assert problems == []
    assert flow is not None
    a = flow.node("a")
    assert isinstance(a, Say)
    assert a.line == 5
    assert a.prompt.texts == {"kk": "Сәлем", "ru": "Привет"}
    assert isinstance(flow.node("b"), Hangup)


def test_version_is_a_content_hash() -> None:
    one, _ = load(OK)
    same, _ = load("# a comment changes nothing\n" + OK)
    other, _ = load(OK.replace("Привет", "Здравствуйте"))
    assert one is not None and same is not None and other is not None
    assert one.version == same.version != other.version


# (id, text, line, field, words the message contains)
BROKEN = [
    ("yaml_syntax", "flow: t\nlanguages: [kk, ru\nstart: a\n", 3, "", "YAML syntax"),
    ("empty_file", "", 1, "", "the file is empty"),
    ("only_a_comment", "# nothing yet\n", 1, "", "the file is empty"),
    ("not_a_mapping", "- a\n- b\n", 1, "", "a flow file is a mapping"),
    ("control_character", "flow: t\nlanguages: [kk]\x00\n", 2, "", "unacceptable character #x0000"),
    ("top_level_unknown_key", OK + "colour: red\n", 11, "colour", "unknown key; expected one of"),
    ("unknown_node_type", OK.replace("type: hangup", "type: hang_up"), 10, "nodes.b.type",
     "unknown node type 'hang_up'; expected one of: say, menu"),
    ("unknown_field_lists_allowed", OK.replace("    next: b\n", "    next: b\n    nxt: c\n"),
     9, "nodes.a.nxt", "unknown field; expected one of: barge_in, next, text"),
    ("missing_required_field", OK.replace("    type: hangup\n", "    type: queue\n"), 9,
     "nodes.b.queue", "required"),
    ("duplicate_yaml_key", OK.replace("    next: b\n", "    next: b\n    next: b\n"), 9,
     "nodes.a.next", "duplicate key (also on line 8"),
    ("duplicate_menu_key", MENU.replace('key: "2"', 'key: "1"'), 12, "nodes.a.options[1].key",
     "key '1' is already used by option 1"),
    ("keyword_of_two_options", MENU.replace("ru: [два]", "ru: [Один]"), 13,
     "nodes.a.options[1].words.ru", "'один' is already said for option 1"),
    ("key_of_two_digits", MENU.replace('key: "2"', 'key: "12"'), 12, "nodes.a.options[1].key",
     "'12' is not one keypad key"),
    ("key_a_letter", MENU.replace('key: "2"', 'key: "A"'), 12, "nodes.a.options[1].key",
     "'A' is not one keypad key"),
    ("key_hash_unquoted_is_a_comment", MENU.replace('key: "2"', "key: #"), 12,
     "nodes.a.options[1].key", "write '#'"),
    ("prompt_missing_a_language", OK.replace("{kk: Сәлем, ru: Привет}", "{kk: Сәлем}"), 7,
     "nodes.a.text", "missing the 'ru' text"),
    ("prompt_in_another_language", OK.replace("ru: Привет}", "ru: Привет, en: Hello}"), 7,
     "nodes.a.text.en", "language 'en' is not one of the flow's (kk, ru)"),
    ("digits_in_a_prompt", OK.replace("Привет", "Нажмите 1"), 7, "nodes.a.text.ru",
     "write numbers as words"),
    ("unknown_shared_prompt", OK.replace("{kk: Сәлем, ru: Привет}", '"@hello"'), 7,
     "nodes.a.text", "no shared prompt named 'hello'"),
    ("unknown_node_reference", MENU.replace("next: y", "next: nowhere")
     .replace("fallback: x", "fallback: y"), 14, "nodes.a.options[1].next",
     "unknown node 'nowhere'"),
    ("unknown_start", OK.replace("start: a", "start: z"), 3, "start", "unknown node 'z'"),
    ("unreachable_node", OK + "  c:\n    type: hangup\n", 11, "nodes.c",
     "unreachable from the start node 'a'"),
    ("set_language_not_in_flow",
     OK.replace("languages: [kk, ru]", "languages: [kk]").replace(", ru: Привет", "")
     .replace("    type: hangup\n", "    type: set_language\n    language: ru\n    next: c\n")
     + "  c:\n    type: hangup\n", 11, "nodes.b.language",
     "'ru' is not one of the flow's languages (kk)"),
    ("unsupported_language", OK.replace("[kk, ru]", "[kk, ru, en]"), 2, "languages[2]",
     "unsupported language 'en'; supported: kk, ru"),
    ("no_language", HEAD.replace("[kk, ru]", "[]") + "  a:\n    type: hangup\n", 2,
     "languages", "list at least one of: kk, ru"),
    ("bad_timezone", OK.replace("start: a", "timezone: Asia/Atlantis\nstart: a"), 3, "timezone",
     "unknown time zone 'Asia/Atlantis'"),
    ("say_with_text_and_file",
     OK.replace("    next: b\n", "    file: {kk: a.wav, ru: a.wav}\n    next: b\n"), 5, "nodes.a",
     "exactly one of 'text' or 'file'"),
]


@pytest.mark.parametrize(("text", "line", "field", "words"),
                         [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_broken_flow(text: str, line: int, field: str, words: str) -> None:
    problem = only(text)
    assert (problem.file, problem.line, problem.field) == (FILE, line, field), str(problem)
    assert words in problem.message
    assert LINE_FORMAT.match(str(problem)), str(problem)


def test_duplicate_key_names_both_lines() -> None:
    problem = only(OK.replace("    next: b\n", "    next: b\n    barge_in: false\n    next: b\n"))
    assert str(problem) == (
        "t.yaml:10: nodes.a.next: duplicate key (also on line 8; a later one would silently win)"
    )


def test_unknown_node_reference_to_a_missing_node_only() -> None:
    flow, problems = load(MENU.replace("next: y", "next: yy"))
    assert flow is None
    assert [str(p) for p in problems] == [
        "t.yaml:14: nodes.a.options[1].next: unknown node 'yy'",
        "t.yaml:18: nodes.y: unreachable from the start node 'a'",
    ]


# ------------------------------------------------------------------ loops with no input

SAY_GOTO_LOOP = HEAD + """\
  a:
    type: say
    text: {kk: Сәлем, ru: Привет}
    next: b
  b:
    type: goto
    next: a
"""

MENU_LOOP = HEAD + """\
  a:
    type: menu
    prompt: {kk: Таңдаңыз, ru: Выберите}
    options:
      - key: "1"
        next: again
      - key: "0"
        next: bye
    fallback: FALLBACK
  again:
    type: say
    text: {kk: Тағы да, ru: Ещё раз}
    next: a
  bye:
    type: hangup
"""


def test_say_goto_say_is_a_loop_with_no_input() -> None:
    problem = only(SAY_GOTO_LOOP)
    assert (problem.line, problem.field) == (5, "nodes.a")
    assert problem.message.startswith("a loop with no input: a -> b -> a")


def test_goto_itself() -> None:
    flow, problems = load(HEAD + "  a:\n    type: goto\n    next: a\n")
    assert flow is None
    assert [p.message.split(" (")[0] for p in problems] == [
        "goes to itself", "a loop with no input: a -> a",
    ]


def test_menu_fallback_back_through_a_say_is_a_silent_loop() -> None:
    """Silence at `a` falls back to `again`, which says something and returns to `a`: forever."""
    problem = only(MENU_LOOP.replace("FALLBACK", "again"))
    assert (problem.line, problem.field) == (5, "nodes.a")
    assert "a loop with no input: a -> again -> a" in problem.message


def test_menu_option_back_to_the_menu_is_fine() -> None:
    """Pressing 1 to hear the menu again needs the caller: not a silent loop."""
    flow, problems = load(MENU_LOOP.replace("FALLBACK", "bye"))
    assert problems == []
    assert flow is not None


def test_dead_end() -> None:
    """Every node kind the loader builds has a way out or ends the call, so a dead end only
    shows up in a hand-built graph; the check still names it."""
    flow = Flow("t", FILE, "v", (), ("kk",), "Asia/Almaty", "a",
                {"a": Say("a", 5, Prompt(texts={"kk": "Сәлем"}), "b"), "b": Node("b", 9)})
    assert check_graph(flow, {"a": ("nodes", "a"), "b": ("nodes", "b")}) == [
        (("nodes", "b"), "a dead end"),
    ]


# ------------------------------------------------------------------ branch conditions

BRANCH = HEAD + """\
  a:
    type: branch
    cases:
      - when: {time: TIME}
        next: night
    default: day
  day:
    type: hangup
  night:
    type: hangup
"""


@pytest.mark.parametrize("time_range", ['"25:00-09:00"', '"09:00-09:00"', '"9-21"', "21:00"])
def test_bad_time_range(time_range: str) -> None:
    problem = only(BRANCH.replace("TIME", time_range))
    assert (problem.line, problem.field) == (8, "nodes.a.cases[0].when.time")
    shown = time_range.strip('"')
    assert problem.message == f"{shown!r} is not a range 'HH:MM-HH:MM'"


@pytest.mark.parametrize(("time_range", "start", "end"), [
    ("21:00-09:00", dtime(21, 0), dtime(9, 0)),  # unquoted: not YAML 1.1 sexagesimal numbers
    ('"21:00-09:00"', dtime(21, 0), dtime(9, 0)),
    ("'09:30 - 18:00'", dtime(9, 30), dtime(18, 0)),
    ('"18:00-24:00"', dtime(18, 0), dtime(0, 0)),
])
def test_good_time_range(time_range: str, start: dtime, end: dtime) -> None:
    flow, problems = load(BRANCH.replace("TIME", time_range))
    assert problems == []
    assert flow is not None
    branch = flow.node("a")
    assert isinstance(branch, Branch)
    assert branch.cases[0].when.time == (start, end)


def test_unquoted_time_of_day_is_not_a_number() -> None:
    """YAML 1.1 reads 21:00 as 1260 (base 60); the loader keeps the text."""
    problem = only(BRANCH.replace("TIME", "21:00"))
    assert "'21:00'" in problem.message
    assert "1260" not in problem.message


# ------------------------------------------------------------------ collect

COLLECT = HEAD + """\
  a:
    type: collect
    prompt: {kk: Нөмірді енгізіңіз, ru: Введите номер}
    into: number
    FIELDS
    next: b
    fallback: b
  b:
    type: hangup
"""


@pytest.mark.parametrize(("fields", "field", "message"), [
    ("min_length: 12\n    max_length: 10", "nodes.a.min_length", "min_length 12 > max_length 10"),
    ("validator: iin\n    max_length: 11", "nodes.a.validator",
     "an IIN has 12 digits: min_length/max_length"),
    ("validator: luhn", "nodes.a.validator", "unknown validator 'luhn'; known: iin"),
    ("terminator: '##'", "nodes.a.terminator", "'##' is not one keypad key"),
])
def test_collect_problems(fields: str, field: str, message: str) -> None:
    problem = only(COLLECT.replace("FIELDS", fields))
    assert (problem.line, problem.field, problem.message) == (9, field, message)


def test_collect_defaults() -> None:
    flow, problems = load(COLLECT.replace("FIELDS", "validator: iin\n    min_length: 12"))
    assert problems == []
    assert flow is not None
    node = flow.node("a")
    assert isinstance(node, Collect)
    assert (node.min_length, node.max_length, node.terminator) == (12, 16, "#")
    assert node.interdigit_s == 4.0 and node.retry.retries == 2


# ------------------------------------------------------------------ recorded prompts

SAY_FILE = HEAD + """\
  a:
    type: say
    file: {kk: hello_kk.wav, ru: hello_ru.wav}
    next: b
  b:
    type: hangup
"""


def _write_wav(path: Path) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)


def test_say_with_a_missing_wav_file(tmp_path: Path) -> None:
    _write_wav(tmp_path / "hello_kk.wav")
    path = tmp_path / "f.yaml"
    path.write_text(SAY_FILE, encoding="utf-8")
    flow, problems = load_flow(path)
    assert flow is None
    assert [str(p) for p in problems] == [
        f"{path}:7: nodes.a.file.ru: file not found: {tmp_path / 'hello_ru.wav'}",
    ]


def test_say_with_a_file_that_is_not_wav(tmp_path: Path) -> None:
    _write_wav(tmp_path / "hello_kk.wav")
    (tmp_path / "hello_ru.mp3").write_bytes(b"ID3")
    path = tmp_path / "f.yaml"
    path.write_text(SAY_FILE.replace("hello_ru.wav", "hello_ru.mp3"), encoding="utf-8")
    _, problems = load_flow(path)
    assert [(p.line, p.field, p.message) for p in problems] == [
        (7, "nodes.a.file.ru", "recorded prompts are WAV files"),
    ]


def test_say_with_real_wav_files(tmp_path: Path) -> None:
    for name in ("hello_kk.wav", "hello_ru.wav"):
        _write_wav(tmp_path / name)
    path = tmp_path / "f.yaml"
    path.write_text(SAY_FILE, encoding="utf-8")
    flow, problems = load_flow(path)
    assert problems == []
    assert flow is not None
    say = flow.node("a")
    assert isinstance(say, Say)
    assert say.prompt.files == {"kk": str(tmp_path / "hello_kk.wav"),
                                "ru": str(tmp_path / "hello_ru.wav")}
    assert say.prompt.texts == {}


# ------------------------------------------------------------------ reporting

def test_every_problem_is_reported_not_just_the_first() -> None:
    text = MENU.replace("ru: Выберите", "ru: Нажмите 1").replace('key: "2"', 'key: "A"')
    flow, problems = load(text + "  z:\n    type: hangup\n")
    assert flow is None
    assert [str(p) for p in problems] == [
        "t.yaml:7: nodes.a.prompt.ru: write numbers as words: the text is spoken by TTS",
        "t.yaml:12: nodes.a.options[1].key: 'A' is not one keypad key (0123456789*#)",
        "t.yaml:20: nodes.z: unreachable from the start node 'a'",
    ]


def test_problems_are_sorted_by_line() -> None:
    _, problems = load(OK.replace("type: hangup", "type: nope").replace("Привет", "Раз 2")
                       + "colour: red\n")
    lines = [p.line for p in problems]
    assert len(lines) == 3
    assert lines == sorted(lines)


def test_every_message_has_file_line_field_format() -> None:
    texts = [case[1] for case in BROKEN]
    texts += [SAY_GOTO_LOOP, MENU_LOOP.replace("FALLBACK", "again"), BRANCH.replace("TIME", "x")]
    for text in texts:
        _, problems = load(text)
        assert problems
        for problem in problems:
            shown = str(problem)
            assert "\n" not in shown
            assert LINE_FORMAT.match(shown), shown
            if problem.field:
                assert shown == f"t.yaml:{problem.line}: {problem.field}: {problem.message}"


def test_problem_str_without_line_or_field() -> None:
    assert str(Problem("f.yaml", 0, "", "cannot read")) == "f.yaml: cannot read"
    assert str(Problem("f.yaml", 3, "", "the file is empty")) == "f.yaml:3: the file is empty"
    assert str(Problem("f.yaml", 3, "a.b[0]", "bad")) == "f.yaml:3: a.b[0]: bad"


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("flow: \xe9t\xe9\n".encode("latin-1"))
    flow, problems = load_flow(path)
    assert flow is None
    assert len(problems) == 1
    assert problems[0].message.startswith("cannot read")


# ------------------------------------------------------------------ fuzz

def _mutations(seed: int, lines: list[str]) -> str:
    rng = random.Random(seed)
    out = list(lines)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(out))
        op = rng.randrange(5)
        if op == 0:
            del out[i]
        elif op == 1:
            out.insert(i, out[i])
        elif op == 2:
            j = rng.randrange(len(out))
            out[i], out[j] = out[j], out[i]
        elif op == 3:
            out[i] = "  " + out[i]
        else:
            k = rng.randrange(len(out[i]) + 1)
            out[i] = out[i][:k] + rng.choice(":-[]{}#'\"&*!|>,?\t0") + out[i][k:]
    return "".join(out)


def test_loader_never_raises_on_mutated_1414() -> None:
    lines = FLOW_1414.read_text(encoding="utf-8").splitlines(keepends=True)
    outcomes = {"flow": 0, "problems": 0}
    for seed in range(150):
        text = _mutations(seed, lines)
        flow, problems = load_flow_text(text, "m.yaml", FLOW_1414.parent)
        if flow is None:
            assert problems, f"seed {seed}: no flow and no problem"
            outcomes["problems"] += 1
        else:
            assert problems == [], f"seed {seed}"
            outcomes["flow"] += 1
        for problem in problems:
            assert "\n" not in str(problem), f"seed {seed}: {problem}"
    assert outcomes["flow"] > 0 and outcomes["problems"] > 0, outcomes
