"""The flow directory (bailanys.ivr.registry): numbers, conflicts, reloading on change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bailanys.ivr.model import Say
from bailanys.ivr.registry import FlowRegistry, load_dir, scan


def flow_text(name: str, numbers: str, greeting: str = "Привет") -> str:
    return f"""\
flow: {name}
numbers: [{numbers}]
languages: [kk, ru]
start: hello
nodes:
  hello:
    type: say
    text: {{kk: Сәлем, ru: {greeting}}}
    next: bye
  bye:
    type: hangup
"""


def write(path: Path, text: str, *, mtime: float | None = None) -> None:
    path.write_text(text, encoding="utf-8")
    if mtime is not None:  # a distinct stamp even on a file system with coarse times
        os.utime(path, (mtime, mtime))


def greeting(registry: FlowRegistry, number: str) -> str:
    flow = registry.current.for_number(number)
    assert flow is not None
    node = flow.node("hello")
    assert isinstance(node, Say)
    return node.prompt.texts["ru"]


def test_load_dir_maps_numbers(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", flow_text("a", '"1414", "1415"'))
    write(tmp_path / "b.yml", flow_text("b", '"1499"'))
    write(tmp_path / "notes.txt", "not a flow")
    write(tmp_path / ".hidden.yaml", "{{{ broken")
    fs = load_dir(tmp_path)
    assert fs.problems == ()
    assert sorted(Path(p).name for p in fs.flows) == ["a.yaml", "b.yml"]
    assert sorted(fs.by_number) == ["1414", "1415", "1499"]
    a = fs.for_number("1414")
    assert a is not None and a.name == "a"
    assert fs.for_number("1415") is a
    b = fs.for_number("1499")
    assert b is not None and b.name == "b"
    assert fs.for_number("0000") is None


def test_the_real_flow_directory() -> None:
    fs = load_dir(Path(__file__).resolve().parents[2] / "ivr_flows")
    assert fs.problems == ()
    flow = fs.for_number("1414")
    assert flow is not None and flow.name == "hotline-1414"


def test_two_files_claiming_one_number(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", flow_text("a", '"1414"'))
    write(tmp_path / "b.yaml", flow_text("b", '"1414", "1415"'))
    fs = load_dir(tmp_path)
    assert len(fs.problems) == 1
    problem = fs.problems[0]
    shown = str(problem)
    assert str(tmp_path / "a.yaml") in shown and str(tmp_path / "b.yaml") in shown
    assert problem.field == "numbers"
    assert "1414 is already answered by" in problem.message
    first = fs.for_number("1414")
    second = fs.for_number("1415")
    assert first is not None and first.name == "a"  # files in name order: the first one keeps it
    assert second is not None and second.name == "b"


def test_broken_file_is_reported_and_left_out(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", flow_text("a", '"1414"'))
    write(tmp_path / "b.yaml", flow_text("b", '"1499"').replace("next: bye", "next: nowhere"))
    fs = load_dir(tmp_path)
    assert [str(p) for p in fs.problems] == [
        f"{tmp_path / 'b.yaml'}:9: nodes.hello.next: unknown node 'nowhere'",
        f"{tmp_path / 'b.yaml'}:10: nodes.bye: unreachable from the start node 'hello'",
    ]
    assert sorted(fs.by_number) == ["1414"]


def test_missing_directory_gives_nothing(tmp_path: Path) -> None:
    assert scan(tmp_path / "nope") == {}
    fs = load_dir(tmp_path / "nope")
    assert (dict(fs.flows), dict(fs.by_number), fs.problems) == ({}, {}, ())


def test_reload_keeps_running_calls_on_their_version(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "hotline.yaml"
    write(path, flow_text("hotline", '"1414"'), mtime=1_700_000_000)
    write(tmp_path / "other.yaml", flow_text("other", '"1499"'), mtime=1_700_000_000)
    registry = FlowRegistry(tmp_path)
    registry.load()
    assert not registry.changed()
    old = registry.current.for_number("1414")
    other = registry.current.for_number("1499")
    assert old is not None and other is not None
    assert greeting(registry, "1414") == "Привет"

    # 1. an edit: a new version for new calls, the old object untouched
    write(path, flow_text("hotline", '"1414"', "Здравствуйте"), mtime=1_700_000_100)
    assert registry.changed()
    new_set = registry.reload()
    assert registry.current.for_number("1414") is old  # nothing changes before the swap
    changed = registry.swap(new_set)
    assert [f.name for f in changed] == ["hotline"]
    new = registry.current.for_number("1414")
    assert new is not None and new is not old
    assert new.version != old.version
    assert greeting(registry, "1414") == "Здравствуйте"
    old_hello = old.node("hello")
    assert isinstance(old_hello, Say) and old_hello.prompt.texts["ru"] == "Привет"
    with pytest.raises(AttributeError):
        old.version = "x"  # type: ignore[misc]
    assert registry.current.for_number("1499") is other  # an unchanged file is not reloaded
    assert not registry.changed()

    # 2. a broken edit: the last good version keeps serving; the problem is reported
    write(path, flow_text("hotline", '"1414"', "Нажмите 1"), mtime=1_700_000_200)
    assert registry.changed()
    caplog.clear()
    broken_set = registry.reload()
    assert [str(p) for p in broken_set.problems] == [
        f"{path}:8: nodes.hello.text.ru: write numbers as words: the text is spoken by TTS",
    ]
    assert registry.swap(broken_set) == []
    assert registry.current.for_number("1414") is new
    assert "write numbers as words" in caplog.text
    assert not registry.changed()

    # 3. fixed again: a third version
    write(path, flow_text("hotline", '"1414"', "Добрый день"), mtime=1_700_000_300)
    registry.swap(registry.reload())
    assert greeting(registry, "1414") == "Добрый день"
    assert registry.current.problems == ()

    # 4. deleted: its numbers are gone, the other file stays
    path.unlink()
    assert registry.changed()
    registry.swap(registry.reload())
    assert registry.current.for_number("1414") is None
    assert registry.current.for_number("1499") is other
    assert [Path(p).name for p in registry.current.flows] == ["other.yaml"]


def test_a_new_file_is_picked_up(tmp_path: Path) -> None:
    registry = FlowRegistry(tmp_path)
    registry.load()
    assert registry.current.for_number("1414") is None
    write(tmp_path / "new.yaml", flow_text("new", '"1414"'))
    assert registry.changed()
    changed = registry.swap(registry.reload())
    assert [f.name for f in changed] == ["new"]
    assert registry.current.for_number("1414") is not None


def test_a_file_broken_from_the_start_serves_nothing(tmp_path: Path) -> None:
    write(tmp_path / "bad.yaml", "flow: [")
    registry = FlowRegistry(tmp_path)
    fs = registry.load()
    assert dict(fs.flows) == {}
    assert len(fs.problems) == 1 and "YAML syntax" in fs.problems[0].message
