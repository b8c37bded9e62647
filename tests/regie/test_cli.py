"""The `regie` entry point dispatches through its command table."""

import subprocess
import sys

from regie import __version__


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "regie", *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_help_lists_commands():
    result = run("--help")
    assert result.returncode == 0
    assert "agent" in result.stdout


def test_version():
    assert run("--version").stdout.strip() == f"regie {__version__}"


def test_unknown_command_is_usage_error():
    result = run("frobnicate")
    assert result.returncode == 2
    assert "unknown command 'frobnicate'" in result.stderr


def test_no_command_prints_usage_and_fails():
    result = run()
    assert result.returncode == 2
    assert "usage: regie" in result.stdout


def main(argv: list[str], prog: str) -> int:
    """A stand-in subcommand for the tests below: interrupted, or writing a lot."""
    if argv == ["interrupt"]:
        raise KeyboardInterrupt
    for _ in range(100_000):  # far more than a pipe buffer
        print("line")
    return 0


def test_ctrl_c_is_status_130_without_traceback(monkeypatch, capsys):
    from regie import cli

    monkeypatch.setitem(cli.COMMANDS, "stand-in", ("tests.regie.test_cli", "for tests"))
    assert cli.main(["stand-in", "interrupt"]) == 130
    assert "Traceback" not in capsys.readouterr().err


def test_a_reader_that_leaves_is_not_an_error():
    """`regie agent inventory | head -3`: no BrokenPipeError, exit status 0 under pipefail."""
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c",
         f"{sys.executable} -m regie agent inventory | head -3"],
        capture_output=True, text=True, timeout=120, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert len(result.stdout.splitlines()) == 3
