"""YAML that people write: the rules, the on-call schedules, the escalation policies, the
registry's imports. One loader, so that each refuses the same documents with a line number
instead of a traceback.

PyYAML builds some values in Python and lets their errors through: an impossible date
(`start: 2024-02-30`, ValueError), a time that leaves the calendar once shifted to UTC
(`9999-12-31T23:59:59-05:00`, OverflowError), an integer of more than 4,300 digits (int()'s
ValueError); and a document nested a few hundred levels deep exhausts the recursion limit
(RecursionError). Here each is a `yaml.YAMLError` with the place it was found. A key given
twice in one mapping is one too: the second would silently win.
Only the collector's commands import this (PyYAML is not the agent's dependency).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import ConstructorError


class DocumentLoader(yaml.SafeLoader):
    """SafeLoader whose values fail as YAML errors, and that refuses a key given twice."""


def _guarded(build: Callable[[yaml.SafeLoader, yaml.Node], Any], what: str
             ) -> Callable[[yaml.SafeLoader, yaml.Node], Any]:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        try:
            return build(loader, node)
        except (ValueError, OverflowError) as exc:
            shown = str(node.value)[:40] + ("..." if len(str(node.value)) > 40 else "")
            raise ConstructorError(None, None, f"{shown!r} is not a usable {what} ({exc})",
                                   node.start_mark) from None
    return construct


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        line = key_node.start_mark.line + 1
        if isinstance(key, str) and key in seen:
            raise ConstructorError(None, None, f"key {key!r} given twice (first on line "
                                               f"{seen[key]})", key_node.start_mark)
        if isinstance(key, str):
            seen[key] = line
    return loader.construct_mapping(node)


DocumentLoader.add_constructor(
    "tag:yaml.org,2002:int", _guarded(yaml.SafeLoader.construct_yaml_int, "integer"))
DocumentLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _guarded(yaml.SafeLoader.construct_yaml_timestamp,
                                            "date or time"))
DocumentLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(text: str, loader: type[DocumentLoader] = DocumentLoader) -> Any:
    """The document in `text`; yaml.YAMLError saying why not (and where, when it can)."""
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise yaml.YAMLError("nested too deeply (a few hundred levels at most)") from None
