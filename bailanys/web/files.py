"""File downloads (call recordings, XLSX/PDF reports) with HTTP range requests.

Starlette's ``FileResponse`` answers ``Range`` (RFC 9110 §14.2: single and
multiple ranges, ``206 Partial Content`` with ``Content-Range``, ``416``
for a range past the end, ``If-Range``), so a browser's audio player can
seek in a long recording without fetching it whole. The file is read in a
worker thread by Starlette (never on the event loop). Serve downloads only
from endpoints wrapped by :class:`~bailanys.web.access.Access` (``api``
or ``token_api``), and only paths the endpoint resolved itself, never one
taken from the request.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse

#: Types of the files the layer is meant to send; others go as octets.
DOWNLOAD_TYPES = {
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".csv": "text/csv; charset=utf-8",
}


def download(path: Path, filename: str | None = None, *, inline: bool = False) -> FileResponse:
    """``path`` as a download (``attachment``) or for a player (``inline``), with ranges."""
    kind = DOWNLOAD_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return FileResponse(path, media_type=kind, filename=filename or path.name,
                        content_disposition_type="inline" if inline else "attachment",
                        headers={"Cache-Control": "private, no-cache"})
