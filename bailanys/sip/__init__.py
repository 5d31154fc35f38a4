"""SIP, sans-IO: messages, transactions and their timers (RFC 3261 §17), dialogs,
digest auth, SDP offer/answer; ``transport.py`` is the asyncio UDP/TCP adapter
(see ``docs/architecture.md``)."""
