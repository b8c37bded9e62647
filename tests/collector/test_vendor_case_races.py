"""Vendor cases written by several people at once, against the real collector process on
SQLite and PostgreSQL: each request's answer is what it would be alone.

Found by sending the API's vendor-case requests eight at a time:
- on PostgreSQL a note or update of a case another request was updating at that moment was
  404 'no such vendor case' (the case's row was read FOR UPDATE SKIP LOCKED, as the reminder
  sweep reads it, so a locked case looked missing); SQLite, one writer at a time, took them;
- two requests opening the same vendor case number at once: on PostgreSQL the second was a
  500 (the unique index refused its insert after its check found no case), 409 on SQLite.
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


def test_concurrent_opens_of_one_case_number_open_one_case(collector):
    def open_case(i: int):
        return collector.call("POST", "/api/v1/vendor-cases",
                              {"vendor": "Acme", "case_number": "SAME", "summary": f"disk {i}"},
                              token="responder")

    with ThreadPoolExecutor(N) as pool:
        answers = list(pool.map(open_case, range(N)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (N - 1), answers
    (created,) = [body for status, body in answers if status == 201]
    for status, body in answers:
        if status == 409:
            assert body == {"error": f"case_number: Acme case SAME is already case "
                                     f"#{created['id']}", "case_id": created["id"]}
    status, listed = collector.call("GET", "/api/v1/vendor-cases?case_number=SAME",
                                    token="viewer")
    assert status == 200 and [c["id"] for c in listed["cases"]] == [created["id"]], listed
