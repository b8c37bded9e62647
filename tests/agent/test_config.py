"""Agent settings: defaults, flag overrides, and one clear line for each bad config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import DEFAULT_LISTEN, AgentSettings, load_settings
from regie.configfile import ConfigError
from tests.services import free_port


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return path


def test_defaults_without_file():
    settings = load_settings(None)
    assert settings.http.listen == DEFAULT_LISTEN
    assert settings.push.collector is None
    assert settings.snmp.targets == ()
    assert settings == AgentSettings(source="<command line>")


def test_flags_override_file(tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    conf = write(tmp_path, '[http]\nlisten = "127.0.0.1:1"\n[push]\ncollector = "https://a:1"\n')
    settings = load_settings(conf, listen="127.0.0.1:2", collector="https://b:2",
                             token_file=token)
    assert settings.http.listen == "127.0.0.1:2"
    assert settings.push.collector == "https://b:2"
    assert settings.token.reveal() == "s3cret-token"
    assert "s3cret-token" not in repr(settings)


def test_v3_target_defaults_to_sha256_aes128(tmp_path):
    conf = write(tmp_path, """
[[snmp.targets]]
name = "core-sw1"
address = "192.0.2.1"
username = "regie"
auth_password = "authpass1"
priv_password = "privpass1"
""")
    (target,) = load_settings(conf).snmp.targets
    assert (target.version, target.auth_protocol, target.priv_protocol) == ("3", "SHA-256",
                                                                             "AES-128")


BAD_CONFIGS = [
    ("[http]\nlisen = '127.0.0.1:1'\n", "http.lisen: unknown key (did you mean 'listen'?)"),
    ("[push]\ntimeout_seconds = 'ten'\n", "push.timeout_seconds: must be a number, not a string"),
    ("[http]\nlisten = 9847\n", "http.listen: must be a string, not an integer"),
    ("[snmp]\ninterval_seconds = -1\n", "snmp.interval_seconds: must be greater than 0"),
    ("[push]\ncollector = 'ftp://x'\n", "push.collector: must be an http:// or https:// URL"),
    ("[push]\ncollector = 'http://127.0.0.1..:8847'\n",
     "push.collector: has a host that is not a valid DNS name"),
    ("[push]\ncollector = 'https://regie.example:99999'\n",
     "push.collector: has a port that is not a number from 1 to 65535"),
    ("[http]\nmax_connections = 0\n", "http.max_connections: must be greater than 0"),
    ("[http]\nheader_timeout_seconds = 0\n", "http.header_timeout_seconds: must be greater than 0"),
    ("[health]\nexclude_disks = '('\n", "health.exclude_disks: not a valid regular expression"),
    ("[[snmp.targets]]\nname='a'\naddress='192.0.2.1'\nversion='2'\ncommunity='c'\n",
     "snmp.targets[0].version: must be one of '1', '2c', '3', not '2'"),
    ("[[snmp.targets]]\nname='a'\naddress='192.0.2.1'\nversion='2c'\n",
     "snmp.targets[0]: target 'a': version 2c needs community"),
    ("[[snmp.targets]]\nname='a'\naddress='192.0.2.1'\nusername='u'\n"
     "auth_password='short'\npriv_password='privpass1'\n",
     "snmp.targets[0]: target 'a': auth_password must be at least 8 characters"),
    ("[http]\ntls_cert_file = 'TOKEN'\n", "http: tls_cert_file and tls_key_file must be set"),
    ("[push]\ntoken_file = '/nonexistent/agent.token'\n",
     "push.token_file: cannot read '/nonexistent/agent.token': No such file or directory"),
    ("[push]\ncollector = 'http://192.0.2.7:8847'\ntoken_file = 'TOKEN'\n",
     "push.collector: a token is sent only over https:// unless the collector is local"),
    ("[http\n", ": invalid TOML"),
    ("[push]\nca_file = '/nonexistent/ca.pem'\n",
     "push.ca_file: cannot read '/nonexistent/ca.pem': No such file or directory"),
    ("[http]\ntls_cert_file = '/nonexistent/c.pem'\ntls_key_file = 'TOKEN'\n",
     "http.tls_cert_file: cannot read '/nonexistent/c.pem'"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CONFIGS)
def test_bad_config_is_one_clear_line(tmp_path, text, message):
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    conf = write(tmp_path, text.replace("TOKEN", str(token)))
    with pytest.raises(ConfigError) as err:
        load_settings(conf)
    assert str(err.value).startswith(f"{conf}: ")
    assert message in str(err.value)


def test_unreadable_token_file_flag(tmp_path):
    with pytest.raises(ConfigError, match=r"<command line>: --token-file: cannot read"):
        load_settings(None, token_file=tmp_path / "missing")


def test_unreadable_token_file_permission(tmp_path):
    """A token file the agent may not read (mode 000); as root, reading a directory fails too."""
    token = tmp_path / "tokendir"
    token.mkdir()
    conf = write(tmp_path, f"[push]\ntoken_file = '{token}'\n")
    with pytest.raises(ConfigError, match=r"push\.token_file: cannot read .*Is a directory"):
        load_settings(conf)


@pytest.mark.parametrize(("text", "message"), [BAD_CONFIGS[0], BAD_CONFIGS[10]])
def test_cli_exits_2_with_one_line(tmp_path, text, message):
    """Through the real command: exit status 2, exactly one line on stderr, nothing served."""
    conf = write(tmp_path, text)
    result = subprocess.run(
        [sys.executable, "-m", "regie", "agent", "run", "--config", str(conf)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"regie agent: {conf}: ")
    assert message in lines[0]


def test_cli_unknown_collector_name(tmp_path):
    conf = write(tmp_path, "[health]\ndisable = ['cpu', 'gpu']\n")
    result = subprocess.run(
        [sys.executable, "-m", "regie", "agent", "metrics", "--config", str(conf)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert f"{conf}: health.disable: unknown collector(s) gpu" in result.stderr


def test_check_config_ok(tmp_path):
    conf = write(tmp_path, "[http]\nlisten = '127.0.0.1:9999'\n")
    result = subprocess.run(
        [sys.executable, "-m", "regie", "agent", "check-config", "--config", str(conf)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (0, f"{conf}: ok")


def _check_config(conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "regie", "agent", "check-config", "--config", str(conf)],
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_a_collector_host_whose_idna_mapping_empties_a_label_is_refused(tmp_path):
    """U+2488 (DIGIT ONE FULL STOP, one character) maps to "1.": the name encodes, without an
    error, to b"1..example", so check-config said ok and every push cycle then failed with a
    traceback. The real command refuses it now."""
    conf = write(tmp_path, "[push]\ncollector = 'https://\u2488.example:8847'\n")
    result = _check_config(conf)
    assert result.returncode == 2, result.stdout
    assert (f"{conf}: push.collector: has a host that is not a valid DNS name"
            in result.stderr), result.stderr


@pytest.mark.parametrize(("host", "ascii_form"), [("r\u00e9gie.example", "xn--rgie-bpa.example"),
                                                  ("\u0440\u0435\u0433\u0438\u0435.example",
                                                   "xn--c1adbl1b.example")])
def test_a_collector_host_outside_ascii_is_refused_naming_its_idna_form(tmp_path, host,
                                                                         ascii_form):
    """urllib sends the host as written, in a Latin-1 Host header: a Cyrillic host failed
    every push cycle with a UnicodeEncodeError traceback (a Latin-1 one sent wrong bytes)
    while check-config said ok. The ASCII form works, and the refusal names it."""
    conf = write(tmp_path, f"[push]\ncollector = 'https://{host}:8847'\n")
    result = _check_config(conf)
    assert result.returncode == 2, result.stdout
    assert (f"{conf}: push.collector: has a host outside ASCII: write it in its IDNA form, "
            f"'{ascii_form}'" in result.stderr), result.stderr
    conf = write(tmp_path, f"[push]\ncollector = 'https://{ascii_form}:8847'\n")
    result = _check_config(conf)
    assert (result.returncode, result.stdout.strip()) == (0, f"{conf}: ok"), result.stderr


ROOT = Path(__file__).resolve().parents[2]


def test_example_config_is_valid_as_shipped_and_uncommented(tmp_path):
    """deploy/agent.example.toml loads as shipped, and with every example line uncommented."""
    example = ROOT / "deploy" / "agent.example.toml"
    assert load_settings(example).http.listen == DEFAULT_LISTEN
    lines = []
    for line in example.read_text().splitlines():
        stripped = line.lstrip("# ")
        is_example = line.startswith("# ") and ("=" in stripped or stripped.startswith("[["))
        lines.append(stripped if is_example else line)
    text = "\n".join(lines)
    for name in ("agent.token", "tls/agent.pem", "tls/agent.key", "tls/ca.pem"):
        local = tmp_path / name.replace("/", "-")
        local.write_text("t0ken\n")
        text = text.replace(f"/etc/regie/{name}", str(local))
    uncommented = write(tmp_path, text)
    settings = load_settings(uncommented)
    assert [t.name for t in settings.snmp.targets] == ["core-sw1", "ups-1"]
    assert (settings.http.tls_cert_file, settings.http.tls_key_file) == (
        tmp_path / "tls-agent.pem", tmp_path / "tls-agent.key")
    assert settings.push.ca_file == tmp_path / "tls-ca.pem"
    assert settings.push.collector == "https://regie.example.net:8847"


def test_cli_unusable_spool_dir_is_one_line(tmp_path):
    """push.spool_dir under a regular file cannot be created: exit 2, one line, no traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    conf = write(tmp_path, f"[push]\nspool_dir = '{blocker / 'spool'}'\n")
    result = subprocess.run(
        [sys.executable, "-m", "regie", "agent", "run", "--config", str(conf),
         "--listen", f"127.0.0.1:{free_port()}", "--collector", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if "regie agent:" in line]
    assert lines == [f"regie agent: {conf}: push.spool_dir: cannot use "
                     f"'{blocker / 'spool'}': Not a directory"], result.stderr
    assert "Traceback" not in result.stderr


def test_cli_bad_certificate_is_one_line(tmp_path):
    """A certificate file that is not PEM: exit 2 naming http.tls_cert_file."""
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_text("not a certificate\n")
    key.write_text("not a key\n")
    conf = write(tmp_path, f"[http]\ntls_cert_file = '{cert}'\ntls_key_file = '{key}'\n")
    result = subprocess.run(
        [sys.executable, "-m", "regie", "agent", "run", "--config", str(conf),
         "--listen", f"127.0.0.1:{free_port()}"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2, result.stderr
    assert f"regie agent: {conf}: http.tls_cert_file: certificate and key do not load" \
        in result.stderr
    assert "Traceback" not in result.stderr
