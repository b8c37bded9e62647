"""Tests of registry/: end-of-support data, matching, the match command.

They read the offline endoflife.date snapshot beside the repository (../shared/eol-data, never
copied into the project). Without it every test that needs it fails with the reason (the
suite's rule: a test that cannot run fails, it is never skipped).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import pytest

from registry.end_of_support import Catalog, load_directory
from registry.matching import Matcher

REPO = Path(__file__).resolve().parents[2]
# REGIE_TEST_EOL_DATA points elsewhere (test_snapshot_missing.py runs the tests without it).
EOL_DATA = Path(os.environ.get("REGIE_TEST_EOL_DATA")
                or REPO / ".." / "shared" / "eol-data").resolve()
SAMPLES = EOL_DATA / "sample_inventory_cases.json"
MISSING = (f"the endoflife.date snapshot is not at {EOL_DATA} (its products/ directory and "
           f"{SAMPLES.name}); the registry tests read it, so they fail without it")

# Marks a test (or, as `pytestmark`, a module) as reading the snapshot: the fixture
# (tests/registry/conftest.py) fails it with MISSING when the snapshot is absent.
requires_snapshot = pytest.mark.usefixtures("eol_snapshot")


def snapshot_present() -> bool:
    return (EOL_DATA / "products").is_dir() and SAMPLES.is_file()


def require_snapshot() -> None:
    if not snapshot_present():
        pytest.fail(MISSING)


@functools.cache
def snapshot() -> Catalog:
    """All 464 products of the snapshot (read once per test session)."""
    require_snapshot()
    return load_directory(EOL_DATA).catalog


@functools.cache
def snapshot_matcher() -> Matcher:
    return Matcher(snapshot())


# Stands in for the sample cases at collection time when the snapshot is absent, so that
# each test parametrised with them is collected once and fails (through requires_snapshot)
# instead of being collected zero times and reported as skipped.
_NO_SAMPLES = [{"id": "eol-data-missing", "source": "", "raw": {}, "expect": None}]


def sample_cases() -> list[dict[str, Any]]:
    if not SAMPLES.is_file():
        return _NO_SAMPLES
    return json.loads(SAMPLES.read_text(encoding="utf-8"))["cases"]
