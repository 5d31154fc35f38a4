"""The layering rules hold on ``bailanys/`` (issue 14; the checker is ``tests/importrules.py``).

Each failure lists every offender as ``file:line: ...``. The second half
checks the checker itself on small fake package trees, so that a rule that
passes is known to be able to fail.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from textwrap import dedent

import pytest

from tests import importrules as rules

PACKAGE = Path(__file__).resolve().parent.parent / "bailanys"


@pytest.fixture(scope="module")
def tree() -> rules.Tree:
    return rules.Tree.scan(PACKAGE)


@pytest.fixture(scope="module")
def imports(tree: rules.Tree) -> list[rules.Import]:
    return rules.all_imports(tree)


def fail_with(title: str, offenders: list[str]) -> None:
    if offenders:
        pytest.fail(f"{title}:\n" + "\n".join(offenders), pytrace=False)


# --- the rules on bailanys/ --------------------------------------------------------


def test_only_the_builders_import_the_engine(tree: rules.Tree,
                                             imports: list[rules.Import]) -> None:
    fail_with("bailanys.engine.core / Engine imported outside "
              + ", ".join(sorted(rules.ENGINE_BUILDERS)),
              rules.engine_importers(tree, imports))


def test_no_module_imports_the_cli_back(imports: list[rules.Import]) -> None:
    fail_with("bailanys.cli imported (commands share bailanys.cliutil instead)",
              rules.cli_importers(imports))


@pytest.mark.parametrize("layer", [
    "queue",
    "metrics",
    "ivr",
    "robot",
])
def test_these_layers_do_not_speak_sip(imports: list[rules.Import], layer: str) -> None:
    fail_with(f"{layer}/ imports sip/", rules.sip_importers(imports, layer))


def test_engine_functions_are_short(tree: rules.Tree) -> None:
    fail_with(f"engine/ functions over {rules.MAX_ENGINE_FUNCTION_LINES} lines",
              rules.long_functions(tree, "bailanys.engine", rules.MAX_ENGINE_FUNCTION_LINES))


def test_no_import_cycle_at_import_time(tree: rules.Tree, imports: list[rules.Import]) -> None:
    fail_with("import cycles", rules.eager_cycles(tree, imports))


def test_cycles_through_lazy_imports_are_reported(tree: rules.Tree,
                                                  imports: list[rules.Import]) -> None:
    """Not a failure: a cycle closed by a TYPE_CHECKING or function-level import
    cannot break an import, but it is still two layers knowing each other."""
    for cycle in rules.lazy_cycles(tree, imports):
        warnings.warn(f"import cycle through a lazy import: {cycle}", stacklevel=1)


# --- the checker on fake trees -----------------------------------------------------


def make(tmp_path: Path, files: dict[str, str]) -> rules.Tree:
    """A package ``bailanys`` under tmp_path with the given files (path -> source)."""
    for name, text in files.items():
        path = tmp_path / "bailanys" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text), encoding="utf-8")
    for folder in [tmp_path / "bailanys", *(tmp_path / "bailanys").rglob("*")]:
        if folder.is_dir() and not (folder / "__init__.py").exists():
            (folder / "__init__.py").write_text("", encoding="utf-8")
    return rules.Tree.scan(tmp_path / "bailanys")


def test_imports_are_resolved_to_modules_and_placed(tmp_path: Path) -> None:
    tree = make(tmp_path, {
        "a.py": """\
            from __future__ import annotations
            import os
            import bailanys.b
            from bailanys import c, VERSION
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from bailanys.d import Thing
            else:
                from .e import f
            def later() -> None:
                from bailanys.sub import g
            class K:
                from bailanys.sub.g import x
            try:
                import bailanys.missing
            except ImportError:
                import bailanys.b as b2
            plugin = importlib.import_module("bailanys.c")
            def plugins() -> None:
                importlib.import_module("bailanys.d").register()
            """,
        "b.py": "", "c.py": "", "d.py": "", "e.py": "", "sub/g.py": "",
    })
    found = {(i.target, i.line, i.where) for i in rules.imports_of(tree, "bailanys.a")}
    assert found == {
        ("bailanys.b", 3, rules.EAGER),
        ("bailanys.c", 4, rules.EAGER),
        ("bailanys", 4, rules.EAGER),  # VERSION is a name of the package
        ("bailanys.d", 7, rules.TYPE_CHECKING_ONLY),
        ("bailanys.e", 9, rules.EAGER),
        ("bailanys.sub.g", 11, rules.IN_FUNCTION),
        ("bailanys.sub.g", 13, rules.EAGER),
        ("bailanys", 15, rules.EAGER),  # the deepest module that exists
        ("bailanys.b", 17, rules.EAGER),
        ("bailanys.c", 18, rules.EAGER),  # importlib with a literal name is an import too
        ("bailanys.d", 20, rules.IN_FUNCTION),
    }


def test_the_engine_rule_catches_every_way_of_importing_it(tmp_path: Path) -> None:
    tree = make(tmp_path, {
        "engine/core.py": "class Engine: ...\n",
        "engine/server.py": "from bailanys.engine.core import Engine\n",
        "engine/flows.py": """\
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from bailanys.engine.core import Engine
            """,
        "engine/queues.py": "import bailanys.engine.core\n",
        "engine/robot.py": "def f():\n    from bailanys.engine import core\n",
        "engine/__init__.py": "from bailanys.engine.core import Engine\n",
        "console.py": "from bailanys.engine import Engine\n",
    })
    offenders = rules.engine_importers(tree, rules.all_imports(tree))
    assert offenders == [
        "bailanys/console.py:1: bailanys.console imports bailanys.engine",
        "bailanys/engine/__init__.py:1: bailanys.engine imports bailanys.engine.core",
        "bailanys/engine/flows.py:3: bailanys.engine.flows imports bailanys.engine.core "
        "(TYPE_CHECKING)",
        "bailanys/engine/queues.py:1: bailanys.engine.queues imports bailanys.engine.core",
        "bailanys/engine/robot.py:2: bailanys.engine.robot imports bailanys.engine.core "
        "(in a function)",
    ]


def test_the_cli_rule(tmp_path: Path) -> None:
    tree = make(tmp_path, {
        "cli.py": "from bailanys.queue import commands\n",
        "__main__.py": "from bailanys.cli import main\n",
        "cliutil.py": "",
        "queue/commands.py": "from bailanys.cliutil import EXIT_OK\n",
        "console/commands.py": "def f():\n    from bailanys.cli import _parse_time\n",
        "ivr/commands.py": "from bailanys import cli\n",
        "robot/commands.py": "import bailanys.cli as c\n",
    })
    offenders = rules.cli_importers(rules.all_imports(tree))
    assert [o.split(":")[0] for o in offenders] == [
        "bailanys/console/commands.py", "bailanys/ivr/commands.py", "bailanys/robot/commands.py"
    ]


def test_the_sip_rule_is_per_layer(tmp_path: Path) -> None:
    tree = make(tmp_path, {
        "sip/headers.py": "", "sippy.py": "",
        "queue/queuelog.py": "from bailanys.sip.headers import SipUri\nimport bailanys.sippy\n",
        "metrics/context.py": "from bailanys import sip\n",
        "ivr/runner.py": "import bailanys.sip.headers\n",
        "robot/x.py": "",
        "engine/call.py": "from bailanys.sip import headers\n",
    })
    imports = rules.all_imports(tree)
    assert rules.sip_importers(imports, "queue") == [
        "bailanys/queue/queuelog.py:1: bailanys.queue.queuelog imports bailanys.sip.headers"]
    assert len(rules.sip_importers(imports, "metrics")) == 1
    assert len(rules.sip_importers(imports, "ivr")) == 1
    assert rules.sip_importers(imports, "robot") == []


def test_function_length_counts_from_the_def_line_and_every_nested_function(
        tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(59))  # def line + 59 = 60 lines
    tree = make(tmp_path, {
        "engine/ok.py": f"@decorator\n@another\ndef fits():\n{body}\n",
        "engine/long.py": "class C:\n    async def run(self):\n"
                          + body.replace("    ", "        ") + "\n"
                          "        def inner():\n            pass\n",
        "queue/long.py": f"def elsewhere():\n{body}\n    y = 1\n",
    })
    assert rules.long_functions(tree, "bailanys.engine", 60) == [
        "bailanys/engine/long.py:2: C.run is 62 lines (at most 60)"]
    assert rules.long_functions(tree, "bailanys.engine", 1) == [
        "bailanys/engine/long.py:2: C.run is 62 lines (at most 1)",
        "bailanys/engine/long.py:62: C.run.inner is 2 lines (at most 1)",
        "bailanys/engine/ok.py:3: fits is 60 lines (at most 1)",
    ]


def test_cycles_at_import_time_and_lazy_ones_are_told_apart(tmp_path: Path) -> None:
    tree = make(tmp_path, {
        "a.py": "import bailanys.b\n",
        "b.py": "from bailanys.c import x\n",
        "c.py": "from bailanys import a\n",
        "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import bailanys.e\n",
        "e.py": "import bailanys.d\n",
        "f.py": "def later():\n    import bailanys.g\n",
        "g.py": "import bailanys.f\n",
        "h.py": "import bailanys.c\n",  # leads into a cycle, is not on it
    })
    imports = rules.all_imports(tree)
    eager = rules.eager_cycles(tree, imports)
    assert len(eager) == 1
    assert eager[0].splitlines()[0] == (
        "cycle bailanys.a -> bailanys.b -> bailanys.c -> bailanys.a "
        "(component: bailanys.a, bailanys.b, bailanys.c)")
    assert "bailanys/c.py:1: bailanys.c imports bailanys.a" in eager[0]
    lazy = rules.lazy_cycles(tree, imports)
    assert [c.splitlines()[0] for c in lazy] == [
        "cycle bailanys.d -> bailanys.e -> bailanys.d (component: bailanys.d, bailanys.e)",
        "cycle bailanys.f -> bailanys.g -> bailanys.f (component: bailanys.f, bailanys.g)",
    ]
    assert "(TYPE_CHECKING)" in lazy[0] and "(in a function)" in lazy[1]


def test_a_cycle_through_a_package_init_counts(tmp_path: Path) -> None:
    tree = make(tmp_path, {
        "store/__init__.py": "from bailanys.store.db import Db\n",
        "store/db.py": "import bailanys.metrics.fold\n",
        "metrics/fold.py": "from bailanys.store.events import Event\n",  # runs store/__init__
        "store/events.py": "",
        "metrics/windows.py": "from bailanys.metrics.fold import x\n",  # own package: no edge
    })
    cycles = rules.eager_cycles(tree, rules.all_imports(tree))
    assert [c.splitlines()[0] for c in cycles] == [
        "cycle bailanys.metrics.fold -> bailanys.store -> bailanys.store.db -> "
        "bailanys.metrics.fold (component: bailanys.metrics.fold, bailanys.store, "
        "bailanys.store.db)"]


def test_the_report_names_every_rule(tmp_path: Path) -> None:
    make(tmp_path, {"cli.py": "", "engine/core.py": ""})
    text = rules.report(tmp_path / "bailanys")
    assert "imports of bailanys.cli: none" in text
    assert "import cycles at import time: none" in text
