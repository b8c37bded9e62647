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


def string_bound(*texts: Mapping[str, str] | str) -> int:
    """An upper bound on the serialised bytes of these string maps and strings: at most 6
    bytes a character (a \\u escape) and 6 for quotes, colon and comma, plus room for the
    details' own keys and numbers."""
    chars = items = 0
    for text in texts:
        if isinstance(text, str):
            chars, items = chars + len(text), items + 1
        else:
            chars += sum(map(len, text)) + sum(map(len, text.values()))
            items += len(text)
    return 6 * chars + 6 * items + 256


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def capped(details: Mapping[str, Any], *, limit: int = MAX_DETAILS_BYTES,
           strings: int | None = None) -> dict[str, Any]:
    """`details` itself when it fits in `limit` bytes, else its entries that fit and a marker.

    `strings`, when the caller knows it: how many strings (keys and values) the details hold
    and their characters, as (count, characters) summed into one bound by `string_bound`.
    Serialising costs more than parsing an alert did, so details whose bound fits are kept
    without it."""
    if strings is not None and strings <= limit:
        return dict(details)
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
