"""os-release parsing (pure, on text) and the reader on a fixture tree (real files, a fake root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.inventory.os_release import parse_os_release, read_os_release
from agent.inventory.reading import Context, run_command

# Captured from this project's Debian 12 build host (/etc/os-release).
DEBIAN_12 = '''PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
'''

# As shipped by Ubuntu 22.04 and RHEL 9.2 (the fields of eol-data cases s002/s003).
UBUNTU_2204 = '''PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy
'''
RHEL_92 = '''NAME="Red Hat Enterprise Linux"
VERSION="9.2 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.2"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.2 (Plow)"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
'''
# Alpine writes most values unquoted.
ALPINE_319 = '''NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
HOME_URL="https://alpinelinux.org/"
'''


@pytest.mark.parametrize(("text", "expected"), [
    (DEBIAN_12, {"ID": "debian", "VERSION_ID": "12", "VERSION_CODENAME": "bookworm",
                 "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)"}),
    (UBUNTU_2204, {"ID": "ubuntu", "ID_LIKE": "debian", "VERSION_ID": "22.04",
                   "VERSION": "22.04.4 LTS (Jammy Jellyfish)"}),
    (RHEL_92, {"ID": "rhel", "VERSION_ID": "9.2", "ID_LIKE": "fedora",
               "CPE_NAME": "cpe:/o:redhat:enterprise_linux:9::baseos"}),
    (ALPINE_319, {"ID": "alpine", "VERSION_ID": "3.19.1", "PRETTY_NAME": "Alpine Linux v3.19"}),
    # os-release(5): comments, blank lines, single quotes, escapes, '=' inside a value.
    ("# comment\n\nID='my os'\n", {"ID": "my os"}),
    ('NAME="say \\"hi\\" \\$HOME \\\\ done"\n', {"NAME": 'say "hi" $HOME \\ done'}),
    ("VARIANT=a=b\n", {"VARIANT": "a=b"}),
    ("  ID=debian  \n", {"ID": "debian"}),
    ('ID="unterminated\n', {"ID": "unterminated"}),
    ("not a line\n=novalue\n1BAD=x\nID=ok\n", {"ID": "ok"}),
    ("", {}),
])
def test_parse_os_release(text: str, expected: dict[str, str]) -> None:
    """Pure parsing of os-release text; nothing faked."""
    parsed = parse_os_release(text)
    assert {k: parsed[k] for k in expected} == expected
    if not expected:
        assert parsed == {}


def _ctx(root: Path) -> Context:
    return Context(root=root, run=run_command)


def test_reader_prefers_etc_and_observes_raw(tmp_path: Path) -> None:
    """Real files in a fixture tree standing in for / (the root is the only fake)."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "usr/lib").mkdir(parents=True)
    (tmp_path / "etc/os-release").write_text(DEBIAN_12)
    (tmp_path / "usr/lib/os-release").write_text(ALPINE_319)
    reading = read_os_release(_ctx(tmp_path))
    assert reading.value["ID"] == "debian"
    assert reading.observations == ({"source": "os-release", "raw": reading.value},)


def test_reader_falls_back_to_usr_lib(tmp_path: Path) -> None:
    """Fixture tree without /etc/os-release; real file reads."""
    (tmp_path / "usr/lib").mkdir(parents=True)
    (tmp_path / "usr/lib/os-release").write_text(RHEL_92)
    assert read_os_release(_ctx(tmp_path)).value["ID"] == "rhel"


def test_reader_follows_the_usual_relative_symlink(tmp_path: Path) -> None:
    """/etc/os-release -> ../usr/lib/os-release, as Debian and Fedora install it."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "usr/lib").mkdir(parents=True)
    (tmp_path / "usr/lib/os-release").write_text(UBUNTU_2204)
    (tmp_path / "etc/os-release").symlink_to("../usr/lib/os-release")
    assert read_os_release(_ctx(tmp_path)).value["VERSION_ID"] == "22.04"


def test_reader_without_any_file_raises(tmp_path: Path) -> None:
    """An empty fixture root: the reader fails (collect_inventory records it as an error)."""
    with pytest.raises(FileNotFoundError, match="os-release"):
        read_os_release(_ctx(tmp_path))


def test_this_host() -> None:
    """The real /etc/os-release of the machine running the tests (Debian 12)."""
    reading = read_os_release(_ctx(Path("/")))
    assert reading.value["ID"] == "debian"
    assert reading.value["VERSION_ID"] == "12"
