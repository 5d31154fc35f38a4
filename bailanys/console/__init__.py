"""The supervisors' console: the engine API it talks to (``api.py``), its websocket
protocol (``PROTOCOL.md``), logins and the page (see ``docs/architecture.md``)."""
