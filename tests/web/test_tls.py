"""Native TLS for the console (issue 21): certificates made by ``openssl`` here,
the console's web layer serving HTTPS and WSS, and ``bailanys config check``'s
words about broken certificate and key files."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from bailanys.cli import main
from bailanys.console.auth import COOKIE_NAME
from bailanys.console.server import ConsoleServer
from bailanys.web.tls import HSTS, TlsFiles, problems, server_context
from tests.console.helpers import PASSWORDS, FakeApi, FakeClock, users

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")


def make_cert(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed P-256 certificate for 127.0.0.1 and localhost, and its key."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True)
    return cert, key


async def test_the_console_serves_https_and_wss_with_secure_cookies(tmp_path: Path) -> None:
    cert, key = make_cert(tmp_path, "console")
    api = FakeApi()
    console = ConsoleServer("127.0.0.1", 0, users(), api, session_ttl=3600, clock=FakeClock(),
                            tls=TlsFiles(str(cert), str(key)))
    await console.start()
    trust = ssl.create_default_context(cafile=str(cert))  # the client checks the name too
    base = f"https://127.0.0.1:{console.port}"
    try:
        async with httpx.AsyncClient(verify=trust, timeout=5) as http:
            page = await http.get(f"{base}/login")
            assert page.status_code == 200 and b"<form" in page.content
            assert page.headers["strict-transport-security"] == HSTS
            logged = await http.post(f"{base}/login", data={
                "user": "aigerim", "password": PASSWORDS["aigerim"]})
        assert logged.status_code == 303 and logged.headers["location"] == "/"
        cookie = logged.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE_NAME}=") and "; Secure" in cookie, cookie
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        token = logged.cookies[COOKIE_NAME]

        async with connect(f"wss://127.0.0.1:{console.port}/ws", ssl=trust, open_timeout=5,
                           additional_headers={"Cookie": f"{COOKIE_NAME}={token}"}) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert first["type"] == "snapshot" and first["data"] == api.state
        assert first["user"]["login"] == "aigerim"

        # Plain HTTP on the TLS port gets no page (the handshake fails).
        reader, writer = await asyncio.open_connection("127.0.0.1", console.port)
        writer.write(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(4096), 5)
        assert b"<form" not in answer
        writer.close()
    finally:
        await console.stop()


async def test_plain_http_sends_no_hsts_and_no_secure_cookie() -> None:
    console = ConsoleServer("127.0.0.1", 0, users(), FakeApi(), session_ttl=3600,
                            clock=FakeClock())
    await console.start()
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            base = f"http://127.0.0.1:{console.port}"
            page = await http.get(f"{base}/login")
            logged = await http.post(f"{base}/login", data={
                "user": "aigerim", "password": PASSWORDS["aigerim"]})
        assert "strict-transport-security" not in page.headers
        assert logged.status_code == 303 and "Secure" not in logged.headers["set-cookie"]
    finally:
        await console.stop()


def test_broken_files_are_named_clearly(tmp_path: Path) -> None:
    cert, key = make_cert(tmp_path, "a")
    other_cert, other_key = make_cert(tmp_path, "b")
    locked = tmp_path / "locked.key"
    subprocess.run(["openssl", "pkey", "-in", str(key), "-aes256", "-passout", "pass:secret",
                    "-out", str(locked)], check=True, capture_output=True)
    src = "bailanys.toml"
    assert problems(TlsFiles(str(cert), str(key), src)) == []
    cases = {
        (str(tmp_path / "none.crt"), str(key)): f"{src}: console.tls_cert: no such file: "
                                                 f"{tmp_path / 'none.crt'}",
        (str(cert), str(other_key)): f"{src}: console.tls_key: the key in {other_key} does "
                                     f"not match the certificate in {cert}",
        (str(key), str(key)): f"{src}: console.tls_cert: {key} holds no PEM certificate",
        (str(cert), str(other_cert)): f"{src}: console.tls_key: {other_cert} holds no PEM "
                                      "private key",
        (str(cert), str(locked)): f"{src}: console.tls_key: {locked} is protected by a "
                                  "passphrase",
        (str(cert), str(tmp_path)): f"{src}: console.tls_key: {tmp_path} is a directory",
    }
    for (c, k), start in cases.items():
        found = problems(TlsFiles(c, k, src))
        assert len(found) == 1 and found[0].startswith(start), (c, k, found)
    with pytest.raises(Exception, match="console.tls_cert: the certificate in .* expired on"):
        server_context(TlsFiles(str(cert), str(key), src), now=4e9)


def test_config_check_reads_the_tls_files(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    cert, key = make_cert(tmp_path, "a")
    _, other_key = make_cert(tmp_path, "b")
    config = tmp_path / "bailanys.toml"
    config.write_text(f'[queue]\nfile = ""\n[ivr]\nflow_dir = "{tmp_path}"\n[robot]\nfaq = ""\n'
                      f'[console]\ntls_cert = "{cert}"\ntls_key = "{other_key}"\n')
    assert main(["config", "check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert f"{config}: console.tls_key: the key in {other_key} does not match" in out
    config.write_text(config.read_text().replace(str(other_key), str(key)))
    assert main(["config", "check", "--config", str(config)]) == 0
    assert capsys.readouterr().out.strip().endswith("ok")
    config.write_text(config.read_text().replace(f'tls_key = "{key}"', 'tls_key = ""'))
    assert main(["config", "check", "--config", str(config)]) == 2
    assert "console.tls_key: expected a PEM file to go with console.tls_cert" in \
        capsys.readouterr().err
