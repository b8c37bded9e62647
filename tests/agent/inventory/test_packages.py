"""Package database parsing (pure, on text) and the readers against the real dpkg here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agent.inventory.packages import (
    DPKG_QUERY,
    Package,
    parse_apk_installed,
    parse_dpkg,
    parse_rpm,
    read_apk,
    read_dpkg,
    read_rpm,
)
from agent.inventory.reading import CommandFailed, Completed, Context, run_command

# Real DPKG_QUERY lines captured on the Debian 12 build host, plus the two states that mean
# "not installed" (dpkg-query(1): "un" not-installed, "rc" config-files) and a multiarch pair.
DPKG_OUTPUT = (
    "bash\t5.2.15-2+b8\tamd64\tii \n"
    "dpkg\t1.21.22\tamd64\tii \n"
    "libcap2\t1:2.66-4+deb12u2+b2\tamd64\tii \n"
    "tzdata\t2025b-0+deb12u2\tall\tii \n"
    "libc6\t2.36-9+deb12u14\tamd64\tii \n"
    "libc6\t2.36-9+deb12u14\ti386\tiU \n"
    "apache2\t2.4.62-1~deb12u2\tamd64\trc \n"
    "exim4\t\t\tun \n"
    "held-pkg\t1.0-1\tall\thi \n"
)


def test_parse_dpkg() -> None:
    """Pure parsing of dpkg-query output."""
    packages = parse_dpkg(DPKG_OUTPUT)
    assert [(p.name, p.architecture) for p in packages] == [
        ("bash", "amd64"), ("dpkg", "amd64"), ("held-pkg", "all"),
        ("libc6", "amd64"), ("libc6", "i386"), ("libcap2", "amd64"), ("tzdata", "all"),
    ]
    libcap = next(p for p in packages if p.name == "libcap2")
    assert libcap.version == "1:2.66-4+deb12u2+b2"  # the epoch stays in a Debian version


# rpm -qa --qf output in RPM_QUERY's format, as RHEL 7/8/9 print it ("(none)" for no epoch;
# gpg-pubkey is an imported signing key, not a package). Written from rpm's documented tags,
# not captured here (no rpm database on the build host).
RPM_OUTPUT = (
    "openssl\t1\t1.1.1k\t12.el8_9\tx86_64\n"
    "postgresql-server\t(none)\t9.2.24\t9.el7_9\tx86_64\n"
    "gpg-pubkey\t(none)\tfd431d51\t4ae0493b\t(none)\n"
    "kernel-core\t(none)\t5.14.0\t362.8.1.el9_3\tx86_64\n"
    "tzdata\t(none)\t2024a\t1.el9\tnoarch\n"
    "garbage line\n"
)


def test_parse_rpm() -> None:
    """Pure parsing of rpm --qf output."""
    packages = {p.name: p for p in parse_rpm(RPM_OUTPUT)}
    assert sorted(packages) == ["kernel-core", "openssl", "postgresql-server", "tzdata"]
    assert packages["openssl"] == Package(manager="rpm", name="openssl", epoch="1",
                                          version="1.1.1k", release="12.el8_9",
                                          architecture="x86_64")
    assert packages["postgresql-server"].epoch is None


# /lib/apk/db/installed, trimmed to the fields read (apk-tools writes many more per stanza).
APK_DB = """C:Q1abc=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:383152
T:the musl c library

P:busybox
V:1.36.1-r15
A:x86_64
o:busybox

P:broken-without-version
A:x86_64
"""


def test_parse_apk_installed() -> None:
    """Pure parsing of apk's installed database."""
    assert [(p.name, p.version, p.architecture) for p in parse_apk_installed(APK_DB)] == [
        ("busybox", "1.36.1-r15", "x86_64"), ("musl", "1.2.4_git20230717-r4", "x86_64"),
    ]


# The raw shapes the registry matcher reads: eol-data sample_inventory_cases.json s005, s006,
# s011, s012, s013 (+ architecture, which the matcher ignores).
@pytest.mark.parametrize(("package", "expected"), [
    (Package(manager="dpkg", name="postgresql-15", version="15.6-0+deb12u1",
             architecture="amd64"),
     {"source": "dpkg", "raw": {"package": "postgresql-15", "version": "15.6-0+deb12u1",
                                "architecture": "amd64"}}),
    (Package(manager="dpkg", name="mariadb-server", version="1:10.5.23-0+deb11u1",
             architecture="amd64"),
     {"source": "dpkg", "raw": {"package": "mariadb-server", "version": "1:10.5.23-0+deb11u1",
                                "architecture": "amd64"}}),
    (Package(manager="rpm", name="postgresql-server", version="9.2.24", release="9.el7_9",
             architecture="x86_64"),
     {"source": "rpm", "raw": {"name": "postgresql-server", "version": "9.2.24",
                               "release": "9.el7_9", "architecture": "x86_64"}}),
    (Package(manager="rpm", name="openssl", epoch="1", version="1.1.1k", release="12.el8_9",
             architecture="x86_64"),
     {"source": "rpm", "raw": {"name": "openssl", "epoch": "1", "version": "1.1.1k",
                               "release": "12.el8_9", "architecture": "x86_64"}}),
    (Package(manager="apk", name="musl", version="1.2.4-r4", architecture="x86_64"),
     {"source": "apk", "raw": {"package": "musl", "version": "1.2.4-r4",
                               "architecture": "x86_64"}}),
])
def test_observation_shapes(package: Package, expected: dict) -> None:
    """Pure: the observation a package becomes."""
    assert package.observation() == expected


def _fake_run(outputs: dict[str, Completed | Exception]):
    """A stand-in runner keyed by program name: lets a test show rpm or dnf output on a host
    that has neither."""
    def run(argv, *, timeout):
        answer = outputs.get(argv[0], FileNotFoundError(argv[0]))
        if isinstance(answer, Exception):
            raise answer
        return answer
    return run


def test_rpm_reader_with_canned_output(tmp_path: Path) -> None:
    """rpm is faked (not installed on the build host): the reader's plumbing around parse_rpm."""
    reading = read_rpm(Context(root=tmp_path, run=_fake_run({"rpm": Completed(0, RPM_OUTPUT)})))
    assert reading is not None
    assert {o["raw"]["name"] for o in reading.observations} == {
        "openssl", "postgresql-server", "kernel-core", "tzdata"}
    assert reading.value[0]["manager"] == "rpm"


def test_failing_tool_raises_with_its_message(tmp_path: Path) -> None:
    """A faked rpm that exits 1 (a locked or damaged database): CommandFailed names it."""
    run = _fake_run({"rpm": Completed(1, "", "error: rpmdb: BDB0113 Thread died\n")})
    with pytest.raises(CommandFailed, match="rpm exited with status 1: error: rpmdb"):
        read_rpm(Context(root=tmp_path, run=run))


def test_real_runner_reports_a_missing_program() -> None:
    """The real runner: a program that is not installed raises FileNotFoundError, which is how
    readers tell "not applicable" from "failed"."""
    with pytest.raises(FileNotFoundError):
        run_command(["regie-no-such-program"], timeout=5)


def test_missing_tools_do_not_apply(tmp_path: Path) -> None:
    """A runner on which no program exists and an empty fixture root: every package reader
    says "not applicable" (None), none raises."""
    ctx = Context(root=tmp_path, run=_fake_run({}))
    assert (read_dpkg(ctx), read_rpm(ctx), read_apk(ctx)) == (None, None, None)


def test_apk_reader_from_database(tmp_path: Path) -> None:
    """apk's database file in a fixture root (the reader reads a file, no program)."""
    (tmp_path / "lib/apk/db").mkdir(parents=True)
    (tmp_path / "lib/apk/db/installed").write_text(APK_DB)
    reading = read_apk(Context(root=tmp_path, run=run_command))
    assert reading is not None
    assert [o["raw"]["package"] for o in reading.observations] == ["busybox", "musl"]


def test_dpkg_on_this_host() -> None:
    """The real dpkg-query on the Debian build host: dpkg itself is listed, with the version
    dpkg-query reports for it on its own."""
    reading = read_dpkg(Context(root=Path("/"), run=run_command))
    assert reading is not None
    own = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "dpkg"],
                         capture_output=True, text=True, check=True).stdout
    dpkg = [p for p in reading.value if p["name"] == "dpkg"]
    assert dpkg == [{"manager": "dpkg", "name": "dpkg", "version": own,
                     "architecture": dpkg[0]["architecture"]}]
    assert {"source": "dpkg", "raw": {"package": "dpkg", "version": own,
                                      "architecture": dpkg[0]["architecture"]}} \
        in reading.observations
    assert len(reading.value) == len(reading.observations) > 50
    assert DPKG_QUERY[0] == "dpkg-query"


# DPKG_QUERY lines with the source columns, as dpkg-query 1.21 prints them here: libssl3 is
# built from openssl; bsdutils as an older dpkg-query prints it (no ${source:Package}, so only
# the raw Source field, with the source's version); dpkg from a source of its own name.
DPKG_SOURCE_OUTPUT = (
    "libssl3\t3.0.19-1~deb12u2\tamd64\tii \topenssl\topenssl\n"
    "bsdutils\t1:2.38.1-5+deb12u3\tamd64\tii \t\tutil-linux (2.38.1-5+deb12u3)\n"
    "dpkg\t1.21.22\tamd64\tii \tdpkg\t\n"
    "libc6\t2.36-9+deb12u14\tamd64\tii \tglibc\tglibc\n"
    "libc6\t2.36-9+deb12u14\ti386\trc \tglibc\tglibc\n"
)


def test_parse_dpkg_source_packages() -> None:
    """Pure: the source package is kept when its name differs from the binary's, from
    ${source:Package} or else the raw Source field without its version."""
    packages = {p.name: p for p in parse_dpkg(DPKG_SOURCE_OUTPUT)}
    assert {n: p.source for n, p in packages.items()} == {
        "bsdutils": "util-linux", "dpkg": None, "libc6": "glibc", "libssl3": "openssl"}
    assert packages["libssl3"].observation() == {"source": "dpkg", "raw": {
        "package": "libssl3", "version": "3.0.19-1~deb12u2", "architecture": "amd64",
        "source_package": "openssl"}}
    assert "source_package" not in packages["dpkg"].observation()["raw"]


def test_dpkg_source_packages_on_this_host() -> None:
    """The real dpkg-query here: libc6 comes from glibc and libssl3 from openssl; and for every
    installed package the reader's source agrees with dpkg's raw Source field, asked for on
    its own (empty: the source has the binary's name)."""
    reading = read_dpkg(Context(root=Path("/"), run=run_command))
    assert reading is not None
    sources = {(o["raw"]["package"], o["raw"]["architecture"]): o["raw"].get("source_package")
               for o in reading.observations}
    assert sources[("libc6", "amd64")] == "glibc"
    assert sources[("libssl3", "amd64")] == "openssl"
    raw = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\\t${Architecture}\\t"
                          "${db:Status-Abbrev}\\t${Source}\\n"],
                         capture_output=True, text=True, check=True).stdout
    expected = {}
    for line in raw.splitlines():
        name, arch, status, source = line.split("\t")
        if status[1:2] in ("i", "U", "F", "W", "t", "H"):  # files on disk, as the reader keeps
            source = source.partition(" ")[0]
            expected[(name, arch)] = source if source and source != name else None
    assert sources == expected
    assert sum(s is not None for s in sources.values()) > 50
