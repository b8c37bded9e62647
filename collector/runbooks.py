"""The bundled runbooks: one Markdown page per default rule, read from the installed package.

The pages are written in docs/runbooks/ (their one source); `collector/data/runbooks` is a
symbolic link to that directory, which the wheel build follows, so an installed collector
carries them as package data (pyproject.toml). `Runbooks.bundled()` reads them once; the
collector serves them at /runbooks/ (collector/handlers/runbooks.py) and a rule without a
runbook link of its own points there (alerting/rules.py `with_runbook_links`).
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from alerting.rules import Rule, with_runbook_links

# Where the pages are served, on the collector's public address (oncall.public_url).
PATH = "/runbooks/"
_PACKAGE_DIR = "data/runbooks"
# A page is named after its rule (alerting/rules.py: a rule name is a word of these).
NAME = r"[A-Za-z][A-Za-z0-9_]{0,199}"
_NAME = re.compile(NAME)
INDEX_PAGE = "README"


@dataclass(frozen=True, slots=True)
class Runbook:
    name: str
    markdown: str

    @property
    def summary(self) -> str:
        """The first sentence of "What it means" (else of the first paragraph)."""
        text = self.markdown.split("## What it means", 1)[-1]
        paragraph = next((block for block in text.split("\n\n")
                          if block.strip() and not block.lstrip().startswith(("#", "```"))),
                         "")
        flat = " ".join(paragraph.split())
        sentence = re.match(r"(.+?[.!?])(\s|$)", flat)
        return sentence.group(1) if sentence else flat


@dataclass(frozen=True, slots=True)
class Runbooks:
    pages: Mapping[str, Runbook]
    intro: str = ""

    @classmethod
    def bundled(cls) -> Runbooks:
        directory = importlib.resources.files("collector").joinpath(_PACKAGE_DIR)
        pages: dict[str, Runbook] = {}
        intro = ""
        for entry in directory.iterdir():
            stem, dot, suffix = entry.name.rpartition(".")
            if not dot or suffix != "md" or not entry.is_file():
                continue
            text = entry.read_text(encoding="utf-8")
            if stem == INDEX_PAGE:
                intro = text
            elif _NAME.fullmatch(stem):
                pages[stem] = Runbook(stem, text)
        return cls(MappingProxyType(dict(sorted(pages.items()))), intro)

    def get(self, name: str) -> Runbook | None:
        return self.pages.get(name)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.pages)


def url(base_url: str, name: str) -> str:
    """A rule's runbook on the collector at `base_url` ("" gives the path alone)."""
    return f"{base_url.rstrip('/')}{PATH}{name}"


def linked(rules: Iterable[Rule], base_url: str) -> tuple[Rule, ...]:
    """`rules` with a link to their bundled runbook on the collector at `base_url`, for each
    that has a page and no link of its own ("" as `base_url`: the path alone, /runbooks/X)."""
    names = Runbooks.bundled().names
    return with_runbook_links(rules, {name: url(base_url, name) for name in names})
