"""A progress bar on stderr for long CLI work (registry sync, fleet re-match).

On a terminal it redraws one line (`sync  [########......]  212/464  products`); otherwise
(a log, CI) it prints a line at each 10 % so the log shows progress without flooding.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, *, unit: str = "",
                 stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.total = max(0, total)
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.done = 0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_decile = -1
        self._started = time.monotonic()

    def advance(self, count: int = 1) -> None:
        self.done += count
        self._show()

    def _show(self, final: bool = False) -> None:
        if self.total <= 0:
            return
        fraction = min(1.0, self.done / self.total)
        if self._tty:
            filled = int(fraction * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r{self.label}  [{bar}]  {self.done}/{self.total} {self.unit}")
            if final:
                self.stream.write(f"  {time.monotonic() - self._started:.1f}s\n")
            self.stream.flush()
            return
        decile = int(fraction * 10)
        if decile > self._last_decile or final:
            self._last_decile = decile
            self.stream.write(f"{self.label}: {self.done}/{self.total} {self.unit} "
                              f"({fraction:.0%})\n")
            self.stream.flush()

    def close(self) -> None:
        if self._tty or self._last_decile < 10:
            self._show(final=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
