"""The central service: ingestion, the ticket queue, background loops (docs/architecture.md)."""
