"""A database without the code's schema: every command says which `regie collector migrate` to
run, naming the installation the way that command found it (`--db URL`, else `--config FILE`,
as regie/installation.py finds it: the flag, $REGIE_CONFIG, ./regie.toml), and the command it
names works. Real `regie` processes on a real SQLite file and a real PostgreSQL database.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.collector.conftest import throwaway_database
from tests.services import free_port


def regie(*args: str, cwd: Path, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "REGIE_CONFIG"}
    return subprocess.run([sys.executable, "-m", "regie", *args], capture_output=True,
                          text=True, timeout=120, check=False, cwd=cwd,
                          env={**base, **(env or {})})


def installation(tmp_path: Path) -> Path:
    """An installation file whose database exists but is empty (an unmigrated SQLite file)."""
    (tmp_path / "regie.db").write_bytes(b"")
    config = tmp_path / "regie.toml"
    config.write_text('[database]\nurl = "sqlite:///regie.db"\n')
    return config


def advice(stderr: str, prog: str) -> str:
    (line,) = [x for x in stderr.splitlines() if x.startswith(f"{prog}: ")]
    assert "Traceback" not in stderr
    assert line.startswith(f"{prog}: database has no Regie schema: run `"), line
    return line.split("`")[1]


def test_the_collector_names_the_installation_file_it_was_given(tmp_path):
    config = installation(tmp_path)
    listen = f"127.0.0.1:{free_port()}"
    for args, env in [(["--config", str(config)], None), ([], {"REGIE_CONFIG": str(config)})]:
        run = regie("collector", "run", *args, "--listen", listen, cwd=tmp_path, env=env)
        assert run.returncode == 2
        assert advice(run.stderr, "regie collector") == f"regie collector migrate --config {config}"
    tokens = regie("collector", "token", "list", "--config", str(config), cwd=tmp_path)
    assert advice(tokens.stderr, "regie collector") == f"regie collector migrate --config {config}"
    report = regie("registry", "eos", "--config", str(config), cwd=tmp_path)
    assert report.returncode == 2
    assert advice(report.stderr, "regie registry") == f"regie collector migrate --config {config}"

    # What it says to run works, and then so does the command that was refused.
    migrated = regie(*shlex.split(advice(run.stderr, "regie collector"))[1:], cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert regie("collector", "token", "list", "--config", str(config),
                 cwd=tmp_path).returncode == 0


def test_a_database_given_by_url_is_named_by_it_without_its_password(tmp_path):
    with throwaway_database("postgresql", tmp_path) as url:
        secret_url = url.replace("postgres@", "postgres:s3cret-pw@")  # trust: any password
        result = regie("collector", "token", "list", "--db", secret_url, cwd=tmp_path)
        assert result.returncode == 2
        shown = url.replace("postgres@", "postgres:***@")
        assert advice(result.stderr, "regie collector") == f"regie collector migrate --db {shown}"
        assert "s3cret-pw" not in result.stderr
        report = regie("registry", "eos", "--db", secret_url, cwd=tmp_path)
        assert advice(report.stderr, "regie registry") == f"regie collector migrate --db {shown}"
        # With the password written in, the command it names works.
        fixed = regie("collector", "migrate", "--db", secret_url, cwd=tmp_path)
        assert fixed.returncode == 0, fixed.stderr
        assert regie("collector", "token", "list", "--db", url, cwd=tmp_path).returncode == 0
