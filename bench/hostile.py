"""Hostile input against the parsers and a running engine (issue 13), figures printed.

    python bench/hostile.py [--seconds 20] [--parsers-only | --engine-only]
                            [--invites 2000] [--rtp 5000] [--guess-seconds 10]

Parsers: the mutation fuzzer of ``tests/fuzzing.py`` on the SIP, SDP, RTP,
RTCP and RFC 4733 parsers for ``--seconds`` each; per parser the inputs
tried and how many escaped as anything but the documented error (must be 0).

Engine: ``python -m bailanys serve`` in its own process with a temporary
config on loopback (the built-in demo on 1414, operator 1001; the per-source
INVITE flood guard is set out of the way, as a few source addresses would
get around it anyway), then:

* poisoned INVITEs: ``--invites`` offers with poisoned numbers (``a=ptime:inf``,
  ``1e999``, 5,000-digit numbers...): their final answers, and the media
  ports leaked, read from the engine process's UDP sockets before and after
  (must be 0), then whether a normal call is still answered;
* phantom digits: during a call whose RTP source is latched, ``--rtp`` packets
  with random SSRC and payload type from the caller's own address (half of
  them well-formed RFC 4733 key events): the ``dtmf`` events the engine
  stored (must be 0), then whether a key from the caller's own stream counts;
* REGISTER guesses: wrong passwords for 1001 from 8 concurrent guessers for
  ``--guess-seconds``: the answers per second and their statuses, the
  guesses actually checked per second (403; a throttled answer checks
  nothing), whether the right password from the same address is then still
  accepted, and the limit in the engine's config (if it has one).

Loopback only, bounded in count and time.  Exit status 1 when a parser let
an error escape, a port leaked or a phantom digit was stored.  Never a timed
test: this prints figures for humans.  Run by ``make bench``; ``make fuzz``
runs ``--parsers-only --seconds 60``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import select
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bailanys.config import load_config  # noqa: E402
from bailanys.sip.digest import build_authorization  # noqa: E402
from bailanys.sip.message import Response, parse_message  # noqa: E402
from bailanys.sip.sdp import SessionDescription  # noqa: E402
from tests.fuzzing import TARGETS, fuzz  # noqa: E402

HOST = "127.0.0.1"
USER, PASSWORD = "1001", "hostile-bench-1001"
TE_PT = 101  # the telephone-event payload type our offers use (RFC 4733 §7.1.1)
BATCH = 25  # INVITEs in flight (5 KiB each): inside the engine's socket buffer
GUESSERS = 8  # concurrent REGISTER guessers
POISONED_SDP_LINES = ("ptime inf/-inf/1e999/NaN, 5,000-digit o=/t=/m=/v= numbers")


# ---------------------------------------------------------------- parsers


def run_parsers(seconds: float, seed: int) -> int:
    print(f"parsers: mutation fuzzing, {seconds:g} s each, seed {seed} (tests/fuzzing.py)")
    escaped = 0
    for target in TARGETS:
        report = fuzz(target, seconds=seconds, seed=seed)
        print("  " + report.line(), flush=True)
        for example in report.examples:
            print(f"      {example[:400]}")
        escaped += report.escapes
    return escaped


# ---------------------------------------------------------------- the engine


def _free_port() -> int:
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((HOST, 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((HOST, port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free port")


class EngineProcess:
    """``python -m bailanys serve`` on loopback with a temporary config."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        base = 42000 + 2 * random.randrange(0, 4000)
        no_flows = workdir / "no-flows"
        no_flows.mkdir()
        self.db = workdir / "hostile.db"
        self.config_path = workdir / "hostile.toml"
        self.config_path.write_text("\n".join([
            "[sip]",
            f'listen = "{HOST}:{self.port}"',
            'transports = ["udp"]',
            "max_new_calls_per_source_per_second = 100000",
            "[media]",
            f'rtp_ports = "{base}-{base + 399}"',
            "[store]",
            f'path = "{self.db}"',
            "batch_ms = 20",
            "[voice]",
            f'prompt_dir = "{ROOT / "voice_models" / "prompts"}"',
            "[registrar.users]",
            f'{USER} = "{PASSWORD}"',
            "[engine]",
            'numbers = ["1414"]',
            "no_input_seconds = 300",
            "[ivr]",
            f'flow_dir = "{no_flows}"',
            "reload_seconds = 0",
            "[asr]",
            f'model_dir = "{no_flows}"',
            "[console]",
            'listen = ""',
            "[robot]",
            f'demo_db = "{workdir / "robot.db"}"',
            'faq = ""',
            "[analytics]",  # the call path's own figures: no recordings, no workers
            "enabled = false",
            "[log]",
            'level = "WARNING"',
        ]) + "\n")
        self.log = open(workdir / "engine.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bailanys", "serve", "--config", str(self.config_path)],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.addr = (HOST, self.port)

    def wait_ready(self, sock: socket.socket, within: float = 120.0) -> None:
        """Until the engine answers OPTIONS (prompts may render on a first start)."""
        deadline = time.monotonic() + within
        n = 0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"engine exited with {self.proc.returncode}: see engine.log")
            n += 1
            sock.sendto(_request("OPTIONS", f"sip:{self.port}@{HOST}", sock, f"ready-{n}"),
                        self.addr)
            if _final(sock, 1.0) is not None:
                return
        raise RuntimeError("the engine did not answer OPTIONS")

    def udp_sockets(self) -> int:
        """UDP sockets the engine process holds (its fds found in /proc/PID/net/udp{,6})."""
        pid = self.proc.pid
        inodes: set[str] = set()
        for table in (f"/proc/{pid}/net/udp", f"/proc/{pid}/net/udp6"):
            try:
                with open(table) as f:
                    inodes.update(line.split()[9] for line in list(f)[1:])
            except OSError:
                continue
        count = 0
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            count += target.startswith("socket:[") and target[8:-1] in inodes
        return count

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------- SIP by hand


def _request(method: str, uri: str, sock: socket.socket, call_id: str, *, branch: str = "",
             cseq: int = 1, to_tag: str = "", from_user: str = "hostile", extra: str = "",
             body: bytes = b"") -> bytes:
    host, port = sock.getsockname()[:2]
    # REGISTER: To is the address of record being registered (RFC 3261 §10.2).
    aor = uri.replace("sip:", f"sip:{from_user}@") if method == "REGISTER" else uri
    to = f"<{aor}>" + (f";tag={to_tag}" if to_tag else "")
    ctype = "Content-Type: application/sdp\r\n" if body else ""
    return (
        f"{method} {uri} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{branch or call_id}-{cseq}{method}\r\n"
        f"From: <sip:{from_user}@{host}>;tag=t{call_id}\r\nTo: {to}\r\n"
        f"Call-ID: {call_id}@{host}\r\nCSeq: {cseq} {method}\r\n"
        f"Contact: <sip:{from_user}@{host}:{port}>\r\nMax-Forwards: 70\r\n{extra}{ctype}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _ack(resp: Response, uri: str) -> bytes:
    """ACK of a final response: same branch for a non-2xx (§17.1.1.3); a new one for 2xx."""
    h = resp.headers
    via = h.get("Via") or ""
    if resp.status < 300:
        via = via.replace("INVITE", "ACK")
    return (f"ACK {uri} SIP/2.0\r\nVia: {via}\r\nFrom: {h.get('From')}\r\nTo: {h.get('To')}\r\n"
            f"Call-ID: {h.get('Call-ID')}\r\nCSeq: {resp.cseq[0]} ACK\r\nMax-Forwards: 70\r\n"
            f"Content-Length: 0\r\n\r\n").encode()


def _response(sock: socket.socket, timeout: float) -> Response | None:
    """The next response to arrive within ``timeout`` s, or None."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return None
        try:
            msg = parse_message(sock.recv(65535))
        except Exception:
            continue
        if isinstance(msg, Response):
            return msg
    return None


def _final(sock: socket.socket, timeout: float, call_id: str | None = None) -> Response | None:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return None
        data, _ = sock.recvfrom(65535)
        try:
            msg = parse_message(data)
        except Exception:
            continue
        if isinstance(msg, Response) and msg.status >= 200 and (
            call_id is None or msg.call_id.startswith(call_id)
        ):
            return msg
    return None


def _offer(rtp_port: int, *extra: str) -> bytes:
    lines = ["v=0", f"o=hostile 1 1 IN IP4 {HOST}", "s=-", f"c=IN IP4 {HOST}", "t=0 0",
             f"m=audio {rtp_port} RTP/AVP 0 {TE_PT}", "a=rtpmap:0 PCMU/8000",
             f"a=rtpmap:{TE_PT} telephone-event/8000", f"a=fmtp:{TE_PT} 0-15", *extra]
    return ("\r\n".join(lines) + "\r\n").encode()


class Call:
    """A call to 1414 placed by hand: INVITE, 200, ACK; BYE at the end."""

    def __init__(self, engine: EngineProcess, sock: socket.socket, rtp: socket.socket,
                 name: str) -> None:
        self.engine, self.sock, self.name = engine, sock, name
        self.uri = f"sip:1414@{HOST}:{engine.port}"
        self.call_id = f"{name}-{random.randrange(1 << 30)}"
        sock.sendto(_request("INVITE", self.uri, sock, self.call_id, from_user=name,
                             body=_offer(rtp.getsockname()[1])), engine.addr)
        resp = _final(sock, 10.0, self.call_id)
        self.status = resp.status if resp is not None else None
        self.media: tuple[str, int] | None = None
        self.to_tag = ""
        if resp is not None:
            sock.sendto(_ack(resp, self.uri), engine.addr)
        if resp is not None and resp.status == 200:
            answer = SessionDescription.parse(resp.body)
            conn = answer.media_connection(0)
            assert conn is not None
            self.media = (conn.address, answer.media[0].port)
            self.to_tag = (resp.headers.get("To") or "").rpartition("tag=")[2]

    def bye(self) -> int | None:
        self.sock.sendto(_request("BYE", self.uri, self.sock, self.call_id, cseq=2,
                                  to_tag=self.to_tag, from_user=self.name), self.engine.addr)
        resp = _final(self.sock, 5.0, self.call_id)
        return resp.status if resp is not None else None


def _poisons() -> list[bytes]:
    from tests.peers.test_engine_poisoned_sdp import POISONS

    return [("\r\n".join(lines) + "\r\n").encode() for lines in POISONS]


def poisoned_invites(engine: EngineProcess, count: int) -> bool:
    print(f"poisoned INVITEs ({POISONED_SDP_LINES}):", flush=True)
    poisons = _poisons()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rtp:
        sock.bind((HOST, 0))
        rtp.bind((HOST, 0))
        before = engine.udp_sockets()
        uri = f"sip:1414@{HOST}:{engine.port}"
        finals: dict[str, int] = {}
        t0 = time.monotonic()
        for start in range(0, count, BATCH):
            batch = [f"poison-{n}" for n in range(start, min(start + BATCH, count))]
            for _ in range(7):  # like Timer A: again for a datagram lost on loopback
                for cid in batch:
                    if f"{cid}@{HOST}" not in finals:
                        n = int(cid.split("-")[1])
                        sock.sendto(_request("INVITE", uri, sock, cid,
                                             body=poisons[n % len(poisons)]), engine.addr)
                while not all(f"{cid}@{HOST}" in finals for cid in batch):
                    resp = _response(sock, 0.3)
                    if resp is None:
                        break  # quiet: send the unanswered ones again
                    if resp.status >= 200:
                        sock.sendto(_ack(resp, uri), engine.addr)
                        finals.setdefault(resp.call_id, resp.status)
                else:
                    break
        took = time.monotonic() - t0
        time.sleep(0.5)
        after = engine.udp_sockets()
        leaked = (after - before) / 2  # an RTP and an RTCP socket per media port pair
        statuses = dict(sorted(Counter(finals.values()).items()))
        print(f"  sent {count:,} in {took:.1f} s; final answers {statuses}; "
              f"{count - len(finals)} unanswered")
        print(f"  engine UDP sockets before {before}, after {after}: "
              f"media ports leaked: {leaked:g}")
        call = Call(engine, sock, rtp, "after-poison")
        bye = call.bye() if call.status == 200 else None
        time.sleep(0.3)
        print(f"  then a normal call: {call.status} (BYE {bye}); UDP sockets "
              f"{engine.udp_sockets()}")
    return leaked == 0 and call.status == 200 and len(finals) == count


def _rtp(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool = False) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc) + payload


def _stored(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return list(conn.execute(sql, args))


def _call_id_of(db: Path, name: str) -> str | None:
    for call_id, data in _stored(db, "SELECT call_id, data FROM events WHERE type = "
                                      "'call.offered' ORDER BY id"):
        if f"sip:{name}@" in json.loads(str(data)).get("from", ""):
            return str(call_id)
    return None


def _dtmf(db: Path, call_id: str) -> list[str]:
    rows = _stored(db, "SELECT data FROM events WHERE type = 'dtmf' AND call_id = ? "
                       "ORDER BY id", call_id)
    return [json.loads(str(d)).get("digit", "") for (d,) in rows]


def phantom_digits(engine: EngineProcess, packets: int) -> bool:
    print(f"phantom digits: {packets:,} RTP packets, random SSRC and payload type, "
          "from the caller's own address during a call:", flush=True)
    rng = random.Random(4733)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rtp:
        sock.bind((HOST, 0))
        rtp.bind((HOST, 0))
        rtp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        name = f"phantom{rng.randrange(1 << 20)}"
        call = Call(engine, sock, rtp, name)
        if call.media is None:
            print(f"  the call was not answered ({call.status})")
            return False
        ssrc, seq, ts = 0x5EED, 1000, 160_000
        for _ in range(25):  # 0.5 s of the caller's own audio: the engine latches it
            rtp.sendto(_rtp(0, seq, ts, ssrc, b"\xff" * 160), call.media)
            seq, ts = seq + 1, ts + 160
            time.sleep(0.02)
        for i in range(packets):
            if i % 2:  # a well-formed key event: 0-9 * # A-D, end bit
                payload = bytes([rng.randrange(16), 0x8A, 0x03, 0x20])
                pt = TE_PT
            else:
                payload = rng.randbytes(rng.choice((4, 4, 20, 160)))
                pt = rng.randrange(128)
            rtp.sendto(_rtp(pt, rng.randrange(1 << 16), rng.randrange(1 << 32),
                            rng.randrange(1 << 32), payload, rng.random() < 0.5), call.media)
            if i % 50 == 49:
                # Paced like a busy line, with the caller's own audio in between.
                rtp.sendto(_rtp(0, seq, ts, ssrc, b"\xff" * 160), call.media)
                seq, ts = seq + 1, ts + 160
                time.sleep(0.01)
        time.sleep(0.5)
        call_id = _call_id_of(engine.db, name)
        phantom = _dtmf(engine.db, call_id) if call_id else []
        # The caller's own key (RFC 4733 from the latched SSRC) still counts.
        ts += 1600
        for k, duration in enumerate((400, 800, 800, 800, 800)):
            event = bytes([5, (0x80 if k >= 2 else 0) | 10]) + duration.to_bytes(2, "big")
            rtp.sendto(_rtp(TE_PT, seq, ts, ssrc, event, k == 0), call.media)
            seq += 1
            time.sleep(0.02)
        time.sleep(0.5)
        own = _dtmf(engine.db, call_id)[len(phantom):] if call_id else []
        bye = call.bye()
    keys = "".join(phantom)
    shown = keys if len(keys) <= 40 else keys[:40] + "..."
    print(f"  dtmf events stored from the garbage: {len(phantom)} {shown!r} (must be 0)")
    print(f"  the caller's own key 5 afterwards: {''.join(own) or 'not heard'!r} (BYE {bye})")
    return not phantom


#: Words (between underscores) of a config key about authentication failures.
_LIMIT_WORDS = frozenset({"auth", "guess", "guesses", "fail", "failures", "failed", "block",
                          "blocked", "ban", "bans", "lockout", "backoff", "attempts"})


def _configured_limit(path: Path) -> str:
    """What the engine's config says about authentication failures, or that it says nothing."""
    config = load_config(path)
    found: list[str] = []

    def walk(obj: object, path: str) -> None:
        if not dataclasses.is_dataclass(obj):
            return
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            name = f"{path}.{f.name}" if path else f.name
            about = bool(_LIMIT_WORDS & set(f.name.lower().split("_")))
            if dataclasses.is_dataclass(value):
                if about:
                    found.append(f"[{name}] {value}")
                else:
                    walk(value, name)
            elif about:
                found.append(f"{name} = {value!r}")

    walk(config, "")
    return "; ".join(found) if found else "no limit configured"


def register_guesses(engine: EngineProcess, seconds: float) -> None:
    print(f"REGISTER guesses: wrong passwords for {USER}, {GUESSERS} guessers, "
          f"{seconds:g} s:", flush=True)
    uri = f"sip:{HOST}:{engine.port}"
    statuses: Counter[int] = Counter()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        state: dict[str, int] = {}  # Call-ID -> CSeq of the guesser's last request
        for g in range(GUESSERS):
            cid = f"guess{g}-{random.randrange(1 << 30)}"
            state[cid] = 1
            sock.sendto(_request("REGISTER", uri, sock, cid, from_user=USER,
                                 extra="Expires: 3600\r\n"), engine.addr)
        t0 = time.monotonic()
        last = t0
        while time.monotonic() - t0 < seconds:
            resp = _response(sock, 1.0)
            if resp is None:  # a datagram lost, or the engine holds its answers: go on
                for cid in state:
                    state[cid] += 1
                    sock.sendto(_request("REGISTER", uri, sock, cid, cseq=state[cid],
                                         from_user=USER, extra="Expires: 3600\r\n"),
                                engine.addr)
                continue
            cid = resp.call_id.split("@")[0]
            if cid not in state or resp.status < 200 or resp.cseq[0] != state[cid]:
                continue
            last = time.monotonic()
            state[cid] += 1
            cseq = state[cid]
            if resp.status in (401, 407):
                challenge = resp.headers.get("WWW-Authenticate") or ""
                auth = build_authorization(challenge, method="REGISTER", uri=uri,
                                           username=USER, password="wrong-" + cid)
                sock.sendto(_request("REGISTER", uri, sock, cid, cseq=cseq, from_user=USER,
                                     extra=f"Expires: 3600\r\nAuthorization: {auth}\r\n"),
                            engine.addr)
            else:  # the answer to a guess: count it, then start the next one
                statuses[resp.status] += 1
                sock.sendto(_request("REGISTER", uri, sock, cid, cseq=cseq, from_user=USER,
                                     extra="Expires: 3600\r\n"), engine.addr)
        elapsed = max(last - t0, 1e-9)
        right = _register_once(engine, sock, PASSWORD, "3600")
        if right == 200:
            _register_once(engine, sock, PASSWORD, "0")  # unregister again
    answered = sum(statuses.values())
    checked = statuses[403]  # §22.4: a wrong password; any other answer checked nothing
    print(f"  {answered:,} wrong passwords answered in {elapsed:.1f} s "
          f"({answered / elapsed:,.0f}/s), statuses {dict(sorted(statuses.items()))}")
    print(f"  guesses checked (403): {checked:,}, {checked / elapsed:,.1f}/s")
    print(f"  the right password from the guessing address right after: {right} "
          "(200: nothing was locked, every answer above was a password check)")
    print(f"  configured limit: {_configured_limit(engine.config_path)}")


def _register_once(engine: EngineProcess, sock: socket.socket, password: str,
                   expires: str) -> int | None:
    """One REGISTER for 1001 with ``password``: the final status, or None."""
    uri = f"sip:{HOST}:{engine.port}"
    cid = f"right-{random.randrange(1 << 30)}"
    sock.sendto(_request("REGISTER", uri, sock, cid, from_user=USER,
                         extra=f"Expires: {expires}\r\n"), engine.addr)
    resp = _final(sock, 3.0, cid)
    if resp is None or resp.status not in (401, 407):
        return resp.status if resp is not None else None
    auth = build_authorization(resp.headers.get("WWW-Authenticate") or "", method="REGISTER",
                               uri=uri, username=USER, password=password)
    sock.sendto(_request("REGISTER", uri, sock, cid, cseq=2, from_user=USER,
                         extra=f"Expires: {expires}\r\nAuthorization: {auth}\r\n"),
                engine.addr)
    resp = _final(sock, 3.0, cid)
    return resp.status if resp is not None else None


def run_engine(invites: int, packets: int, guess_seconds: float) -> bool:
    ok = True
    with tempfile.TemporaryDirectory(prefix="bailanys-hostile-") as tmp:
        engine = EngineProcess(Path(tmp))
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind((HOST, 0))
                t0 = time.monotonic()
                engine.wait_ready(sock)
            print(f"engine: python -m bailanys serve on {HOST}:{engine.port} "
                  f"(ready in {time.monotonic() - t0:.1f} s)", flush=True)
            ok &= poisoned_invites(engine, invites)
            ok &= phantom_digits(engine, packets)
            register_guesses(engine, guess_seconds)
        finally:
            engine.stop()
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="fuzzing seconds per parser")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--parsers-only", action="store_true")
    ap.add_argument("--engine-only", action="store_true")
    ap.add_argument("--invites", type=int, default=2000)
    ap.add_argument("--rtp", type=int, default=5000)
    ap.add_argument("--guess-seconds", type=float, default=10.0)
    args = ap.parse_args()
    status = 0
    if not args.engine_only:
        escaped = run_parsers(args.seconds, args.seed)
        print(f"parsers: {escaped} escaped in all (must be 0)")
        status |= escaped > 0
    if not args.parsers_only:
        status |= not run_engine(args.invites, args.rtp, args.guess_seconds)
    return int(status)


if __name__ == "__main__":
    raise SystemExit(main())
