"""The machine and software a benchmark ran on: the first lines of every report."""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import sqlite3
from collections.abc import Callable
from pathlib import Path

# What each report can name, and where its version comes from.
VERSIONS: dict[str, Callable[[], str]] = {
    "Python": platform.python_version,
    "SQLite": lambda: sqlite3.sqlite_version,
    "SQLAlchemy": lambda: importlib.import_module("sqlalchemy").__version__,
    "aiohttp": lambda: importlib.import_module("aiohttp").__version__,
    "asyncpg": lambda: importlib.import_module("asyncpg").__version__,
}


def versions_of(*names: str) -> dict[str, str]:
    """name -> version, in the order given (the order the report prints them in)."""
    return {name: VERSIONS[name]() for name in names}


def cpus() -> str:
    """"2 CPUs (AMD EPYC)": the CPU count and /proc/cpuinfo's model name."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs{f' ({model})' if model else ''}"


def print_machine(versions: dict[str, str], load_before: float | None = None) -> None:
    """The "Machine:" and "Versions:" lines; with `load_before`, the load average at the
    start (that figure) and at the end (now)."""
    load = ("" if load_before is None else f"; load average {load_before:.2f} at the start, "
            f"{os.getloadavg()[0]:.2f} at the end")
    print(f"Machine: {cpus()}; {platform.system()} {platform.release()}{load}")
    print("Versions: " + "; ".join(f"{k} {v}" for k, v in versions.items()))
