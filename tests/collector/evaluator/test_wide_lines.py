"""One scraped line with a million labels costs its own series, not the round.

A real collector process (SQLite) scrapes two real HTTP targets served by a small http.server
in this test (the peer, not the thing under test). `wide-host` serves a breaching series and,
after it, one line of a million labels (13 MB, within the 16 MiB body limit);
`good-host` only a breaching series. prometheus_client's parser takes time quadratic in a
line's labels (one of 200,000 took 13 s), so this line held the first round, every host's
alerts with it, for minutes. Now a line over MAX_LINE_BYTES is dropped before parsing and
counted as too_long; both good alerts open.
"""

from __future__ import annotations

import pytest

from collector.evaluator import MAX_LINE_BYTES
from tests.collector.conftest import collector_process, evaluator_config
from tests.collector.evaluator.test_unstorable_labels import (
    GOOD,
    RULES,
    evaluator_keys,
    metric,
    port,
    target_server,
)
from tests.services import wait_for

WIDE = (GOOD + b"regie_test_level{"
        + b",".join(b'l%d="v"' % i for i in range(1_000_000)) + b"} 99\n")


@pytest.mark.timeout(300)
def test_a_line_of_a_million_labels_is_dropped_and_the_round_goes_on(tmp_path, sqlite_db):
    assert MAX_LINE_BYTES < len(WIDE) < 16 * 1024 * 1024
    expected = {"evaluator:LevelHigh:good-host:mount=/",
                "evaluator:LevelHigh:wide-host:mount=/"}
    with target_server(WIDE) as wide, target_server(GOOD) as good:
        config = evaluator_config(tmp_path, RULES, {port(wide): "wide-host",
                                                    port(good): "good-host"},
                                  interval=0.5, scrape_timeout=5)
        with collector_process(tmp_path, sqlite_db, config) as collector:
            wait_for(lambda: evaluator_keys(collector) == expected, timeout=60, interval=0.2,
                     what=f"both good alerts' tickets {expected}")
            assert metric(collector, "regie_evaluator_samples_dropped_total",
                          {"host": "wide-host", "reason": "too_long"}) >= 1
            assert metric(collector, "regie_evaluator_scrape_failures_total",
                          {"host": "wide-host"}) == 0
