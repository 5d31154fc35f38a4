"""The languages every caller-facing phrase exists in, and the one check of them.

``"kk"`` is Kazakh (the state language, played first), ``"ru"`` Russian; the
codes are ISO 639-1 and match espeak-ng's voice names.
"""

from __future__ import annotations

from typing import Final

#: Languages every phrase exists in.
LANGUAGES: Final = ("kk", "ru")


def check_lang(lang: str) -> None:
    """Raise :class:`ValueError` unless ``lang`` is one of :data:`LANGUAGES`."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
