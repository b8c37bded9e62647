"""docs/oncall.md "Notifications" stays true to the code: keys and the JSON shape."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from alerting.notify.channels import CHANNELS
from tests.alerting.notify.peers import notification

DOC = Path(__file__).resolve().parents[3] / "docs" / "oncall.md"


def section() -> str:
    text = DOC.read_text()
    start = text.index("\n## Notifications\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end == -1 else text[start:end]


@pytest.mark.parametrize("kind", sorted(CHANNELS))
def test_every_channel_key_is_documented(kind):
    text = section()
    assert f"`{kind}`" in text
    for f in dataclasses.fields(CHANNELS[kind].settings):
        if f.metadata.get("internal"):
            continue
        assert f"`{f.name}`" in text, f"{kind}.{f.name} is not documented"


def test_the_documented_json_has_the_keys_of_to_json():
    block = re.search(r"```json\n(.*?)```", section(), flags=re.DOTALL)
    assert block is not None
    documented = json.loads(block.group(1).replace("…", ""))
    real = {**notification().to_json(), "delivery_id": "x"}
    assert set(documented) == set(real)
    assert set(documented["links"]) == set(real["links"])
    assert documented["version"] == 1
