"""SIP identifiers from the pooled CSPRNG bytes (issue 20): forms, no repeats, fork."""

from __future__ import annotations

import os
import re
import uuid

from bailanys.sip import ids


def test_forms() -> None:
    assert re.fullmatch(r"z9hG4bK[0-9a-f]{16}", ids.new_branch())
    assert re.fullmatch(r"[0-9a-f]{12}", ids.new_tag())
    assert re.fullmatch(r"[0-9a-f]{20}@example\.kz", ids.new_call_id("example.kz"))
    u = ids.new_uuid_hex()
    assert len(u) == 32 and uuid.UUID(hex=u).version == 4


def test_no_byte_handed_out_twice_across_refills() -> None:
    drawn = [ids.new_tag() for _ in range(3 * ids.POOL_BYTES // 6 + 7)]  # 3+ refills
    assert len(set(drawn)) == len(drawn)
    big = ids.token_hex(ids.POOL_BYTES + 10)  # larger than a pool: one read of its own
    assert len(big) == 2 * (ids.POOL_BYTES + 10)


def test_a_forked_child_draws_other_bytes_than_its_parent() -> None:
    ids.new_tag()  # the pool holds bytes now
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write its next tag, leave at once
        os.close(r)
        os.write(w, ids.new_tag().encode())
        os._exit(0)
    os.close(w)
    child = os.read(r, 64).decode()
    os.close(r)
    os.waitpid(pid, 0)
    assert len(child) == 12 and child != ids.new_tag()
