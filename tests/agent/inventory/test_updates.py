"""Pending-update parsing (pure, on text) and the apt reader against the real apt here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agent.inventory.reading import CommandFailed, Completed, Context, run_command
from agent.inventory.updates import (
    APT_SIMULATE,
    DNF_CHECK_UPDATE,
    DNF_UPDATEINFO,
    Available,
    merge_dnf,
    parse_apt_simulation,
    parse_dnf_check_update,
    parse_dnf_updateinfo,
    read_apt,
    read_dnf,
)

# Real `apt-get -s -o Debug::NoLocking=1 dist-upgrade` lines from the Debian 12 build host,
# plus an Ubuntu jammy line and a new package a dist-upgrade pulls in (no [current]).
APT_OUTPUT = """NOTE: This is only a simulation!
      apt-get needs root privileges for real execution.
Reading package lists...
Building dependency tree...
Calculating upgrade...
The following packages will be upgraded:
  base-files bash libgcrypt20 liblzma5
Inst base-files [12.4+deb12u11] (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Conf base-files (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Inst libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
Inst liblzma5 [5.4.1-1] (5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64])
Inst libcap2 [1:2.66-4+deb12u2+b2] (1:2.66-4+deb12u3+b1 Debian:12.15/oldstable [amd64]) []
Inst libssl3 [3.0.2-0ubuntu1.10] (3.0.2-0ubuntu1.12 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
Inst linux-image-6.1.0-28-amd64 (6.1.119-1 Debian-Security:12/stable-security [amd64])
Inst tzdata [2025b-0+deb12u1] (2025b-0+deb12u2 Debian:12.15/oldstable [all])
Remv old-thing [1.0]
Conf liblzma5 (5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64])
"""  # noqa: E501


@pytest.mark.parametrize(("package", "current", "version", "arch", "security"), [
    ("base-files", "12.4+deb12u11", "12.4+deb12u15", "amd64", False),
    ("libgcrypt20", "1.10.1-3", "1.10.1-3+deb12u1", "amd64", True),
    ("liblzma5", "5.4.1-1", "5.4.1-1+deb12u2", "amd64", True),
    ("libcap2", "1:2.66-4+deb12u2+b2", "1:2.66-4+deb12u3+b1", "amd64", False),
    ("libssl3", "3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.12", "amd64", True),
    ("linux-image-6.1.0-28-amd64", None, "6.1.119-1", "amd64", True),
    ("tzdata", "2025b-0+deb12u1", "2025b-0+deb12u2", "all", False),
])
def test_parse_apt_simulation(package, current, version, arch, security) -> None:
    """Pure parsing of apt-get -s output: one update per Inst line, Conf/Remv ignored."""
    updates = {u.package: u for u in parse_apt_simulation(APT_OUTPUT)}
    assert len(updates) == 7
    update = updates[package]
    assert (update.current_version, update.version, update.architecture, update.security) == (
        current, version, arch, security)


def test_apt_origin_is_kept() -> None:
    """Pure: the archives an update comes from stay in the document for a human."""
    updates = {u.package: u for u in parse_apt_simulation(APT_OUTPUT)}
    assert updates["libgcrypt20"].origin == (
        "Debian:12.15/oldstable, Debian-Security:12/oldstable-security")


# `dnf -q check-update` in dnf 4's layout (NAME.ARCH EVR REPO, wrapped when a name is long),
# with the running-kernel note and the Obsoleting section it may add. Written from dnf's
# output format (dnf/cli/output.py), not captured here: the build host has no dnf.
CHECK_UPDATE_TEXT = """
kernel.x86_64                         5.14.0-362.13.1.el9_3          baseos
openssl.x86_64                        1:3.0.7-25.el9_3               baseos
python3-some-very-long-package-name-for-wrapping.noarch
                                      2.1-3.el9                      appstream
tzdata.noarch                         2024a-1.el9                    baseos
Security: kernel-core-5.14.0-362.8.1.el9_3.x86_64 is an installed security update
Obsoleting Packages
grub2-tools.x86_64                    1:2.06-70.el9_3.1              baseos
    grub2-tools.x86_64                1:2.06-61.el9_3.1              @baseos
"""

# dnf 4 `updateinfo list --updates`: ID LABEL NEVRA (dnf/cli/commands/updateinfo.py).
DNF4_UPDATEINFO = """RHSA-2023:7549 Important/Sec. kernel-5.14.0-362.13.1.el9_3.x86_64
RHSA-2024:0310 Moderate/Sec.  openssl-1:3.0.7-25.el9_3.x86_64
RHBA-2024:0420 bugfix         tzdata-2024a-1.el9.noarch
"""

# dnf 5 `advisory list --updates`: a header, then Name Type Severity Package Issued.
DNF5_UPDATEINFO = """Name                  Type        Severity  Package                                Issued
FEDORA-2024-1a2b3c4d5e security    Important kernel-5.14.0-362.13.1.el9_3.x86_64      2024-01-10 00:00:00
FEDORA-2024-6f7a8b9c0d enhancement None      tzdata-2024a-1.el9.noarch              2024-02-01 00:00:00
"""  # noqa: E501


def test_parse_dnf_check_update() -> None:
    """Pure parsing of check-update output, wrapped lines joined, Obsoleting section skipped."""
    assert parse_dnf_check_update(CHECK_UPDATE_TEXT) == [
        Available("kernel", "x86_64", "5.14.0-362.13.1.el9_3", "baseos"),
        Available("openssl", "x86_64", "1:3.0.7-25.el9_3", "baseos"),
        Available("python3-some-very-long-package-name-for-wrapping", "noarch", "2.1-3.el9",
                  "appstream"),
        Available("tzdata", "noarch", "2024a-1.el9", "baseos"),
    ]


@pytest.mark.parametrize("text", [DNF4_UPDATEINFO, DNF5_UPDATEINFO], ids=["dnf4", "dnf5"])
def test_parse_dnf_updateinfo(text: str) -> None:
    """Pure parsing of both dnf generations' advisory lists."""
    advisories = parse_dnf_updateinfo(text)
    security = {(a.name, a.architecture) for a in advisories if a.security}
    other = {(a.name, a.architecture) for a in advisories if not a.security}
    assert ("kernel", "x86_64") in security
    assert other == {("tzdata", "noarch")}


def test_merge_dnf_flags_security_updates() -> None:
    """Pure: an update is security when a security advisory names its name and arch."""
    merged = {u.package: u for u in merge_dnf(parse_dnf_check_update(CHECK_UPDATE_TEXT),
                                              parse_dnf_updateinfo(DNF4_UPDATEINFO))}
    assert merged["kernel"].security and merged["kernel"].advisories == ("RHSA-2023:7549",)
    assert merged["openssl"].security
    assert not merged["tzdata"].security and merged["tzdata"].advisories == ("RHBA-2024:0420",)
    assert not merged["python3-some-very-long-package-name-for-wrapping"].security
    assert merged["openssl"].version == "1:3.0.7-25.el9_3"


def _fake_run(outputs):
    """A stand-in runner keyed by argv (the build host has no dnf)."""
    def run(argv, *, timeout):
        answer = outputs.get(tuple(argv), FileNotFoundError(argv[0]))
        if isinstance(answer, Exception):
            raise answer
        return answer
    return run


def test_dnf_reader_accepts_exit_100_and_merges(tmp_path: Path) -> None:
    """dnf faked (absent here): check-update's exit status 100 means "updates available"."""
    run = _fake_run({DNF_CHECK_UPDATE: Completed(100, CHECK_UPDATE_TEXT),
                     DNF_UPDATEINFO: Completed(0, DNF4_UPDATEINFO)})
    reading = read_dnf(Context(root=tmp_path, run=run))
    assert reading is not None
    assert {u["package"] for u in reading.value if u["security"]} == {"kernel", "openssl"}


def test_dnf_reader_failure_is_raised(tmp_path: Path) -> None:
    """dnf faked: an empty cache (-C) is exit status 1, an error for collect_inventory."""
    no_cache = "Error: Cache-only enabled but no cache for 'baseos'\n"
    run = _fake_run({DNF_CHECK_UPDATE: Completed(1, "", no_cache)})
    with pytest.raises(CommandFailed, match="no cache"):
        read_dnf(Context(root=tmp_path, run=run))


def test_apt_timeout_propagates(tmp_path: Path) -> None:
    """A runner that times out (faked: a real hang cannot be produced on demand)."""
    def run(argv, *, timeout):
        raise subprocess.TimeoutExpired(list(argv), timeout)
    with pytest.raises(subprocess.TimeoutExpired):
        read_apt(Context(root=tmp_path, run=run))


def test_apt_on_this_host() -> None:
    """The real apt-get simulation on the Debian build host (the runner is the real one,
    wrapped only to keep a copy of the output it returned): one update per Inst line, each
    with a boolean security flag; the system is not changed."""
    outputs: list[tuple[tuple[str, ...], str]] = []

    def run(argv, *, timeout):
        result = run_command(argv, timeout=timeout)
        outputs.append((tuple(argv), result.stdout))
        return result

    reading = read_apt(Context(root=Path("/"), run=run))
    assert reading is not None
    ((argv, raw),) = outputs
    assert argv == APT_SIMULATE and "-s" in argv  # a simulation, never a change
    assert len(reading.value) == sum(1 for line in raw.splitlines() if line.startswith("Inst "))
    for update in reading.value:
        assert update["manager"] == "apt"
        assert isinstance(update["security"], bool)
        assert update["version"]
