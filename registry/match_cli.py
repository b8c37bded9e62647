"""`regie registry match [--data DIR] [--array]`: match observations read from stdin.

The input is one JSON document: `{"cases": [{"source": ..., "raw": {...}}, ...]}` (the shape
of eol-data/sample_inventory_cases.json; other keys such as id and expect are ignored), an
inventory document's `{"observations": [...]}`, a bare list of observations, or a single
observation object. For each observation, in order, one line of JSON is printed: the match
`{"product": ..., "cycle": ..., "eol": ...}` or `null` (JSON Lines; `--array` prints one
JSON array instead).

The end-of-support data: `--data DIR` (a directory in the endoflife.date API v1 shape, such as
../shared/eol-data); else what `catalog_loader` returns (the hook for another source, e.g. the
collector's store: it may return None to fall through); else `default_catalog()`, the curated
dataset bundled with the package (registry/data/eol-default.json).

Exit status: 0 when every observation was matched or found unmatched (null); 2 for unreadable
or invalid input, a --data that is not a usable directory, or a malformed single observation.
A malformed observation inside a list prints null and a warning naming its index.

Run without the `regie` command as `python -m registry.match_cli`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from registry.end_of_support import Catalog, DataError, load_default, load_directory
from registry.matching import Matcher

PROG = "regie registry match"

CatalogLoader = Callable[[], "Catalog | None"]


def default_catalog() -> Catalog:
    """The bundled curated dataset (the fallback when neither --data nor a loader gives one)."""
    return load_default()


class InputError(Exception):
    """Input this command cannot use; the message is printed as is."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", metavar="DIR",
        help="end-of-support data: a directory in the endoflife.date API v1 shape "
             "(products/<name>.json), e.g. ../shared/eol-data; default: the bundled dataset")
    parser.add_argument(
        "--array", action="store_true",
        help="print one JSON array instead of one JSON value per line")


def observation_problem(observation: Any) -> str | None:
    """Why `observation` is not {"source": str, "raw": object}, or None when it is."""
    if not isinstance(observation, Mapping):
        return f"is {_kind(observation)}, not an object"
    source = observation.get("source")
    if not isinstance(source, str) or not source.strip():
        return "has no \"source\" string"
    if not isinstance(observation.get("raw"), Mapping):
        return "has no \"raw\" object"
    return None


def _kind(value: Any) -> str:
    return "null" if value is None else {
        dict: "an object", list: "a list", str: "a string", bool: "a boolean",
        int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def parse_input(text: str) -> tuple[list[Any], bool]:
    """The observations in `text` and whether it was a list (else one observation)."""
    if not text.strip():
        raise InputError("no input: expected a JSON document on standard input")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON on standard input: {exc}") from None
    if isinstance(document, list):
        return document, True
    if isinstance(document, Mapping):
        for key in ("cases", "observations"):
            if key in document:
                items = document[key]
                if not isinstance(items, list):
                    raise InputError(f"\"{key}\" is {_kind(items)}, not a list of observations")
                return items, True
        problem = observation_problem(document)
        if problem:
            raise InputError(f"the observation {problem} (expected {{\"source\": ..., "
                             f"\"raw\": {{...}}}}, a list of them, or {{\"cases\": [...]}})")
        return [document], False
    raise InputError(f"the input is {_kind(document)}; expected an observation object, "
                     "a list of them, or {\"cases\": [...]}")


def load_catalog(data: str | None, catalog_loader: CatalogLoader | None,
                 stderr: TextIO) -> Catalog:
    """--data DIR, else the loader's catalog, else the bundled default. Raises DataError."""
    if data:
        result = load_directory(data)
        if result.skipped:
            print(f"{PROG}: skipped {len(result.skipped)} malformed product file(s) in {data}",
                  file=stderr)
            for file, reason in result.skipped:
                print(f"  {file}: {reason}", file=stderr)
        return result.catalog
    if catalog_loader is not None:
        catalog = catalog_loader()
        if catalog is not None:
            return catalog
    return default_catalog()


def _read(stdin: TextIO) -> str:
    """The whole input. JSON is UTF-8 (RFC 8259): read the bytes when there are any rather
    than trust the locale's encoding, which may let invalid bytes through."""
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None:
        return buffer.read().decode("utf-8-sig")
    return stdin.read()


def run(args: argparse.Namespace, *, catalog_loader: CatalogLoader | None = None,
        stdin: TextIO | None = None, stdout: TextIO | None = None,
        stderr: TextIO | None = None) -> int:
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    try:
        text = _read(stdin)
    except UnicodeDecodeError as exc:
        print(f"{PROG}: cannot read standard input: not UTF-8 JSON ({exc})", file=stderr)
        return 2
    except OSError as exc:
        print(f"{PROG}: cannot read standard input: {exc}", file=stderr)
        return 2
    try:
        observations, _ = parse_input(text)
    except InputError as exc:
        print(f"{PROG}: {exc}", file=stderr)
        return 2
    try:
        catalog = load_catalog(getattr(args, "data", None), catalog_loader, stderr)
    except DataError as exc:
        print(f"{PROG}: end-of-support data {exc}", file=stderr)
        return 2
    matcher = Matcher(catalog)
    results: list[dict[str, Any] | None] = []
    for index, observation in enumerate(observations):
        problem = observation_problem(observation)
        if problem:
            print(f"{PROG}: warning: observation [{index}] {problem}; printing null",
                  file=stderr)
            results.append(None)
            continue
        found = matcher.match(observation["source"], observation["raw"])
        results.append(found.to_json() if found else None)
    if getattr(args, "array", False):
        stdout.write(json.dumps(results) + "\n")
    else:
        stdout.writelines(json.dumps(result) + "\n" for result in results)
    stdout.flush()
    return 0


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description="Match inventory observations (JSON on stdin) against "
                               "end-of-support data; print one JSON match or null per line.")
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except BrokenPipeError:
        # The reader went away (`| head`): not an error. Point stdout at /dev/null so the
        # interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
