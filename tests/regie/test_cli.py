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
