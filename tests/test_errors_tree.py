"""``bailanys/errors.py`` draws every exception class of the package (STYLE.md item 8).

The tree in the module's docstring is the documentation of the hierarchy;
these tests import every module of ``bailanys/`` and fail when an exception
class is missing from the tree, is drawn under a parent it does not derive
from or in a module that does not define it, or does not derive from
:class:`~bailanys.errors.BailanysError` without a reason written here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass

import bailanys
import bailanys.errors
from bailanys.errors import BailanysError

#: Exception classes that deliberately do not derive from BailanysError, and why.
NOT_BAILANYS_ERRORS = {
    "CommandError": "the CLI's exit signal (a line for stderr and an exit status), "
    "caught by cli.main() only; an `except BailanysError` must never swallow it",
}

_ROOT = re.compile(r"^    (?P<name>[A-Z]\w*)\s*$")
_CHILD = re.compile(r"^(?P<lead>[ │]*)[├└]── (?P<name>[A-Z]\w*)(?P<rest>.*)$")
_MODULE = re.compile(r"\((?P<module>bailanys(?:\.\w+)+)\)")


@dataclass(frozen=True)
class Drawn:
    name: str
    module: str
    parent: str | None


def drawn_tree() -> dict[tuple[str, str], Drawn]:
    """(module, name) -> what the docstring draws for it."""
    doc = bailanys.errors.__doc__ or ""
    out: dict[tuple[str, str], Drawn] = {}
    by_column: dict[int, str] = {}
    for line in doc.splitlines():
        root = _ROOT.match(line)
        child = _CHILD.match(line)
        if root is not None:
            name, column, rest = root["name"], 4, ""
        elif child is not None:
            name, column, rest = child["name"], len(child["lead"]) + 4, child["rest"]
        else:
            continue
        by_column[column] = name
        module_match = _MODULE.search(rest)
        module = module_match["module"] if module_match else "bailanys.errors"
        parent = by_column.get(column - 4) if column > 4 else None
        if name == "Exception" and parent is None:
            continue
        out[(module, name)] = Drawn(name, module, parent)
    return out


def defined_exceptions() -> dict[tuple[str, str], type[BaseException]]:
    """(module, name) -> class, for every exception class defined in bailanys/."""
    out: dict[tuple[str, str], type[BaseException]] = {}
    for info in pkgutil.walk_packages(bailanys.__path__, "bailanys."):
        if info.name.endswith(".__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException)
                    and obj.__module__ == info.name):
                out[(info.name, name)] = obj
    return out


def test_the_tree_is_read() -> None:
    drawn = drawn_tree()
    assert ("bailanys.errors", "BailanysError") in drawn
    assert drawn[("bailanys.errors", "SipParseError")].parent == "SipError"


def test_every_exception_class_is_in_the_tree() -> None:
    drawn = drawn_tree()
    missing = [f"{name} ({module})" for module, name in sorted(defined_exceptions())
               if (module, name) not in drawn]
    assert not missing, f"add to the tree in bailanys/errors.py: {', '.join(missing)}"


def test_the_tree_names_only_classes_that_exist_where_it_says() -> None:
    defined = defined_exceptions()
    stale = [f"{d.name} ({d.module})" for key, d in drawn_tree().items() if key not in defined]
    assert not stale, f"bailanys/errors.py's tree names classes not defined there: {stale}"


def test_each_class_is_drawn_under_a_base_it_derives_from() -> None:
    defined = defined_exceptions()
    wrong = []
    for key, d in drawn_tree().items():
        cls = defined.get(key)
        if cls is None or d.parent is None:
            continue
        if d.parent not in {base.__name__ for base in cls.__bases__}:
            bases = ", ".join(base.__name__ for base in cls.__bases__)
            wrong.append(f"{d.name} is drawn under {d.parent} but derives from {bases}")
    assert not wrong, "; ".join(wrong)


def test_every_exception_derives_from_bailanys_error_or_says_why_not() -> None:
    outside = sorted(name for (_, name), cls in defined_exceptions().items()
                     if not issubclass(cls, BailanysError) and name not in NOT_BAILANYS_ERRORS)
    assert not outside, (
        f"derive from BailanysError (or give the reason in NOT_BAILANYS_ERRORS): {outside}")
