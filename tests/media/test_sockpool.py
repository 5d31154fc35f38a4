"""The socket pool: pairs bound ahead, refilled in the background, exhaustion, close."""

from __future__ import annotations

import asyncio
import socket

import pytest

from bailanys.errors import MediaError
from bailanys.media.hub import MediaHub
from bailanys.media.sockpool import SocketPool, bind_udp


def free_range(pairs: int) -> tuple[int, int]:
    """An even port range of ``pairs`` RTP/RTCP pairs that nothing holds now."""
    for base in range(41000, 60000, 2 * pairs + 2):
        socks = []
        try:
            for port in range(base, base + 2 * pairs):
                socks.append(bind_udp("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return base, base + 2 * pairs
    raise RuntimeError("no free port range")


async def settle(pool: SocketPool, ready: int) -> None:
    for _ in range(200):
        if pool.ready >= ready:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"pool has {pool.ready} ready pairs, expected {ready}")


def test_take_refill_release_stop() -> None:
    async def main() -> None:
        lo, hi = free_range(6)
        pool = SocketPool("127.0.0.1", (lo, hi), size=3, batch=2)
        pool.start()
        await settle(pool, 3)
        assert pool.bound_ahead == 3 and pool.free == 3
        pair = await pool.take()
        assert pair.port == lo and pool.bound_inline == 0
        assert pair.rtp.getsockname()[1] == lo
        assert pair.rtcp.getsockname()[1] == lo + 1
        # Bound and working: a packet to the RTCP port before a session is attached is dropped.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.sendto(b"\x80\xc8\x00\x01", ("127.0.0.1", lo + 1))
            peer.sendto(b"rtp", ("127.0.0.1", lo))
            await asyncio.sleep(0.01)
        assert pair.rtp.recv(100) == b"rtp"
        await settle(pool, 3)  # refilled from the next free port
        assert pool.bound_ahead == 4 and pool.free == 2
        pair.close()
        pool.release(pair.port)
        assert pool.free == 3
        # The released port goes to the back: the pool does not bind it next.
        taken = [await pool.take() for _ in range(3)]
        assert lo not in {p.port for p in taken}
        await pool.stop()
        assert pool.ready == 0
        for p in taken:
            p.close()
            pool.release(p.port)
        await asyncio.sleep(0)  # transports close on the next loop iteration
        for port in range(lo, hi):  # every socket closed
            bind_udp("127.0.0.1", port).close()

    asyncio.run(main())


def test_exhaustion_and_busy_ports() -> None:
    async def main() -> None:
        lo, hi = free_range(3)
        busy = bind_udp("127.0.0.1", lo + 3)  # the second pair's RTCP port is someone else's
        try:
            pool = SocketPool("127.0.0.1", (lo, hi), size=0)  # no refill: take() binds inline
            a = await pool.take()
            b = await pool.take()
            assert {a.port, b.port} == {lo, lo + 4} and pool.bound_inline == 2
            with pytest.raises(MediaError, match="no free RTP port"):
                await pool.take()
            a.close()
            pool.release(a.port)
            await asyncio.sleep(0)  # the RTCP transport closes on the next iteration
            c = await pool.take()
            assert c.port == lo
            c.close()
            b.close()
        finally:
            busy.close()

    asyncio.run(main())


def test_hub_uses_ready_pairs_and_frees_ports() -> None:
    async def main() -> None:
        lo, hi = free_range(4)
        hub = MediaHub("127.0.0.1", (lo, hi), pool_size=2)
        await hub.start()
        try:
            await settle(hub.pool, 2)
            sessions = [await hub.open_session() for _ in range(4)]
            assert hub.pool.bound_ahead >= 2
            assert sorted(s.port for s in sessions) == list(range(lo, hi, 2))
            assert all(s.rtcp_sock is not None for s in sessions)
            with pytest.raises(MediaError, match="no free RTP port"):
                await hub.open_session()
            hub.close_session(sessions[0])
            await asyncio.sleep(0)
            again = await hub.open_session()
            assert again.port == sessions[0].port and again.rtcp_sock is not None
        finally:
            await hub.stop()
        await asyncio.sleep(0)
        for port in range(lo, hi):
            bind_udp("127.0.0.1", port).close()

    asyncio.run(main())


def test_sender_state_random_per_leg() -> None:
    from bailanys.media.session import RtpSession
    legs = [RtpSession(40000 + 2 * i, i) for i in range(200)]  # over three reads of the source
    assert len({leg.ssrc for leg in legs}) == 200
    assert len({leg.core.tx_state(leg.slot) for leg in legs}) == 200
