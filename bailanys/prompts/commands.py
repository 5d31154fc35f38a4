"""``bailanys prompts import FILE|DIR [--key K --lang kk|ru]`` and ``bailanys prompts list``.

``import`` stores a voice talent's recording under its prompt's key and
language (:mod:`bailanys.prompts.importer`; a folder's files are named
``<key>.<lang>.<ext>``), printing per file the loudness before and after
and the duration; a refused file is one line on stderr and exit 1, and
nothing of it is stored. A running engine plays the new recording from
its next call (it watches the manifest). ``list`` prints which prompts of
which flows are recorded or synthesised per language (``--json``: one
object per line).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bailanys.cliutil import (
    EXIT_FAILURE,
    EXIT_OK,
    add_config_option,
    load_config_or_exit,
    plural,
    write_lines,
)
from bailanys.prompts.audio import PromptImportError
from bailanys.prompts.importer import (
    LANGUAGES,
    import_path,
    key_catalog,
    status_rows,
)
from bailanys.prompts.store import RecordedStore

#: Characters of a prompt's text in the table.
TEXT_CHARS = 50


def register(subparsers: Any) -> None:
    prompts = subparsers.add_parser("prompts", help="recorded prompts: import, list")
    sub = prompts.add_subparsers(dest="prompts_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="import WAV/MP3/OGG/M4A recordings under prompt keys")
    imp.add_argument("path", metavar="FILE|DIR",
                     help="a recording, or a folder of <key>.<lang>.<ext> files")
    imp.add_argument("--key", default=None, help="the prompt's key (default: from the name)")
    imp.add_argument("--lang", choices=LANGUAGES, default=None,
                     help="the recording's language (default: from the name)")
    add_config_option(imp)
    imp.set_defaults(func=cmd_import)
    lst = sub.add_parser("list", help="which prompts are recorded or synthesised")
    lst.add_argument("--flow", default=None, help="one flow's prompts (its name; "
                                                  "'phrases': the engine's own sentences)")
    lst.add_argument("--lang", choices=LANGUAGES, default=None)
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    add_config_option(lst)
    lst.set_defaults(func=cmd_list)


def cmd_import(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args)
    path = Path(args.path)
    if not path.exists():
        print(f"{path}: no such file or folder", file=sys.stderr)
        return EXIT_FAILURE
    keys = key_catalog(Path(cfg.ivr.flow_dir), tuple(cfg.engine.languages))
    store = RecordedStore(Path(cfg.voice.recorded_dir))
    try:
        outcomes = import_path(store, keys, path, key=args.key, lang=args.lang)
    except PromptImportError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    failed = 0
    for o in outcomes:
        if o.error is not None:
            failed += 1
            print(f"refused: {o.error}", file=sys.stderr)
            continue
        e = o.entry or {}
        print(f"{e['key']} [{e['lang']}] <- {e['source']}: {e['duration_s']:.2f} s "
              f"(of {e['source_s']:.2f} s), {e['loudness_before_dbfs']:.1f} -> "
              f"{e['loudness_after_dbfs']:.1f} dBFS, peak {e['peak_after_dbfs']:.1f} dBFS")
    print(f"{plural(len(outcomes) - failed, 'recording')} stored in {store.dir}"
          + (f", {plural(failed, 'file')} refused" if failed else ""))
    return EXIT_FAILURE if failed else EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args)
    keys = key_catalog(Path(cfg.ivr.flow_dir), tuple(cfg.engine.languages))
    entries = RecordedStore(Path(cfg.voice.recorded_dir)).entries()
    rows = status_rows(keys.values(), entries, flow=args.flow, lang=args.lang)
    if args.json:
        write_lines(json.dumps(r, ensure_ascii=False) for r in rows)
        return EXIT_OK
    width = max([len(r["key"]) for r in rows] + [3])
    lines = [f"{'key':<{width}}  lang  {'state':<11}  text"]
    for r in rows:
        text = r["text"] if len(r["text"]) <= TEXT_CHARS else r["text"][:TEXT_CHARS - 1] + "…"
        via = f" (recorded as {r['via']})" if r["via"] not in (None, r["key"]) else ""
        lines.append(f"{r['key']:<{width}}  {r['lang']:<4}  {r['state']:<11}  {text}{via}")
    recorded = sum(r["state"] == "recorded" for r in rows)
    lines.append(f"{recorded} of {len(rows)} recorded")
    write_lines(lines)
    return EXIT_OK
