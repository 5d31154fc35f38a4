"""The transfer targets of ``[transfers]`` as values, and which one a name or a
Refer-To means (issue 19). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from bailanys.errors import BailanysError
from bailanys.sip.headers import SipUri
from bailanys.transfers.referto import ReferTo
from bailanys.transfers.settings import NUMBER, QUEUE, QUEUE_PREFIX, TransfersConfig, target_kind

#: The transfer modes of the desktop's ``transfer`` action (CONTRACTS19).
BLIND = "blind"
ATTENDED = "attended"
COMPLETE = "complete"
CANCEL = "cancel"
MODES = (BLIND, ATTENDED, COMPLETE, CANCEL)


class TransferError(BailanysError):
    """A transfer the engine refuses (unknown target, no such call, wrong mode);
    the message reaches the operator."""


@dataclass(frozen=True)
class Target:
    """One named target: a queue (``value`` its name) or a number (``value`` its SIP URI)."""

    name: str
    kind: str  # QUEUE or NUMBER
    value: str
    kk: str
    ru: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind, "kk": self.kk, "ru": self.ru}


class TransferTargets:
    """The configured targets, looked up by name or by a REFER's Refer-To."""

    def __init__(self, config: TransfersConfig) -> None:
        self._by_name: dict[str, Target] = {}
        for name, value in config.targets.items():
            kind = target_kind(value)
            self._by_name[name] = Target(
                name, kind, value[len(QUEUE_PREFIX):] if kind == QUEUE else value,
                config.kk[name], config.ru[name])

    def all(self) -> list[Target]:
        return list(self._by_name.values())

    def get(self, name: str) -> Target:
        """The target called ``name``; :class:`TransferError` when there is none."""
        target = self._by_name.get(name)
        if target is None:
            raise TransferError(f"no transfer target {name!r}")
        return target

    def for_refer(self, refer_to: ReferTo) -> Target | None:
        """The target a Refer-To's user part names: a target's name, a queue
        target's queue name, or a number target's own user part."""
        user = refer_to.user
        if not user:
            return None
        if user in self._by_name:
            return self._by_name[user]
        for target in self._by_name.values():
            if target.kind == QUEUE and target.value == user:
                return target
            if target.kind == NUMBER and _user_of(target.value) == user:
                return target
        return None


def _user_of(uri: str) -> str | None:
    return SipUri.parse(uri).user
