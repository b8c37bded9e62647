"""Tests for alerting/notify: channels against real receivers, SSRF checks, action links."""
