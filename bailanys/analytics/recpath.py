"""Where a worker finds a recording: the engine's path mapped onto the worker's mount.

Issue 22: workers on other machines read the recordings from shared storage
(an NFS or SMB share). The engine stores the path it wrote
(``/var/lib/bailanys/recordings/2026/...wav``); a worker that mounts the
share elsewhere sets ``[analytics] recordings_map``::

    recordings_map = "/var/lib/bailanys/recordings=/mnt/recordings"

``ENGINE_PREFIX=WORKER_PREFIX`` pairs, separated by ``;``; the longest
engine prefix that ends at a path component wins; a path under none is
read as it is. Pure.
"""

from __future__ import annotations

from pathlib import PurePosixPath

Mapping = tuple[tuple[str, str], ...]


def parse_map(text: str) -> Mapping:
    """The pairs of ``text``; ValueError with what is wrong."""
    pairs: list[tuple[str, str]] = []
    for part in text.split(";"):
        if not part.strip():
            continue
        engine, eq, worker = part.partition("=")
        engine, worker = engine.strip(), worker.strip()
        if not eq or not engine or not worker:
            raise ValueError(f"expected ENGINE_PREFIX=WORKER_PREFIX, got {part.strip()!r}")
        if not engine.startswith("/") or not worker.startswith("/"):
            raise ValueError(f"both prefixes must be absolute paths, got {part.strip()!r}")
        pairs.append((engine.rstrip("/") or "/", worker.rstrip("/") or "/"))
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def local_path(recording: str, mapping: Mapping) -> str:
    """``recording`` (the engine's path) as this worker reads it."""
    for engine, worker in mapping:
        path = PurePosixPath(recording)
        if path == PurePosixPath(engine) or PurePosixPath(engine) in path.parents:
            return str(PurePosixPath(worker) / path.relative_to(engine))
    return recording
