"""deploy/prometheus/prometheus.yml made local for a test: its /etc paths replaced by files
in the test's directory, its intervals shortened, and, on request, its commented http_sd
alternative swapped in for the file. The shipped text is the starting point every time, so
the relabelling, the jobs and the discovery settings under test are the ones operators get."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import yaml

from tests.services import free_port, http_ok, require_binary, running

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "prometheus" / "prometheus.yml"
AGENT_JOB, COLLECTOR_JOB = "regie-agent", "regie-collector"


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text())


def http_sd_block() -> dict:
    """The commented `http_sd_configs:` between `# BEGIN http_sd` and `# END http_sd`."""
    text = SHIPPED.read_text()
    block = re.search(r"# BEGIN http_sd\n(.*?)\n\s*# END http_sd", text, re.DOTALL)
    assert block, "deploy/prometheus/prometheus.yml: no '# BEGIN http_sd' ... '# END http_sd'"
    lines = [re.sub(r"^\s*# ?", "", line) for line in block.group(1).splitlines()]
    return yaml.safe_load("\n".join(lines))


def job(config: dict, name: str) -> dict:
    (found,) = [j for j in config["scrape_configs"] if j["job_name"] == name]
    return found


def local_config(tmp_path: Path, *, agents_file: Path | None = None, http_sd: str | None = None,
                 collector: str | None = None, viewer_token: str = "regie_test",
                 rule_files: Sequence[Path] = (), alertmanager: str | None = None,
                 ca_file: Path | None = None, interval: str = "1s") -> dict:
    """The shipped configuration with local paths. `http_sd`: the collector's base URL for the
    http_sd alternative (else file_sd on `agents_file`); `collector`: the collector's
    HOST:PORT for its own job (else the job is dropped: nothing to scrape)."""
    config = shipped()
    config["global"] = {"scrape_interval": interval, "evaluation_interval": interval}
    token = tmp_path / "regie-viewer.token"
    token.write_text(viewer_token + "\n")
    if rule_files:
        config["rule_files"] = [str(path) for path in rule_files]
    else:
        config.pop("rule_files")
    if alertmanager is None:
        config.pop("alerting")
    else:
        config["alerting"] = {"alertmanagers": [{"static_configs": [
            {"targets": [alertmanager]}]}]}
    agents = job(config, AGENT_JOB)
    if ca_file is None:
        del agents["tls_config"]
    else:
        agents["tls_config"]["ca_file"] = str(ca_file)
    if http_sd is not None:
        del agents["file_sd_configs"]
        agents.update(http_sd_block())
        (sd,) = agents["http_sd_configs"]
        assert sd["url"].startswith("http://127.0.0.1:8847/")
        sd["url"] = http_sd.rstrip("/") + sd["url"].removeprefix("http://127.0.0.1:8847")
        sd["refresh_interval"] = "1s"
        sd["authorization"]["credentials_file"] = str(token)
    else:
        (sd,) = agents["file_sd_configs"]
        sd["files"] = [str(agents_file or ROOT / "deploy" / "prometheus" / "agents.yml")]
        sd["refresh_interval"] = "1s"
    own = job(config, COLLECTOR_JOB)
    if collector is None:
        config["scrape_configs"].remove(own)
    else:
        own["authorization"]["credentials_file"] = str(token)
        own["static_configs"] = [{"targets": [collector]}]
    return config


def write_config(tmp_path: Path, config: dict, name: str = "prometheus.yml") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(config))   # JSON is YAML: Prometheus reads it as is
    return path


@contextmanager
def prometheus(tmp_path: Path, config: dict, name: str) -> Iterator[str]:
    """A real Prometheus on `config`, on a loopback port; yields its base URL."""
    path = write_config(tmp_path, config, f"{name}.yml")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running([require_binary("prometheus"), f"--config.file={path}",
                  f"--storage.tsdb.path={tmp_path / f'tsdb-{name}'}",
                  f"--web.listen-address=127.0.0.1:{port}", f"--web.external-url={url}"],
                 log=tmp_path / f"{name}.log", ready=lambda: http_ok(f"{url}/-/ready"),
                 what=f"prometheus ({name})", timeout=60):
        yield url
