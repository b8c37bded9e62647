"""`regie ticket` warns, in one line on stderr, when its token file is readable by other users
(or by its group while the user owns it), naming the file and the `chmod 600` that fixes it;
the command still runs. The real CLI process against the real collector process (SQLite)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.collector.conftest import collector_process


def ticket(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "regie", "ticket", *args], capture_output=True,
                          text=True, timeout=60, check=False,
                          env={**os.environ, **(env or {})})


def warning(path: Path, who: str, mode: int) -> str:
    return (f"regie ticket: warning: the token file {str(path)!r} is readable by {who} "
            f"(mode {mode:04o}): chmod 600 {path}\n")


@pytest.fixture(scope="module")
def collector(tmp_path_factory):
    from tests.collector.conftest import migrated

    tmp = tmp_path_factory.mktemp("cli-token")
    with collector_process(tmp, migrated(f"sqlite:///{tmp / 'regie.db'}")) as service:
        yield service


@pytest.mark.parametrize(("mode", "who"), [
    (0o644, "every user"), (0o604, "every user"), (0o640, "its group"),
    (0o600, None), (0o400, None),
])
def test_a_readable_token_file_is_warned_about_once_and_still_used(collector, tmp_path, mode,
                                                                   who):
    token = tmp_path / "responder.token"
    token.write_text(collector.tokens["viewer"] + "\n")
    token.chmod(mode)
    expected = warning(token, who, mode) if who else ""
    # The three ways to name the file: the flag, the variable, the installation's [cli].
    (tmp_path / "regie.toml").write_text(
        f'[cli]\nurl = "{collector.url}"\ntoken_file = "responder.token"\n')
    for args, env in ((("--url", collector.url, "--token-file", str(token)), None),
                      (("--url", collector.url), {"REGIE_TOKEN_FILE": str(token)}),
                      (("--config", str(tmp_path / "regie.toml")), None)):
        result = ticket(*args, "list", env=env)
        assert (result.returncode, result.stdout, result.stderr) == (0, "no tickets\n",
                                                                    expected), args


def test_a_token_from_the_environment_has_no_file_to_warn_about(collector):
    result = ticket("--url", collector.url, "list", env={"REGIE_TOKEN": collector.tokens["viewer"],
                                                         "REGIE_TOKEN_FILE": ""})
    assert (result.returncode, result.stderr) == (0, "")


def test_the_token_is_the_first_line_of_its_file(collector, tmp_path):
    # As docs/configuration.md says and as the collector and the agent read their secret
    # files: a second line (a comment, a note of who made it) is not part of the token. The
    # whole file was sent, and its newline raised ValueError in the HTTP client.
    token = tmp_path / "viewer.token"
    token.write_text(f"{collector.tokens['viewer']}\nmade by ops for the wall screen\n")
    token.chmod(0o600)
    for command in (("ticket", "list"), ("maintenance", "list")):
        result = subprocess.run([sys.executable, "-m", "regie", *command, "--url",
                                 collector.url, "--token-file", str(token)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and result.stderr == "", (command, result)


@pytest.mark.parametrize(("content", "reason"), [
    (b"\xff\xfe t\x00o\x00k\x00", "is not UTF-8 text"),          # UTF-16, say
    ("caf\u00e9-token\n".encode(), "holds no API token"),         # not ASCII: no header
    (b"two words\n", "holds no API token"),
    (b"\n\n", "is empty"),
])
def test_a_token_file_without_a_token_is_refused_in_one_line(collector, tmp_path, content,
                                                             reason):
    token = tmp_path / "odd.token"
    token.write_bytes(content)
    token.chmod(0o600)
    result = ticket("--url", collector.url, "--token-file", str(token), "list")
    assert result.returncode == 1 and reason in result.stderr and str(token) in result.stderr \
        and len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr, result


def test_a_token_variable_that_no_header_can_carry_is_refused(collector):
    for value in ("tok\nen", "t\u00f6ken"):
        result = ticket("--url", collector.url, "list",
                        env={"REGIE_TOKEN": value, "REGIE_TOKEN_FILE": ""})
        assert result.returncode == 1 and "$REGIE_TOKEN holds no API token" in result.stderr \
            and "Traceback" not in result.stderr, result
