"""Flow control and keyed patches of the supervisor page (issue 21, pure):
``bailanys/console/flow.py`` and ``protocol.rendered_seq``."""

from __future__ import annotations

from typing import Any

from bailanys.console.flow import FlowOutbox, diff_keyed
from bailanys.console.protocol import error_message, rendered_seq


def agent(user: str, state: str = "available", **more: Any) -> dict[str, Any]:
    return {"user": user, "name": f"Оператор {user}", "state": state, "since": 100.0, **more}


def queue(name: str, *callers: tuple[str, float]) -> dict[str, Any]:
    return {"name": name, "agents_available": 1,
            "waiting": [{"call_id": c, "position": i + 1, "waited": w, "language": "kk"}
                        for i, (c, w) in enumerate(callers)]}


def apply(items: list[dict[str, Any]], patch: dict[str, Any]) -> list[dict[str, Any]]:
    """What the page does with a patch (static/keyed.js applyPatch)."""
    if "all" in patch:
        return list(patch["all"])
    key = patch["key"]
    by_key = {i[key]: i for i in items}
    for k in patch["remove"]:
        by_key.pop(k, None)
    order = patch.get("order", [i[key] for i in items])
    for item in patch["set"]:
        by_key[item[key]] = item
    return [by_key[k] for k in order if k in by_key]


def test_a_keyed_diff_sends_what_changed_and_the_order_only_when_it_moved() -> None:
    before = [agent("1001"), agent("1002"), agent("1003")]
    _, sent = diff_keyed({}, before, "user", 10.0)
    after = [agent("1001"), agent("1002", "on_call"), agent("1003")]
    patch, sent = diff_keyed(sent, after, "user", 11.0)
    assert patch == {"key": "user", "set": [agent("1002", "on_call")], "remove": []}
    assert diff_keyed(sent, after, "user", 12.0)[0] is None  # nothing changed: nothing sent

    moved = [agent("1004"), agent("1001"), agent("1003")]
    patch, sent = diff_keyed(sent, moved, "user", 13.0)
    assert patch is not None
    assert patch["set"] == [agent("1004")] and patch["remove"] == ["1002"]
    assert patch["order"] == ["1004", "1001", "1003"]
    assert apply(after, patch) == moved


def test_a_part_without_keys_goes_whole() -> None:
    patch, sent = diff_keyed({}, [{"name": "no user"}], "user", 1.0)
    assert patch == {"key": "user", "all": [{"name": "no user"}]} and sent == {}
    patch, _ = diff_keyed({}, [agent("1"), agent("1")], "user", 1.0)  # a duplicate key
    assert patch is not None and "all" in patch
    assert diff_keyed({}, None, "user", 1.0)[0] == {"key": "user", "all": None}


def test_a_queue_whose_callers_only_waited_longer_is_unchanged() -> None:
    box = FlowOutbox({"queues": [queue("q1", ("c1", 5.0)), queue("q2", ("c2", 1.0))]}, 100.0)
    box.acknowledge(0)
    # 2 s later: the same callers, each waited 2 s more (0.05 s of rounding)
    box.merge({"queues": [queue("q1", ("c1", 7.05)), queue("q2", ("c2", 3.0))]}, 102.0)
    assert box.take(102.0) == []  # nothing to draw: no delta, no seq spent
    assert box.seq == 0 and not box.in_flight
    # a caller joins q2: only q2 goes
    box.merge({"queues": [queue("q1", ("c1", 8.0)), queue("q2", ("c2", 4.0), ("c3", 0.0))]},
              103.0)
    [delta] = box.take(103.0)
    assert delta["seq"] == 1 and delta["data"] == {}
    assert delta["patch"]["queues"]["set"] == [queue("q2", ("c2", 4.0), ("c3", 0.0))]
    # held 1.5 s for the page's ack: the waits are as of the delta's `now`
    box.merge({"queues": [queue("q1", ("c1", 8.5)), queue("q2", ("c2", 4.0))]}, 103.5)
    box.acknowledge(1)
    [delta] = box.take(105.0)
    assert delta["patch"]["queues"]["set"] == [queue("q2", ("c2", 5.5))]
    # a wait restarted (another caller with the same id would be new anyway)
    box.acknowledge(2)
    box.merge({"queues": [queue("q1", ("c1", 0.0)), queue("q2", ("c2", 6.0))]}, 105.5)
    [delta] = box.take(105.5)
    assert [q["name"] for q in delta["patch"]["queues"]["set"]] == ["q1"]


def test_one_delta_in_flight_and_changes_coalesce_until_the_ack() -> None:
    agents = [agent(str(1000 + i)) for i in range(5)]
    box = FlowOutbox({"agents": agents, "kpis": {}}, 1.0)
    assert box.in_flight  # the snapshot (seq 0) is not drawn yet
    box.merge({"agents": [dict(agents[0], state="break")] + agents[1:], "kpis": {"a": 1}}, 2.0)
    box.add_reply(error_message(7, "forbidden", "no"))
    # only the reply goes while the snapshot is in flight
    assert [m["type"] for m in box.take(2.0)] == ["error"]
    # more changes meanwhile: the latest of each part wins, each changed agent once
    box.merge({"agents": [dict(agents[0], state="on_call"), dict(agents[1], state="break")]
               + agents[2:], "kpis": {"a": 2}}, 3.0)
    box.merge({"kpis": {"a": 3}}, 3.5)
    assert box.acknowledge(0) is True  # something waits: the sender may go
    [delta] = box.take(4.0)
    assert delta["type"] == "delta" and delta["seq"] == 1 and delta["now"] == 4.0
    assert delta["data"] == {"kpis": {"a": 3}}
    assert delta["patch"]["agents"] == {
        "key": "user", "remove": [],
        "set": [dict(agents[0], state="on_call"), dict(agents[1], state="break")]}
    # in flight again until the page draws seq 1; an old ack does not release it
    box.merge({"kpis": {"a": 4}}, 5.0)
    assert box.acknowledge(0) is False and box.take(5.0) == []
    assert box.acknowledge(7) is True  # a seq never sent counts as the last one
    assert box.acked == 1
    [delta] = box.take(6.0)
    assert delta["seq"] == 2 and delta["data"] == {"kpis": {"a": 4}} and "patch" not in delta


def test_rendered_messages_are_recognised_and_nothing_else() -> None:
    assert rendered_seq('{"type": "rendered", "seq": 12}') == 12
    assert rendered_seq('{"type":"rendered","seq":0}') == 0
    for other in ('{"type": "rendered", "seq": -1}', '{"type": "rendered", "seq": "1"}',
                  '{"type": "rendered", "seq": true}', '{"type": "rendered"}',
                  '{"type": "rendered", "seq": 1, "x": 2}', '["rendered"]', "rendered",
                  '{"type": "action", "id": 1, "action": {"name": "rendered"}}', b"{}"):
        assert rendered_seq(other) is None, other
