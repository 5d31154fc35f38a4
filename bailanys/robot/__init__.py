"""The voice robot: FAQ and matcher, the assistant's conversation, the five
self-services, one-time codes, back ends, the SMS outbox (see
``docs/architecture.md``)."""
