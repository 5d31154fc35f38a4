"""YAML with line numbers: how the IVR flows and the FAQ are read.

PyYAML's composer gives every node a start mark; this module turns the node
tree into plain Python values (dict, list, str, int, float, bool, None) and
keeps, beside them, the line of every value by its path (``("nodes",
"main", "options", 2, "next")``), so that an error can name the file, line
and field.  Duplicate keys in one mapping, which PyYAML accepts silently
(the last one wins), are reported here: in a flow or a FAQ file they are
always a mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One error found in a YAML file (a flow, the FAQ)."""

    file: str
    line: int  # 1-based; 0 when unknown
    field: str  # dotted path, e.g. "nodes.main.options[2].next"
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class Source:
    """A parsed file: its data, the line of each path, and what went wrong while parsing."""

    file: str
    data: Any = None
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, path: Path_) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 0)

    def problem(self, path: Path_, message: str) -> None:
        self.problems.append(Problem(self.file, self.line(path), dotted(path), message))


def load(text: str, file: str) -> Source:
    """Parse ``text`` (the contents of ``file``) into a :class:`Source`; never raises."""
    src = Source(file)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 0
        src.problems.append(Problem(file, line, "", f"YAML syntax: {exc.problem or exc}"))
        return src
    except yaml.reader.ReaderError as exc:  # a control character such as NUL: no mark
        line = text.count("\n", 0, exc.position) + 1
        src.problems.append(Problem(file, line, "", f"YAML: unacceptable character "
                                    f"#x{exc.character:04x}: {exc.reason}"))
        return src
    except yaml.YAMLError as exc:
        src.problems.append(Problem(file, 0, "", f"YAML: {exc}"))
        return src
    except RecursionError:  # thousands of nested [ or {
        src.problems.append(Problem(file, 0, "", "YAML: nested too deeply"))
        return src
    if node is None:
        src.problems.append(Problem(file, 1, "", "the file is empty"))
        return src
    try:
        src.data = _convert(node, (), src)
    except RecursionError:
        src.problems.append(Problem(file, 0, "", "YAML: nested too deeply"))
        src.data = None
    return src


def load_file(path: Path) -> Source:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        src = Source(str(path))
        src.problems.append(Problem(str(path), 0, "", f"cannot read: {exc}"))
        return src
    return load(text, str(path))


_SCALARS = yaml.SafeLoader("")  # only used to construct scalar values by their resolved tag


def _convert(node: yaml.Node, path: Path_, src: Source) -> Any:
    src.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                line = key_node.start_mark.line + 1
                src.problems.append(
                    Problem(src.file, line, dotted(path), "a key must be a plain value")
                )
                continue
            key = str(_scalar(key_node))
            if key in out:
                first = src.lines.get(path + (key,), 0)
                src.problems.append(
                    Problem(
                        src.file,
                        key_node.start_mark.line + 1,
                        dotted(path + (key,)),
                        f"duplicate key (also on line {first}; a later one would silently win)",
                    )
                )
                continue
            out[key] = _convert(value_node, path + (key,), src)
            src.lines[path + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), src) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    if ":" in node.value and node.tag.endswith((":int", ":float")):
        return node.value  # YAML 1.1 sexagesimal: "21:00" is a time of day here, not 1260
    try:
        return _SCALARS.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError):  # ValueError: an int of over 4,300 digits
        return node.value
