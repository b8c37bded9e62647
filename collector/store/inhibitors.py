"""Which stored tickets may inhibit others: the inhibit rules' source matchers as a SQL filter.

A batch that opens tickets looks for their inhibitors among the active, unattached tickets of
their hosts (collector/store/signal_batch.py). Reading all of them, with their details, to
test each against the rules in Python costs a row per open ticket of every host the batch
opens a ticket on: bench/ingest.py (500 hosts, 10,000 open tickets) read ~1,000 rows per
batch, most of the collector's CPU. Few tickets can inhibit (those of the rules' sources), so
the database is asked only for rows that might: host-down tickets, and for each rule, rows
that carry the value of one of its `name="value"` source matchers. The filter may let
through rows that are no source (the rules still decide, in Python); it never keeps one out.

Why that holds: the labels a stored ticket is matched on (`alerting.inhibition.alert_labels`)
are the string forms of its details' `labels` values, its details' `rule` (as `alertname`),
its `component` and its `host` column. A label whose string form is `value` is, in the
stored JSON text, the JSON string `"value"` (or it is in the component or host column):
unless `value` could also be the string form of a number, a boolean or null, or needs
escaping in JSON. Matchers on such values, and rules without an equality matcher, are not
filtered: every active ticket of the host is then read, as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Text, cast, or_

from alerting.inhibition import InhibitRule
from collector.store.ticket_rows import TICKETS

# Values written verbatim inside a JSON string by every serialiser the store uses (Python's
# json with ensure_ascii, PostgreSQL's jsonb output).
_VERBATIM = re.compile(r"[A-Za-z0-9_.:-]+")
# str() of a JSON true/false/null as alert_labels makes it (Python's spelling).
_NOT_STRINGS = frozenset({"none", "true", "false", "null"})


def _needle(value: str) -> str | None:
    """`value` if a label equal to it must appear as the JSON string `"value"`, else None."""
    if not _VERBATIM.fullmatch(value) or value.lower() in _NOT_STRINGS:
        return None
    try:
        float(value)   # a number's string form: the JSON holds the number, unquoted
    except ValueError:
        return value
    return None


def _rule_filter(rule: InhibitRule) -> ColumnElement[bool] | None:
    for matcher in rule.source_matchers:
        if matcher.op == "=" and (needle := _needle(matcher.value)) is not None:
            return or_(cast(TICKETS.c.details, Text).contains(f'"{needle}"', autoescape=True),
                       TICKETS.c.component == needle, TICKETS.c.host == needle)
    return None


def may_inhibit(rules: Sequence[InhibitRule]) -> ColumnElement[bool] | None:
    """A WHERE term true for every ticket that is host-down or may be a source of `rules`;
    None when some rule cannot be narrowed (read every ticket then)."""
    filters = [_rule_filter(rule) for rule in rules]
    if any(term is None for term in filters):
        return None
    return or_(TICKETS.c.host_down.is_(True), *filters)
