"""What an inventory reader is: a named function from a `Context` to a `Reading`, or None.

A reader returns None when it does not apply to this host (no rpm on Debian, no DMI table in a
VM without SMBIOS); that is not a failure. Anything it raises is one entry in the document's
`errors` and costs only its own part of the document.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Completed:
    """A finished command: exit status and decoded output."""

    returncode: int
    stdout: str
    stderr: str = ""


class Run(Protocol):
    """Run `argv` (no shell) within `timeout` seconds.

    Raises FileNotFoundError when the program is not installed and
    subprocess.TimeoutExpired when it overruns.
    """

    def __call__(self, argv: Sequence[str], *, timeout: float) -> Completed: ...


class CommandFailed(Exception):
    """A command that ran but exited with a status its reader does not accept."""

    def __init__(self, argv: Sequence[str], result: Completed) -> None:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        detail = f": {lines[-1]}" if lines else ""
        super().__init__(f"{argv[0]} exited with status {result.returncode}{detail}")


def run_command(argv: Sequence[str], *, timeout: float) -> Completed:
    """The real runner: the C locale so the output parses the same everywhere."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}
    proc = subprocess.run(
        list(argv), capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout, env=env,
        check=False,
    )
    return Completed(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                     proc.stderr.decode("utf-8", "replace"))


def checked(run: Run, argv: Sequence[str], *, timeout: float,
            ok: frozenset[int] = frozenset({0})) -> Completed:
    """`run` and raise CommandFailed unless the exit status is in `ok`."""
    result = run(argv, timeout=timeout)
    if result.returncode not in ok:
        raise CommandFailed(argv, result)
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What every reader may use. `root` is where files are read from (tests point it at a
    fixture tree); `run` is the only way a reader starts a program. psutil values always
    describe the running host."""

    root: Path
    run: Run

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")


@dataclass(frozen=True, slots=True)
class Reading:
    """A reader's result: the value for its place in the document and its observations."""

    value: Any
    observations: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Reader:
    # The name in `errors[].reader`.
    name: str
    # Where the value goes: ("packages",) extends that list, ("hardware", "cpu") sets a key.
    target: tuple[str, ...]
    read: Callable[[Context], Reading | None]
