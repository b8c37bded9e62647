"""A small, safe Markdown subset as HTML: what the runbooks (docs/runbooks/) are written in.

Pure: text in, an HTML fragment out. Understood: ATX headings (`#` to `######`), paragraphs,
lists (`-`/`*` items, `1.` numbered items; an indented line continues its item), fenced code
blocks (```), and inline `code`, **strong** and [links](target). Anything else is text.

Every piece of the source is escaped with `html.escape` exactly once, here; no raw HTML passes
through (a `<script>` in a page is shown, not run). A link's target is kept only when it is
http(s), mailto, a fragment or a relative path: `javascript:`, `data:` and the like become plain
text. `link` maps a relative target to the address it has where the page is served (a runbook's
`Other.md` is `/runbooks/Other` on the collector).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

_HEADING = re.compile(r"(#{1,6})\s+(.*?)\s*#*\s*")
_FENCE = re.compile(r"```\s*(.*)")
_BULLET = re.compile(r"[-*]\s+(.*)")
_NUMBERED = re.compile(r"\d{1,9}[.)]\s+(.*)")
# Inline: `code` first (nothing inside it is markup), then [text](target), then **strong**.
_INLINE = re.compile(r"`([^`]+)`|\[([^\]]+)\]\(([^()\s]+)\)|\*\*(.+?)\*\*")
_SAFE_SCHEME = re.compile(r"(https?:|mailto:)", re.IGNORECASE)
_ANY_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _same(target: str) -> str:
    return target


def render(source: str, *, link: Callable[[str], str] = _same) -> str:
    """`source` (Markdown) as an HTML fragment."""
    lines = source.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    items: list[list[str]] = []
    list_tag = ""

    def inline(text: str) -> str:
        return _inline(text, link)

    def flush() -> None:
        nonlocal items, list_tag
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            body = "".join(f"<li>{inline(' '.join(item))}</li>" for item in items)
            out.append(f"<{list_tag}>{body}</{list_tag}>")
            items, list_tag = [], ""

    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        index += 1
        fence = _FENCE.fullmatch(stripped)
        if fence is not None:
            flush()
            code: list[str] = []
            while index < len(lines) and not lines[index].strip().startswith("```"):
                code.append(lines[index])
                index += 1
            index += 1  # the closing fence (or the end of the text)
            language = fence.group(1).split(" ")[0]
            css = f' class="language-{_e(language)}"' if re.fullmatch(r"\w+", language) else ""
            out.append(f"<pre><code{css}>{_e(chr(10).join(code))}</code></pre>")
            continue
        if not stripped:
            flush()
            continue
        heading = _HEADING.fullmatch(stripped)
        if heading is not None:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
            continue
        bullet, numbered = _BULLET.fullmatch(stripped), _NUMBERED.fullmatch(stripped)
        item = bullet or numbered
        if item is not None and not line[:1].isspace():
            tag = "ul" if bullet else "ol"
            if paragraph or (items and tag != list_tag):
                flush()
            list_tag = tag
            items.append([item.group(1)])
            continue
        if items and line[:1].isspace():
            items[-1].append(stripped)      # an indented line continues the item
            continue
        if items:
            flush()
        paragraph.append(stripped)
    flush()
    return "\n".join(out)


def _inline(text: str, link: Callable[[str], str]) -> str:
    parts: list[str] = []
    at = 0
    for match in _INLINE.finditer(text):
        parts.append(_e(text[at:match.start()]))
        code, label, target, strong = match.groups()
        if code is not None:
            parts.append(f"<code>{_e(code)}</code>")
        elif label is not None:
            href = _href(target, link)
            parts.append(f'<a href="{_e(href)}">{_inline(label, link)}</a>' if href
                         else _e(match.group(0)))
        else:
            parts.append(f"<strong>{_inline(strong, link)}</strong>")
        at = match.end()
    parts.append(_e(text[at:]))
    return "".join(parts)


def _href(target: str, link: Callable[[str], str]) -> str | None:
    """The address a link may carry, or None (a scheme that could run something)."""
    if _SAFE_SCHEME.match(target):
        return target
    if _ANY_SCHEME.match(target) or target.startswith("//"):
        return None   # javascript:, data:, vbscript:, a protocol-relative host ...
    return link(target)
