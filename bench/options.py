"""Command-line options the benchmarks share."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"   # what `make system-deps` starts


def add_database_options(parser: argparse.ArgumentParser, *, files: str) -> None:
    """--pg-url (the server for the throw-away databases) and --dir (where `files` go)."""
    parser.add_argument("--pg-url", default=PG_URL,
                        help="PostgreSQL database to connect to for creating and dropping the "
                             "throw-away databases (default %(default)s)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()),
                        help=f"where {files} go (default: temp dir)")


def add_selection(parser: argparse.ArgumentParser, flag: str, known: Sequence[str], *,
                  what: str, dest: str) -> None:
    """`flag` a,b,...: which of `known` to run (default: all), as a list in `dest`; an unknown
    name is a usage error that names the `what`s to choose from."""

    def chosen(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in known]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {what}(s) {', '.join(unknown)}; "
                                             f"choose from {', '.join(known)}")
        return names

    parser.add_argument(flag, dest=dest, type=chosen, default=",".join(known),
                        metavar=flag.removeprefix("--").upper(),
                        help=f"comma-separated, from {', '.join(known)} (default: all)")
