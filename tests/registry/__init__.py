"""Tests of registry/: end-of-support data, matching, the match command.

They read the offline endoflife.date snapshot beside the repository (../shared/eol-data, never
copied into the project); without it they are skipped with the reason.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from registry.end_of_support import Catalog, load_directory
from registry.matching import Matcher

REPO = Path(__file__).resolve().parents[2]
EOL_DATA = (REPO / ".." / "shared" / "eol-data").resolve()
SAMPLES = EOL_DATA / "sample_inventory_cases.json"

requires_snapshot = pytest.mark.skipif(
    not (EOL_DATA / "products").is_dir(),
    reason=f"the endoflife.date snapshot is not at {EOL_DATA}")


@functools.cache
def snapshot() -> Catalog:
    """All 464 products of the snapshot (read once per test session)."""
    return load_directory(EOL_DATA).catalog


@functools.cache
def snapshot_matcher() -> Matcher:
    return Matcher(snapshot())


def sample_cases() -> list[dict[str, Any]]:
    if not SAMPLES.is_file():
        return []
    return json.loads(SAMPLES.read_text(encoding="utf-8"))["cases"]
