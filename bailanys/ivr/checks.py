"""Whole-graph checks of a flow: references, reachability, loops with no input.

Each node's edges carry ``needs_input``: a menu option is taken only when
the caller pressed or said something, while a ``say`` moves on by itself
and a menu's ``fallback`` is reached by silence alone.  A cycle made only of
edges that need no input would keep a silent caller (or a dead line) in the
flow forever, so it is an error; cycles through an input edge ("press 0 to
hear the menu again") are fine.
"""

from __future__ import annotations

from bailanys.ivr.kinds import kind_of
from bailanys.ivr.model import Flow, Goto, Node
from bailanys.yamlsrc import Path_


def check_graph(flow: Flow, node_paths: dict[str, Path_]) -> list[tuple[Path_, str]]:
    """Problems as (path, message); ``node_paths`` maps node ids to their path in the file."""
    problems: list[tuple[Path_, str]] = []
    nodes = flow.nodes
    if flow.start and flow.start not in nodes and flow.start in node_paths:
        pass  # the start node itself is broken: reported where it is
    elif flow.start and flow.start not in nodes:
        problems.append((("start",), f"unknown node {flow.start!r}"))
    for node_id, node in nodes.items():
        path = node_paths.get(node_id, ("nodes", node_id))
        for i, (label, target, _) in enumerate(node.edges()):
            if target and target not in nodes and target not in node_paths:
                problems.append((path + _edge_field(node, i, label),
                                 f"unknown node {target!r}"))
            if isinstance(node, Goto) and target == node_id:
                problems.append((path, "goes to itself"))
    reachable = _reachable(flow)
    for node_id in nodes:
        if node_id not in reachable and flow.start in nodes:
            problems.append((node_paths.get(node_id, ("nodes", node_id)),
                             f"unreachable from the start node {flow.start!r}"))
    for cycle in _silent_cycles(flow):
        first = cycle[0]
        shown = " -> ".join([*cycle, first])
        problems.append((node_paths.get(first, ("nodes", first)),
                         f"a loop with no input: {shown} (a silent caller would never leave; "
                         "end it with a hangup, or make a step wait for a key)"))
    for node_id in reachable:
        found = nodes.get(node_id)
        if found is not None and not found.edges() and not _may_end(found):
            problems.append((node_paths.get(node_id, ("nodes", node_id)), "a dead end"))
    return problems


def _edge_field(node: Node, index: int, label: str) -> Path_:
    """Where edge ``index`` of ``node`` is written in the file."""
    kind = kind_of(node)
    return (kind.edge_field(node, index) if kind is not None else None) or (label,)


def _may_end(node: Node) -> bool:
    """A node with no way out is fine when its kind ends the flow (hang-up, hand-over)."""
    kind = kind_of(node)
    return kind is not None and kind.may_end


def _reachable(flow: Flow) -> set[str]:
    seen: set[str] = set()
    stack = [flow.start] if flow.start in flow.nodes else []
    while stack:
        node_id = stack.pop()
        if node_id in seen or node_id not in flow.nodes:
            continue
        seen.add(node_id)
        stack.extend(t for _, t, _ in flow.nodes[node_id].edges())
    return seen


def _silent_cycles(flow: Flow) -> list[list[str]]:
    """One cycle per strongly connected group of no-input edges (Tarjan's algorithm)."""
    graph: dict[str, list[str]] = {
        node_id: [t for _, t, needs in node.edges() if not needs and t in flow.nodes]
        for node_id, node in flow.nodes.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0

    def visit(root: str) -> None:
        nonlocal counter
        work: list[tuple[str, int]] = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, i = work[-1]
            succ = graph[v]
            if i < len(succ):
                work[-1] = (v, i + 1)
                w = succ[i]
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == index[v]:
                group: list[str] = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    group.append(w)
                    if w == v:
                        break
                if len(group) > 1 or v in graph[v]:
                    groups.append(group)

    for node_id in graph:
        if node_id not in index:
            visit(node_id)
    return [_cycle_in(graph, set(g), min(g)) for g in groups]


def _cycle_in(graph: dict[str, list[str]], group: set[str], start: str) -> list[str]:
    """The shortest cycle through ``start`` inside ``group`` (for the message)."""
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt_frontier: list[str] = []
        for node in frontier:
            for t in graph[node]:
                if t not in group:
                    continue
                if t == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return list(reversed(path))
                if t not in parent:
                    parent[t] = node
                    nxt_frontier.append(t)
        frontier = nxt_frontier
    return [start]
