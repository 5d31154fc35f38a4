"""Static files by exact name: a directory's files read once into a table.

Only the top-level regular files of known types are in the table, so no
request path (``..``, ``%2f``, absolute paths, symlinks) can name anything
else; ``.html`` pages are not served here (they have their own routes,
behind the session check).
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bailanys.web.app import endpoint
from bailanys.web.responses import CONTENT_TYPES, error, response


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str


def load_static(directory: Path) -> dict[str, StaticFile]:
    """The directory's top-level regular files of known types, by name (blocking)."""
    files = {}
    for path in sorted(directory.iterdir()):
        kind = CONTENT_TYPES.get(path.suffix)
        if kind and path.is_file() and not path.is_symlink():
            files[path.name] = StaticFile(path.read_bytes(), kind)
    return files


def page(static: dict[str, StaticFile], name: str) -> Response:
    """One file of the table as a page (``no-store``: a page follows the session)."""
    file = static[name]
    return response(HTTPStatus.OK, file.body, file.content_type)


def static_route(prefix: str, static: dict[str, StaticFile]) -> Route:
    """``GET <prefix>/<name>``: the table's file ``name`` (not a page), else 404."""

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        file = static.get(name)
        if file is None or name.endswith(".html"):  # pages have their own routes
            return error(HTTPStatus.NOT_FOUND)
        return response(HTTPStatus.OK, file.body, file.content_type, cache="no-cache")

    return endpoint(f"{prefix}/{{name:path}}", asset)
