"""A person's name in a request body (`actor`, `assignee`, `reporter`): the one rule of
collector/auth.py `person_name`, refused as a BadPayload naming the field."""

from __future__ import annotations

from typing import Any

from collector.auth import person_name
from collector.payloads.fields import BadPayload, string

MAX_LENGTH = 200


def person(value: Any, path: str, *, required: bool = True) -> str | None:
    """The name, or None when optional and absent (null or blank, as every text field)."""
    text = string(value, path, max_length=MAX_LENGTH, required=required)
    if text is not None:
        try:
            person_name(text)
        except ValueError as exc:
            raise BadPayload(f"{path}: {exc}") from None
    return text
