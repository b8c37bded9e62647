"""Grafana dashboards generated from the metric catalog (docs/architecture.md)."""
