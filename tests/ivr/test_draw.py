"""Flow diagrams (bailanys.ivr.draw and ``bailanys flows draw``): DOT text and SVG by Graphviz."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bailanys import cli
from bailanys.ivr import draw
from bailanys.ivr.loader import load_flow, load_flow_text
from bailanys.ivr.model import Flow

ROOT = Path(__file__).resolve().parents[2]
FLOW_PATH = ROOT / "ivr_flows" / "1414.yaml"
SVG_NS = "{http://www.w3.org/2000/svg}"

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")

NODE_LINE = re.compile(r'^  "(?P<id>[^"]+)" \[shape=(?P<shape>\w+).*label="(?P<label>.*)"\];$')
EDGE_LINE = re.compile(
    r'^  "(?P<src>[^"]+)" -> "(?P<dst>[^"]+)" '
    r'\[label="(?P<label>(?:[^"\\]|\\.)*)"(?P<dashed>, style=dashed)?\];$'
)


def _flow() -> Flow:
    flow, problems = load_flow(FLOW_PATH)
    assert flow is not None, problems
    return flow


FLOW = _flow()


def parse(dot: str) -> tuple[dict[str, str], list[tuple[str, str, str, bool]]]:
    """Nodes (id -> shape) and edges (source, target, label, dashed) of our DOT output."""
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, str, bool]] = []
    for line in dot.splitlines():
        if m := NODE_LINE.match(line):
            nodes[m["id"]] = m["shape"]
        elif m := EDGE_LINE.match(line):
            edges.append((m["src"], m["dst"], m["label"], bool(m["dashed"])))
    return nodes, edges


def test_dot_has_every_node_and_edge() -> None:
    dot = draw.to_dot(FLOW)
    assert dot.startswith('digraph "hotline-1414" {\n') and dot.endswith("}\n")
    nodes, edges = parse(dot)
    assert set(nodes) == set(FLOW.nodes)
    expected = {(n.id, target, label, not needs_input) for n in FLOW.nodes.values()
                for label, target, needs_input in draw.edge_rules(n, "kk")}
    assert set(edges) == expected
    assert len(edges) == len(expected)
    assert '__start -> "greeting";' in dot
    assert f"({FLOW.version}) numbers: 1414" in dot


def test_input_edges_are_solid_and_silent_edges_dashed() -> None:
    _, edges = parse(draw.to_dot(FLOW))
    by_label = {(src, label): dashed for src, _, label, dashed in edges}
    assert by_label[("language", "1 «қазақша»")] is False
    assert by_label[("language", "2 «орысша»")] is False
    assert by_label[("main_menu", "5 «шағым»")] is False
    assert by_label[("service_centres", "9 «басты мәзір»")] is False
    assert by_label[("language", "timeout / no match")] is True
    assert by_label[("main_menu", "timeout / no match")] is True
    assert by_label[("greeting", "")] is True
    assert by_label[("hours", "21:00–09:00")] is True
    assert by_label[("hours", "otherwise")] is True
    assert by_label[("queue_egov", "queue unavailable")] is True


def test_shapes_say_what_a_node_does() -> None:
    nodes, _ = parse(draw.to_dot(FLOW))
    assert nodes["main_menu"] == "diamond"
    assert nodes["greeting"] == "box"
    assert nodes["hours"] == "hexagon"
    assert nodes["queue_general"] == "doubleoctagon"
    assert nodes["readiness_robot"] == "doubleoctagon"
    assert nodes["set_kk"] == "cds"


def test_labels_show_the_first_language_text_shortened() -> None:
    dot = draw.to_dot(FLOW)
    line = next(x for x in dot.splitlines() if x.startswith('  "main_menu" ['))
    label = NODE_LINE.match(line)["label"]  # type: ignore[index]
    name, kind, text = label.split("\\n")
    assert (name, kind) == ("main_menu", "[menu]")
    assert text.endswith("…") and len(text) == draw.LABEL_CHARS
    assert text.startswith("Мемлекеттік қызметтер")
    assert "queue consultation public_services" in dot


QUOTES = """\
flow: quotes
languages: [kk, ru]
start: a
nodes:
  a:
    type: menu
    prompt: {kk: 'Айтыңыз "иә" \\ немесе "жоқ"', ru: 'Скажите "да" \\ или "нет"'}
    options:
      - words: {kk: ['"иә"'], ru: ['"да"']}
        next: q
    fallback: t
  q:
    type: queue
    queue: 'the "main" queue\\'
    skills: ['a"b']
    fallback: r
  r:
    type: robot
    service: 'x\\"y'
    fallback: t
  t:
    type: transfer
    target: '"Duty" <sip:duty@example.kz>'
    fallback: h
  h:
    type: hangup
"""


def test_quotes_and_backslashes_are_escaped() -> None:
    flow, problems = load_flow_text(QUOTES, "quotes.yaml")
    assert flow is not None, [str(p) for p in problems]
    dot = draw.to_dot(flow)
    assert 'Айтыңыз \\"иә\\" \\\\ немесе \\"жоқ\\"' in dot
    assert 'queue the \\"main\\" queue\\\\ a\\"b' in dot
    assert '[robot]\\nx\\\\\\"y"' in dot
    assert '\\n\\"Duty\\" <sip:duty@example.kz>' in dot
    assert '"a" -> "q" [label="«\\"иә\\"»"];' in dot  # a speech-only option
    # with every escape pair removed, each line is still well formed: no stray quote
    for line in dot.splitlines()[8:-1]:
        bare = re.sub(r"\\.", "", line)
        assert re.fullmatch(r'  "[^"]*"( -> "[^"]*")? \[[^"\]]*("[^"]*"[^"\]]*)*\];', bare), line


@needs_dot
def test_quotes_survive_graphviz(tmp_path: Path) -> None:
    flow, _ = load_flow_text(QUOTES, "quotes.yaml")
    assert flow is not None
    dot_path, svg_path = draw.write(flow, tmp_path / "quotes")
    svg = ET.parse(svg_path).getroot()
    texts = [el.text or "" for el in svg.iter(f"{SVG_NS}text")]
    assert any('"main"' in x for x in texts)
    assert any('"Duty" <sip:duty@example.kz>' in x for x in texts)


@needs_dot
def test_write_produces_dot_and_svg(tmp_path: Path) -> None:
    written = draw.write(FLOW, tmp_path / "hotline")
    assert written == [tmp_path / "hotline.dot", tmp_path / "hotline.svg"]
    assert (tmp_path / "hotline.dot").read_text(encoding="utf-8") == draw.to_dot(FLOW)
    svg = ET.parse(tmp_path / "hotline.svg").getroot()
    assert svg.tag == f"{SVG_NS}svg"
    titles = {el.text for el in svg.iter(f"{SVG_NS}title")}
    assert set(FLOW.nodes) <= titles
    assert {"main_menu->queue_general", "language->set_kk"} <= titles  # edges too


def test_write_to_a_missing_directory_is_a_draw_error(tmp_path: Path) -> None:
    with pytest.raises(draw.DrawError, match="cannot write"):
        draw.write(FLOW, tmp_path / "no" / "such" / "dir" / "x")


@needs_dot
def test_cli_draw_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "diagram"
    assert cli.main(["flows", "draw", str(FLOW_PATH), "--out", str(base)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [str(base) + ".dot", str(base) + ".svg"]
    assert "main_menu" in base.with_suffix(".dot").read_text(encoding="utf-8")
    ET.parse(base.with_suffix(".svg"))


@needs_dot
def test_cli_draw_next_to_the_flow_file(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    flow_file = tmp_path / "1414.yaml"
    flow_file.write_text(FLOW_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    assert cli.main(["flows", "draw", str(flow_file)]) == 0
    assert (tmp_path / "1414.dot").is_file() and (tmp_path / "1414.svg").is_file()


def test_cli_draw_a_broken_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(FLOW_PATH.read_text(encoding="utf-8").replace(
        "fallback: queue_any_language", "fallback: queue_nobody"), encoding="utf-8")
    assert cli.main(["flows", "draw", str(broken), "--out", str(tmp_path / "x")]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert any(re.match(rf"^{re.escape(str(broken))}:\d+: nodes\.language\.fallback: "
                        r"unknown node 'queue_nobody'$", x) for x in lines), lines
    assert "has problems" in captured.err
    assert not (tmp_path / "x.dot").exists() and not (tmp_path / "x.svg").exists()


def test_cli_draw_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["flows", "draw", str(tmp_path / "nope.yaml")]) == 2
    assert "no such flow file" in capsys.readouterr().err


SHIPPED = sorted((ROOT / "ivr_flows").glob("*.yaml"))
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"


@needs_dot
@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_shipped_flows_read_top_down_with_rules_and_full_prompts_on_hover(
        path: Path, lang: str, tmp_path: Path) -> None:
    """Issue 21: top to bottom; every edge out of a waiting or branching node
    labelled with its rule; every prompt, in full and in the chosen language,
    as the SVG tooltip of its node."""
    flow, problems = load_flow(path)
    assert flow is not None, problems
    _, svg_path = draw.write(flow, tmp_path / path.stem, lang)
    assert "rankdir=TB;" in (tmp_path / f"{path.stem}.dot").read_text(encoding="utf-8")
    svg = ET.parse(svg_path).getroot()
    tips = {el.get(XLINK_TITLE) for el in svg.iter(f"{SVG_NS}a")}
    texts = {el.text for el in svg.iter(f"{SVG_NS}text")}
    for node in flow.nodes.values():
        for prompt in node.prompts():
            if prompt is not None and lang in prompt.texts:  # in full, not shortened
                assert any(prompt.texts[lang] in (tip or "") for tip in tips), (node.id, lang)
        for label, _, _ in draw.edge_rules(node, lang):
            assert label not in {"fallback", "default", "next"}
            if label:
                assert label in texts, (node.id, label)
        if node.kind in ("menu", "branch", "collect", "queue", "robot", "transfer"):
            assert all(label for label, _, _ in draw.edge_rules(node, lang)), node.id


def test_branch_rules_are_said_in_words() -> None:
    flow = FLOW
    hours = flow.nodes["hours"]
    assert [x[0] for x in draw.edge_rules(hours, "ru")] == ["21:00–09:00", "otherwise"]
    route = flow.nodes["robot_route"]
    assert draw.edge_rules(route, "ru")[0][0] == "topic ∈ {eds, egov}"
    text, _ = load_flow_text(RULES, "rules.yaml")
    assert text is not None
    labels = [x[0] for x in draw.edge_rules(text.nodes["b"], "ru")]
    assert labels == ["mon–fri, 09:00–18:00", "sat, sun", "language kk",
                      "general: no agent free, general: ≤ 3 waiting", "otherwise"]
    assert draw.edge_rules(text.nodes["m"], "ru")[0][0] == "1 «да»"


RULES = """\
flow: rules
languages: [kk, ru]
start: b
nodes:
  b:
    type: branch
    cases:
      - when: {weekdays: [mon, tue, wed, thu, fri], time: "09:00-18:00"}
        next: m
      - when: {weekdays: [sat, sun]}
        next: m
      - when: {language: kk}
        next: m
      - when: {queue: general, agents_available: false, waiting_at_most: 3}
        next: m
    default: m
  m:
    type: menu
    prompt: {kk: Бірді басыңыз., ru: Нажмите один.}
    options:
      - key: "1"
        words: {kk: [иә], ru: [да]}
        next: h
    fallback: h
  h:
    type: hangup
"""
