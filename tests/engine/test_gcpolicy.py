"""The engine's GC policy: frozen start-up objects, no automatic full passes, timed ones."""

from __future__ import annotations

import asyncio
import gc

from bailanys.engine.gcpolicy import SERVING_THRESHOLDS, GcPolicy


async def test_serving_thresholds_freeze_and_restore() -> None:
    before = gc.get_threshold()
    policy = GcPolicy(interval=3600)
    policy.start()
    try:
        assert gc.get_threshold() == SERVING_THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        policy.stop()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


async def test_periodic_full_collection_reclaims_cycles() -> None:
    policy = GcPolicy(interval=0.02)
    policy.start()
    try:
        class Node:
            other: object = None

        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector can free it
        del a, b
        for _ in range(100):
            if policy.collections >= 2:
                break
            await asyncio.sleep(0.01)
        assert policy.collections >= 2
        assert policy.last_pause >= 0.0
    finally:
        policy.stop()
