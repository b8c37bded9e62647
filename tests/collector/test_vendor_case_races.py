"""Vendor cases written by several people at once, against the real collector process on
SQLite and PostgreSQL: each request's answer is what it would be alone.

Found by sending the API's vendor-case requests eight at a time:
- on PostgreSQL a note or update of a case another request was updating at that moment was
  404 'no such vendor case' (the case's row was read FOR UPDATE SKIP LOCKED, as the reminder
  sweep reads it, so a locked case looked missing); SQLite, one writer at a time, took them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

N = 24


def test_concurrent_notes_on_one_case_are_all_taken(collector):
    status, case = collector.call("POST", "/api/v1/vendor-cases",
                                  {"vendor": "Acme", "case_number": "C-1", "summary": "fan"},
                                  token="responder")
    assert status == 201, case

    def note(i: int):
        return collector.call("POST", f"/api/v1/vendor-cases/{case['id']}/note",
                              {"text": f"note {i}"}, token="responder")

    with ThreadPoolExecutor(N) as pool:
        answers = list(pool.map(note, range(N)))
    assert [status for status, _ in answers] == [200] * N, answers
    status, shown = collector.call("GET", f"/api/v1/vendor-cases/{case['id']}", token="viewer")
    notes = {e["message"] for e in shown["timeline"] if e["kind"] == "note"}
    assert notes == {f"note {i}" for i in range(N)}

