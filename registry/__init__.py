"""End-of-support matching, hardware lifecycle and contracts (docs/architecture.md)."""
