"""Schemathesis hooks for tests/collector/test_openapi.py (loaded through SCHEMATHESIS_HOOKS).

One rule of the API cannot be written in OpenAPI: an inventory push's `Idempotency-Key`
header, when sent, must equal the body's `idempotency_key` (collector/payloads/inventory.py;
the document says so in words). For requests generated as valid, the header is made equal, so
that they are valid by that rule too; requests generated as invalid are sent as generated.
"""

from __future__ import annotations

import re

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    if case.operation.path != "/api/v1/inventory" or not isinstance(case.body, dict):
        return
    meta = case.meta
    if meta is not None and not meta.generation.mode.is_positive:
        return
    key = case.body.get("idempotency_key")
    if not case.headers or "Idempotency-Key" not in case.headers:
        return
    # Schemathesis revalidates an edited case. A key a header cannot carry (not visible
    # ASCII) is sent in the body alone, as the header is optional.
    if isinstance(key, str) and re.fullmatch(r"[!-~]([ -~]*[!-~])?", key):
        case.headers["Idempotency-Key"] = key
    else:
        del case.headers["Idempotency-Key"]
