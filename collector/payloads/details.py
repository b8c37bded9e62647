"""A signal's details kept within a bound before they are stored with its ticket.

Details (Alertmanager labels and annotations, an event's `custom_details`) are stored with the
ticket and shown with it. A sender may put megabytes there; kept whole, one such ticket would
weigh on every read of the queue. Details over `MAX_DETAILS_BYTES` (serialised as compact
UTF-8 JSON) keep their smaller top-level entries whole (labels, severity, links: what
correlation and people need) and lose the largest, named in a marker with a preview:

    {"labels": {...}, "_truncated": true, "original_bytes": 8388657,
     "limit_bytes": 65536, "omitted": ["custom_details"], "preview": "{\"custom_details\": ..."}

Pure: a mapping in, a mapping out. docs/api.md documents the limit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MAX_DETAILS_BYTES = 64 * 1024
# Characters of the omitted entries' JSON kept for people to see what was cut.
PREVIEW_CHARS = 2048
# Room left for the marker's own keys (numbers and the omitted keys' names).
_MARKER_BYTES = 1024


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def capped(details: Mapping[str, Any], *, limit: int = MAX_DETAILS_BYTES) -> dict[str, Any]:
    """`details` itself when it fits in `limit` bytes, else its entries that fit and a marker."""
    size = _size(details)
    if size <= limit:
        return dict(details)
    # A preview may take up to 4 bytes a character in UTF-8.
    budget = limit - 4 * PREVIEW_CHARS - _MARKER_BYTES
    kept: set[str] = set()
    for cost, key in sorted((_size({key: value}), key) for key, value in details.items()):
        if cost > budget:
            break
        kept.add(key)
        budget -= cost
    omitted = [key for key in details if key not in kept]
    preview = json.dumps({key: details[key] for key in omitted}, ensure_ascii=False)
    return {**{key: value for key, value in details.items() if key in kept},
            "_truncated": True, "original_bytes": size, "limit_bytes": limit,
            "omitted": [key[:200] for key in omitted], "preview": preview[:PREVIEW_CHARS]}
