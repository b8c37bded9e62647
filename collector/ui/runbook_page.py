"""The runbook pages as HTML: the index of the bundled runbooks and one rule's page.

Pure: runbooks in, a page out (collector/handlers/runbooks.py serves them). The body of a page
is its Markdown rendered by collector/ui/markdown.py, which escapes everything; the names and
summaries here are escaped too. No inline style or script: the look comes from one stylesheet
the collector serves beside the pages (`STYLESHEET`), so the Content-Security-Policy can say
`style-src 'self'` and nothing else runs.
"""

from __future__ import annotations

import html
from string import Template

from collector.runbooks import PATH, Runbook, Runbooks
from collector.ui.markdown import render

# Served at this path (collector/handlers/runbooks.py), apart from /runbooks/{rule}.
STYLESHEET_PATH = "/ui/runbook.css"
STYLESHEET = """\
body { font-family: system-ui, sans-serif; max-width: 52em; margin: 1.5em auto; padding: 0 1em;
       color: #1d232a; line-height: 1.45; }
h1 { font-size: 1.5em; margin-bottom: .3em; }
h2 { font-size: 1.15em; margin-top: 1.5em; }
pre { background: #f3f5f7; border: 1px solid #dde2e6; border-radius: .3em; padding: .7em .9em;
      overflow-x: auto; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em; }
nav, footer, .muted { color: #5a6570; font-size: .92em; }
dl.runbooks dt { margin-top: .6em; font-weight: bold; }
dl.runbooks dd { margin-left: 1.2em; }
"""

# Public pages without capabilities: a short cache is fine; they may not be framed, and nothing
# but the stylesheet from this collector is loaded.
HEADERS = {"Cache-Control": "public, max-age=300", "Referrer-Policy": "no-referrer",
           "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Content-Security-Policy": "default-src 'none'; style-src 'self'; base-uri 'none'; "
                                      "form-action 'none'; frame-ancestors 'none'"}

_PAGE = Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<link rel="stylesheet" href="$stylesheet">
</head>
<body>
<nav><a href="$index">Runbooks</a></nav>
<main>
$body
</main>
</body></html>
""")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _page(title: str, body: str) -> str:
    return _PAGE.substitute(title=_e(title), body=body, index=_e(PATH),
                            stylesheet=_e(STYLESHEET_PATH))


def _link(target: str) -> str:
    """Links between runbooks (`Other.md`) to where the collector serves them."""
    name, dot, suffix = target.partition(".md")
    if dot and not suffix and "/" not in name:
        return PATH + name
    return target


def runbook_page(runbook: Runbook) -> str:
    return _page(f"Runbook: {runbook.name}", render(runbook.markdown, link=_link))


def index_page(runbooks: Runbooks) -> str:
    rows = "\n".join(f'<dt><a href="{_e(PATH + name)}">{_e(name)}</a></dt>'
                     f"<dd>{_e(page.summary)}</dd>" for name, page in runbooks.pages.items())
    intro = _intro(runbooks.intro)
    return _page("Runbooks", f'<h1>Runbooks</h1>\n{intro}\n<dl class="runbooks">\n{rows}\n</dl>')


def _intro(readme: str) -> str:
    """The README's paragraphs under its title: what a runbook page holds."""
    lines = readme.split("\n")
    body = "\n".join(lines[1:]) if lines and lines[0].startswith("# ") else readme
    return render(body, link=_link)


def not_found_page(name: str) -> str:
    return _page("No such runbook",
                 f"<h1>No such runbook</h1>\n<p>There is no runbook for {_e(name)}. "
                 f'The <a href="{_e(PATH)}">index</a> lists every one.</p>')
