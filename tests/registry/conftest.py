"""The snapshot check behind tests.registry.requires_snapshot."""

from __future__ import annotations

import pytest

from tests.registry import require_snapshot


@pytest.fixture
def eol_snapshot() -> None:
    """Fails the test, with where the snapshot was looked for, when it is absent."""
    require_snapshot()
