"""Native TLS for the web layer: the server's context from ``[console] tls_cert``
and ``tls_key``, and what ``bailanys config check`` says about them.

:func:`server_context` reads a PEM certificate (the chain, leaf first) and
its PEM private key into an ``ssl.SSLContext`` for a server: TLS 1.2 at
least, Python's default ciphers, no client certificates. A problem is one
:class:`~bailanys.errors.ConfigError` line naming the key and saying what
to do: a file missing or unreadable by the service's user, a file that is
not PEM, a key that does not match the certificate, a key protected by a
passphrase (the engine starts unattended: OpenSSL would prompt on a
terminal there is none of), a certificate past its end date.

With TLS on, the web layer sends ``Strict-Transport-Security``
(:data:`HSTS`, ``app.py``) and the console's session cookie is ``Secure``.
Blocking file I/O: call :func:`server_context` from a thread when a loop runs.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from pathlib import Path

from bailanys.errors import ConfigError

__all__ = ["HSTS", "TlsFiles", "problems", "server_context"]

#: RFC 6797 §6.1: a year, the usual value; no ``includeSubDomains``, since
#: other hosts of the organisation's domain may not speak HTTPS.
HSTS = "max-age=31536000"


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files of one listening port, and where they were configured."""

    cert: str
    key: str
    #: The config file, for the messages.
    source: str = "<defaults>"
    #: The section of the keys, for the messages.
    section: str = "console"


def _error(files: TlsFiles, key: str, message: str) -> ConfigError:
    return ConfigError(message, path=files.source, key=f"{files.section}.{key}")


def _readable(files: TlsFiles, key: str, name: str) -> None:
    path = Path(name)
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except FileNotFoundError:
        raise _error(files, key, f"no such file: {name}") from None
    except IsADirectoryError:
        raise _error(files, key, f"{name} is a directory, expected a PEM file") from None
    except PermissionError:
        raise _error(files, key, f"cannot read {name}: permission denied (the service's "
                     "user, bailanys, must be able to read it)") from None
    except OSError as exc:
        raise _error(files, key, f"cannot read {name}: {exc.strerror}") from None


def _certificate_end(files: TlsFiles) -> float:
    """The leaf certificate's notAfter, as a POSIX time."""
    decode = getattr(ssl._ssl, "_test_decode_cert", None)  # type: ignore[attr-defined]
    if decode is None:  # pragma: no cover (CPython has had it since 2.7)
        return float("inf")
    try:
        info = decode(files.cert)
    except (ssl.SSLError, ValueError):
        raise _error(files, "tls_cert", f"{files.cert} holds no PEM certificate "
                     "(-----BEGIN CERTIFICATE-----)") from None
    return float(ssl.cert_time_to_seconds(info["notAfter"]))


def server_context(files: TlsFiles, now: float | None = None) -> ssl.SSLContext:
    """A server ``SSLContext`` from ``files``; :class:`ConfigError` on any problem."""
    _readable(files, "tls_cert", files.cert)
    _readable(files, "tls_key", files.key)
    end = _certificate_end(files)
    if end < (time.time() if now is None else now):
        ended = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(end))
        raise _error(files, "tls_cert", f"the certificate in {files.cert} expired on {ended}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    asked: list[bool] = []

    def no_passphrase() -> str:  # instead of OpenSSL's prompt on a terminal
        asked.append(True)
        return ""

    try:
        context.load_cert_chain(files.cert, files.key, password=no_passphrase)
    except ssl.SSLError as exc:
        if asked:
            raise _error(files, "tls_key", f"{files.key} is protected by a passphrase; the "
                         "engine starts unattended: store it without one, readable by the "
                         "service only (openssl pkey -in KEY -out KEY.new; chmod 640, group "
                         "bailanys)") from None
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise _error(files, "tls_key", f"the key in {files.key} does not match the "
                         f"certificate in {files.cert}") from None
        raise _error(files, "tls_key", f"{files.key} holds no PEM private key "
                     "(-----BEGIN PRIVATE KEY-----)") from None
    return context


def problems(files: TlsFiles) -> list[str]:
    """``bailanys config check``'s lines about ``files``: [] when they serve."""
    try:
        server_context(files)
    except ConfigError as exc:
        return [str(exc)]
    return []
