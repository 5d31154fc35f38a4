"""The layering rules of ``bailanys/``, checked on the source with ``ast`` (nothing is imported).

Used by ``tests/test_import_rules.py``; ``python tests/importrules.py`` prints
every rule's offenders and the cycles that run only through lazy imports.

The rules (issue 14, CONTRACTS.md §4):

* no module imports ``bailanys.engine.core`` or the name ``Engine`` (not even
  under ``TYPE_CHECKING``) except those that build the engine;
* ``bailanys.cli`` is imported by no module but the ``python -m bailanys``
  entry point: the commands share :mod:`bailanys.cliutil` instead;
* ``queue/``, ``metrics/``, ``ivr/`` and ``robot/`` import nothing from ``sip/``
  (they get what they need from typed events);
* no function of ``engine/`` is longer than 60 lines;
* no import cycle among the modules, counting the imports that run when a
  module is imported (module level and class bodies, outside ``if
  TYPE_CHECKING:``). Cycles that close only through an import under
  ``TYPE_CHECKING`` or inside a function are reported apart.
"""

from __future__ import annotations

import ast
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: The three places an import statement can run.
EAGER, TYPE_CHECKING_ONLY, IN_FUNCTION = "module", "TYPE_CHECKING", "in a function"

#: Modules that build the engine and so may import it (engine/core.py is it).
ENGINE_BUILDERS = frozenset({
    "bailanys.engine.core",
    "bailanys.engine.server",
    "bailanys.cli",
})
ENGINE_MODULE = "bailanys.engine.core"
ENGINE_NAME = "Engine"
#: ``bailanys.cli`` may be imported only by itself and the ``python -m
#: bailanys`` entry point (which nothing imports, so it closes no cycle).
CLI_MODULE = "bailanys.cli"
CLI_IMPORTERS = frozenset({"bailanys.cli", "bailanys.__main__"})
#: Layers that must not speak SIP.
NO_SIP_LAYERS = ("queue", "metrics", "ivr", "robot")
SIP_PACKAGE = "bailanys.sip"
#: The longest function allowed in ``engine/`` (issue 14 "Rules").
MAX_ENGINE_FUNCTION_LINES = 60


@dataclass(frozen=True)
class Import:
    """One module imported by one statement."""

    importer: str  # dotted module name
    file: str  # path as shown in messages, e.g. "bailanys/cli.py"
    line: int
    target: str  # the module imported (the deepest one that exists in the tree)
    names: tuple[str, ...]  # for ``from X import a, b``: the names; else ()
    where: str  # EAGER, TYPE_CHECKING_ONLY or IN_FUNCTION

    @property
    def eager(self) -> bool:
        return self.where == EAGER

    def __str__(self) -> str:
        how = "" if self.eager else f" ({self.where})"
        return f"{self.file}:{self.line}: {self.importer} imports {self.target}{how}"


@dataclass(frozen=True)
class Tree:
    """The modules of one package, by dotted name, with their files."""

    root: Path  # the directory that holds the package directory
    files: dict[str, Path]  # module name -> file

    @classmethod
    def scan(cls, package_dir: Path) -> Tree:
        root = package_dir.parent
        files: dict[str, Path] = {}
        for path in sorted(package_dir.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
        return cls(root, files)

    def shown(self, module: str) -> str:
        return self.files[module].relative_to(self.root).as_posix()

    def is_package(self, module: str) -> bool:
        return self.files[module].name == "__init__.py"

    def resolve(self, name: str) -> str | None:
        """The deepest module of the tree that ``name`` is or is inside of, or None."""
        parts = name.split(".")
        while parts:
            candidate = ".".join(parts)
            if candidate in self.files:
                return candidate
            parts.pop()
        return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _flatten(nodes: Iterable[ast.AST]) -> Iterator[ast.stmt]:
    """Statements, with those of ``except`` handlers and ``match`` cases in line."""
    for node in nodes:
        if isinstance(node, ast.excepthandler | ast.match_case):
            yield from node.body
        elif isinstance(node, ast.stmt):
            yield node


ImportNode = ast.Import | ast.ImportFrom


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def _dynamic_imports(stmt: ast.stmt) -> Iterator[ast.Import]:
    """``importlib.import_module("a.b")`` and ``__import__("a.b")`` with a literal
    name in the statement itself (not in the blocks it holds), as ``import a.b``."""
    for name, value in ast.iter_fields(stmt):
        if name in _BLOCKS or isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef
                                         | ast.ClassDef):
            continue
        for root in value if isinstance(value, list) else [value]:
            if not isinstance(root, ast.AST):
                continue
            for node in ast.walk(root):
                if (
                    isinstance(node, ast.Call)
                    and (
                        (isinstance(node.func, ast.Attribute)
                         and node.func.attr == "import_module")
                        or (isinstance(node.func, ast.Name)
                            and node.func.id in ("import_module", "__import__"))
                    )
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    yield ast.Import(names=[ast.alias(name=node.args[0].value)],
                                     lineno=node.lineno, col_offset=node.col_offset)


def _import_statements(nodes: Iterable[ast.AST], where: str = EAGER) -> Iterator[
    tuple[ImportNode, str]
]:
    """Every import statement under ``nodes`` with where it runs.

    A function's body runs later (IN_FUNCTION); an ``if TYPE_CHECKING:`` body
    never at run time (its ``else`` does); anything else (``try``, ``with``,
    ``for``, a class body) runs with the statement that holds it. An
    ``importlib.import_module("...")`` with a literal name counts as an import.
    """
    for node in _flatten(nodes):
        yield from ((dynamic, where) for dynamic in _dynamic_imports(node))
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, where
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _import_statements(node.body, IN_FUNCTION)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            inner = where if where == IN_FUNCTION else TYPE_CHECKING_ONLY
            yield from _import_statements(node.body, inner)
            yield from _import_statements(node.orelse, where)
        else:
            for field in _BLOCKS:
                children = getattr(node, field, None)
                if isinstance(children, list):
                    yield from _import_statements(children, where)


def imports_of(tree: Tree, module: str) -> list[Import]:
    """The imports of one module of the tree that name modules of the tree."""
    source = tree.files[module].read_text(encoding="utf-8")
    parsed = ast.parse(source, filename=str(tree.files[module]))
    package = module if tree.is_package(module) else module.rpartition(".")[0]
    found: list[Import] = []
    for node, where in _import_statements(parsed.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = tree.resolve(alias.name)
                if target is not None:
                    found.append(Import(module, tree.shown(module), node.lineno, target, (),
                                        where))
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        names = tuple(a.name for a in node.names)
        targets: dict[str, list[str]] = {}
        for name in names:
            target = tree.resolve(f"{base}.{name}") if name != "*" else None
            if target is None or target == tree.resolve(base):
                target = tree.resolve(base)
            if target is not None:
                targets.setdefault(target, []).append(name)
        for target, named in targets.items():
            found.append(Import(module, tree.shown(module), node.lineno, target, tuple(named),
                                where))
    return found


def all_imports(tree: Tree) -> list[Import]:
    return [imp for module in tree.files for imp in imports_of(tree, module)]


# --- the rules: each returns its offenders as lines "file:line: what" -------------


def engine_importers(tree: Tree, imports: Iterable[Import]) -> list[str]:
    """Imports of ``bailanys.engine.core`` or of a name ``Engine`` outside the builders."""
    return [
        str(imp)
        for imp in imports
        if imp.importer not in ENGINE_BUILDERS
        and (imp.target == ENGINE_MODULE or ENGINE_NAME in imp.names)
    ]


def cli_importers(imports: Iterable[Import]) -> list[str]:
    return [str(imp) for imp in imports
            if imp.target == CLI_MODULE and imp.importer not in CLI_IMPORTERS]


def sip_importers(imports: Iterable[Import], layer: str) -> list[str]:
    """Imports of ``bailanys.sip`` by the modules of ``bailanys.<layer>``."""
    prefix = f"bailanys.{layer}"
    return [
        str(imp)
        for imp in imports
        if (imp.importer == prefix or imp.importer.startswith(prefix + "."))
        and (imp.target == SIP_PACKAGE or imp.target.startswith(SIP_PACKAGE + "."))
    ]


def long_functions(tree: Tree, package: str, limit: int) -> list[str]:
    """Functions (methods and nested ones too) of ``package`` longer than ``limit`` lines.

    A function's length runs from its ``def`` line (decorators excluded) to its
    last line.
    """
    out: list[str] = []
    for module in sorted(tree.files):
        if module != package and not module.startswith(package + "."):
            continue
        parsed = ast.parse(tree.files[module].read_text(encoding="utf-8"))
        for node, qualname in _functions(parsed.body, ""):
            end = node.end_lineno if node.end_lineno is not None else node.lineno
            length = end - node.lineno + 1
            if length > limit:
                out.append(f"{tree.shown(module)}:{node.lineno}: {qualname} is {length} lines "
                           f"(at most {limit})")
    return out


def _functions(nodes: Iterable[ast.AST], prefix: str) -> Iterator[
    tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]
]:
    for node in nodes:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{node.name}"
            yield node, name
            yield from _functions(ast.iter_child_nodes(node), name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(ast.iter_child_nodes(node), f"{prefix}{node.name}.")
        else:
            yield from _functions(ast.iter_child_nodes(node), prefix)


# --- cycles -----------------------------------------------------------------------


def graph(tree: Tree, imports: Iterable[Import], *, eager_only: bool) -> dict[str, list[Import]]:
    """Module -> the imports it runs; importing ``a.b.c`` also runs the packages
    ``a`` and ``a.b`` unless they enclose the importer (then they already run)."""
    edges: dict[str, list[Import]] = {m: [] for m in tree.files}
    for imp in imports:
        if eager_only and not imp.eager:
            continue
        parts = imp.target.split(".")
        for n in range(1, len(parts) + 1):
            target = ".".join(parts[:n])
            if target not in tree.files or target == imp.importer:
                continue
            if imp.importer.startswith(target + "."):
                continue  # an enclosing package: it is running or has run
            edges[imp.importer].append(
                Import(imp.importer, imp.file, imp.line, target, imp.names, imp.where)
            )
    return edges


def _components(edges: dict[str, list[Import]]) -> list[list[str]]:
    """Strongly connected components of more than one module, or with a self-loop
    (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[Import]]] = [(start, iter(edges[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            advanced = False
            for imp in it:
                nxt = imp.target
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(edges[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                loops = any(imp.target == node for imp in edges[node])
                if len(members) > 1 or loops:
                    out.append(sorted(members))
    return sorted(out)


def _shortest_cycle(edges: dict[str, list[Import]], members: list[str]) -> list[Import]:
    """A shortest cycle through the first member, staying inside the component."""
    inside = set(members)
    start = members[0]
    came: dict[str, Import] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        for imp in edges[node]:
            if imp.target not in inside:
                continue
            if imp.target == start:
                path = [imp]
                while path[0].importer != start:
                    path.insert(0, came[path[0].importer])
                return path
            if imp.target not in seen:
                seen.add(imp.target)
                came[imp.target] = imp
                queue.append(imp.target)
    raise AssertionError("a component without a cycle")  # pragma: no cover


def _describe_cycle(edges: dict[str, list[Import]], members: list[str]) -> str:
    path = _shortest_cycle(edges, members)
    chain = " -> ".join([path[0].importer, *(imp.target for imp in path)])
    lines = [f"cycle {chain} (component: {', '.join(members)})"]
    lines += [f"    {imp}" for imp in path]
    return "\n".join(lines)


def eager_cycles(tree: Tree, imports: list[Import]) -> list[str]:
    """Cycles through imports that run when the modules are imported."""
    edges = graph(tree, imports, eager_only=True)
    return [_describe_cycle(edges, members) for members in _components(edges)]


def lazy_cycles(tree: Tree, imports: list[Import]) -> list[str]:
    """Cycles that close only through an import under TYPE_CHECKING or in a function."""
    eager = {frozenset(c) for c in _components(graph(tree, imports, eager_only=True))}
    edges = graph(tree, imports, eager_only=False)
    out = []
    for members in _components(edges):
        if frozenset(members) in eager:
            continue
        out.append(_describe_cycle(edges, members))
    return out


def report(package_dir: Path) -> str:
    """Every rule's offenders, as printed by ``python tests/importrules.py``."""
    tree = Tree.scan(package_dir)
    imports = all_imports(tree)
    sections = [
        ("imports of Engine outside its builders", engine_importers(tree, imports)),
        ("imports of bailanys.cli", cli_importers(imports)),
        *((f"{layer}/ imports of sip/", sip_importers(imports, layer))
          for layer in NO_SIP_LAYERS),
        (f"engine/ functions over {MAX_ENGINE_FUNCTION_LINES} lines",
         long_functions(tree, "bailanys.engine", MAX_ENGINE_FUNCTION_LINES)),
        ("import cycles at import time", eager_cycles(tree, imports)),
        ("cycles only through TYPE_CHECKING or function-level imports",
         lazy_cycles(tree, imports)),
    ]
    out = []
    for title, offenders in sections:
        out.append(f"{title}: {len(offenders) or 'none'}")
        out += [f"  {line}" for line in offenders]
    return "\n".join(out)


if __name__ == "__main__":
    here = Path(__file__).resolve().parent.parent / "bailanys"
    print(report(Path(sys.argv[1]) if len(sys.argv) > 1 else here))
