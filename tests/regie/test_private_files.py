"""regie/private_files.py: the one check of a secret file's mode, for every role (real files,
real modes; the group case needs this process to own the file, which it does)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from regie.private_files import exposure


@pytest.mark.parametrize(("mode", "who"), [
    (0o644, "every user"), (0o604, "every user"), (0o640, "its group"), (0o440, "its group"),
    (0o600, None), (0o400, None), (0o700, None), (0o200, None),
])
def test_exposure_by_mode(tmp_path: Path, mode: int, who: str | None):
    secret = tmp_path / "the key"
    secret.write_text("s3cret\n")
    secret.chmod(mode)
    expected = (None if who is None else
                f"{str(secret)!r} is readable by {who} (mode {mode:04o}): chmod 600 {secret}")
    assert exposure(secret) == expected


def test_a_missing_file_is_left_to_whoever_reads_it(tmp_path: Path):
    assert exposure(tmp_path / "absent") is None


def test_the_message_never_holds_the_secret(tmp_path: Path):
    secret = tmp_path / "token"
    secret.write_text("do-not-print-me\n")
    secret.chmod(0o644)
    assert "do-not-print-me" not in (exposure(secret) or "")
    assert os.geteuid() == secret.stat().st_uid  # the group case above relies on it


def test_the_agent_side_needs_only_the_standard_library():
    import subprocess
    import sys

    code = ("import sys, regie.private_files; "
            "print(sorted(m for m in ('alerting', 'collector', 'aiohttp', 'sqlalchemy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
