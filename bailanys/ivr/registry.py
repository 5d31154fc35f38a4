"""The flows in ``ivr_flows/``: loaded, checked, and reloaded on change.

:func:`load_dir` loads every ``*.yaml`` file and maps dialled numbers to
flows; two flows claiming one number is an error.  :class:`FlowRegistry`
holds the current :class:`FlowSet`; a reload builds a new set and swaps it
in one assignment, so a call that already took its flow keeps that
version to its end, and a file with errors never replaces a good version
(the errors are logged, one per line, and the old version keeps serving).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bailanys.ivr.loader import load_flow
from bailanys.ivr.model import Flow
from bailanys.yamlsrc import Problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlowSet:
    """One consistent view of the flow directory."""

    flows: Mapping[str, Flow] = field(default_factory=dict)  # by file path
    by_number: Mapping[str, Flow] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    stamps: Mapping[str, tuple[float, int]] = field(default_factory=dict)  # path -> (mtime, size)

    def for_number(self, number: str) -> Flow | None:
        return self.by_number.get(number)


def scan(directory: Path) -> dict[str, tuple[float, int]]:
    """(mtime, size) of every flow file; an unreadable directory gives nothing."""
    out: dict[str, tuple[float, int]] = {}
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return out
    for entry in entries:
        if entry.name.endswith((".yaml", ".yml")) and not entry.name.startswith("."):
            try:
                st = entry.stat()
            except OSError:
                continue
            out[entry.path] = (st.st_mtime, st.st_size)
    return out


def load_dir(directory: Path, previous: FlowSet | None = None) -> FlowSet:
    """Load every flow file; a file with errors keeps its previous good version, if any."""
    stamps = scan(directory)
    flows: dict[str, Flow] = {}
    problems: list[Problem] = []
    for path in sorted(stamps):
        old = previous.flows.get(path) if previous else None
        if previous is not None and old is not None and previous.stamps.get(path) == stamps[path]:
            flows[path] = old
            continue
        flow, found = load_flow(Path(path))
        problems.extend(found)
        if flow is not None:
            flows[path] = flow
        elif old is not None:
            flows[path] = old  # keep serving the last good version
    by_number: dict[str, Flow] = {}
    for path, flow in flows.items():
        for number in flow.numbers:
            other = by_number.get(number)
            if other is not None:
                problems.append(Problem(path, 0, "numbers",
                                        f"{number} is already answered by {other.file}"))
                continue
            by_number[number] = flow
    return FlowSet(flows, by_number, tuple(problems), stamps)


class FlowRegistry:
    """The current flows; :meth:`reload_if_changed` is called by the engine's watcher."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.current = FlowSet()

    def load(self) -> FlowSet:
        self.current = load_dir(self.directory)
        self._log(self.current, first=True)
        return self.current

    def changed(self) -> bool:
        return scan(self.directory) != dict(self.current.stamps)

    def reload(self) -> FlowSet:
        """Build a new set from the files (blocking I/O: run it in a thread)."""
        return load_dir(self.directory, self.current)

    def swap(self, new: FlowSet) -> list[Flow]:
        """Install ``new``; returns the flows whose version changed."""
        old = self.current
        self.current = new
        self._log(new, first=False)
        changed = []
        for path, flow in new.flows.items():
            before = old.flows.get(path)
            if before is None or before.version != flow.version:
                changed.append(flow)
        for flow in changed:
            log.info("flow %s (%s) version %s now serves %s", flow.name, Path(flow.file).name,
                     flow.version, ", ".join(flow.numbers) or "no number")
        return changed

    def _log(self, fs: FlowSet, *, first: bool) -> None:
        for problem in fs.problems:
            log.error("%s", problem)
        if first:
            for flow in fs.flows.values():
                log.info("flow %s (%s) version %s answers %s", flow.name, Path(flow.file).name,
                         flow.version, ", ".join(flow.numbers) or "no number")
