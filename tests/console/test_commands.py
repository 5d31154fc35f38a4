"""``bailanys console hash-password``."""

from __future__ import annotations

import argparse
import io

import pytest

from bailanys.cliutil import CommandError
from bailanys.console import commands
from bailanys.console.auth import verify


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bailanys")
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


def test_a_password_on_stdin_is_printed_as_its_hash(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Құпия сөз 1414\nignored\n"))
    assert run(["console", "hash-password"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("scrypt$16384$8$1$") and verify(out, "Құпия сөз 1414")
    assert "Құпия" not in out


def test_the_prompt_asks_twice(monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["pw-1", "pw-1"])
    monkeypatch.setattr("sys.stdin", Tty())
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert run(["console", "hash-password"]) == 0
    assert verify(capsys.readouterr().out.strip(), "pw-1")

    answers = iter(["pw-1", "pw-2"])
    with pytest.raises(CommandError, match="differ"):
        run(["console", "hash-password"])


@pytest.mark.parametrize("stdin", ["", "\n"])
def test_an_empty_password_is_refused(monkeypatch: pytest.MonkeyPatch, stdin: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with pytest.raises(CommandError) as info:
        run(["console", "hash-password"])
    assert info.value.status == 2
