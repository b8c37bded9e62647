"""Process counting from a /proc tree: the parser on hand-made stat files, then on real /proc."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from agent.collectors.processes import count_processes


def make_proc(tmp_path, stats: dict[str, str]):
    for pid, stat in stats.items():
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "stat").write_text(stat)
    (tmp_path / "self").mkdir()  # non-numeric entries are ignored
    (tmp_path / "sys").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("comm", "state", "threads"),
    [
        ("bash", "S", 1),
        ("tmux: server", "R", 1),          # a space in the name
        ("weird) (name", "Z", 1),          # parentheses in the name
        ("java", "D", 57),
        ("kworker/0:1-events", "I", 1),
    ],
)
def test_parses_state_and_threads(tmp_path, comm, state, threads):
    fields = [state, "1", "1", "1", "0", "-1", "4194560"] + ["0"] * 12
    fields[17] = str(threads)  # field 20 of stat (num_threads) is the 18th after the state
    proc = make_proc(tmp_path, {"42": f"42 ({comm}) " + " ".join(fields) + " 0 0\n"})
    states, total_threads = count_processes(proc)
    names = {"S": "sleeping", "R": "running", "Z": "zombie", "D": "disk_sleep", "I": "idle"}
    assert states[names[state]] == 1
    assert sum(states.values()) == 1
    assert total_threads == threads


def test_vanished_process_is_skipped(tmp_path):
    proc = make_proc(tmp_path, {"7": "7 (a) S " + " ".join(["0"] * 16) + " 3 0\n"})
    (tmp_path / "8").mkdir()  # no stat file: the process exited mid-walk
    states, threads = count_processes(proc)
    assert sum(states.values()) == 1
    assert threads == 3


def test_real_proc_agrees_with_psutil():
    """On this machine's /proc: our count brackets psutil's and our own threads are counted."""
    before = len(psutil.pids())
    states, threads = count_processes(Path("/proc"))
    after = len(psutil.pids())
    total = sum(states.values())
    assert min(before, after) - 5 <= total <= max(before, after) + 5
    assert threads >= total
    assert states["running"] >= 1  # this test is running
    assert os.getpid() in psutil.pids()
