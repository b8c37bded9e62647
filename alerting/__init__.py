"""On-call domain: priority, fingerprints, schedules, escalation (docs/architecture.md)."""
