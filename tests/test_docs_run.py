"""The docs run: every shell command in README.md and docs/*.md, and every line of every
`examples:` block in `regie COMMAND --help`, is executed as written against a real
installation made the way the README says (`regie demo --dir DIR`, a real process).

Conventions for people writing docs (this docstring is their reference):

- A ```sh block is run as one `bash -e -o pipefail` script: every line must succeed.
  A ```sh no-run block is not run; its first line is a `# no-run: REASON` comment (it needs
  systemd, another machine, the Internet or system-wide changes), and there are at most
  MAX_NO_RUN of them. Other fences (```yaml, ```toml, plain ```) are not shell.
- Commands run in a scratch directory holding the repository's files as a checkout does
  (`deploy/...`, `collector/data/...` are there, read-only), with `regie` on PATH and
  `REGIE_CONFIG` set to the demo's installation: what the demo's banner tells the user to
  export. Files a command writes stay in the scratch directory.
- Placeholders are shell variables the test sets, and the docs say what they stand for:
  `$TICKET` is an open ticket's number (a fresh one for each block and each --help),
  `$CHANGE` a draft change's number (fresh likewise; written by another person than the
  installation's token, which may therefore approve it), and
  `$EOL_MIRROR` a directory in the endoflife.date API v1 shape (built here from the bundled
  dataset, so a sync changes no answer).
- Exempt: `make run` (it is `regie demo`, which this test starts) and `make test` (it runs
  this suite). No other line is exempt.
- Serving commands (`regie collector run`, `regie agent run`) are run while the demo is
  stopped, on the installation's addresses: each must answer /healthz, then is stopped. They
  may appear in --help examples only (a doc block is one script, and a server never ends).

The test fails with the source, the command, its exit status and its stderr.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from regie.cli import COMMANDS
from tests.services import free_port, http_ok, running, wait_for

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
MAX_NO_RUN = 6
# Runbook pages are for the affected host: each may add one no-run block for what only such a
# host has (a RAID array, chrony, systemd's journal), after a block that runs (test_runbooks).
RUNBOOKS = "docs/runbooks/"
EXEMPT = re.compile(r"^make (run|test)\b")
SERVING = re.compile(r"^regie (collector run|agent run)\b")
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Block:
    source: str        # "docs/operations.md:108"
    text: str
    no_run: bool


def doc_blocks() -> list[Block]:
    blocks = []
    for doc in DOCS:
        lines = doc.read_text().splitlines()
        index = 0
        while index < len(lines):
            fence = re.fullmatch(r"```sh( no-run)?\s*", lines[index])
            index += 1
            if not fence:
                continue
            start = index
            while not lines[index].startswith("```"):
                index += 1
            blocks.append(Block(f"{doc.relative_to(ROOT)}:{start}",
                                "\n".join(lines[start:index]), bool(fence.group(1))))
            index += 1
    return blocks


def help_examples(command: str) -> list[str]:
    """The commands of `regie COMMAND --help`'s examples: block (up to its first blank line);
    a command is what precedes two spaces (its comment); a trailing backslash continues it."""
    out = subprocess.run([BIN / "regie", command, "--help"], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    if "\nexamples:\n" not in out:
        return []
    block = out.split("\nexamples:\n", 1)[1].split("\n\n", 1)[0]
    commands, pending = [], ""
    for line in block.splitlines():
        text = pending + line.strip()
        if text.endswith("\\"):
            pending = text[:-1].rstrip() + " "
            continue
        pending = ""
        commands.append(re.split(r"\s{2,}", text, maxsplit=1)[0])
    return commands


def test_no_run_blocks_are_few_and_say_why():
    no_run = [b for b in doc_blocks() if b.no_run]
    counted = [b.source for b in no_run if not b.source.startswith(RUNBOOKS)]
    assert len(counted) <= MAX_NO_RUN, counted
    for block in no_run:
        first = block.text.splitlines()[0] if block.text else ""
        assert re.fullmatch(r"# no-run: \S.{8,}", first), (
            f"{block.source}: a ```sh no-run block starts with '# no-run: REASON'")


def test_shell_is_fenced_as_sh():
    """A ```bash or ```console block would escape this test: shell is ```sh or ```sh no-run."""
    for doc in DOCS:
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            fence = re.fullmatch(r"```\s*(\S.*)?", line.strip())
            info = (fence.group(1) or "") if fence else ""
            assert info.split(" ")[0] not in {"bash", "shell", "console", "shell-session",
                                              "zsh"}, f"{doc.name}:{number}: use ```sh"
            assert not info.startswith("sh") or info in {"sh", "sh no-run"}, (
                f"{doc.name}:{number}: ```{info}: only ```sh and ```sh no-run")


def test_doc_blocks_hold_no_server():
    for block in doc_blocks():
        for line in block.text.splitlines():
            assert not SERVING.match(line.strip()) or block.no_run, (
                f"{block.source}: {line.strip()!r} never ends; describe it in prose or a "
                f"--help example")


# -- the installation -----------------------------------------------------------------------


@dataclass
class Installation:
    state: Path
    config: Path
    work: Path
    env: dict[str, str]
    collector: str
    agent: str
    demo_argv: list[str]
    log: Path

    def run(self, script: str, *, source: str, extra: dict[str, str] | None = None) -> None:
        result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script],
                                capture_output=True, text=True, timeout=300, check=False,
                                cwd=self.work, env={**self.env, **(extra or {})})
        assert result.returncode == 0, (
            f"{source}: exit status {result.returncode}\n--- command\n{script}\n--- stderr\n"
            f"{result.stderr[-3000:]}\n--- stdout\n{result.stdout[-1500:]}")


@pytest.fixture(scope="module")
def installation(tmp_path_factory) -> Iterator[Installation]:
    """`regie demo --dir` run once to write its installation, then stopped."""
    tmp = tmp_path_factory.mktemp("docs-run")
    state, work, home = tmp / "regie-demo", tmp / "work", tmp / "home"
    work.mkdir()
    home.mkdir()
    for entry in ("deploy", "docs", "collector", "registry", "alerting", "agent", "dashboards",
                  "README.md", "Makefile"):
        if (ROOT / entry).exists():
            (work / entry).symlink_to(ROOT / entry)
    collector, agent = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    argv = [str(BIN / "regie"), "demo", "--dir", str(state), "--listen", collector,
            "--agent-listen", agent, "--interval", "5"]
    log = tmp / "demo.log"
    with running(argv, log=log, ready=lambda: http_ok(f"http://{collector}/healthz"),
                 what="regie demo", timeout=60):
        (line,) = [x for x in log.read_text().splitlines() if "export REGIE_CONFIG=" in x]
    config = Path(line.split("export REGIE_CONFIG=", 1)[1].strip())
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
           "HOME": str(home), "LANG": "C.UTF-8", "REGIE_CONFIG": str(config),
           "EOL_MIRROR": str(_mirror(tmp / "eol-mirror"))}
    yield Installation(state=state, config=config, work=work, env=env, collector=collector,
                       agent=agent, demo_argv=argv, log=log)


def _mirror(root: Path) -> Path:
    """The bundled dataset written in the API v1 shape, as a mirror would hold it."""
    from registry.end_of_support import dump_catalog, load_default

    (root / "products").mkdir(parents=True)
    for document in dump_catalog(load_default()):
        (root / "products" / f"{document['name']}.json").write_text(
            json.dumps({"result": document}))
    return root


@pytest.fixture(scope="module")
def demo(installation) -> Iterator[Installation]:
    """The demo running on its installation, for the commands that talk to a collector."""
    collector = installation.collector
    with running(installation.demo_argv, log=installation.log.with_suffix(".2.log"),
                 ready=lambda: http_ok(f"http://{collector}/healthz"), what="regie demo",
                 timeout=60):
        yield installation


@pytest.fixture
def ticket(demo) -> str:
    """A fresh open ticket: the number `$TICKET` stands for."""
    result = subprocess.run([BIN / "regie", "ticket", "report", "--summary", "Docs check",
                             "--impact", "low", "--json"], capture_output=True, text=True,
                            timeout=60, check=True, env=demo.env, cwd=demo.work)
    return str(json.loads(result.stdout)["id"])


@pytest.fixture
def change(demo) -> str:
    """A fresh draft change, created with a token of its own (its author is not the one who
    approves it in the examples): the number `$CHANGE` stands for."""
    import uuid

    token = subprocess.run([BIN / "regie", "collector", "token", "create", "--role",
                            "responder", "--name", f"docs-author-{uuid.uuid4().hex[:8]}"],
                           capture_output=True, text=True, timeout=60, check=True,
                           env=demo.env, cwd=demo.work).stdout.strip()
    result = subprocess.run([BIN / "regie", "change", "create", "--type", "normal",
                             "--summary", "Docs check", "--service", "docs", "--start",
                             "2030-06-01 02:00", "--end", "2030-06-01 03:00", "--quiet"],
                            capture_output=True, text=True, timeout=60, check=True,
                            env={**demo.env, "REGIE_TOKEN": token}, cwd=demo.work)
    return result.stdout.strip()


# -- serving commands first: they need the demo stopped (this module's tests run in order) --


def test_help_serving_examples(installation):
    """`regie collector run` / `regie agent run` from --help: ready on the installation's
    address, then stopped."""
    settings = tomllib.loads(installation.config.read_text())
    health = {"collector run": f"http://{settings['server']['listen']}/healthz",
              "agent run": f"http://{settings['http']['listen']}/healthz"}
    served = 0
    for command in COMMANDS:
        for example in help_examples(command):
            match = SERVING.match(example)
            if not match:
                continue
            url = health[match.group(1)]
            log = installation.work.parent / f"serving-{served}.log"
            served += 1
            with open(log, "wb") as out:
                process = subprocess.Popen(["bash", "-c", f"exec {example}"], stdout=out,
                                           stderr=subprocess.STDOUT, cwd=installation.work,
                                           env=installation.env)
            try:
                def ready(process=process, url=url) -> bool:
                    if process.poll() is not None:
                        return True
                    return http_ok(url)

                wait_for(ready, timeout=60, what=f"{example!r} to serve")
                assert process.poll() is None, (
                    f"regie {command} --help: {example!r} exited with {process.returncode}:\n"
                    f"{log.read_text()[-2000:]}")
            finally:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()   # or it holds the installation's ports for the tests after
                    process.wait()
                    raise AssertionError(
                        f"{example!r} did not stop within 30 s of SIGTERM:\n"
                        f"{log.read_text()[-2000:]}") from None
    assert served >= 2  # the collector's and the agent's


# -- everything else, against the running demo ----------------------------------------------


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_examples_run(demo, ticket, change, command):
    for example in help_examples(command):
        if SERVING.match(example):
            continue
        demo.run(example, source=f"regie {command} --help",
                 extra={"TICKET": ticket, "CHANGE": change})


@pytest.mark.parametrize("block", [b for b in doc_blocks() if not b.no_run],
                         ids=lambda b: b.source)
def test_doc_block_runs(demo, ticket, change, block):
    script = "\n".join(line for line in block.text.splitlines()
                       if not EXEMPT.match(line.strip()))
    if script.strip():
        demo.run(script, source=block.source, extra={"TICKET": ticket, "CHANGE": change})
