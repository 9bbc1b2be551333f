"""The running side: the pipeline wiring, the daemon, replay, and what they report
(status snapshot, metrics)."""
