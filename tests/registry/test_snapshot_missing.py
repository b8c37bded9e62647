"""Without the endoflife.date snapshot the registry tests fail with the reason, never skip.

Runs pytest on two of the modules that read the snapshot, in a child process pointed at an
empty directory (REGIE_TEST_EOL_DATA), and reads its outcome line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.registry import REPO


def test_a_missing_snapshot_fails_every_test_that_reads_it(tmp_path: Path) -> None:
    empty = tmp_path / "no-eol-data"
    empty.mkdir()
    env = {**os.environ, "REGIE_TEST_EOL_DATA": str(empty)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs",
         "tests/registry/test_matching.py", "tests/registry/test_end_of_support.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    summary = output.strip().splitlines()[-1]
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}
    assert result.returncode == 1, output[-3000:]
    assert not {"skipped", "deselected", "xfailed"} & set(counts), summary
    # Every snapshot test errors at setup (515 of them); the tests of pure logic in the same
    # modules pass.
    assert counts.get("errors", counts.get("error", 0)) >= 500, summary
    assert counts.get("passed", 0) > 0, summary
    assert f"the endoflife.date snapshot is not at {empty}" in output
