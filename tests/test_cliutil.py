"""``bailanys.cliutil``: the pieces every command shares."""

from __future__ import annotations

import argparse

import pytest

from bailanys import cliutil
from bailanys.cliutil import CommandError, parse_time, plural, positive_int, print_problems
from bailanys.config import Config, StoreConfig


@pytest.mark.parametrize(("text", "expected"), [
    ("1700000000", 1_700_000_000.0),
    ("1700000000.5", 1_700_000_000.5),
    ("2023-11-14T22:13:20Z", 1_700_000_000.0),
    ("2023-11-14T22:13:20", 1_700_000_000.0),  # naive is UTC
    ("2023-11-15T03:13:20+05:00", 1_700_000_000.0),
])
def test_parse_time(text: str, expected: float) -> None:
    assert parse_time(text) == expected


def test_parse_time_names_what_it_expected() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="ISO-8601.*'yesterday'"):
        parse_time("yesterday")


def test_positive_int() -> None:
    assert positive_int("3") == 3
    for bad in ("0", "-1", "x", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="positive integer"):
            positive_int(bad)


def test_plural_and_problems(capsys: pytest.CaptureFixture[str]) -> None:
    assert (plural(1, "problem"), plural(2, "problem"), plural(0, "call")) == (
        "1 problem", "2 problems", "0 calls")
    assert print_problems(["a.yaml:3: x: bad", "b.yaml: y: worse"])
    assert not print_problems([])
    assert capsys.readouterr().out == "a.yaml:3: x: bad\nb.yaml: y: worse\n"


def test_a_bad_config_is_exit_2() -> None:
    args = argparse.Namespace(config="/nonexistent/bailanys.toml")
    with pytest.raises(CommandError) as info:
        cliutil.load_config_or_exit(args)
    assert info.value.status == cliutil.EXIT_CONFIG == 2
    assert "no such file" in str(info.value)


def test_no_store_yet_is_one_clear_line() -> None:
    config = Config(store=StoreConfig(path=":memory:"))
    with pytest.raises(CommandError, match="no event store at :memory:.*bailanys serve"):
        cliutil.store_path_or_exit(config)


def test_the_command_modules_share_one_parser_vocabulary() -> None:
    parser = argparse.ArgumentParser()
    cliutil.add_config_option(parser)
    cliutil.add_time_range(parser)
    args = parser.parse_args(["--since", "2023-11-14T22:13:20Z"])
    assert (args.config, args.since, args.until) == (None, 1_700_000_000.0, None)
