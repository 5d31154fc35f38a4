"""The ACD core, pure: queues, agents and their states, routing, the expected-wait
estimator, the queue_log export.  It decides, the engine bridges (see
``docs/architecture.md``)."""
