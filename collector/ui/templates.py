"""The HTML skeletons, as `string.Template`s: every `$value` is escaped by the renderer
(collector/ui/ticket_page.py) before substitution, never here."""

from __future__ import annotations

from string import Template

PAGE = Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>$title</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 52em; margin: 2em auto; padding: 0 1em;
       color: #1d232a; line-height: 1.4; }
h1 { font-size: 1.4em; margin-bottom: .3em; }
.badge { display: inline-block; padding: .1em .5em; border-radius: .3em; color: #fff;
         font-weight: bold; }
.P1 { background: #b3261e; } .P2 { background: #c46200; } .P3 { background: #7a6a00; }
.P4 { background: #4a5a6a; }
.outcome { font-size: 1.3em; padding: .8em 1em; border-radius: .4em; margin: 1em 0;
           background: #e6f4ea; border: 1px solid #8bc59a; }
.outcome.refused { background: #fdecea; border-color: #e0a39e; }
.outcome.already { background: #fff6e0; border-color: #e4c77a; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { text-align: left; vertical-align: top; padding: .25em .8em .25em 0; }
table.timeline td, table.timeline th { border-top: 1px solid #dde; font-size: .92em; }
table.timeline td:first-child, table.timeline th:first-child { white-space: nowrap; }
form { display: inline-block; margin: 0 .6em .6em 0; }
button { font-size: 1.1em; padding: .45em 1.2em; border-radius: .3em; cursor: pointer;
         border: 1px solid #355; background: #24527a; color: #fff; }
button.resolve { background: #2e7d32; }
small, .muted { color: #5a6570; }
</style></head>
<body>
$body
</body></html>
""")

TICKET = Template("""<h1><span class="badge $priority">$priority</span> #$id $summary</h1>
$outcome
<table class="facts">$facts</table>
$buttons
<h2>Timeline</h2>
<table class="timeline"><tr><th>When (UTC)</th><th>What</th><th>Who</th><th></th></tr>
$timeline</table>
<p><small>$footer</small></p>""")

FACT = Template("<tr><th>$label</th><td>$value</td></tr>")
EVENT = Template("<tr><td>$at</td><td>$kind</td><td>$actor</td><td>$message</td></tr>")
BUTTON = Template('<form method="post" action="$action"><button type="submit" '
                  'class="$css">$label</button></form>')
OUTCOME = Template('<p class="outcome $css">$text</p>')

ACTION = Template("""<h1>$heading</h1>
<p><span class="badge $priority">$priority</span> #$id $summary</p>
<table class="facts">$facts</table>
$outcome
$buttons
<p>$ticket_link</p>
<p><small>$footer</small></p>""")

MESSAGE = Template("""<h1>$heading</h1>
<p class="outcome refused">$text</p>""")
