#!/usr/bin/env python3
"""Benchmark the registry's matching: a full fleet re-match and one inventory push.

    python bench/registry.py [--hosts 10000] [--packages 2000] [--data DIR] [--seed 1]
                             [--parts rematch,push,naive,e2e] [--pushes 50] [--sample 20000]
                             [--backend sqlite|postgresql|both] [--quick]

The fleet is synthetic and seeded, built from real package lists: this machine's
`dpkg-query -W` (names and Debian 12 versions; the packages that match a product are left to
the roles below), per-flavour system packages (perl, python, openssl, sqlite at each
release's real versions), server packages whose names and versions come from the
end-of-support data (nginx, php8.x-fpm, postgresql-N, mariadb-server, redis-server, tomcat9,
docker-ce, kubelet, java-17-openjdk, ... at the data's cycle versions), generic library names
and a long tail of third-party packages. Seven OS flavours (Debian 11/12, Ubuntu
20.04/22.04/24.04 with dpkg; RHEL 8/9 with rpm). Each host: its os-release, kernel and DMI
observations plus --packages package observations, in the shapes the agent sends
(agent/inventory): about 85% from its flavour's base set (each base package on ~90% of the
flavour's hosts, at one of 1-3 versions; 30% of hosts lag behind on patches), the packages of
0-2 server roles, and the rest from a long tail (Zipf). The fleet is kept compact: a shared
table of distinct (manager, name, version) entries and, per host, an array of indexes into it.

1. rematch (a child process pinned to one core, so its peak RSS is the re-match's alone):
   a fresh Matcher, as `regie registry sync` builds one, then every host's document:
   (a) the real path of the sync's re-match (registry/cli.py `_apply`): the host's document
   is decoded from JSON (as read from the store; timed apart) and `fleet.software(matcher,
   catalog, document)` gives its product cycles; every host's result is kept, as the sync
   keeps its rows. (b) in a second child: `Matcher.match_package` straight over the compact
   fleet, per host into a set of (product, cycle). Targets: <= 20 s on one core, peak RSS
   <= 1 GB.
2. push: one --packages push matched in-process with `fleet.software`, for --pushes hosts:
   warm (a matcher that has seen every entry of the fleet, as a running collector has) and
   cold (a fresh Matcher per push, built untimed). Target: <= 50 ms.
3. naive: the anchor. For each observation, every product of the catalog in turn (name,
   label, aliases, purl/repology/cpe names: equal to or contained in the package name), the
   longest hit wins, then its cycles are scanned for the longest prefix of the version. On a
   --sample of the fleet's package observations, extrapolated to the whole fleet; the
   Matcher without its cache on the same sample for comparison.
4. e2e: real processes. `regie collector migrate`, `regie registry sync --from DATA` (when
   the data is a directory), `regie collector token create --role agent`, `regie collector
   run`; then POST /api/v1/inventory with {"idempotency_key", "document"} one at a time: the
   first pushes after the start, then (after warm-up documents holding every entry of the
   fleet) --pushes timed pushes. The handler matches and writes host_software in the push's
   transaction. Finally `regie registry sync` again, to time its re-match of the pushed
   hosts through the database. On SQLite and on a throw-away PostgreSQL database
   (regie_bench_<random>, dropped at the end); without the server the PostgreSQL rows are
   skipped with the reason.

Progress goes to stderr, the report to stdout. This is a measurement, not a test: it exits 0
whatever the figures (130 when stopped by Ctrl-C or SIGTERM, after stopping its processes,
dropping its databases and removing its temporary files).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import functools
import gc
import json
import operator
import os
import random
import re
import resource
import secrets
import signal
import subprocess
import sys
import time
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from databases import PostgreSQL, Workspace, chosen_backends, reach
from machine import print_machine, versions_of
from options import add_database_options, add_selection
from processes import (
    cpu_seconds,
    free_port,
    peak_rss_mb,
    regie,
    start_collector,
    stop_process,
    wait_ready,
)
from progress import say
from tables import percentile, print_head

ROOT = Path(__file__).resolve().parent.parent
# Project packages first: this script's own name would shadow the `registry` package.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATA = ROOT.parent / "shared" / "eol-data"
TARGET_FLEET_S = 20.0
TARGET_RSS_MB = 1024.0
TARGET_PUSH_MS = 50.0
PARTS = ("rematch", "push", "naive", "e2e")
SCHEMA = "regie.inventory/v1"
COLLECTED_AT = "2026-11-29T20:00:00+00:00"

BASE_SHARE = 0.85          # of a host's packages, on average, from its flavour's base set
LAG_SHARE = 0.30           # hosts behind on patches
# A base package's byte -> slot (0-2: its versions, newest first; 3: not installed), for
# hosts up to date and hosts lagging behind. 26/256 absent: each base package is on ~90%.
SLOTS_CURRENT = bytes([3] * 26 + [0] * 200 + [1] * 22 + [2] * 8)
SLOTS_LAGGING = bytes([3] * 26 + [0] * 90 + [1] * 100 + [2] * 40)


class Interrupted(Exception):
    pass


def memory_mb() -> dict[str, float]:
    """VmRSS and VmHWM (peak) of this process, in MB, and ru_maxrss."""
    out = {"rss": 0.0, "hwm": 0.0}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss"] = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                out["hwm"] = int(line.split()[1]) / 1024
    out["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


# -- the data ------------------------------------------------------------------------------


def load_catalog(data: Path | None):
    """(catalog, description): the API v1 directory, or the bundled dataset."""
    from registry.end_of_support import load_default, load_directory

    if data is None:
        catalog = load_default()
        return catalog, f"the bundled dataset ({len(catalog)} products)"
    loaded = load_directory(data)
    skipped = f", {len(loaded.skipped)} files skipped" if loaded.skipped else ""
    return loaded.catalog, f"{data} ({len(loaded.catalog)} products{skipped})"


def machine_packages() -> list[tuple[str, str]]:
    """This machine's dpkg-query list: (name, version); empty without dpkg."""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\n"],
                             capture_output=True, text=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    pairs = []
    for line in out.splitlines():
        name, _, version = line.partition("\t")
        if name and version:
            pairs.append((name.split(":")[0], version))
    return sorted(set(pairs))


# -- the synthetic fleet -------------------------------------------------------------------

_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")


def older(version: str, k: int) -> str:
    """An earlier patch level of `version`: its last number minus k."""
    if k == 0:
        return version
    found = _LAST_NUMBER.search(version)
    if found and int(found.group(1)) >= k:
        return f"{version[:found.start()]}{int(found.group(1)) - k}{version[found.end():]}"
    return f"{version}~{k}"


def older_release(release: str, k: int) -> str:
    """An earlier rpm release: its first number minus k ("12.el9_3" -> "11.el9_3")."""
    number, dot, rest = release.partition(".")
    if k == 0 or not number.isdigit():
        return release
    return f"{max(1, int(number) - k)}{dot}{rest}"


def upstream(version: str) -> str:
    """The upstream part of a Debian version: no epoch, no revision."""
    version = version.split(":", 1)[-1]
    return version.rsplit("-", 1)[0] if "-" in version else version


@dataclass(frozen=True)
class Flavour:
    name: str
    manager: str                               # dpkg | rpm
    weight: int
    os_release: tuple[dict[str, str], ...]     # up to date, lagging
    # running kernel release, its package: (name, version, release)
    kernels: tuple[tuple[str, tuple[str, str, str | None]], ...]
    system: tuple[tuple[str, str, str | None], ...]   # (name, version, rpm release)
    tag: str                                   # for versions: deb11, ubuntu22.04, el9 ...


def _debian(version: str, codename: str) -> dict[str, str]:
    return {"PRETTY_NAME": f"Debian GNU/Linux {version} ({codename})",
            "NAME": "Debian GNU/Linux", "VERSION_ID": version,
            "VERSION": f"{version} ({codename})", "VERSION_CODENAME": codename, "ID": "debian",
            "HOME_URL": "https://www.debian.org/", "SUPPORT_URL": "https://www.debian.org/support",
            "BUG_REPORT_URL": "https://bugs.debian.org/"}


def _ubuntu(point: str, name: str) -> dict[str, str]:
    version = ".".join(point.split(".")[:2])
    code = name.split()[0].lower()
    return {"PRETTY_NAME": f"Ubuntu {point} LTS", "NAME": "Ubuntu", "VERSION_ID": version,
            "VERSION": f"{point} LTS ({name})", "VERSION_CODENAME": code, "ID": "ubuntu",
            "ID_LIKE": "debian", "HOME_URL": "https://www.ubuntu.com/",
            "SUPPORT_URL": "https://help.ubuntu.com/",
            "BUG_REPORT_URL": "https://bugs.launchpad.net/ubuntu/",
            "PRIVACY_POLICY_URL": "https://www.ubuntu.com/legal/terms-and-policies/privacy-policy",
            "UBUNTU_CODENAME": code}


def _rhel(version: str, name: str) -> dict[str, str]:
    major = version.split(".")[0]
    return {"NAME": "Red Hat Enterprise Linux", "VERSION": f"{version} ({name})", "ID": "rhel",
            "ID_LIKE": "fedora", "VERSION_ID": version, "PLATFORM_ID": f"platform:el{major}",
            "PRETTY_NAME": f"Red Hat Enterprise Linux {version} ({name})",
            "ANSI_COLOR": "0;31", "LOGO": "fedora-logo-icon",
            "CPE_NAME": f"cpe:/o:redhat:enterprise_linux:{major}::baseos",
            "HOME_URL": "https://www.redhat.com/",
            "DOCUMENTATION_URL": f"https://access.redhat.com/documentation/en-us/"
                                 f"red_hat_enterprise_linux/{major}",
            "BUG_REPORT_URL": "https://bugzilla.redhat.com/",
            "REDHAT_SUPPORT_PRODUCT": "Red Hat Enterprise Linux",
            "REDHAT_SUPPORT_PRODUCT_VERSION": version}


def _deb_kernels(base: str, flavour: str, abis: Sequence[tuple[int, str]]):
    return tuple((f"{base}-{abi}-{flavour}",
                  (f"linux-image-{base}-{abi}-{flavour}", version, None))
                 for abi, version in abis)


def _el_kernels(base: str, releases: Sequence[str]):
    return tuple((f"{base}-{rel}.x86_64", ("kernel-core", base, rel)) for rel in releases)


FLAVOURS: tuple[Flavour, ...] = (
    Flavour("debian-11", "dpkg", 15, (_debian("11", "bullseye"),),
            _deb_kernels("5.10.0", "amd64", ((32, "5.10.209-2"), (30, "5.10.205-2"),
                                             (28, "5.10.209-1"))),
            (("perl", "5.32.1-4+deb11u3", None), ("python3.9", "3.9.2-1", None),
             ("python3", "3.9.2-3", None), ("openssl", "1.1.1w-0+deb11u1", None),
             ("sqlite3", "3.34.1-3", None)), "deb11"),
    Flavour("debian-12", "dpkg", 25, (_debian("12", "bookworm"),),
            _deb_kernels("6.1.0", "amd64", ((28, "6.1.119-1"), (25, "6.1.112-1"),
                                            (21, "6.1.90-1"), (18, "6.1.76-1"))),
            (("perl", "5.36.0-7+deb12u4", None), ("python3.11", "3.11.2-6+deb12u6", None),
             ("python3", "3.11.2-1+b1", None), ("openssl", "3.0.19-1~deb12u2", None),
             ("sqlite3", "3.40.1-2+deb12u2", None)), "deb12"),
    Flavour("ubuntu-20.04", "dpkg", 10, (_ubuntu("20.04.6", "Focal Fossa"),),
            _deb_kernels("5.4.0", "generic", ((200, "5.4.0-200.220"), (190, "5.4.0-190.210"),
                                              (170, "5.4.0-170.188"))),
            (("perl", "5.30.0-9ubuntu0.5", None), ("python3.8", "3.8.10-0ubuntu1~20.04.12",
                                                    None),
             ("python3", "3.8.2-0ubuntu2", None), ("openssl", "1.1.1f-1ubuntu2.23", None),
             ("sqlite3", "3.31.1-4ubuntu0.6", None)), "ubuntu20.04"),
    Flavour("ubuntu-22.04", "dpkg", 20, (_ubuntu("22.04.5", "Jammy Jellyfish"),
                                         _ubuntu("22.04.3", "Jammy Jellyfish")),
            _deb_kernels("5.15.0", "generic", ((125, "5.15.0-125.135"),
                                               (119, "5.15.0-119.129"),
                                               (105, "5.15.0-105.115"),
                                               (91, "5.15.0-91.101"))),
            (("perl", "5.34.0-3ubuntu1.3", None), ("python3.10", "3.10.12-1~22.04.7", None),
             ("python3", "3.10.6-1~22.04.1", None), ("openssl", "3.0.2-0ubuntu1.18", None),
             ("sqlite3", "3.37.2-2ubuntu0.3", None)), "ubuntu22.04"),
    Flavour("ubuntu-24.04", "dpkg", 10, (_ubuntu("24.04.1", "Noble Numbat"),),
            _deb_kernels("6.8.0", "generic", ((51, "6.8.0-51.52"), (45, "6.8.0-45.45"),
                                              (31, "6.8.0-31.31"))),
            (("perl", "5.38.2-3.2ubuntu0.1", None), ("python3.12", "3.12.3-1ubuntu0.5", None),
             ("python3", "3.12.3-0ubuntu2", None), ("openssl", "3.0.13-0ubuntu3.5", None),
             ("sqlite3", "3.45.1-1ubuntu2.1", None)), "ubuntu24.04"),
    Flavour("rhel-8", "rpm", 10, (_rhel("8.10", "Ootpa"), _rhel("8.8", "Ootpa")),
            _el_kernels("4.18.0", ("553.16.1.el8_10", "513.24.1.el8_9", "477.27.1.el8_8")),
            (("perl", "5.26.3", "422.el8"), ("platform-python", "3.6.8", "56.el8_9"),
             ("python3-libs", "3.6.8", "56.el8_9"), ("openssl", "1.1.1k", "12.el8_9"),
             ("sqlite", "3.26.0", "19.el8_9"), ("redhat-release", "8.10", "1.0.el8")), "el8"),
    Flavour("rhel-9", "rpm", 10, (_rhel("9.4", "Plow"), _rhel("9.2", "Plow")),
            _el_kernels("5.14.0", ("427.31.1.el9_4", "362.24.1.el9_3", "284.30.1.el9_2")),
            (("perl", "5.32.1", "481.el9"), ("python3", "3.9.18", "3.el9_4.5"),
             ("python3-libs", "3.9.18", "3.el9_4.5"), ("openssl", "3.0.7", "27.el9"),
             ("sqlite", "3.34.1", "7.el9_3"), ("redhat-release", "9.4", "0.5.el9")), "el9"),
)

# Server roles: (role, weight, components). A component: (deb names, rpm names, product,
# cycles); a host with the role runs one cycle of each component, the names formatted with
# {c} (the cycle), {cc} (without dots) and {major}. Names that are clients, libraries or
# -common packages are listed too: they are on such hosts and must match nothing.
ROLES: tuple[tuple[str, int, tuple[tuple[tuple[str, ...], tuple[str, ...], str,
                                         tuple[str, ...]], ...]], ...] = (
    ("web", 25, (
        (("nginx", "nginx-common"), ("nginx", "nginx-filesystem"), "nginx",
         ("1.18", "1.22", "1.24", "1.26")),
        (("php{c}-fpm", "php{c}-cli", "php{c}-common", "php{c}-mysql", "php{c}-xml",
          "php{c}-curl"), ("php-fpm", "php-cli", "php-common", "php-mysqlnd"), "php",
         ("7.4", "8.1", "8.2", "8.3")))),
    ("apache", 8, (
        (("apache2", "apache2-bin", "apache2-data", "apache2-utils"),
         ("httpd", "httpd-tools", "mod_ssl"), "apache-http-server", ("2.4",)),
        (("libapache2-mod-php{c}", "php{c}-common"), ("php", "php-common"), "php",
         ("7.4", "8.1", "8.2")))),
    ("postgresql", 12, (
        (("postgresql-{c}", "postgresql-client-{c}", "postgresql-contrib", "libpq5"),
         ("postgresql{cc}-server", "postgresql{cc}", "postgresql{cc}-libs",
          "postgresql{cc}-contrib"), "postgresql", ("12", "13", "14", "15", "16", "17")),)),
    ("mariadb", 8, (
        (("mariadb-server", "mariadb-client", "mariadb-common", "libmariadb3"),
         ("mariadb-server", "mariadb", "mariadb-common"), "mariadb",
         ("10.3", "10.5", "10.6", "10.11", "11.4")),)),
    ("cache", 10, (
        (("redis-server", "redis-tools"), ("redis",), "redis", ("6.0", "6.2", "7.0", "7.2")),
        (("memcached",), ("memcached",), "memcached", ("1.6",)))),
    ("java", 12, (
        (("tomcat{major}", "tomcat{major}-common", "libtomcat{major}-java"),
         ("tomcat", "tomcat-lib"), "tomcat", ("9.0", "10.1")),
        (("openjdk-{c}-jre-headless", "ca-certificates-java"),
         ("java-{c}-openjdk-headless", "java-{c}-openjdk"), "redhat-build-of-openjdk",
         ("11", "17", "21")))),
    ("python-app", 10, (
        (("python{c}", "python{c}-venv", "libpython{c}"), ("python{c}", "python{c}-libs"),
         "python", ("3.9", "3.10", "3.11", "3.12")),)),
    ("containers", 12, (
        (("docker-ce", "docker-ce-cli", "docker-ce-rootless-extras"),
         ("docker-ce", "docker-ce-cli"), "docker-engine", ("24.0", "25.0", "26.1", "27")),
        (("containerd.io",), ("containerd.io",), "containerd", ("1.6", "1.7")))),
    ("kubernetes", 6, (
        (("kubelet", "kubeadm", "kubectl", "kubernetes-cni"),
         ("kubelet", "kubeadm", "kubectl"), "kubernetes", ("1.28", "1.29", "1.30", "1.31")),)),
    ("nodejs", 8, (
        (("nodejs",), ("nodejs", "npm"), "nodejs", ("18", "20", "22")),)),
    ("monitoring", 30, (
        (("zabbix-agent2",), ("zabbix-agent2",), "zabbix", ("6.0", "6.4", "7.0")),)),
    ("haproxy", 5, ((("haproxy",), ("haproxy",), "haproxy", ("2.4", "2.6", "2.8")),)),
    ("search", 4, ((("elasticsearch",), ("elasticsearch",), "elasticsearch",
                    ("7.17", "8.15")),)),
    ("mongodb", 4, ((("mongodb-org-server", "mongodb-org-shell", "mongodb-mongosh"),
                     ("mongodb-org-server", "mongodb-mongosh"), "mongodb",
                     ("5.0", "6.0", "7.0")),)),
    ("rabbitmq", 4, ((("rabbitmq-server", "erlang-base"), ("rabbitmq-server",), "rabbitmq",
                      ("3.12", "3.13")),)),
)
EPOCHS = {"mariadb": "1", "redis": "5", "docker-engine": "5", "containerd": None}

# RHEL core package names (from a RHEL 9 minimal + server install), for the rpm base sets.
RHEL_NAMES = (
    "acl", "audit", "audit-libs", "authselect", "basesystem", "bash", "bzip2-libs",
    "ca-certificates", "chrony", "coreutils", "coreutils-common", "cpio", "cracklib",
    "crontabs", "crypto-policies", "cryptsetup-libs", "curl", "cyrus-sasl-lib", "dbus",
    "dbus-broker", "dbus-libs", "device-mapper", "device-mapper-libs", "diffutils",
    "dnf", "dnf-data", "dnf-plugins-core", "dracut", "e2fsprogs", "e2fsprogs-libs",
    "elfutils-default-yama-scope", "elfutils-libelf", "elfutils-libs", "expat", "file",
    "file-libs", "filesystem", "findutils", "firewalld", "gawk", "gdbm-libs", "glib2",
    "glibc", "glibc-common", "glibc-langpack-en", "gmp", "gnupg2", "gnutls", "gpgme",
    "grep", "grub2-common", "grub2-pc", "grub2-tools", "grubby", "gzip", "hostname",
    "hwdata", "info", "iproute", "iptables-libs", "iputils", "irqbalance", "json-c",
    "kbd", "keyutils-libs", "kmod", "kmod-libs", "krb5-libs", "less", "libacl",
    "libarchive", "libattr", "libblkid", "libcap", "libcap-ng", "libcom_err", "libcurl",
    "libdb", "libdnf", "libeconf", "libevent", "libfdisk", "libffi", "libgcc",
    "libgcrypt", "libgpg-error", "libidn2", "libksba", "libmodulemd", "libmount",
    "libnghttp2", "libnl3", "libpsl", "libpwquality", "librepo", "libreport-filesystem",
    "libseccomp", "libselinux", "libselinux-utils", "libsemanage", "libsepol",
    "libsigsegv", "libsmartcols", "libsolv", "libssh", "libstdc++", "libtasn1",
    "libunistring", "libuser", "libutempter", "libuuid", "libverto", "libxcrypt",
    "libxml2", "libyaml", "libzstd", "logrotate", "lua-libs", "lz4-libs", "man-db",
    "mpfr", "ncurses", "ncurses-base", "ncurses-libs", "nettle", "newt", "npth",
    "openldap", "openssh", "openssh-clients", "openssh-server", "openssl-libs", "p11-kit",
    "p11-kit-trust", "pam", "passwd", "pcre", "pcre2", "pcre2-syntax", "policycoreutils",
    "popt", "procps-ng", "publicsuffix-list-dafsa", "python3-dnf", "python3-gpg",
    "python3-hawkey", "python3-libcomps", "python3-libdnf", "python3-rpm", "readline",
    "redhat-release", "rootfiles", "rpm", "rpm-libs", "rpm-plugin-selinux", "rsyslog",
    "sed", "selinux-policy", "selinux-policy-targeted", "setup", "shadow-utils",
    "slang", "sqlite-libs", "sudo", "systemd", "systemd-libs", "systemd-pam",
    "systemd-udev", "tar", "tpm2-tss", "tuned", "tzdata", "util-linux", "util-linux-core",
    "vim-minimal", "which", "xfsprogs", "xz", "xz-libs", "yum", "zlib",
)

# Generic names: lib<stem>, <stem>-utils, python3-<stem>, ... for the base sets and the tail.
STEMS = (
    "xml", "gtk", "curl", "jpeg", "png", "tiff", "webp", "xcb", "drm", "wayland", "glib",
    "pango", "cairo", "harfbuzz", "fontconfig", "freetype", "icu", "boost", "protobuf",
    "grpc", "yaml", "json", "zstd", "lz4", "bz2", "lzma", "ffi", "gmp", "mpfr", "nettle",
    "gnutls", "tasn1", "idn", "psl", "krb5", "ldap", "sasl", "pam", "acl", "attr", "audit",
    "udev", "usb", "pci", "blkid", "uuid", "fdisk", "pcap", "event", "uv", "sodium",
    "argon", "gcrypt", "assuan", "ksba", "npth", "readline", "ncurses", "edit", "magic",
    "archive", "gdbm", "lmdb", "snappy", "brotli", "nghttp", "ngtcp", "avahi", "cups",
    "sane", "pulse", "alsa", "vorbis", "opus", "flac", "ogg", "theora", "vpx", "x264",
    "dav1d", "aom", "gst", "soup", "secret", "notify", "polkit", "nm", "mm", "wrap",
    "bsd", "cbor", "fido", "hidapi", "tirpc", "nsl", "netfilter", "nftnl", "mnl", "elf",
    "dw", "unwind", "seccomp", "apparmor", "selinux", "semanage", "sepol", "kmod",
)
FAMILIES = ("lib{s}{n}", "lib{s}-utils", "{s}-tools", "python3-{s}", "lib{s}-common",
            "node-{s}", "golang-{s}-dev", "ruby-{s}", "lib{s}-perl", "r-cran-{s}",
            "fonts-{s}", "lib{s}{n}-data", "php-{s}", "{s}-doc")
VENDORS = ("acme", "contoso", "initech", "globex", "umbrella", "hooli", "vandelay",
           "wayne", "stark", "tyrell", "cyberdyne", "wonka", "soylent", "oscorp")
PRODUCTS = ("billing", "ledger", "edge", "sensor", "agent", "backup", "vault-sync",
            "metrics", "ca-certs", "auth", "gateway", "report", "scheduler", "indexer",
            "exporter", "collector", "cli", "sdk", "portal", "etl")


@dataclass(slots=True)
class Host:
    index: int
    flavour: int
    kernel: int
    lagging: bool
    roles: tuple[str, ...]
    pairs: array                # indexes into the fleet's table


_NOT_NONE = functools.partial(operator.is_not, None)


class Fleet:
    """The shared (manager, name, version) table and the generator of hosts."""

    def __init__(self, catalog, packages: int, seed: int,
                 machine: list[tuple[str, str]]) -> None:
        self.catalog = catalog
        self.packages = packages
        self.seed = seed
        rng = random.Random(seed)
        # The table: one entry per distinct (manager, name, version[, epoch, release]).
        self.manager: list[str] = []
        self.name: list[str] = []
        self.version: list[str] = []
        self.raw: list[dict[str, Any]] = []
        self.package_json: list[str] = []
        self.observation_json: list[str] = []
        self._index: dict[tuple, int] = {}
        self.origin: Counter[str] = Counter()   # entries by where their name came from

        from registry.matching import Matcher

        probe = Matcher(catalog)
        unmatched = [(n, v) for n, v in machine if probe.match_package("dpkg", n, v) is None]
        self.machine_names = len(machine)
        self.machine_kept = len(unmatched)
        rhel_names = [n for n in RHEL_NAMES if probe.match_package("rpm", n, "1") is None]
        generic = self._generic_names(rng, {n for n, _ in machine} | set(RHEL_NAMES), probe)
        base_size = max(1, round(packages * BASE_SHARE / 0.9))
        self._roles(rng)

        self.flavour_base: list[list[tuple[int | None, ...]]] = []
        self.flavour_forced: list[list[int]] = []
        self.flavour_forced_names: list[frozenset[str]] = []
        self.flavour_kernels: list[list[int]] = []
        used_generic = 0
        for flavour in FLAVOURS:
            forced = [self.add(flavour.manager, n, v, r, origin="system")
                      for n, v, r in flavour.system]
            kernels = [self.add(flavour.manager, name, version, rel, origin="kernel")
                       for _release, (name, version, rel) in flavour.kernels]
            taken = {n for n, _, _ in flavour.system} | self.role_names[flavour.manager]
            taken |= {name for _release, (name, _, _) in flavour.kernels}
            names: list[tuple[str, Any, str]] = []
            if flavour.manager == "dpkg":
                extra = ("linux-image-amd64" if flavour.tag.startswith("deb")
                         else "linux-image-generic", "1.0-1")
                for n, v in [*unmatched, extra]:
                    if n not in taken:
                        taken.add(n)
                        names.append((n, self._deb_version(v, flavour, rng), "machine"))
            else:
                for n in rhel_names:
                    if n not in taken:
                        taken.add(n)
                        names.append((n, self._rpm_version(rng, flavour), "rhel"))
                for n, v in unmatched:
                    rpm_name = self._rpm_name(n)
                    if rpm_name not in taken and \
                            probe.match_package("rpm", rpm_name, "1") is None:
                        taken.add(rpm_name)
                        names.append((rpm_name, self._rpm_version(rng, flavour, upstream(v)),
                                      "machine"))
            names = names[:base_size]
            generic_iter = iter(generic)
            count = 0
            while len(names) < base_size:
                name = next(generic_iter)
                count += 1
                if name in taken:
                    continue
                version = (self._deb_version(self._generic_version(rng), flavour, rng)
                           if flavour.manager == "dpkg" else self._rpm_version(rng, flavour))
                names.append((name, version, "generic"))
            used_generic = max(used_generic, count)
            slots = []
            for name, version, origin in names:
                kinds = rng.random()
                # One version in the whole fleet (60%), two (30%) or three (10%).
                count = 1 if kinds < 0.6 else 2 if kinds < 0.9 else 3
                if flavour.manager == "dpkg":
                    add = [self.add("dpkg", name, older(version, k), None, origin=origin)
                           for k in range(count)]
                else:
                    v, rel = version
                    add = [self.add("rpm", name, v, older_release(rel, k), origin=origin)
                           for k in range(count)]
                slots.append((add[0], add[min(1, count - 1)], add[count - 1], None))
            self.flavour_base.append(slots)
            self.flavour_forced.append(forced)
            self.flavour_forced_names.append(frozenset(n for n, _, _ in flavour.system))
            self.flavour_kernels.append(kernels)
        # Entries made for versions no host picks stay in the table: `duplication()` counts
        # the entries in use.
        self._tail(rng, generic[used_generic:])
        self.typecode = "H" if len(self.name) < 1 << 16 else "I"
        self.flavour_weights = list(_cumulative([f.weight for f in FLAVOURS]))
        self.role_weights = list(_cumulative([w for _, w, _ in ROLES]))

    # The table.

    def add(self, manager: str, name: str, version: str, release: str | None = None, *,
            epoch: str | None = None, origin: str) -> int:
        key = (manager, name, version, release, epoch)
        found = self._index.get(key)
        if found is not None:
            return found
        index = len(self.name)
        self._index[key] = index
        self.manager.append(manager)
        self.name.append(name)
        self.version.append(version)
        self.origin[origin] += 1
        if manager == "rpm":
            raw: dict[str, Any] = {"name": name}
            if epoch is not None:
                raw["epoch"] = epoch
            raw |= {"version": version, "release": release, "architecture": "x86_64"}
            package = {"manager": "rpm", "name": name, "version": version,
                       "architecture": "x86_64", "epoch": epoch, "release": release}
        else:
            raw = {"package": name, "version": version, "architecture": "amd64"}
            package = {"manager": "dpkg", "name": name, "version": version,
                       "architecture": "amd64"}
        self.raw.append(raw)
        self.package_json.append(json.dumps(package))
        self.observation_json.append(json.dumps({"source": manager, "raw": raw}))
        return index

    def __len__(self) -> int:
        return len(self.name)

    # Names and versions.

    @staticmethod
    def _generic_names(rng: random.Random, taken: set[str], probe) -> list[str]:
        names = []
        for family in FAMILIES:
            for stem in STEMS:
                for second in ("", *rng.sample(STEMS, 3)):
                    s = stem + second
                    name = family.format(s=s, n=rng.choice(("0", "1", "2", "3", "6", "-1.0")))
                    if name not in taken and probe.match_package("dpkg", name, "1") is None:
                        taken.add(name)
                        names.append(name)
        rng.shuffle(names)
        return names

    @staticmethod
    def _generic_version(rng: random.Random) -> str:
        return (f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}"
                f"-{rng.randint(1, 6)}")

    @staticmethod
    def _deb_version(version: str, flavour: Flavour, rng: random.Random) -> str:
        """A Debian 12 version as the flavour would have it."""
        if flavour.tag == "deb12":
            return version
        if flavour.tag == "deb11":
            return older(version.replace("deb12", "deb11"), 1)
        release = flavour.tag.removeprefix("ubuntu")
        up = upstream(version)
        epoch = version.split(":", 1)[0] + ":" if ":" in version else ""
        revision = version.rsplit("-", 1)[1] if "-" in version else ""
        digits = re.match(r"\d+", revision)
        if not digits:
            return f"{epoch}{up}build{rng.randint(1, 3)}"
        return f"{epoch}{older(up, 1)}-{digits.group()}ubuntu0.{release}.{rng.randint(1, 9)}"

    @staticmethod
    def _rpm_version(rng: random.Random, flavour: Flavour,
                     up: str | None = None) -> tuple[str, str]:
        """(version, release) of an rpm: the upstream version given, else a made-up one."""
        found = re.match(r"\d+(\.\d+)*[a-z]?", up or "")
        version = found.group() if found else \
            f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}"
        major = flavour.tag.removeprefix("el")
        el = rng.choice((f"el{major}", f"el{major}", f"el{major}_{rng.randint(2, 4)}"))
        return version, f"{rng.randint(3, 40)}.{el}"

    @staticmethod
    def _rpm_name(name: str) -> str:
        name = re.sub(r"-dev$", "-devel", name)
        name = re.sub(r"^(lib[a-z+_-]+?)-?\d[\d.]*(t64)?$", r"\1", name)
        return name

    # Roles and the tail.

    def _roles(self, rng: random.Random) -> None:
        """self.role_entries[manager][role] = [component: [cycle: [slot: [indexes]]]]."""
        self.role_entries: dict[str, dict[str, list[list[list[list[int]]]]]] = {}
        self.role_products: set[str] = set()
        self.role_names: dict[str, set[str]] = {"dpkg": set(), "rpm": set()}
        for manager in ("dpkg", "rpm"):
            per_role: dict[str, list[list[list[list[int]]]]] = {}
            for role, _, components in ROLES:
                built = []
                for deb_names, rpm_names, product, cycles in components:
                    self.role_products.add(product)
                    names = deb_names if manager == "dpkg" else rpm_names
                    per_cycle = []
                    for cycle in cycles:
                        latest = self._latest(product, cycle)
                        per_slot = []
                        for k in range(3):
                            version = older(latest, k)
                            ids = []
                            for template in names:
                                name = template.format(c=cycle, cc=cycle.replace(".", ""),
                                                       major=cycle.split(".")[0])
                                self.role_names[manager].add(name)
                                if manager == "dpkg":
                                    epoch = EPOCHS.get(product)
                                    v = f"{epoch + ':' if epoch else ''}{version}-1"
                                    ids.append(self.add("dpkg", name, v, None, origin="role"))
                                else:
                                    ids.append(self.add("rpm", name, version,
                                                        f"{k + 1}.el9", origin="role"))
                            per_slot.append(ids)
                        per_cycle.append(per_slot)
                    built.append(per_cycle)
                per_role[role] = built
            self.role_entries[manager] = per_role

    def _latest(self, product: str, cycle: str) -> str:
        """The cycle's latest version in the data, else cycle.3."""
        known = self.catalog.get(product)
        found = known.cycle(cycle) if known is not None else None
        if found is not None and found.latest:
            return found.latest
        return f"{cycle}.3"

    def _tail(self, rng: random.Random, generic: list[str]) -> None:
        """Third-party and rarely installed packages, one version each, Zipf-weighted."""
        self.tail: dict[str, list[int]] = {}
        self.tail_weights: dict[str, list[float]] = {}
        size = {"dpkg": max(2_000, 3 * self.packages),
                "rpm": max(1_000, 3 * self.packages // 2)}
        names = [f"{vendor}-{product}" for vendor in VENDORS for product in PRODUCTS]
        names += [f"{n}-{suffix}" for n in names[:120] for suffix in ("agent", "tools")]
        names += generic
        for manager in ("dpkg", "rpm"):
            chosen = rng.sample(names, min(len(names), size[manager]))
            ids = []
            for name in chosen:
                version = self._generic_version(rng)
                if manager == "dpkg":
                    ids.append(self.add("dpkg", name, version, None, origin="tail"))
                else:
                    v, rel = self._rpm_version(rng, FLAVOURS[-1], version)
                    ids.append(self.add("rpm", name, v, rel, origin="tail"))
            self.tail[manager] = ids
            self.tail_weights[manager] = list(_cumulative(
                [1.0 / (rank + 20) for rank in range(len(ids))]))

    # Hosts.

    def host(self, index: int) -> Host:
        rng = random.Random(self.seed * 1_000_003 + index)
        flavour_i = bisect.bisect_right(self.flavour_weights, rng.random()
                                        * self.flavour_weights[-1])
        flavour = FLAVOURS[flavour_i]
        lagging = rng.random() < LAG_SHARE
        kernels = self.flavour_kernels[flavour_i]
        kernel = rng.randrange(1, len(kernels)) if lagging else 0
        roll = rng.random()
        count = 0 if roll < 0.1 else 1 if roll < 0.7 else 2
        roles: list[str] = []
        for _ in range(count):
            role = ROLES[bisect.bisect_right(self.role_weights, rng.random()
                                             * self.role_weights[-1])][0]
            if role not in roles:
                roles.append(role)
        pairs = [kernels[kernel], *self.flavour_forced[flavour_i]]
        system = self.flavour_forced_names[flavour_i]
        for role in roles:
            for component in self.role_entries[flavour.manager][role]:
                per_slot = component[rng.randrange(len(component))]
                slot = 0 if not lagging else rng.choice((1, 1, 2))
                pairs += [p for p in per_slot[slot] if self.name[p] not in system]
        base = self.flavour_base[flavour_i]
        table = SLOTS_LAGGING if lagging else SLOTS_CURRENT
        chosen = filter(_NOT_NONE, map(operator.getitem, base,
                                       rng.randbytes(len(base)).translate(table)))
        pairs.extend(chosen)
        pairs = list(dict.fromkeys(pairs))[:self.packages]
        need = self.packages - len(pairs)
        if need > 0:
            tail = self.tail[flavour.manager]
            weights = self.tail_weights[flavour.manager]
            extra: dict[int, None] = {}
            while len(extra) < need and len(extra) < len(tail):
                for i in rng.choices(range(len(tail)), cum_weights=weights,
                                     k=need - len(extra) + 8):
                    extra[tail[i]] = None
            pairs += list(extra)[:need]
        return Host(index, flavour_i, kernel, lagging, tuple(roles),
                    array(self.typecode, pairs))

    def hostname(self, host: Host) -> str:
        role = host.roles[0] if host.roles else "node"
        return f"{role}-{host.index:05d}.dc{host.index % 3 + 1}.example.net"

    def system(self, host: Host) -> tuple[dict[str, str], str, dict[str, str]]:
        """(os-release fields, kernel release, DMI fields) of a host."""
        flavour = FLAVOURS[host.flavour]
        os_release = flavour.os_release[min(int(host.lagging), len(flavour.os_release) - 1)]
        kernel = flavour.kernels[host.kernel][0]
        model = ("PowerEdge R650", "PowerEdge R740", "ProLiant DL380 Gen10",
                 "VMware Virtual Platform")[host.index % 4]
        vendor = "VMware, Inc." if model.startswith("VMware") else \
            "Dell Inc." if model.startswith("PowerEdge") else "HPE"
        dmi = {"sys_vendor": vendor, "product_name": model,
               "product_serial": f"SN{self.seed:02d}{host.index:07d}",
               "bios_vendor": vendor, "bios_version": "2.19.1", "chassis_type": "23",
               "chassis_type_name": "Rack Mount Chassis"}
        return os_release, kernel, dmi

    def document_json(self, host: Host) -> str:
        """The host's inventory document as the agent sends it (JSON text)."""
        os_release, kernel, dmi = self.system(host)
        head = json.dumps({
            "schema": SCHEMA, "collected_at": COLLECTED_AT,
            "host": {"hostname": self.hostname(host), "fqdn": self.hostname(host)},
            "os": os_release, "kernel": {"release": kernel, "machine": "x86_64"},
            "hardware": {"dmi": dmi}})
        system = [json.dumps({"source": "os-release", "raw": os_release}),
                  json.dumps({"source": "kernel", "raw": {"release": kernel}}),
                  json.dumps({"source": "dmi", "raw": dmi})]
        pairs = host.pairs
        return "".join((
            head[:-1], ', "packages": [', ", ".join(map(self.package_json.__getitem__, pairs)),
            '], "updates": [], "services": [], "observations": [', ", ".join(system), ", ",
            ", ".join(map(self.observation_json.__getitem__, pairs)), '], "errors": []}'))

    def warmup_documents(self, chunk: int = 5_000) -> list[str]:
        """Documents holding every table entry (per manager, in chunks) and every flavour's
        os-release and kernels: pushed, they leave a collector's caches as a fleet would."""
        out = []
        for manager in ("dpkg", "rpm"):
            ids = [i for i, m in enumerate(self.manager) if m == manager]
            flavours = [f for f in FLAVOURS if f.manager == manager]
            for n, start in enumerate(range(0, len(ids), chunk)):
                part = ids[start:start + chunk]
                system = [json.dumps({"source": "os-release", "raw": r})
                          for f in flavours for r in f.os_release]
                system += [json.dumps({"source": "kernel", "raw": {"release": k}})
                           for f in flavours for k, _ in f.kernels]
                name = f"bench-warmup-{manager}-{n}"
                out.append("".join((
                    json.dumps({"schema": SCHEMA, "collected_at": COLLECTED_AT,
                                "host": {"hostname": name}})[:-1],
                    ', "observations": [', ", ".join(system), ", ",
                    ", ".join(map(self.observation_json.__getitem__, part)), "]}")))
        return out


def _cumulative(values: Sequence[float]):
    total = 0.0
    for value in values:
        total += value
        yield total


def pushed_hosts(count: int, hosts: int, offset: int = 0) -> list[int]:
    """`count` host indexes spread over the fleet."""
    step = max(1, hosts // max(1, count))
    return [(offset + k * step) % hosts for k in range(count)]


# -- 1. full re-match (child processes) ----------------------------------------------------


def pin_one_core() -> int:
    cpus = sorted(os.sched_getaffinity(0))
    cpu = cpus[-1]
    os.sched_setaffinity(0, {cpu})
    return cpu


def child_rematch(args) -> dict[str, Any]:
    """`--child software|package`: generate the fleet, then re-match it once; one JSON line."""
    cpu = pin_one_core()
    result: dict[str, Any] = {"cpu": cpu, "mode": args.child}
    started = time.perf_counter()
    catalog, _ = load_catalog(args.data)
    from registry import fleet as fleet_mod
    from registry.matching import Matcher

    fleet = Fleet(catalog, args.packages, args.seed, machine_packages())
    result["rss_catalog"] = memory_mb()["rss"]
    hosts = []
    next_report = time.monotonic() + 5
    for i in range(args.hosts):
        hosts.append(fleet.host(i))
        if time.monotonic() >= next_report:
            say(f"  {args.child}: generated {i + 1:,} / {args.hosts:,} hosts")
            next_report = time.monotonic() + 5
    result["generate_s"] = time.perf_counter() - started
    result["fleet_mb"] = sum(h.pairs.buffer_info()[1] * h.pairs.itemsize
                             for h in hosts) / 1e6
    result["observations"] = sum(len(h.pairs) + 3 for h in hosts)
    result["entries"] = len(fleet)
    # The generator's own objects (the table, the hosts) are not the re-match's: keep them out
    # of the collector's passes. What the re-match allocates and keeps is collected as usual.
    gc.collect()
    gc.freeze()
    result["rss_before"] = memory_mb()["rss"]
    say(f"  {args.child}: {args.hosts:,} hosts generated in {result['generate_s']:.1f} s; "
        f"re-matching on CPU {cpu}")
    t_matcher = time.perf_counter()
    matcher = Matcher(catalog)
    result["matcher_s"] = time.perf_counter() - t_matcher
    per_host: list[float] = []
    cycles = 0
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    decode = 0.0
    if args.child == "software":
        kept = []
        for n, host in enumerate(hosts):
            t0 = time.perf_counter()
            document = json.loads(fleet.document_json(host))
            t1 = time.perf_counter()
            found = fleet_mod.software(matcher, catalog, document)
            t2 = time.perf_counter()
            decode += t1 - t0
            per_host.append(t2 - t1)
            kept.append(found)
            cycles += len(found)
            del document   # freed here, outside both timings
            if time.monotonic() >= next_report:
                say(f"  software: {n + 1:,} / {len(hosts):,} hosts")
                next_report = time.monotonic() + 5
        result["match_s"] = sum(per_host)
    else:
        match_package, match = matcher.match_package, matcher.match
        names, versions = fleet.name, fleet.version
        for n, host in enumerate(hosts):
            manager = FLAVOURS[host.flavour].manager
            os_release, kernel, dmi = fleet.system(host)
            t0 = time.perf_counter()
            seen: set[tuple[str, str | None]] = set()
            for source, raw in (("os-release", os_release), ("kernel", {"release": kernel}),
                                ("dmi", dmi)):
                found_one = match(source, raw)
                if found_one is not None:
                    seen.add((found_one.product, found_one.cycle))
            for i in host.pairs:
                found_one = match_package(manager, names[i], versions[i])
                if found_one is not None:
                    seen.add((found_one.product, found_one.cycle))
            per_host.append(time.perf_counter() - t0)
            cycles += len(seen)
            if time.monotonic() >= next_report:
                say(f"  package: {n + 1:,} / {len(hosts):,} hosts")
                next_report = time.monotonic() + 5
        result["match_s"] = sum(per_host)
    result["wall_s"] = time.perf_counter() - wall0
    result["cpu_s"] = time.process_time() - cpu0
    result["decode_s"] = decode
    result["cycles"] = cycles
    result["host_ms"] = [percentile(per_host, q) * 1000 for q in (0.5, 0.95, 1.0)]
    # The rate per chunk of hosts, to show how steady the machine was during the loop.
    size = max(1, len(hosts) // 20)
    chunks = [sum(per_host[i:i + size]) / sum(len(h.pairs) + 3 for h in hosts[i:i + size])
              * 1e6 for i in range(0, len(hosts) - size + 1, size)]
    result["chunk_us"] = [min(chunks), percentile(chunks, 0.5), max(chunks)]
    result["chunk_hosts"] = size
    info = matcher.cache_info()
    result["cache"] = [info.package_hits, info.package_misses, info.packages,
                       info.observations]
    memory = memory_mb()
    result["rss_after"] = memory["rss"]
    result["hwm"] = memory["hwm"]
    result["maxrss"] = memory["maxrss"]
    if args.child == "package":
        result["duplication"] = duplication(fleet, hosts)
    return result


def duplication(fleet: Fleet, hosts: list[Host]) -> dict[str, Any]:
    """How much hosts share: distinct entries in use, and the share of a host's packages
    that at least half of its flavour's hosts have too."""
    by_flavour: dict[int, Counter[int]] = {}
    counts: Counter[int] = Counter()
    for host in hosts:
        by_flavour.setdefault(host.flavour, Counter()).update(host.pairs)
    flavour_hosts = Counter(h.flavour for h in hosts)
    for counter in by_flavour.values():
        counts.update(counter.keys())
    common = {f: {i for i, c in counter.items() if c * 2 >= flavour_hosts[f]}
              for f, counter in by_flavour.items()}
    shared = sum(sum(map(common[h.flavour].__contains__, h.pairs)) for h in hosts)
    total = sum(len(h.pairs) for h in hosts)
    roles = sum(1 for h in hosts if h.roles)
    return {"used": len(counts), "shared": shared / total if total else 0.0,
            "per_entry": total / max(1, sum(len(c) for c in by_flavour.values())),
            "with_roles": roles / max(1, len(hosts)),
            "flavours": {FLAVOURS[f].name: n for f, n in sorted(flavour_hosts.items())}}


def run_child(args, mode: str, state: State) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", mode,
            "--hosts", str(args.hosts), "--packages", str(args.packages),
            "--seed", str(args.seed)]
    argv += ["--data", str(args.data)] if args.data else ["--bundled"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    state.children.append(proc)
    try:
        out, _ = proc.communicate()
    except BaseException:
        stop_process(proc)
        raise
    finally:
        state.children.remove(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"the {mode} child exited with {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1])


# -- 2. one push, in-process ---------------------------------------------------------------


@dataclass
class PushRow:
    name: str
    times: list[float] = field(default_factory=list)     # seconds
    note: str = ""
    skipped: str = ""
    cycles: int = 0

    def ms(self, q: float) -> float:
        return percentile(self.times, q) * 1000

    def verdict(self) -> str:
        if self.skipped or not self.times:
            return "skipped"
        return "met" if self.ms(0.95) <= TARGET_PUSH_MS else "NOT MET"


def push_benchmark(args, catalog, fleet: Fleet) -> tuple[list[PushRow], dict[str, float]]:
    from registry import fleet as fleet_mod
    from registry.matching import Matcher

    indexes = pushed_hosts(args.pushes, args.hosts, offset=7)
    texts = [fleet.document_json(fleet.host(i)) for i in indexes]
    # A running collector's matcher has seen every entry of the fleet and every OS.
    warm = Matcher(catalog)
    t0 = time.perf_counter()
    for manager, name, version in zip(fleet.manager, fleet.name, fleet.version, strict=True):
        warm.match_package(manager, name, version)
    for flavour in FLAVOURS:
        for os_release in flavour.os_release:
            warm.match("os-release", os_release)
        for kernel, _ in flavour.kernels:
            warm.match("kernel", {"release": kernel})
    warm_s = time.perf_counter() - t0
    rows = [PushRow("warm matcher (every fleet entry seen)"),
            PushRow("cold matcher (fresh Matcher per push)")]
    builds = []
    for text in texts:
        document = json.loads(text)
        t0 = time.perf_counter()
        found = fleet_mod.software(warm, catalog, document)
        rows[0].times.append(time.perf_counter() - t0)
        rows[0].cycles += len(found)
    for text in texts:
        document = json.loads(text)
        t0 = time.perf_counter()
        cold = Matcher(catalog)
        t1 = time.perf_counter()
        found = fleet_mod.software(cold, catalog, document)
        rows[1].times.append(time.perf_counter() - t1)
        rows[1].cycles += len(found)
        builds.append(t1 - t0)
    decode = []
    for text in texts[:20]:
        t0 = time.perf_counter()
        json.loads(text)
        decode.append(time.perf_counter() - t0)
    return rows, {"warm_s": warm_s, "build_ms": percentile(builds, 0.5) * 1000,
                  "decode_ms": percentile(decode, 0.5) * 1000,
                  "bytes": sum(len(t) for t in texts) / max(1, len(texts))}


# -- 3. the naive anchor -------------------------------------------------------------------


class NaiveScan:
    """A per-item scan: for each observation, every product of the catalog in turn.

    A product's keys are its name, label and aliases and the package names of its purl,
    repology and cpe identifiers (lower case, 3 characters or more), prepared once. A key
    equal to or contained in the package name is a hit; the longest hit wins. The cycle is
    the longest cycle name that equals the upstream version or is a prefix of it up to a dot.
    No index, no memo: that is what it anchors."""

    def __init__(self, catalog) -> None:
        self.products = []
        for product in catalog:
            keys = {product.name.lower(), product.label.lower(),
                    *(a.lower() for a in product.aliases)}
            for ident in product.identifiers:
                if ident.type == "purl":
                    keys.add(ident.id.split("?")[0].split("@")[0].rsplit("/", 1)[-1].lower())
                elif ident.type == "repology":
                    keys.add(ident.id.lower())
                elif ident.type == "cpe":
                    parts = ident.id.split(":")
                    at = 4 if ident.id.startswith("cpe:2.3:") else 3
                    if len(parts) > at:
                        keys.add(parts[at].lower())
            self.products.append((product, tuple(k for k in keys if len(k) >= 3)))

    def match(self, name: str, version: str) -> tuple[str, str | None] | None:
        name = name.lower()
        best, best_len = None, 0
        for product, keys in self.products:
            for key in keys:
                if key in name and len(key) > best_len:
                    best, best_len = product, len(key)
        if best is None:
            return None
        up = version.split(":", 1)[-1].split("-", 1)[0].split("+", 1)[0].split("~", 1)[0]
        cycle, cycle_len = None, -1
        for candidate in best.cycles:
            cname = candidate.name
            if (up == cname or up.startswith(cname + ".")) and len(cname) > cycle_len:
                cycle, cycle_len = cname, len(cname)
        return best.name, cycle


def naive_benchmark(args, catalog, fleet: Fleet) -> dict[str, Any]:
    from registry.matching import Matcher

    sample: list[tuple[str, str, str]] = []
    index = 0
    while len(sample) < args.sample:
        host = fleet.host(index)
        manager = FLAVOURS[host.flavour].manager
        sample += [(manager, fleet.name[i], fleet.version[i]) for i in host.pairs]
        index += 1
    sample = sample[:args.sample]
    naive = NaiveScan(catalog)
    t0 = time.perf_counter()
    naive_answers = [naive.match(name, version) for _, name, version in sample]
    naive_s = time.perf_counter() - t0
    uncached = Matcher(catalog, cache_size=0)
    t0 = time.perf_counter()
    answers = [uncached.match_package(m, n, v) for m, n, v in sample]
    uncached_s = time.perf_counter() - t0
    agree = sum(1 for a, b in zip(answers, naive_answers, strict=True)
                if (None if a is None else (a.product, a.cycle)) == b)
    matched = sum(1 for a in answers if a is not None)
    naive_matched = sum(1 for b in naive_answers if b is not None)
    keys = sum(len(k) for _, k in naive.products)
    return {"n": len(sample), "hosts": index, "naive_us": naive_s / len(sample) * 1e6,
            "uncached_us": uncached_s / len(sample) * 1e6, "agree": agree / len(sample),
            "matched": matched, "naive_matched": naive_matched, "keys": keys,
            "products": len(naive.products)}


# -- 4. end to end: a real collector -------------------------------------------------------


@dataclass
class E2ERow:
    backend: str
    cold: PushRow
    warm: PushRow
    cpu_ms: float | None = None
    warmup_docs: int = 0
    warmup_s: float = 0.0
    sync_empty_s: float | None = None
    sync_full_s: float | None = None
    sync_hosts: int = 0
    sync_observations: int = 0
    sync_note: str = ""
    collector_mb: float | None = None
    skipped: str = ""


async def e2e_benchmark(backend: str, args, fleet: Fleet, pg: PostgreSQL | None,
                        state: State, rows: list[E2ERow]) -> None:
    """Appends its row at once, so that an interrupted run still reports what it measured."""
    row = E2ERow(backend, PushRow("after start"), PushRow("warm"))
    rows.append(row)
    workspace = Workspace(f"e2e, {backend}", backend, args.dir, pg,
                          prefix=f"regie-bench-registry-{backend}-")
    state.workspaces.append(workspace)   # closed by stop_everything() if not here
    try:
        async with workspace as ws:
            await e2e_pushes(row, ws, args, fleet, state)
    except Interrupted:
        raise
    except Exception as exc:
        row.skipped = f"{type(exc).__name__}: {exc}"
        say(f"e2e, {backend}: {row.skipped}")
    finally:
        state.workspaces.remove(workspace)


async def e2e_pushes(row: E2ERow, ws: Workspace, args, fleet: Fleet, state: State) -> None:
    """Sync, start the collector on `ws`, push, stop it, sync again: figures into `row`."""
    import aiohttp

    backend, here, url = ws.backend, ws.dir, ws.url
    if args.data is not None:
        _, row.sync_empty_s = await regie("registry", "sync", "--from", str(args.data),
                                          "--db", url, cwd=here, timeout=900)
    token, _ = await regie("collector", "token", "create", "--role", "agent", "--name",
                           "bench", "--db", url, cwd=here)
    token = token.strip()
    port = free_port()
    log = here / "collector.log"
    proc = start_collector("--db", url, "--listen", f"127.0.0.1:{port}", cwd=here, log=log)
    state.children.append(proc)
    try:
        base = f"http://127.0.0.1:{port}"
        timeout = aiohttp.ClientTimeout(total=120)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await wait_ready(session, f"{base}/healthz", proc, name="the collector", log=log)

            async def push(text: str) -> float:
                key = json.dumps(secrets.token_hex(12))
                body = f'{{"idempotency_key": {key}, "document": {text}}}'.encode()
                t0 = time.perf_counter()
                async with session.post(f"{base}/api/v1/inventory", data=body,
                                        headers=headers) as response:
                    answer = await response.read()
                    if response.status != 202:
                        raise RuntimeError(f"POST /api/v1/inventory: HTTP {response.status} "
                                           f"{answer[:300]!r}")
                return time.perf_counter() - t0

            first = pushed_hosts(min(args.pushes, 10), args.hosts, offset=3)
            pushes = pushed_hosts(args.pushes, args.hosts, offset=11)
            observations = 0
            for i in first:
                host = fleet.host(i)
                observations += len(host.pairs) + 3
                row.cold.times.append(await push(fleet.document_json(host)))
            say(f"e2e, {backend}: {len(first)} pushes after the start; warming up")
            t0 = time.perf_counter()
            warmup = fleet.warmup_documents()
            for text in warmup:
                await push(text)
            row.warmup_docs = len(warmup)
            row.warmup_s = time.perf_counter() - t0
            observations += len(fleet)
            texts = [fleet.document_json(fleet.host(i)) for i in pushes]
            observations += sum(len(fleet.host(i).pairs) + 3 for i in pushes)
            say(f"e2e, {backend}: {len(texts)} timed pushes")
            cpu0 = cpu_seconds(proc.pid)
            for text in texts:
                row.warm.times.append(await push(text))
                if state.stopping:
                    raise Interrupted("interrupted")
            row.cpu_ms = (cpu_seconds(proc.pid) - cpu0) / max(1, len(texts)) * 1000
            row.collector_mb = peak_rss_mb(proc.pid)
        stop_process(proc)
        if args.data is not None:
            say(f"e2e, {backend}: regie registry sync with the pushed hosts")
            out, row.sync_full_s = await regie("registry", "sync", "--from", str(args.data),
                                               "--db", url, cwd=here, timeout=900)
            found = re.search(r"re-matched (\d+) hosts", out)
            row.sync_hosts = int(found.group(1)) if found else 0
            row.sync_observations = observations
        else:
            row.sync_note = "no sync: the bundled dataset is not a directory"
    finally:
        stop_process(proc)
        state.children.remove(proc)


# -- report --------------------------------------------------------------------------------


@dataclass
class State:
    children: list[subprocess.Popen] = field(default_factory=list)
    workspaces: list[Workspace] = field(default_factory=list)
    stopping: bool = False


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def print_report(args, info: dict[str, Any], rematch: dict[str, dict[str, Any]],
                 push: tuple[list[PushRow], dict[str, float]] | None,
                 naive: dict[str, Any] | None, e2e: list[E2ERow],
                 skipped: dict[str, str]) -> None:
    print(f"\nRegistry benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print_machine(info["versions"], info["load_before"])
    print(f"Data: {info['data']}")
    fleet: Fleet = info["fleet"]
    observations = args.hosts * (args.packages + 3)
    origin = fleet.origin
    print(f"Fleet (seed {args.seed}): {args.hosts:,} hosts x ({args.packages:,} packages + "
          f"os-release, kernel, dmi) = {observations:,} observations; table of "
          f"{len(fleet):,} distinct (manager, name, version) entries: "
          f"{origin['machine']:,} on names from this machine's dpkg-query "
          f"({fleet.machine_kept} of its {fleet.machine_names} packages; those matching a "
          f"product are left to the roles), {origin['rhel']:,} RHEL core, "
          f"{origin['system'] + origin['kernel']:,} system and kernel, "
          f"{origin['role']:,} server roles ({len(fleet.role_products)} products, at the "
          f"data's cycle versions), {origin['generic']:,} generic, {origin['tail']:,} "
          "long tail")
    dup = rematch.get("package", {}).get("duplication")
    if dup:
        flavours = ", ".join(f"{k} {v:,}" for k, v in dup["flavours"].items())
        print(f"   in use: {dup['used']:,} entries, each on {dup['per_entry']:,.0f} hosts on "
              f"average; {dup['shared']:.0%} of a host's packages are on at least half of its "
              f"flavour's hosts; {dup['with_roles']:.0%} of hosts have a server role; "
              f"{flavours}")
    if rematch or "rematch" in skipped:
        print("\n1. Full re-match on one core: a fresh Matcher (as `regie registry sync` builds "
              "one), every host once; a child process per row, so RSS is its own")
        head = (f"{'path':44} {'observations':>12} {'seconds':>8} {'us/obs':>7} "
                f"{'host p95 ms':>11} {'peak RSS MB':>11}  {'target':22} verdict")
        print_head(head)
        if "rematch" in skipped:
            print(f"skipped: {skipped['rematch']}")
        labels = {"software": "fleet.software per host document (the sync)",
                  "package": "Matcher.match_package over the compact fleet"}
        for mode in ("software", "package"):
            r = rematch.get(mode)
            if not r:
                continue
            seconds = r["match_s"]
            ok = seconds <= TARGET_FLEET_S and r["hwm"] <= TARGET_RSS_MB
            print(f"{labels[mode]:44} {r['observations']:12,} {seconds:8.1f} "
                  f"{seconds / r['observations'] * 1e6:7.2f} {r['host_ms'][1]:11.2f} "
                  f"{r['hwm']:11.0f}  {'<= 20 s, <= 1,024 MB':22} {verdict(ok)}")
        for mode in ("software", "package"):
            r = rematch.get(mode)
            if not r:
                continue
            hits, misses, kept, _ = r["cache"]
            print(f"   {mode}: CPU {r['cpu']}; {r['cpu_s']:.1f} s CPU in {r['wall_s']:.1f} s "
                  f"wall for the loop; {r['cycles']:,} product cycles found "
                  f"({r['cycles'] / args.hosts:.1f} per host); package cache {hits:,} hits, "
                  f"{misses:,} misses, {kept:,} kept; Matcher built in "
                  f"{r['matcher_s'] * 1000:.0f} ms; RSS {r['rss_catalog']:.0f} MB with the "
                  f"catalog and table, {r['rss_before']:.0f} MB with the fleet "
                  f"({r['fleet_mb']:.0f} MB of indexes; generated in {r['generate_s']:.0f} s), "
                  f"{r['rss_after']:.0f} MB after; per {r['chunk_hosts']:,}-host chunk "
                  f"{r['chunk_us'][0]:.2f} / {r['chunk_us'][1]:.2f} / {r['chunk_us'][2]:.2f} "
                  "us/obs (fastest / median / slowest)")
            if mode == "software":
                print(f"   software: building and decoding each host's document from JSON "
                      f"(as the sync reads it from the store) took {r['decode_s']:.1f} s more, "
                      "not in the figure; the sync also reads the documents from the database "
                      "and writes the rows (see 4.)")
    if push is not None or "push" in skipped:
        print(f"\n2. One push of {args.packages:,} packages matched in-process: "
              f"fleet.software(matcher, catalog, document), {args.pushes} hosts")
        head = (f"{'matcher':40} {'n':>3} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
                f"{'cycles/push':>11}  {'target':14} verdict")
        print_head(head)
        if push is None:
            print(f"skipped: {skipped['push']}")
        else:
            rows, extra = push
            for r in rows:
                print(f"{r.name:40} {len(r.times):3d} {r.ms(0.5):7.2f} {r.ms(0.95):7.2f} "
                      f"{r.ms(1.0):7.2f} {r.cycles / max(1, len(r.times)):11.1f}  "
                      f"{'p95 <= 50 ms':14} {r.verdict()}")
            print(f"   warming the matcher with every fleet entry took {extra['warm_s']:.2f} s;"
                  f" a fresh Matcher is built in {extra['build_ms']:.0f} ms (not timed above); "
                  f"json.loads of one document ({extra['bytes'] / 1e3:.0f} kB, packages and "
                  f"observations) {extra['decode_ms']:.1f} ms, not timed above")
    if naive is not None or "naive" in skipped:
        print("\n3. Anchor: a naive per-item scan of every product (no index, no memo), on a "
              "sample of the fleet's package observations")
        head = (f"{'matcher':48} {'observations':>12} {'us/obs':>8} {'whole fleet':>16} "
                f"{'naive/this':>10}")
        print_head(head)
        if naive is None:
            print(f"skipped: {skipped['naive']}")
        else:
            full = rematch.get("software")
            full_us = full["match_s"] / full["observations"] * 1e6 if full else None
            scale = observations / 1e6
            rows = [("naive scan of all products", naive["n"], naive["naive_us"], "~"),
                    ("Matcher, cache off (cache_size=0)", naive["n"], naive["uncached_us"],
                     "~")]
            if full_us is not None:
                rows.append(("Matcher, full re-match (1., fleet.software)", full["observations"],
                             full_us, ""))
            for name, n, us, approx in rows:
                ratio = naive["naive_us"] / us if us else float("nan")
                total = us * scale
                shown = approx + (f"{total:,.1f} s" if total < 7200 else f"{total / 3600:,.1f} h")
                ratio_text = "-" if name.startswith("naive") else f"{ratio:,.0f}x"
                print(f"{name:48} {n:12,} {us:8.2f} {shown:>16} {ratio_text:>10}")
            print(f"   whole fleet: {observations:,} observations, ~ extrapolated from the "
                  f"sample; naive/this: the naive scan's us/obs over this row's. It tries "
                  f"{naive['keys']:,} keys of {naive['products']} products per observation. "
                  f"Sample: the package observations of the first {naive['hosts']} hosts. "
                  f"On it the Matcher matched {naive['matched']:,}, the naive scan "
                  f"{naive['naive_matched']:,}; they agree on {naive['agree']:.1%} (a speed "
                  "anchor, not a correct matcher: substrings match client libraries and "
                  "unrelated names)")
    if e2e or "e2e" in skipped:
        print(f"\n4. End to end: POST /api/v1/inventory to a real `regie collector run`, one "
              f"at a time, {args.packages:,}-package documents (match and host_software "
              "write in the push's transaction)")
        head = (f"{'backend':11} {'pushes':24} {'n':>3} {'p50 ms':>7} {'p95 ms':>7} "
                f"{'max ms':>7} {'CPU ms':>7}  {'target':14} verdict")
        print_head(head)
        if "e2e" in skipped:
            print(f"{skipped['e2e']}: what was measured until then")
        for r in e2e:
            if r.skipped:
                print(f"{r.backend:11} skipped: {r.skipped}")
                continue
            for p, cpu in ((r.cold, None), (r.warm, r.cpu_ms)):
                cpu_text = f"{cpu:7.1f}" if cpu is not None else f"{'-':>7}"
                print(f"{r.backend:11} {p.name:24} {len(p.times):3d} {p.ms(0.5):7.1f} "
                      f"{p.ms(0.95):7.1f} {p.ms(1.0):7.1f} {cpu_text}  {'p95 <= 50 ms':14} "
                      f"{p.verdict()}")
        for r in e2e:
            if r.skipped:
                continue
            rss = f"{r.collector_mb:.0f} MB" if r.collector_mb is not None else "-"
            line = (f"   {r.backend}: warm = after {r.warmup_docs} warm-up documents holding "
                    f"every fleet entry ({r.warmup_s:.1f} s); CPU ms: the collector's, per "
                    f"timed push; collector peak RSS {rss}")
            if r.sync_full_s is not None and r.sync_empty_s is not None:
                extra = r.sync_full_s - r.sync_empty_s
                line += (f"; `regie registry sync` {r.sync_empty_s:.1f} s with no host, "
                         f"{r.sync_full_s:.1f} s after the pushes ({r.sync_hosts} hosts, "
                         f"{r.sync_observations:,} observations: "
                         f"{extra / max(1, r.sync_observations) * 1e6:.2f} us/obs for reading, "
                         f"matching and writing)")
            elif r.sync_note:
                line += f"; {r.sync_note}"
            print(line)
    print(f"\nTotal run time {time.monotonic() - info['started']:.0f} s.")


# -- main ----------------------------------------------------------------------------------


def stop_everything(state: State) -> None:
    for proc in list(state.children):
        stop_process(proc)
    for workspace in list(state.workspaces):
        with contextlib.suppress(Exception):
            asyncio.run(workspace.close())


def run(args) -> int:
    state = State()
    started = time.monotonic()

    def interrupt(signum, frame) -> None:
        if not state.stopping:
            say("stopping: cleaning up (processes, databases, files)")
        state.stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    info: dict[str, Any] = {"started": started, "load_before": os.getloadavg()[0]}
    info["versions"] = versions_of("Python", "SQLAlchemy", "aiohttp")
    rematch: dict[str, dict[str, Any]] = {}
    push = None
    naive = None
    e2e: list[E2ERow] = []
    skipped: dict[str, str] = {}
    current = ""
    try:
        say("loading the data and building the fleet's table")
        catalog, info["data"] = load_catalog(args.data)
        fleet = Fleet(catalog, args.packages, args.seed, machine_packages())
        info["fleet"] = fleet
        if "rematch" in args.part_list:
            current = "rematch"
            for mode in ("software", "package"):
                say(f"rematch, {mode}: child process, {args.hosts:,} hosts")
                try:
                    rematch[mode] = run_child(args, mode, state)
                except RuntimeError as exc:
                    skipped["rematch"] = str(exc)
                    if state.stopping:
                        raise KeyboardInterrupt from None
        if "push" in args.part_list:
            current = "push"
            say(f"push: {args.pushes} hosts, warm and cold")
            push = push_benchmark(args, catalog, fleet)
        if "naive" in args.part_list:
            current = "naive"
            say(f"naive: {args.sample:,} observations")
            naive = naive_benchmark(args, catalog, fleet)
        if "e2e" in args.part_list:
            current = "e2e"
            asyncio.run(e2e_all(args, fleet, state, info, e2e))
    except KeyboardInterrupt:
        state.stopping = True
        if current:
            skipped.setdefault(current, "interrupted (Ctrl-C or SIGTERM)")
        say("stopped")
    finally:
        stop_everything(state)
    if "fleet" in info:
        print_report(args, info, rematch, push, naive, e2e, skipped)
    return 130 if state.stopping else 0


async def e2e_all(args, fleet: Fleet, state: State, info: dict[str, Any],
                  rows: list[E2ERow]) -> None:
    backends = chosen_backends(args.backend)
    pg, reason = None, ""
    if "postgresql" in backends:
        pg, reason = await reach(args.pg_url, info["versions"])
    info["versions"] |= versions_of("SQLite")
    for backend in backends:
        if backend == "postgresql" and pg is None:
            rows.append(E2ERow(backend, PushRow("after start"), PushRow("warm"),
                               skipped=reason))
            continue
        await e2e_benchmark(backend, args, fleet, pg, state, rows)
        if state.stopping:
            break


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Details: the top of bench/registry.py and bench/README.md.")
    parser.add_argument("--hosts", type=int, default=10_000, help="hosts in the fleet (10000)")
    parser.add_argument("--packages", type=int, default=2_000,
                        help="package observations per host (2000)")
    parser.add_argument("--data", type=Path, default=None, metavar="DIR",
                        help="end-of-support data, an API v1 directory (default: "
                             f"{DEFAULT_DATA} when it exists, else the bundled dataset)")
    parser.add_argument("--bundled", action="store_true",
                        help="use the bundled dataset even when the default directory exists")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the fleet (1)")
    add_selection(parser, "--parts", PARTS, what="part", dest="part_list")
    parser.add_argument("--pushes", type=int, default=50,
                        help="hosts pushed, in-process and end to end (50)")
    parser.add_argument("--sample", type=int, default=20_000,
                        help="observations for the naive scan (20000)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both",
                        help="database backend(s) for the end-to-end pushes (default both)")
    add_database_options(parser, files="SQLite files and logs")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 300 hosts, 10 pushes, a 2,000-observation sample")
    parser.add_argument("--child", choices=["software", "package"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.data is None and not args.bundled and DEFAULT_DATA.is_dir():
        args.data = DEFAULT_DATA
    if args.bundled:
        args.data = None
    if args.quick:
        args.hosts, args.pushes = min(args.hosts, 300), min(args.pushes, 10)
        args.sample = min(args.sample, 2_000)
    if args.hosts < 1 or args.packages < 1 or args.pushes < 1 or args.sample < 1:
        parser.error("--hosts, --packages, --pushes and --sample must be >= 1")
    if args.child:
        print(json.dumps(child_rematch(args)), flush=True)
        return 0
    try:
        return run(args)
    except KeyboardInterrupt:
        say("aborted")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
