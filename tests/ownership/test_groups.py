"""Queue groups (``bailanys/ownership/groups.py``): the connected components of
"an agent qualifies for both" and "overflows into", the same on every engine."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bailanys.ownership.groups import group_of, queue_groups
from bailanys.queue.settings import AgentSettings, QueueConfig, QueueSettings, load_queue_config

ROOT = Path(__file__).resolve().parents[2]


def test_agents_and_overflows_join_queues() -> None:
    config = QueueConfig(
        {q.name: q for q in (
            QueueSettings("egov", skills=("egov",), overflow="general"),
            QueueSettings("general"),
            QueueSettings("pensions", skills=("pensions",)),
            QueueSettings("pensions_ru", skills=("pensions", "ru")),
            QueueSettings("tax", skills=("tax",)),
        )},
        {"a1": AgentSettings("a1", skills={"pensions": 5, "ru": 3}),
         "a2": AgentSettings("a2", skills={"tax": 5})},
    )
    groups = queue_groups(config)
    # "general" needs no skill: a1 and a2 qualify for it, so everything they
    # serve is one pool; egov overflows into it
    assert groups == {"egov": ("egov", "general", "pensions", "pensions_ru", "tax")}
    alone = QueueConfig({q.name: q for q in (QueueSettings("b", skills=("b",)),
                                              QueueSettings("a", skills=("a",)))},
                        {"x": AgentSettings("x", skills={"a": 1})})
    assert queue_groups(alone) == {"a": ("a",), "b": ("b",)}
    assert group_of(queue_groups(alone)) == {"a": "a", "b": "b"}


def test_the_shipped_queue_file_is_partitioned() -> None:
    config = load_queue_config(ROOT / "configs" / "queues.toml")
    groups = queue_groups(config)
    assert sorted(q for qs in groups.values() for q in qs) == sorted(config.queues)


NAMES = st.sampled_from(["a", "b", "c", "d", "e", "f"])


@given(
    queues=st.dictionaries(NAMES, st.tuples(st.sets(NAMES, max_size=2), st.none() | NAMES),
                           min_size=1),
    agents=st.lists(st.sets(NAMES, max_size=4), max_size=4),
    seed=st.integers(0, 1000),
)
def test_a_partition_closed_under_links_and_independent_of_order(
    queues: dict[str, tuple[set[str], str | None]], agents: list[set[str]], seed: int
) -> None:
    # overflows only to a later name: acyclic, as the queue file must be
    settings = [QueueSettings(name, skills=tuple(sorted(skills)),
                              overflow=over if over in queues and over > name else None)
                for name, (skills, over) in queues.items()]
    people = [AgentSettings(f"u{i}", skills=dict.fromkeys(s, 1)) for i, s in enumerate(agents)]
    config = QueueConfig({q.name: q for q in settings}, {p.user: p for p in people})
    groups = queue_groups(config)
    where = group_of(groups)
    assert sorted(where) == sorted(queues)  # every queue once
    for q in settings:
        if q.overflow is not None:
            assert where[q.name] == where[q.overflow]
    for p in people:
        served = {where[q.name] for q in settings if set(q.skills) <= p.skill_set}
        assert len(served) <= 1
    for name, members in groups.items():
        assert name == members[0] and list(members) == sorted(members)
    random.Random(seed).shuffle(settings)
    random.Random(seed).shuffle(people)
    shuffled = QueueConfig({q.name: q for q in settings}, {p.user: p for p in people})
    assert queue_groups(shuffled) == groups
