"""IVR flows as data: model, YAML loader and checks, the node-kind registry
(``kinds.py``), the pure runner, its session adapter, the test harness and
drawing (see ``docs/architecture.md``)."""
