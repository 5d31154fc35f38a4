"""``bailanys console hash-password``: a console user's password as a scrypt hash.

Reads the password from a prompt (asked twice) when stdin is a terminal,
else the first line of stdin (``echo "$PW" | bailanys console hash-password``),
and prints the hash to put in the user's ``password_hash``. The password is
never echoed, logged or accepted as an argument (it would land in the shell's
history and in ``ps``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from bailanys.cliutil import EXIT_OK, EXIT_USAGE, CommandError
from bailanys.console.auth import hash_password


def register(subparsers: Any) -> None:
    console = subparsers.add_parser("console", help="the supervisors' web console")
    sub = console.add_subparsers(dest="console_command", metavar="ACTION", required=True)
    hp = sub.add_parser(
        "hash-password",
        help="print the scrypt hash of a password (read from a prompt or stdin)",
    )
    hp.set_defaults(func=cmd_hash_password)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            raise CommandError("the passwords differ", EXIT_USAGE)
        return first
    return sys.stdin.readline().removesuffix("\n").removesuffix("\r")


def cmd_hash_password(args: argparse.Namespace) -> int:
    try:
        password = _read_password()
    except (EOFError, KeyboardInterrupt):
        raise CommandError("no password given", EXIT_USAGE) from None
    if not password:
        raise CommandError("the password is empty", EXIT_USAGE)
    print(hash_password(password))
    return EXIT_OK
