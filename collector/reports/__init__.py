"""Reports for people: the quarterly governance review (docs/reports.md)."""
