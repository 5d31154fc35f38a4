"""``[transfers]``: where an operator may transfer a caller (issue 19).

Three tables of strings, so that the config's one table type (and the
``BAILANYS_TRANSFERS_<KEY>`` overrides, ``name=value,...``) serve::

    [transfers.targets]          # name -> "queue:<queue name>" or a SIP URI
    second_line = "queue:second_line"
    egov = "sip:2000@192.0.2.10:5060"
    [transfers.kk]               # name -> the Kazakh label the desktop shows
    second_line = "Екінші желі"
    [transfers.ru]               # name -> the Russian label
    second_line = "Вторая линия"

Every target needs both labels (requirements item 11: the operator's
screens are in Kazakh and Russian); a label without a target is a typo and
refused too. Checked here, so a wrong table is one :class:`ConfigError`
line at start-up.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from bailanys.errors import ConfigError, SipParseError
from bailanys.sip.headers import SipUri

#: A target's kind by the form of its value.
QUEUE: Final = "queue"
NUMBER: Final = "number"
QUEUE_PREFIX: Final = "queue:"
#: Names: what a phone dials in a REFER's user part, so SIP-user characters only.
NAME_RE: Final = re.compile(r"[A-Za-z0-9._~+\-]+")


def _empty() -> Mapping[str, str]:
    return types.MappingProxyType({})


@dataclass(frozen=True)
class TransfersConfig:
    """``[transfers]``: named targets (another queue or a second-line number)."""

    targets: Mapping[str, str] = field(default_factory=_empty)
    kk: Mapping[str, str] = field(default_factory=_empty)
    ru: Mapping[str, str] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        for name, value in self.targets.items():
            key = f"transfers.targets.{name}"
            if not NAME_RE.fullmatch(name):
                raise ConfigError(f"expected a name of letters, digits and ._~+-, got {name!r}",
                                  key=key)
            target_kind(value, key)
        for lang in ("kk", "ru"):
            labels: Mapping[str, str] = getattr(self, lang)
            for name in self.targets:
                if not str(labels.get(name, "")).strip():
                    raise ConfigError(f"target {name!r} has no {lang} label",
                                      key=f"transfers.{lang}.{name}")
            for name in labels:
                if name not in self.targets:
                    raise ConfigError(f"label for {name!r}, which is not in transfers.targets",
                                      key=f"transfers.{lang}.{name}")
            object.__setattr__(self, lang, types.MappingProxyType(dict(labels)))
        object.__setattr__(self, "targets", types.MappingProxyType(dict(self.targets)))


def target_kind(value: str, key: str = "transfers.targets") -> str:
    """``queue`` for ``queue:<name>``, ``number`` for a sip:/sips: URI with a host;
    anything else is a :class:`ConfigError` naming ``key``."""
    if value.startswith(QUEUE_PREFIX):
        if not value[len(QUEUE_PREFIX):].strip():
            raise ConfigError("expected queue:<queue name>, got no name", key=key)
        return QUEUE
    try:
        uri = SipUri.parse(value)
    except SipParseError as exc:
        raise ConfigError(f"expected queue:<name> or a sip: URI, got {value!r} ({exc})",
                          key=key) from None
    if uri.scheme not in ("sip", "sips") or not uri.host:
        raise ConfigError(f"expected queue:<name> or a sip: URI, got {value!r}", key=key)
    return NUMBER
