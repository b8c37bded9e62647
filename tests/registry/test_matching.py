"""Matching observations to product and cycle: the sample cases, version -> cycle tables per
product family, every source with realistic raw shapes (negative cases included), the
wrong-match traps, a generalisation check built from the data itself, and odd input."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from registry import product_rules
from registry.command_output import first_version
from registry.cycle_selection import PICKERS
from registry.end_of_support import Catalog, Cycle, Product, load_default
from registry.identifiers import image_repository, parse_purl
from registry.matching import Match, Matcher
from registry.product_rules import components
from registry.sources import SOURCES
from tests.registry import requires_snapshot, sample_cases, snapshot, snapshot_matcher

pytestmark = requires_snapshot


def _product_cycle(source, raw):
    found = snapshot_matcher().match(source, raw)
    return None if found is None else (found.product, found.cycle)


def _check(source, raw, expected):
    found = snapshot_matcher().match(source, raw)
    got = None if found is None else (found.product, found.cycle)
    assert got == expected, f"{source} {raw!r}"
    if found is not None and found.cycle is not None:  # eol is the cycle's, always
        cycle = snapshot().get(found.product).cycle(found.cycle)
        assert found.eol == cycle.eol
    elif found is not None:
        assert found.eol is None


# The sample cases: every one, exactly (product, cycle and eol).

@pytest.mark.parametrize("case", sample_cases(), ids=lambda c: c["id"])
def test_sample_case(case):
    found = snapshot_matcher().match(case["source"], case["raw"])
    assert (found.to_json() if found else None) == case["expect"]


def test_there_are_twenty_sample_cases():
    assert len(sample_cases()) == 20


@pytest.mark.parametrize("case", sample_cases(), ids=lambda c: c["id"])
def test_sample_case_with_the_bundled_dataset(case):
    found = _bundled_matcher().match(case["source"], case["raw"])
    assert (found.to_json() if found else None) == case["expect"]


_BUNDLED: list[Matcher] = []


def _bundled_matcher() -> Matcher:
    if not _BUNDLED:
        _BUNDLED.append(Matcher(load_default()))
    return _BUNDLED[0]


# Version -> cycle, per product family.

def _deb(name, version):
    return "dpkg", {"package": name, "version": version}


def _rpm(name, version, release="1.el9", epoch=None):
    raw = {"name": name, "version": version, "release": release}
    if epoch:
        raw["epoch"] = epoch
    return "rpm", raw


def _bin(name, output):
    return "binary", {"name": name, "version_output": output}


def _image(ref):
    return "container-image", {"image": ref}


def _win(caption, build, **more):
    return "windows", {"Caption": caption, "Version": f"10.0.{build}", "BuildNumber": str(build),
                       **more}


def _reg(build, edition, display=None, product="Windows 10 Pro"):
    raw = {"ProductName": product, "CurrentBuild": str(build), "EditionID": edition,
           "InstallationType": "Client"}
    if display:
        raw["DisplayVersion"] = display
    return "registry", raw


def _os(os_id, version_id, **more):
    return "os-release", {"ID": os_id, "VERSION_ID": version_id, **more}


FAMILIES = {
    "postgresql": [
        (_deb("postgresql-9.6", "9.6.24-0+deb9u1"), ("postgresql", "9.6")),
        (_deb("postgresql-10", "10.23-1.pgdg110+1"), ("postgresql", "10")),
        (_deb("postgresql-15", "15.6-0+deb12u1"), ("postgresql", "15")),
        (_deb("postgresql", "15+248"), ("postgresql", "15")),  # Debian's metapackage
        (_rpm("postgresql-server", "9.2.24", "9.el7_9"), ("postgresql", "9.2")),
        (_rpm("postgresql15-server", "15.6", "1PGDG.rhel8"), ("postgresql", "15")),
        (("apk", {"package": "postgresql16", "version": "16.2-r1"}), ("postgresql", "16")),
        (_bin("postgres", "postgres (PostgreSQL) 16.2 (Ubuntu 16.2-1.pgdg22.04+1)"),
         ("postgresql", "16")),
        (_image("postgres:10.23"), ("postgresql", "10")),
        (_image("postgres:9.6.24-alpine"), ("postgresql", "9.6")),
    ],
    "tomcat": [
        (_deb("tomcat9", "9.0.70-2"), ("tomcat", "9.0")),
        (_deb("tomcat10", "10.1.6-1+deb12u2"), ("tomcat", "10.1")),
        (_rpm("tomcat", "7.0.76", "16.el7_9"), ("tomcat", "7")),
        (_bin("version.sh", "Server version: Apache Tomcat/8.5.100\nServer built: Mar 19"),
         ("tomcat", "8.5")),
        (_image("tomcat:10.1.19-jdk17-temurin"), ("tomcat", "10.1")),
        (_image("tomcat:8.0.53"), ("tomcat", "8.0")),
        (_image("tomcat:11.0.0-M17"), ("tomcat", "11.0")),
    ],
    "elasticsearch": [
        (_rpm("elasticsearch", "7.17.18", "1"), ("elasticsearch", "7")),
        (_deb("elasticsearch", "6.8.23"), ("elasticsearch", "6")),
        (_deb("elasticsearch", "8.19.3"), ("elasticsearch", "8.19")),
        (_deb("elasticsearch", "9.1.2"), ("elasticsearch", "9.1")),
        (_deb("elasticsearch", "8.11.3"), ("elasticsearch", None)),  # no 8.11 cycle
        (_image("docker.elastic.co/elasticsearch/elasticsearch:8.17.2"),
         ("elasticsearch", "8.17")),
    ],
    "openssl": [
        (_rpm("openssl", "1.1.1k", "12.el8_9", epoch="1"), ("openssl", "1.1.1")),
        (_rpm("openssl", "0.9.8e", "27.el5_10"), ("openssl", "0.9.8")),
        (_rpm("openssl11", "1.1.1g", "3.amzn2.0.1"), ("openssl", "1.1.1")),
        (_deb("openssl", "3.0.11-1~deb12u2"), ("openssl", "3.0")),
        (_deb("openssl", "1.1.0l-1~deb9u6"), ("openssl", "1.1.0")),
        (("apk", {"package": "openssl", "version": "3.1.4-r5"}), ("openssl", "3.1")),
        (_bin("openssl", "OpenSSL 1.0.2k-fips  26 Jan 2017"), ("openssl", "1.0.2")),
        (_bin("openssl", "OpenSSL 3.0.2 15 Mar 2022 (Library: OpenSSL 3.0.2 15 Mar 2022)"),
         ("openssl", "3.0")),
    ],
    "windows-server": [
        (_win("Microsoft Windows Server 2022 Datacenter", 20348, ProductType=3),
         ("windows-server", "2022")),
        (_win("Microsoft Windows Server 2025 Standard", 26100, ProductType=3),
         ("windows-server", "2025")),
        (_win("Microsoft Windows Server 2019 Standard", 17763, ProductType=3),
         ("windows-server", "2019")),
        (_win("Microsoft Windows Server Datacenter", 17763, ProductType=3),
         ("windows-server", "1809-sac")),  # the same build without a year: semi-annual
        (_win("Microsoft Windows Server Datacenter", 25398, ProductType=3),
         ("windows-server", "23h2-ac")),
        (_win("Microsoft Windows Server 2016 Datacenter", 14393, ProductType=2),
         ("windows-server", "2016")),
        (("windows", {"Caption": "Microsoft Windows Server 2012 R2 Standard",
                      "Version": "6.3.9600", "BuildNumber": "9600", "ProductType": 3}),
         ("windows-server", "2012-r2")),
        (("windows", {"Caption": "Microsoft Windows Server 2012 Datacenter",
                      "Version": "6.2.9200", "BuildNumber": "9200", "ProductType": 3}),
         ("windows-server", "2012")),
        (("windows", {"Caption": "Microsoft Windows Server 2008 R2 Enterprise",
                      "Version": "6.1.7601", "CSDVersion": "Service Pack 1"}),
         ("windows-server", "2008-r2-sp1")),
        (("windows", {"Caption": "Microsoft® Windows Server® 2008 Standard",
                      "Version": "6.0.6002", "CSDVersion": "Service Pack 2"}),
         ("windows-server", "2008-sp2")),
        (("windows", {"Caption": "Microsoft(R) Windows(R) Server 2003, Standard Edition",
                      "Version": "5.2.3790", "CSDVersion": "Service Pack 2"}),
         ("windows-server", "2003-sp2")),
        (("windows", {"Caption": "Microsoft Windows Server 2022 Standard"}),
         ("windows-server", "2022")),  # no build: the caption's year
        (_win("Microsoft Windows Server Standard", 99999, ProductType=3),
         ("windows-server", None)),
    ],
    "windows": [
        (_reg(19045, "Professional", "22H2"), ("windows", "10-22h2")),
        (_reg(19045, "Enterprise", "22H2"), ("windows", "10-22h2")),
        (_reg(19044, "Enterprise", "21H2"), ("windows", "10-21h2-e")),
        (_reg(19044, "Education", "21H2"), ("windows", "10-21h2-e")),
        (_reg(19044, "Professional", "21H2"), ("windows", "10-21h2-w")),
        (_reg(19044, "ProfessionalEducation", "21H2"), ("windows", "10-21h2-w")),
        (_reg(19044, "EnterpriseS", "21H2"), ("windows", "10-21h2-e-lts")),
        (_reg(19044, "IoTEnterpriseS", "21H2"), ("windows", "10-21h2-iot-lts")),
        (_reg(17763, "EnterpriseS"), ("windows", "10-1809-e-lts")),
        (_reg(14393, "EnterpriseS"), ("windows", "10-1607-e-lts")),
        # Windows 11 still says "Windows 10" in ProductName: the build decides.
        (_reg(22631, "Professional", "23H2"), ("windows", "11-23h2-w")),
        (_reg(22631, "Enterprise", "23H2"), ("windows", "11-23h2-e")),
        (_reg(26100, "EnterpriseS", "24H2"), ("windows", "11-24h2-e-lts")),
        (_reg(26100, "IoTEnterpriseS", "24H2"), ("windows", "11-24h2-iot-lts")),
        (_reg(26100, "Core", "24H2"), ("windows", "11-24h2-w")),
        (_reg(22000, "ProfessionalWorkstation", "21H2"), ("windows", "11-21h2-w")),
        (_win("Microsoft Windows 10 Enterprise LTSC", 17763, ProductType=1),
         ("windows", "10-1809-e-lts")),
        (_win("Microsoft Windows 11 Education", 22621, ProductType=1), ("windows", "11-22h2-e")),
        (_win("Microsoft Windows 10 Pro", 19044, OperatingSystemSKU=48),
         ("windows", "10-21h2-w")),
        (_win("Microsoft Windows 10 Enterprise", 19044, OperatingSystemSKU=125),
         ("windows", "10-21h2-e-lts")),  # the SKU number is authoritative
        (("windows", {"Caption": "Microsoft Windows 8.1 Pro", "Version": "6.3.9600"}),
         ("windows", "8.1")),
        (("windows", {"Caption": "Microsoft Windows 7 Professional", "Version": "6.1.7601",
                      "CSDVersion": "Service Pack 1"}), ("windows", "7-sp1")),
        (("windows", {"Caption": "Microsoft Windows 10", "Version": "10.0.19044"}),
         ("windows", None)),  # the edition decides 21H2's dates: unknown edition, no cycle
        (_reg(19045, "EnterpriseS", "22H2"), ("windows", None)),  # 22H2 has no LTSC
    ],
    "mssqlserver": [
        (("mssql", {"ProductVersion": "15.0.4322.2", "ProductLevel": "RTM"}),
         ("mssqlserver", "15.0")),
        (("mssql", {"ProductVersion": "16.0.4105.2"}), ("mssqlserver", "16.0")),
        (("mssql", {"ProductVersion": "14.0.3456.2"}), ("mssqlserver", "14.0")),
        (("mssql", {"ProductVersion": "13.0.6300.2", "ProductLevel": "SP3"}),
         ("mssqlserver", "13.0-sp3")),
        (("mssql", {"ProductVersion": "13.0.6300.2"}), ("mssqlserver", "13.0-sp3")),  # band
        (("mssql", {"ProductVersion": "13.0.5026.0"}), ("mssqlserver", "13.0-sp2")),
        (("mssql", {"ProductVersion": "13.0.4001.0"}), ("mssqlserver", "13.0-sp1")),
        (("mssql", {"ProductVersion": "13.0.1601.5"}), ("mssqlserver", "13.0")),
        (("mssql", {"ProductVersion": "12.0.6024.0"}), ("mssqlserver", "12.0-sp3")),
        (("mssql", {"ProductVersion": "11.0.7001.0"}), ("mssqlserver", "11.0-sp4")),
        (("mssql", {"ProductVersion": "10.50.6000.34"}), ("mssqlserver", "10.50-sp3")),
        (("mssql", {"ProductVersion": "13.0.5026.0", "ProductLevel": "SP2"}),
         ("mssqlserver", "13.0-sp2")),
        (("mssql", {"ProductVersion": "99.0.1.1"}), ("mssqlserver", None)),
    ],
    "sles": [
        (_os("sles", "15.4", VERSION="15-SP4"), ("sles", "15.4")),
        (_os("sles_sap", "15.5", VERSION="15-SP5"), ("sles", "15.5")),
        (_os("sles", "12.5", VERSION="12-SP5"), ("sles", "12.5")),
        (_os("sles", "15", VERSION="15"), ("sles", "15.0")),  # GA, no service pack
        (("lsb_release", {"Distributor ID": "SUSE", "Release": "15.5",
                          "Description": "SUSE Linux Enterprise Server 15 SP5"}),
         ("sles", "15.5")),
        (("file", {"path": "/etc/SuSE-release", "content":
                   "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n"}),
         ("sles", "11.4")),
        (_rpm("sles-release", "15.4", "150400.58.7.3"), ("sles", "15.4")),
    ],
    "ibm-aix": [
        (("oslevel", {"output": "7200-05-03-2148"}), ("ibm-aix", "7.2.5")),
        (("oslevel", {"output": "7300-02-01-2346"}), ("ibm-aix", "7.3.2")),
        (("oslevel", {"output": "6100-09-12-1846"}), ("ibm-aix", "6.1.9")),
        (("oslevel", {"output": "7100-05-10-2220"}), ("ibm-aix", "7.1.5")),
        (("oslevel", {"output": "7200-05"}), ("ibm-aix", "7.2.5")),  # oslevel -r
        (("oslevel", {"output": "7.2.0.0"}), ("ibm-aix", None)),  # plain oslevel: TL unknown
    ],
    "freebsd": [
        (("freebsd-version", {"output": "13.2-RELEASE-p4"}), ("freebsd", "13.2")),
        (("freebsd-version", {"output": "14.0-RELEASE"}), ("freebsd", "14.0")),
        (("freebsd-version", {"output": "12.4-RELEASE-p9"}), ("freebsd", "12.4")),
        (("freebsd-version", {"output": "14.0-STABLE"}), ("freebsd", "14")),  # the branch
        (("freebsd-version", {"output": "15.0-CURRENT"}), ("freebsd", None)),
        (_os("freebsd", "13.2", VERSION="13.2-RELEASE"), ("freebsd", "13.2")),
    ],
    "jenkins": [
        (_deb("jenkins", "2.426.3"), ("jenkins", "2.426")),  # LTS
        (_deb("jenkins", "2.452.4"), ("jenkins", "2.452")),
        (_deb("jenkins", "2.440"), ("jenkins", "2")),  # weekly, though 2.440 is an LTS line
        (_rpm("jenkins", "2.578", "1.1"), ("jenkins", "2")),
        (_deb("jenkins", "2.300.1"), ("jenkins", None)),  # an LTS line the data lacks
        (("http-banner", {"headers": {"X-Jenkins": "2.479.3", "Server": "Jetty(10.0.20)"}}),
         ("jenkins", "2.479")),
        (_image("jenkins/jenkins:2.426.3-lts-jdk17"), ("jenkins", "2.426")),
        (_image("jenkins/jenkins:2.440"), ("jenkins", "2")),
        (_image("jenkins/jenkins:lts"), ("jenkins", None)),
    ],
    "java": [
        (_bin("java", 'openjdk version "17.0.10" 2024-01-16 LTS\nOpenJDK Runtime Environment '
                      'Corretto-17.0.10.7.1 (build 17.0.10+7-LTS)'), ("amazon-corretto", "17")),
        (_bin("java", 'openjdk version "21.0.2" 2024-01-16 LTS\nOpenJDK Runtime Environment '
                      'Temurin-21.0.2+13 (build 21.0.2+13-LTS)'), ("eclipse-temurin", "21")),
        (_bin("java", 'openjdk version "1.8.0_402"\nOpenJDK Runtime Environment (Temurin)'
                      '(build 1.8.0_402-b06)'), ("eclipse-temurin", "8")),
        (_bin("java", 'openjdk version "11.0.22" 2024-01-16 LTS\nOpenJDK Runtime Environment '
                      'Zulu11.70+15-CA (build 11.0.22+7-LTS)'), ("azul-zulu", "11")),
        (_bin("java", 'openjdk version "11.0.22" 2024-01-16 LTS\nOpenJDK Runtime Environment '
                      '(Red_Hat-11.0.22.0.7-1) (build 11.0.22+7-LTS)'),
         ("redhat-build-of-openjdk", "11")),
        (_bin("java", 'openjdk version "17.0.10" 2024-01-16 LTS\nOpenJDK Runtime Environment '
                      'Microsoft-8902426 (build 17.0.10+7-LTS)'),
         ("microsoft-build-of-openjdk", "17")),
        (_bin("java", 'java version "1.8.0_401"\nJava(TM) SE Runtime Environment '
                      '(build 1.8.0_401-b10)'), ("oracle-jdk", "8")),
        (_bin("java", 'java version "21.0.2" 2024-01-16 LTS\nJava(TM) SE Runtime Environment '
                      'Oracle GraalVM 21.0.2+13.1 (build 21.0.2+13-LTS-jvmci-23.1-b30)'),
         ("oracle-graalvm", "21")),
        (_bin("java", 'openjdk version "17.0.10" 2024-01-16\nIBM Semeru Runtime Open Edition '
                      '17.0.10.0 (build 17.0.10+7)'), ("ibm-semeru-runtime", "17")),
        (_bin("java", 'openjdk version "21.0.2" 2024-01-16 LTS\nOpenJDK Runtime Environment '
                      'SapMachine (build 21.0.2+13-LTS-sapmachine)'), ("sapmachine", "21")),
        (("binary", {"name": "java", "vendor": "BellSoft",
                     "version_output": 'openjdk version "17.0.10" 2024-01-16 LTS\nOpenJDK '
                                       'Runtime Environment (build 17.0.10+13-LTS)'}),
         ("bellsoft-liberica", "17")),
        (_bin("java", 'openjdk version "21.0.2" 2024-01-16\nOpenJDK Runtime Environment (build '
                      '21.0.2+13-58)\nOpenJDK 64-Bit Server VM (build 21.0.2+13-58, mixed mode)'),
         ("openjdk-builds-from-oracle", "21")),
        (_bin("java", 'openjdk version "17.0.10" 2024-01-16\nOpenJDK Runtime Environment (build '
                      '17.0.10+7-Debian-1deb12u1)'), None),  # a distribution build
        (_bin("java", 'openjdk version "17.0.10" 2024-01-16\nOpenJDK Runtime Environment (build '
                      '17.0.10+7-Ubuntu-122.04.1)'), None),
        (_bin("java", 'openjdk version "17.0.10" 2024-01-16 LTS\nOpenJDK Runtime Environment '
                      '(build 17.0.10+13-LTS)'), None),  # no vendor at all: cannot tell
        (_rpm("java-11-openjdk-headless", "11.0.22.0.7", "2.el9"),
         ("redhat-build-of-openjdk", "11")),
        (_rpm("java-1.8.0-openjdk", "1.8.0.402.b06", "2.el8", epoch="1"),
         ("redhat-build-of-openjdk", "8")),
        (_rpm("java-17-amazon-corretto-devel", "17.0.10.7", "1"), ("amazon-corretto", "17")),
        (_deb("temurin-17-jdk", "17.0.10.0.0+7"), ("eclipse-temurin", "17")),
        (_deb("zulu17-jdk", "17.0.10-1"), ("azul-zulu", "17")),
        (_deb("msopenjdk-21", "21.0.2-1"), ("microsoft-build-of-openjdk", "21")),
        (_deb("openjdk-17-jre-headless", "17.0.10+7-1~deb12u1"), None),
        (_image("amazoncorretto:17"), ("amazon-corretto", "17")),
        (_image("eclipse-temurin:17-jre"), ("eclipse-temurin", "17")),
        (_image("openjdk:17"), None),  # the deprecated image: mixed builds
    ],
    "os point releases": [
        (_os("ubuntu", "22.04", VERSION="22.04.4 LTS (Jammy Jellyfish)"), ("ubuntu", "22.04")),
        (_os("ubuntu", "20.04"), ("ubuntu", "20.04")),
        (_os("debian", "11"), ("debian", "11")),
        (("file", {"path": "/etc/debian_version", "content": "12.5\n"}), ("debian", "12")),
        (("file", {"path": "/etc/debian_version", "content": "11.9"}), ("debian", "11")),
        (_os("rhel", "8.9"), ("rhel", "8")),
        (_os("rhel", "9.2"), ("rhel", "9")),
        (("redhat-release", {"text": "Red Hat Enterprise Linux Server release 7.9 (Maipo)"}),
         ("rhel", "7")),
        (_os("rocky", "9.3"), ("rocky-linux", "9")),
        (_os("almalinux", "8.9"), ("almalinux", "8")),
        (_os("ol", "8.9"), ("oracle-linux", "8")),
        (_os("amzn", "2"), ("amazon-linux", "2")),
        (_os("amzn", "2023"), ("amazon-linux", "2023")),
        (("redhat-release", {"text": "Amazon Linux release 2023.3.20240131 (Amazon Linux)"}),
         ("amazon-linux", "2023")),
        (_os("alpine", "3.19.1"), ("alpine-linux", "3.19")),
        (_os("centos", "9", NAME="CentOS Stream"), ("centos-stream", "9")),
        (_os("centos", "7", NAME="CentOS Linux"), ("centos", "7")),
        (_os("fedora", "39"), ("fedora", "39")),
        (_os("opensuse-leap", "15.5"), ("opensuse", "15.5")),
        (_rpm("redhat-release", "9.3", "0.5.el9"), ("rhel", "9")),
        (_rpm("centos-release", "7", "9.2009.1.el7.centos"), ("centos", "7")),
    ],
    "linux": [
        (("kernel", {"release": "6.1.0-18-amd64"}), ("linux", "6.1")),
        (("kernel", {"release": "5.15.0-91-generic"}), ("linux", "5.15")),
        (("kernel", {"release": "6.8.0-1015-aws"}), ("linux", "6.8")),
        (("kernel", {"release": "5.10.0-28-cloud-amd64"}), ("linux", "5.10")),
        (("kernel", {"release": "6.5.13-1-pve"}), ("linux", "6.5")),
        (("kernel", {"release": "6.6.12-linuxkit"}), ("linux", "6.6")),
        (("kernel", {"release": "5.15.133.1-microsoft-standard-WSL2"}), ("linux", "5.15")),
        # Vendor kernels keep the upstream base: 5.14 has a (long ended) upstream cycle,
        # 4.18 and 3.10 have none.
        (("kernel", {"release": "5.14.0-362.18.1.el9_3.x86_64"}), ("linux", "5.14")),
        (("kernel", {"release": "4.18.0-513.11.1.el8_9.x86_64"}), ("linux", None)),
        (("kernel", {"release": "2.6.32-754.35.1.el6.x86_64"}), ("linux", None)),
        (("kernel", {"release": "4.4.0-19041-Microsoft"}), None),  # WSL 1: Windows underneath
        (_deb("linux-image-6.1.0-18-amd64", "6.1.76-1"), ("linux", "6.1")),
        (_deb("linux-image-5.15.0-94-generic", "5.15.0-94.104"), ("linux", "5.15")),
        (_deb("linux-image-amd64", "6.1.76-1"), None),  # the metapackage
        (_deb("linux-headers-6.1.0-18-amd64", "6.1.76-1"), None),
        (_rpm("kernel-core", "4.18.0", "513.11.1.el8_9"), ("linux", None)),
        (_rpm("kernel-uek", "5.15.0", "204.147.6.2.el8uek"), ("linux", "5.15")),
        (_rpm("kernel-devel", "4.18.0", "513.11.1.el8_9"), None),
        (_deb("proxmox-kernel-6.5.13-1-pve-signed", "6.5.13-1"), ("linux", "6.5")),
    ],
    "distro package names": [
        (_deb("mysql-server-8.0", "8.0.36-0ubuntu0.22.04.1"), ("mysql", "8.0")),
        (_deb("mysql-server", "8.0.36-0ubuntu0.22.04.1"), ("mysql", "8.0")),
        (_rpm("mysql-community-server", "8.4.0", "1.el9"), ("mysql", "8.4")),
        (_deb("mariadb-server", "1:10.11.6-0+deb12u1"), ("mariadb", "10.11")),
        (_rpm("MariaDB-server", "11.4.2", "1.el9"), ("mariadb", "11.4")),
        (_deb("php8.1-fpm", "8.1.2-1ubuntu2.14"), ("php", "8.1")),
        (_deb("php8.2-cli", "8.2.7-1~deb12u1"), ("php", "8.2")),
        (_deb("libapache2-mod-php7.4", "7.4.33-1+deb11u4"), ("php", "7.4")),
        (_rpm("php-fpm", "8.0.30", "1.el9_2"), ("php", "8.0")),
        (_rpm("php81-php-fpm", "8.1.27", "1.el8.remi"), ("php", "8.1")),
        (_deb("php", "2:8.2+93"), ("php", "8.2")),
        (_deb("python3.11", "3.11.2-6"), ("python", "3.11")),
        (_deb("python3", "3.11.2-1+b1"), ("python", "3.11")),
        (_rpm("python39", "3.9.18", "1.module+el8.9.0"), ("python", "3.9")),
        (_rpm("python3", "3.9.18", "1.el9_3"), ("python", "3.9")),
        (_rpm("platform-python", "3.6.8", "56.el8_9"), ("python", "3.6")),
        (_deb("ruby3.1", "3.1.2-7"), ("ruby", "3.1")),
        (_deb("golang-1.21-go", "1.21.6-1~bpo12+1"), ("go", "1.21")),
        (_deb("golang-go", "2:1.19~1"), ("go", "1.19")),
        (_deb("nodejs", "18.19.0+dfsg-6~deb12u1"), ("nodejs", "18")),
        (_rpm("nodejs", "20.11.1", "1.module+el9.3.0", epoch="1"), ("nodejs", "20")),
        (_deb("apache2", "2.4.57-2"), ("apache-http-server", "2.4")),
        (_rpm("httpd", "2.4.37", "62.module+el8.9.0"), ("apache-http-server", "2.4")),
        (_deb("nginx", "1.22.1-9"), ("nginx", "1.22")),
        (_deb("nginx-core", "1.18.0-6ubuntu14.4"), ("nginx", "1.18")),
        (_deb("redis-server", "5:7.0.15-1~deb12u1"), ("redis", "7.0")),
        (_rpm("redis6", "6.2.14", "1.amzn2023.0.1"), ("redis", "6.2")),
        (_deb("docker-ce", "5:24.0.7-1~debian.12~bookworm"), ("docker-engine", "24.0")),
        (_deb("docker.io", "20.10.24+dfsg1-1+b3"), ("docker-engine", "20.10")),
        (_deb("containerd.io", "1.6.28-1"), ("containerd", "1.6")),
        (_deb("kubelet", "1.29.1-1.1"), ("kubernetes", "1.29")),
        (_deb("mongodb-org-server", "7.0.5"), ("mongodb", "7.0")),
        (_rpm("mssql-server", "16.0.4105.2", "1"), ("mssqlserver", "16.0")),
        (_rpm("oracle-database-ee-19c", "1.0", "1"), ("oracle-database", "19")),
        (_deb("gitlab-ee", "16.8.1-ee.0"), ("gitlab", "16.8")),
        (_deb("proxmox-ve", "8.1.0"), ("proxmox-ve", "8")),
        (_deb("pve-manager", "7.4-17"), ("proxmox-ve", "7")),
        (_deb("zabbix-agent2", "1:6.0.25-1+debian12"), ("zabbix", "6.0")),
        (_deb("exim4-daemon-light", "4.96-15+deb12u4"), ("exim", "4.96")),
        (_deb("dotnet-runtime-8.0", "8.0.1-1"), ("dotnet", "8")),
        (_rpm("dotnet-sdk-8.0", "8.0.101", "1.el9_3"), ("dotnet", "8")),
        (_deb("nvidia-driver-535", "535.154.05-0ubuntu0.22.04.1"), ("nvidia", "r535-linux")),
        (_deb("zfsutils-linux", "2.1.5-1ubuntu6~22.04.2"), ("openzfs", "2.1")),
        (_deb("varnish", "7.1.1-1.1"), ("vinyl-cache", "7.1")),
        (_deb("sqlite3", "3.40.1-2"), ("sqlite", "3")),
        (_deb("puppet-agent", "8.4.0-1jammy"), ("puppet", "8")),
        (_deb("ansible", "7.7.0+dfsg-3+deb12u1"), ("ansible", "7")),
        (_deb("ansible-core", "2.14.3-1+deb12u1"), ("ansible-core", "2.14")),
    ],
}


@pytest.mark.parametrize(
    ("observation", "expected"),
    [pytest.param(obs, exp, id=f"{family}-{i}")
     for family, rows in FAMILIES.items() for i, (obs, exp) in enumerate(rows)],
)
def test_version_to_cycle(observation, expected):
    _check(*observation, expected)


# Every source, with realistic raw shapes.

OS_RELEASE_CENTOS = 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nVERSION_ID="7"\n'
LSB_DEBIAN = ("No LSB modules are available.\nDistributor ID:\tDebian\nDescription:\tDebian "
              "GNU/Linux 12 (bookworm)\nRelease:\t12\nCodename:\tbookworm\n")
IOS_XE_SHOW_VERSION = (
    "Cisco IOS XE Software, Version 17.09.04a\nCisco IOS Software [Cupertino], Catalyst L3 "
    "Switch Software (CAT9K_IOSXE), Version 17.9.4a, RELEASE SOFTWARE (fc3)\n")
ROUTEROS_RESOURCE = ("uptime: 5w2d\nversion: 7.12.1 (stable)\nbuild-time: Nov/17/2023\n"
                     "board-name: RB4011iGS+\nplatform: MikroTik\n")
NVIDIA_SMI = ("+------------------------------------------------------------------+\n"
              "| NVIDIA-SMI 535.154.05   Driver Version: 535.154.05   CUDA Version: 12.2 |\n")
SQL_SERVER_2016 = (
    "Microsoft SQL Server 2016 (SP3) (KB5003279) - 13.0.6300.2 (X64) \n\tAug  7 2021 01:20:37 "
    "\n\tCopyright (c) Microsoft Corporation\n\tStandard Edition (64-bit) on Windows Server "
    "2019 Standard 10.0 <X64> (Build 17763: ) (Hypervisor)\n")

SOURCE_CASES = {
    "os-release": [
        (_os("rocky", "9.3", NAME="Rocky Linux"), ("rocky-linux", "9")),
        (("os-release", {"id": "ubuntu", "version_id": "24.04"}), ("ubuntu", "24.04")),
        (("os-release", {"text": OS_RELEASE_CENTOS}), ("centos", "7")),
        (("os-release", {"ID": "debian", "VERSION_CODENAME": "trixie",
                         "PRETTY_NAME": "Debian GNU/Linux trixie/sid"}), ("debian", None)),
        (_os("opensuse-tumbleweed", "20240211"), None),  # rolling: no cycles
        (_os("raspbian", "11"), None),  # a derivative is not its parent
        (_os("arch", ""), None),
        (("os-release", {"NAME": "Ubuntu"}), None),  # no ID
    ],
    "lsb_release": [
        (("lsb_release", {"Distributor ID": "Ubuntu", "Description": "Ubuntu 22.04.4 LTS",
                          "Release": "22.04", "Codename": "jammy"}), ("ubuntu", "22.04")),
        (("lsb_release", {"output": LSB_DEBIAN}), ("debian", "12")),
        (("lsb_release", {"Distributor ID": "RedHatEnterpriseServer", "Release": "7.9"}),
         ("rhel", "7")),
        (("lsb_release", {"text": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\n"}),
         ("ubuntu", "20.04")),
        (("lsb_release", {"Distributor ID": "Arch", "Release": "rolling"}), None),
        (("lsb_release", {"Distributor ID": "SUSE", "Description": "SUSE Linux Enterprise "
                          "Desktop 15 SP5", "Release": "15.5"}), None),  # SLED: no data
    ],
    "redhat-release": [
        (("redhat-release", {"text": "Red Hat Enterprise Linux release 9.2 (Plow)"}),
         ("rhel", "9")),
        (("redhat-release", {"content": "Rocky Linux release 8.9 (Green Obsidian)\n"}),
         ("rocky-linux", "8")),
        (("redhat-release", {"text": "AlmaLinux release 9.3 (Shamrock Pearl)"}),
         ("almalinux", "9")),
        (("redhat-release", {"text": "CentOS Stream release 9"}), ("centos-stream", "9")),
        (("redhat-release", {"text": "Oracle Linux Server release 8.9"}), ("oracle-linux", "8")),
        (("redhat-release", {"text": "Fedora release 39 (Thirty Nine)"}), ("fedora", "39")),
        (("redhat-release", {"text": "CloudLinux release 8.9 (Valery Rozhdestvensky)"}), None),
        (("redhat-release", {"text": ""}), None),
    ],
    "file": [
        (("file", {"path": "/etc/os-release", "content": 'ID=debian\nVERSION_ID="12"\n'}),
         ("debian", "12")),
        (("file", {"path": "/etc/alpine-release", "content": "3.19.1\n"}),
         ("alpine-linux", "3.19")),
        (("file", {"path": "/etc/redhat-release", "content": "CentOS Linux release 7.9.2009 "
                                                             "(Core)\n"}), ("centos", "7")),
        (("file", {"path": "/proc/version", "content": "Linux version 6.1.0-18-amd64 "
                   "(debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP"}),
         ("linux", "6.1")),
        (("file", {"path": "/opt/gitlab/embedded/service/gitlab-rails/VERSION",
                   "content": "16.8.1-ee"}), ("gitlab", "16.8")),
        (("file", {"path": "/etc/debian_version", "content": "bookworm/sid"}), None),  # Ubuntu
        (("file", {"path": "/etc/motd", "content": "Welcome to Ubuntu 22.04.4 LTS"}), None),
        (("file", {"path": "/etc/os-release"}), None),  # no content
    ],
    "dpkg": [
        (_deb("postgresql-15", "15.6-0+deb12u1"), ("postgresql", "15")),
        (_deb("haproxy", "2.6.12-1+deb12u1"), ("haproxy", "2.6")),
        (_deb("squid", "5.7-2+deb12u1"), ("squid", "5")),
        (_deb("libpq5", "15.6-0+deb12u1"), None),
        (_deb("nginx-common", "1.22.1-9"), None),
        (_deb("bash", "5.2.15-2+b2"), None),
    ],
    "rpm": [
        (_rpm("postgresql-server", "13.14", "1.el8_9"), ("postgresql", "13")),
        (_rpm("haproxy", "2.4.22", "1.el9"), ("haproxy", "2.4")),
        (_rpm("openssl-libs", "3.0.7", "25.el9_3", epoch="1"), None),
        (_rpm("httpd-tools", "2.4.57", "5.el9"), None),
        (_rpm("gpg-pubkey", "fd431d51", "4ae0493b"), None),
    ],
    "apk": [
        (("apk", {"package": "nginx", "version": "1.24.0-r15"}), ("nginx", "1.24")),
        (("apk", {"package": "alpine-base", "version": "3.19.1-r0"}), ("alpine-linux", "3.19")),
        (("apk", {"package": "redis", "version": "7.2.4-r0"}), ("redis", "7.2")),
        (("apk", {"package": "musl", "version": "1.2.4_git20230717-r4"}), None),
    ],
    "windows": [
        (_win("Microsoft Windows Server 2022 Datacenter", 20348, ProductType=3),
         ("windows-server", "2022")),
        (_win("Microsoft Windows 11 Pro", 22631, ProductType=1, OperatingSystemSKU=48),
         ("windows", "11-23h2-w")),
        (("windows", {"caption": "Microsoft Windows 10 Enterprise", "version": "10.0.19045",
                      "buildnumber": 19045}), ("windows", "10-22h2")),  # lenient keys, numbers
        (("windows", {"Caption": "Linux", "Version": "6.1.0"}), None),
        (("windows", {"Manufacturer": "Microsoft Corporation"}), None),
    ],
    "registry": [
        (_reg(22631, "Professional", "23H2"), ("windows", "11-23h2-w")),
        (("registry", {"ProductName": "Windows Server 2019 Datacenter", "CurrentBuild": "17763",
                       "EditionID": "ServerDatacenter", "InstallationType": "Server Core",
                       "ReleaseId": "1809"}), ("windows-server", "2019")),
        (("registry", {"DisplayName": "Python 3.11.2 (64-bit)", "DisplayVersion": "3.11.2150.0",
                       "Publisher": "Python Software Foundation"}), ("python", "3.11")),
        (("registry", {"DisplayName": "Microsoft SQL Server 2019 (64-bit)",
                       "DisplayVersion": "15.0.2000.5"}), ("mssqlserver", "15.0")),
        (("registry", {"DisplayName": "7-Zip 23.01 (x64)", "DisplayVersion": "23.01"}), None),
        (("registry", {"DisplayName": "Microsoft Visual C++ 2015-2022 Redistributable (x64)",
                       "DisplayVersion": "14.38.33135.0"}), None),
    ],
    "powershell": [
        (("powershell", {"PSVersion": "5.1.19041.3803", "PSEdition": "Desktop"}),
         ("windows-powershell", "5.1")),
        (("powershell", {"PSVersion": {"Major": 7, "Minor": 4, "Patch": 1},
                         "PSEdition": "Core"}), ("powershell", "7.4")),
        (("powershell", {"WindowsProductName": "Windows 10 Enterprise", "OsBuildNumber": "19044",
                         "WindowsEditionId": "Enterprise", "OsProductType": "WorkStation"}),
         ("windows", "10-21h2-e")),
        (("powershell", {"OsName": "Microsoft Windows Server 2016 Standard",
                         "OsVersion": "10.0.14393", "OsProductType": "Server"}),
         ("windows-server", "2016")),
        (("powershell", {"Name": "Notepad++ (64-bit x64)", "Version": "8.6.2"}),
         ("notepad-plus-plus", "8.6")),  # Get-Package: an application entry
        (("powershell", {"Name": "7-Zip 23.01 (x64)", "Version": "23.01"}), None),
    ],
    "kernel": [
        (("kernel", {"release": "6.1.0-18-amd64"}), ("linux", "6.1")),
        (("kernel", {"Release": "5.4.0-172-generic", "machine": "x86_64"}), ("linux", "5.4")),
        (("kernel", {"release": "3.10.0-1160.108.1.el7.x86_64"}), ("linux", None)),
        (("kernel", {"release": "13.2-RELEASE-p4", "sysname": "FreeBSD"}), ("freebsd", "13.2")),
        (("kernel", {"release": "garbage"}), None),
    ],
    "uname": [
        (("uname", {"sysname": "Linux", "release": "6.1.0-18-amd64"}), ("linux", "6.1")),
        (("uname", {"output": "Linux web01 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian "
                              "6.1.76-1 (2024-02-01) x86_64 GNU/Linux"}), ("linux", "6.1")),
        (("uname", {"output": "FreeBSD fw1 13.2-RELEASE-p4 FreeBSD 13.2-RELEASE-p4 GENERIC "
                              "amd64"}), ("freebsd", "13.2")),
        (("uname", {"output": "SunOS sol1 5.11 11.4.0.15.0 sun4v sparc sun4v"}),
         ("oracle-solaris", "11.4")),
        (("uname", {"output": "Darwin mac1 23.3.0 Darwin Kernel Version 23.3.0: Wed Dec 20"}),
         ("macos", "14")),
        (("uname", {"output": "AIX aix1 2 7 00F84C0C4C00"}), ("ibm-aix", None)),
        (("uname", {"output": "MINGW64_NT-10.0-19045 pc 3.4.10.x86_64 2024-02-10 x86_64 Msys"}),
         None),
    ],
    "binary": [
        (_bin("python3", "Python 3.11.2"), ("python", "3.11")),
        (_bin("/usr/sbin/nginx", "nginx version: nginx/1.24.0"), ("nginx", "1.24")),
        (_bin("httpd", "Server version: Apache/2.4.57 (Unix)\nServer built: 2023-04-05"),
         ("apache-http-server", "2.4")),
        (_bin("go", "go version go1.21.6 linux/amd64"), ("go", "1.21")),
        (_bin("dotnet", "8.0.101"), ("dotnet", "8")),
        (_bin("kubectl", "Client Version: v1.29.1\nKustomize Version: v5.0.4"),
         ("kubernetes", "1.29")),
        (_bin("C:\\Program Files\\nodejs\\node.exe", "v20.11.1"), ("nodejs", "20")),
        (_bin("redis-server", "Redis server v=7.2.4 sha=00000000:0 malloc=jemalloc-5.3.0"),
         ("redis", "7.2")),
        (_bin("mongod", "db version v7.0.5\nBuild Info: {}"), ("mongodb", "7.0")),
        (_bin("nginx", "nginx version: openresty/1.21.4.1"), None),
        (_bin("curl", "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.11"), None),
        (_bin("foo", "foo 1.2.3"), None),
    ],
    "snmp": [
        (("snmp", {"sysDescr": "Linux web01 5.15.0-91-generic #101-Ubuntu SMP Tue Nov 14 "
                               "13:30:08 UTC 2023 x86_64",
                   "sysObjectID": "1.3.6.1.4.1.8072.3.2.10"}),
         ("linux", "5.15")),
        (("snmp", {"sysDescr": "Hardware: Intel64 Family 6 Model 85 Stepping 7 AT/AT COMPATIBLE "
                               "- Software: Windows Version 6.3 (Build 20348 Multiprocessor "
                               "Free)"}), ("windows-server", "2022")),
        (("snmp", {"sysDescr": "Hardware: Intel64 Family 6 Model 85 Stepping 7 AT/AT COMPATIBLE "
                               "- Software: Windows Version 6.3 (Build 17763 Multiprocessor "
                               "Free)"}), None),  # 17763 is Windows 10 1809 and Server 2019
        (("snmp", {"sysDescr": "VMware ESXi 7.0.3 build-21930508 VMware, Inc. x86_64"}),
         ("esxi", "7.0")),
        (("snmp", {"sysDescr": "NetApp Release 9.12.1P5: Tue Jun 20 18:09:55 UTC 2023"}),
         ("netapp-ontap", "9.12.1")),
        (("snmp", {"sysDescr": "fw-edge-01", "sysObjectID": "1.3.6.1.4.1.12356.101.1.3004",
                   "fgSysVersion": "v7.2.8,build1639,240313 (GA.M)"}), ("fortios", "7.2")),
        (("snmp", {"sysDescr": "FreeBSD fw1 13.2-RELEASE-p4 FreeBSD 13.2-RELEASE-p4 GENERIC "
                               "amd64"}), ("freebsd", "13.2")),
        (("snmp", {"sysDescr": "RouterOS CCR2004-16G-2S+", "sysObjectID":
                   "1.3.6.1.4.1.14988.1", "firmwareVersion": "7.12.1"}), ("routeros", "7.12")),
        (("snmp", {"sysDescr": "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), "
                               "Version 15.2(7)E4, RELEASE SOFTWARE (fc1)"}), None),
        (("snmp", {"sysDescr": "Juniper Networks, Inc. ex4300-48t Ethernet Switch, kernel "
                               "JUNOS 21.4R3-S5.4"}), None),
        (("snmp", {"sysDescr": "Linux bigip1 3.10.0-862.14.4.el7.ve.x86_64", "sysObjectID":
                   "1.3.6.1.4.1.3375.2.1.3.4.43", "sysProductVersion": "16.1.4"}),
         ("big-ip", "16.1")),
    ],
    "ssh": [
        (("ssh", {"banner": "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6"}), None),
        (("ssh", {"banner": "SSH-2.0-ROSSSH"}), None),
        (("ssh", {"banner": "SSH-2.0-Cisco-1.25"}), None),
        (("ssh", {"command": "cat /etc/os-release", "output": 'ID=ubuntu\nVERSION_ID="22.04"'}),
         ("ubuntu", "22.04")),
        (("ssh", {"command": "uname -r", "output": "5.15.0-91-generic\n"}), ("linux", "5.15")),
        (("ssh", {"command": "show version", "output": IOS_XE_SHOW_VERSION}),
         ("cisco-ios-xe", "17.9")),
        (("ssh", {"command": "/system resource print", "output": ROUTEROS_RESOURCE}),
         ("routeros", "7.12")),
        (("ssh", {"command": "nginx -v", "output": "nginx version: nginx/1.22.1"}),
         ("nginx", "1.22")),
        (("ssh", {"command": "ssh -V", "output": "OpenSSH_8.9p1 Ubuntu-3ubuntu0.6, OpenSSL 3.0.2 "
                                                "15 Mar 2022"}), None),
    ],
    "http-banner": [
        (("http-banner", {"server": "Apache/2.4.57 (Debian)"}), ("apache-http-server", "2.4")),
        (("http-banner", {"headers": {"server": "nginx/1.22.1"}}), ("nginx", "1.22")),
        (("http-banner", {"headers": {"Server": "nginx"}}), ("nginx", None)),
        (("http-banner", {"server": "Jetty(9.4.53.v20231009)"}), ("eclipse-jetty", "9.4")),
        (("http-banner", {"headers": {"Server": "cloudflare",
                                      "X-Powered-By": "PHP/8.1.2-1ubuntu2.14"}}), ("php", "8.1")),
        (("http-banner", {"banner": "HTTP/1.1 200 OK\r\nDate: Mon, 12 Feb 2024 10:00:00 GMT\r\n"
                                    "Server: Apache/2.4.6 (CentOS) OpenSSL/1.0.2k-fips\r\n"}),
         ("apache-http-server", "2.4")),  # the first product token, not the OpenSSL module
        (("http-banner", {"server": "Microsoft-IIS/10.0"}), None),
        (("http-banner", {"server": "openresty/1.21.4.1"}), None),
        (("http-banner", {"server": "Apache-Coyote/1.1"}), None),
        (("http-banner", {"server": "Werkzeug/3.0.1 Python/3.11.2"}), None),
    ],
    "api": [
        (("api", {"url": "http://es:9200/", "body": {
            "name": "es-1", "cluster_name": "prod", "version": {
                "number": "8.17.2", "build_flavor": "default", "lucene_version": "9.12.0"},
            "tagline": "You Know, for Search"}}), ("elasticsearch", "8.17")),
        (("api", {"body": {"name": "os-1", "version": {
            "distribution": "opensearch", "number": "2.11.1", "lucene_version": "9.7.0"},
            "tagline": "The OpenSearch Project: https://opensearch.org/"}}), ("opensearch", "2")),
        (("api", {"url": "https://k8s:6443/version", "body": {
            "major": "1", "minor": "29", "gitVersion": "v1.29.1", "platform": "linux/amd64"}}),
         ("kubernetes", "1.29")),
        (("api", {"body": {"Version": "24.0.7", "ApiVersion": "1.43", "Os": "linux",
                           "Components": [{"Name": "Engine", "Version": "24.0.7"}]}}),
         ("docker-engine", "24.0")),
        (("api", {"body": {"Version": "4.9.3", "ApiVersion": "1.41", "Components": [
            {"Name": "Podman Engine", "Version": "4.9.3"}]}}), ("podman", "4.9")),
        (("api", {"body": {"rabbitmq_version": "3.12.12", "erlang_version": "26.2.1",
                           "product_name": "RabbitMQ"}}), ("rabbitmq", "3.12")),
        (("api", {"url": "https://gitlab.example.com/api/v4/version",
                  "body": {"version": "16.8.1-ee", "revision": "a1b2c3"}}), ("gitlab", "16.8")),
        (("api", {"headers": {"X-Jenkins": "2.426.3"}, "body": {}}), ("jenkins", "2.426")),
        (("api", {"product": "grafana", "body": {"commit": "abc", "database": "ok",
                                                 "version": "10.3.1"}}), ("grafana", "10.3")),
        (("api", {"body": {"version": "1.2.3"}}), None),  # a version of what?
    ],
    "container-image": [
        (_image("docker.io/library/postgres:15.4-alpine"), ("postgresql", "15")),
        (_image("nginx:1.25"), ("nginx", "1.25")),
        (_image("redis:7.2.4"), ("redis", "7.2")),
        (_image("ubuntu:jammy-20240111"), ("ubuntu", "22.04")),
        (_image("debian:bookworm-slim"), ("debian", "12")),
        (_image("python:3.11-slim-bookworm"), ("python", "3.11")),
        (_image("golang:1.21-alpine"), ("go", "1.21")),
        (_image("mongo:7.0"), ("mongodb", "7.0")),
        (_image("httpd:2.4"), ("apache-http-server", "2.4")),
        (_image("registry.k8s.io/kube-apiserver:v1.29.1"), ("kubernetes", "1.29")),
        (_image("mcr.microsoft.com/mssql/server:2022-latest"), ("mssqlserver", "16.0")),
        (_image("mcr.microsoft.com/mssql/server:2019-CU22-ubuntu-20.04"),
         ("mssqlserver", "15.0")),
        (_image("mcr.microsoft.com/windows/servercore:ltsc2019"),
         ("windows-server-core", "2019")),
        (_image("registry.access.redhat.com/ubi9/ubi-minimal:9.3-1552"), ("rhel", "9")),
        (("container-image", {"repository": "bitnami/postgresql", "tag": "16.2.0"}),
         ("postgresql", "16")),
        (_image("nginx@sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac"),
         ("nginx", None)),
        (_image("nginx:latest"), ("nginx", None)),
        (_image("busybox:1.36"), None),
        (_image("myorg/billing-api:1.0.3"), None),
        (_image("localhost:5000/team/app:2.1"), None),
    ],
    "mssql": [
        (("mssql", {"version": SQL_SERVER_2016}), ("mssqlserver", "13.0-sp3")),
        (("mssql", {"@@VERSION": "Microsoft SQL Server 2019 (RTM-CU22) (KB5027702) - "
                                 "15.0.4322.2 (X64)"}), ("mssqlserver", "15.0")),
        (("mssql", {"ProductVersion": "16.0.4105.2", "ProductLevel": "RTM",
                    "Edition": "Developer Edition (64-bit)"}), ("mssqlserver", "16.0")),
        (("mssql", {"version": "Microsoft SQL Azure (RTM) - 12.0.2000.8"}), None),
        (("mssql", {"version": "PostgreSQL 15.6"}), None),
    ],
    "sql": [
        (("sql", {"query": "SELECT version()", "result": "PostgreSQL 15.6 (Debian "
                  "15.6-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc 12.2.0, 64-bit"}),
         ("postgresql", "15")),
        (("sql", {"version": "10.11.6-MariaDB-0+deb12u1"}), ("mariadb", "10.11")),
        (("sql", {"version": "8.0.36-0ubuntu0.22.04.1", "engine": "mysql"}), ("mysql", "8.0")),
        (("sql", {"version": "8.0.36", "version_comment": "MySQL Community Server - GPL"}),
         ("mysql", "8.0")),
        (("sql", {"version": "Oracle Database 19c Enterprise Edition Release 19.0.0.0.0 - "
                             "Production"}), ("oracle-database", "19")),
        (("sql", {"version": "Microsoft SQL Server 2022 (RTM-CU12) (KB5033663) - 16.0.4115.5 "
                             "(X64)"}), ("mssqlserver", "16.0")),
        (("sql", {"version": "8.0.36-0ubuntu0.22.04.1"}), None),  # MySQL? Percona? unknown
        (("sql", {"version": "8.0.11-TiDB-v7.5.0", "engine": "mysql"}), None),
    ],
    "esxcli": [
        (("esxcli", {"command": "esxcli system version get", "Product": "VMware ESXi",
                     "Version": "7.0.3", "Build": "Releasebuild-21930508", "Update": "3"}),
         ("esxi", "7.0")),
        (("esxcli", {"output": "   Product: VMware ESXi\n   Version: 6.7.0\n   Build: "
                               "Releasebuild-17700523\n   Update: 3\n"}), ("esxi", "6.7")),
        (("esxcli", {"output": "VMware ESXi 8.0.2 build-22380479\nVMware ESXi 8.0 Update 2"}),
         ("esxi", "8.0")),
        (("esxcli", {"output": "command not found"}), None),
    ],
    "pveversion": [
        (("pveversion", {"output": "pve-manager/8.1.4/ec5affc9e41f1d79 (running kernel: "
                                   "6.5.13-1-pve)"}), ("proxmox-ve", "8")),
        (("pveversion", {"output": "proxmox-ve: 7.4-1 (running kernel: 5.15.143-1-pve)\n"
                                   "pve-manager: 7.4-17 (running version: 7.4-17/513c62be)\n"}),
         ("proxmox-ve", "7")),
        (("pveversion", {"pve-manager": "6.4-13"}), ("proxmox-ve", "6")),
        (("pveversion", {"output": "bash: pveversion: command not found"}), None),
    ],
    "oslevel": [
        (("oslevel", {"output": "7200-05-03-2148"}), ("ibm-aix", "7.2.5")),
        (("oslevel", {"oslevel": "7300-01-02-2320"}), ("ibm-aix", "7.3.1")),
        (("oslevel", {"output": "oslevel: not found"}), None),
    ],
    "freebsd-version": [
        (("freebsd-version", {"output": "13.2-RELEASE-p4"}), ("freebsd", "13.2")),
        (("freebsd-version", {"userland": "14.1-RELEASE-p2", "kernel": "14.1-RELEASE-p1"}),
         ("freebsd", "14.1")),
        (("freebsd-version", {"output": "FreeBSD"}), None),
    ],
    "dmi": [
        (("dmi", {"sys_vendor": "Microsoft Corporation", "product_name": "Surface Pro 9"}),
         ("surface", "pro-9")),
        (("dmi", {"sys_vendor": "Dell Inc.", "product_name": "PowerEdge R740",
                  "bios_version": "2.19.1"}), None),  # no server hardware in the data
        (("dmi", {"sys_vendor": "VMware, Inc.", "product_name": "VMware Virtual Platform"}),
         None),
        (("dmi", {"sys_vendor": "QEMU", "product_name": "Standard PC (Q35 + ICH9, 2009)"}), None),
    ],
    "redfish": [
        (("redfish", {"Manufacturer": "Dell Inc.", "Model": "PowerEdge R740",
                      "BiosVersion": "2.19.1", "ProcessorSummary": {
                          "Count": 2, "Model": "Intel(R) Xeon(R) CPU E5-2690 v3 @ 2.60GHz"}}),
         ("intel-processors", "haswell-xeon")),
        (("redfish", {"ProcessorType": "CPU", "Model": "Intel(R) Xeon(R) CPU E5-2680 v4 @ "
                                                       "2.40GHz", "TotalCores": 14}),
         ("intel-processors", "broadwell-xeon")),
        (("redfish", {"Manufacturer": "HPE", "Model": "ProLiant DL380 Gen10",
                      "FirmwareVersion": "iLO 5 v2.72"}), None),
        (("redfish", {"ProcessorSummary": {"Model": "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz"}}),
         None),  # Xeon Scalable: no unambiguous cycle in the data
    ],
    "cpuinfo": [
        (("cpuinfo", {"model name": "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz"}),
         ("intel-processors", "broadwell-xeon")),
        (("cpuinfo", {"text": "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: "
                              "Intel(R) Xeon(R) CPU E5-2620 v2 @ 2.10GHz\n"}),
         ("intel-processors", "ivy-bridge-xeon")),
        (("cpuinfo", {"model_name": "AMD EPYC 7763 64-Core Processor"}), None),
        (("cpuinfo", {"model name": "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz"}), None),
    ],
    "nvidia-smi": [
        (("nvidia-smi", {"driver_version": "535.154.05", "name": "Tesla T4"}),
         ("nvidia", "r535-linux")),
        (("nvidia-smi", {"output": NVIDIA_SMI}), ("nvidia", "r535-linux")),
        (("nvidia-smi", {"driver_version": "538.15", "os": "Windows"}),
         ("nvidia", "r535-windows")),
        (("nvidia-smi", {"output": "name, driver_version\nNVIDIA A100-SXM4-80GB, 550.54.15\n"}),
         ("nvidia", "r550-linux")),
        (("nvidia-smi", {"name": "Tesla V100-SXM2-32GB"}), ("nvidia-gpu", "professional-volta")),
        (("nvidia-smi", {"name": "NVIDIA H100 80GB HBM3"}), None),
        (("nvidia-smi", {"output": "NVIDIA-SMI has failed because it couldn't communicate"}),
         None),
    ],
    "unknown sources": [
        (("cmdb", {"product": "PostgreSQL", "version": "14.11"}), ("postgresql", "14")),
        (("scanner", {"text": "PostgreSQL 15.6 on x86_64-pc-linux-gnu"}), ("postgresql", "15")),
        (("cmdb", {"name": "nginx", "version": "1.25.3"}), ("nginx", "1.25")),
        (("sbom", {"purl": "pkg:deb/debian/nginx@1.22.1-9?arch=amd64"}), ("nginx", "1.22")),
        (("sbom", {"purl": "pkg:pypi/django@4.2.9"}), ("django", "4.2")),
        (("sbom", {"cpe": "cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*"}), ("nginx", "1.24")),
        (("scanner", {"text": "Welcome to Ubuntu 22.04.4 LTS"}), None),
        (("scanner", {"text": "Ubuntu-3ubuntu0.6"}), None),
        (("cmdb", {"name": "ps", "version": "3.3.17"}), None),
    ],
}


@pytest.mark.parametrize(
    ("observation", "expected"),
    [pytest.param(obs, exp, id=f"{source}-{i}")
     for source, rows in SOURCE_CASES.items() for i, (obs, exp) in enumerate(rows)],
)
def test_source(observation, expected):
    _check(*observation, expected)


def test_every_source_has_a_reader_and_at_least_three_cases():
    named = {"os-release", "lsb_release", "redhat-release", "file", "dpkg", "rpm", "windows",
             "registry", "powershell", "kernel", "uname", "binary", "snmp", "ssh",
             "http-banner", "api", "container-image", "mssql", "sql", "esxcli", "pveversion",
             "oslevel", "freebsd-version", "dmi", "redfish", "cpuinfo", "nvidia-smi"}
    package_sources = set(product_rules.PACKAGE_MANAGERS)
    assert named - package_sources <= set(SOURCES)
    for source in named:
        cases = [c for c in SOURCE_CASES.get(source, []) if c[0][0] == source]
        assert len(cases) >= 3, source
        assert any(expected is None or expected[1] is None for _, expected in cases) or \
            source in ("dpkg", "rpm"), f"{source} has no negative case"


# Wrong matches: worse than none.

@pytest.mark.parametrize(
    ("observation", "not_expected"),
    [
        (("ssh", {"banner": "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6"}), {"openssl", "ubuntu"}),
        (_bin("ssh", "OpenSSH_9.2p1 Debian-2+deb12u2, OpenSSL 3.0.11 19 Sep 2023"), {"openssl"}),
        (_deb("libpq5", "15.6-0+deb12u1"), {"postgresql"}),
        (_deb("postgresql-client-15", "15.6-0+deb12u1"), {"postgresql"}),
        (_deb("postgresql-15-postgis-3", "3.3.2+dfsg-1"), {"postgresql"}),
        (_rpm("postgresql15", "15.6", "1PGDG.rhel9"), {"postgresql"}),  # PGDG's client package
        (_deb("python3-requests", "2.28.1+dfsg-1"), {"python"}),
        (_deb("python-is-python3", "3.11.2-1"), {"python"}),
        (_deb("libssl3", "3.0.11-1~deb12u2"), {"openssl"}),
        (_deb("nginx-doc", "1.22.1-9"), {"nginx"}),
        (_deb("libnginx-mod-http-geoip", "1.22.1-9"), {"nginx"}),
        (_deb("php8.2-mysql", "8.2.7-1~deb12u1"), {"php", "mysql"}),
        (_deb("mysql-common", "5.8+1.1.0"), {"mysql"}),
        (_rpm("mysql80-community-release", "el9", "5"), {"mysql"}),
        (_deb("libmariadb3", "1:10.11.6-0+deb12u1"), {"mariadb"}),
        (_deb("heartbeat", "1:3.0.6-13"), {"beats"}),
        (_deb("unity", "7.5.1+23.04.20230315-0ubuntu2"), {"unity"}),
        (_deb("node-semver", "7.3.8+~7.3.9-1"), {"nodejs"}),
        (_deb("ruby-rails", "2:6.1.7.3+dfsg-1"), {"ruby"}),
        (_deb("openjdk-17-jre-headless", "17.0.10+7-1~deb12u1"), {"openjdk-builds-from-oracle"}),
        (_bin("ps", "ps from procps-ng 3.3.17"), {"powershell"}),
        (_bin("argo", "argo: v3.5.2"), {"argo-cd"}),
        (_bin("erl", "Erlang (SMP,ASYNC_THREADS) (BEAM) emulator version 14.2.1"), {"erlang"}),
        (("sql", {"version": "8.0.11-TiDB-v7.5.0"}), {"mysql"}),
        (("snmp", {"sysDescr": "Cisco Adaptive Security Appliance Version 9.8(4)29"}),
         {"cisco-ios-xe"}),
        (("http-banner", {"server": "Apache Tomcat/9.0.85"}), {"apache-http-server"}),
        (("api", {"body": {"version": {"distribution": "opensearch", "number": "2.11.1"}}}),
         {"elasticsearch"}),
        (("api", {"body": {"rabbitmq_version": "3.12.12", "erlang_version": "26.2.1"}}),
         {"erlang"}),
    ],
)
def test_no_wrong_match(observation, not_expected):
    found = snapshot_matcher().match(*observation)
    assert found is None or found.product not in not_expected


# Generalisation: observations made from the data itself.

_CLEAN = re.compile(r"\d+(\.\d+)+")


GENERALISATION_KINDS = {
    # kind -> (categories of the products it applies to, minimum hit rate)
    "dpkg": (product_rules.NAME_CATEGORIES, 0.95),
    "rpm": (product_rules.NAME_CATEGORIES, 0.95),
    "binary": (product_rules.NAME_CATEGORIES, 0.95),
    "container-image": (product_rules.NAME_CATEGORIES, 0.95),
    "http-banner": (product_rules.NAME_CATEGORIES, 0.95),  # by label: "Apache Tomcat/9.0.85"
    "os-release": (frozenset({"os"}), 0.95),
}


def _generalisation_cases(kind: str) -> list[tuple[Product, Cycle, str]]:
    """Every cycle of the kind's products whose latest release is a clean version inside it."""
    categories, _ = GENERALISATION_KINDS[kind]
    cases = []
    for product in snapshot():
        if product.category not in categories:
            continue
        for cycle in product.cycles:
            latest = cycle.latest or ""
            if not _CLEAN.fullmatch(latest) or not re.fullmatch(r"\d+(\.\d+)*", cycle.name):
                continue
            if components(latest)[:len(components(cycle.name))] != components(cycle.name):
                continue  # a latest outside its own cycle (data quirk)
            cases.append((product, cycle, latest))
    return cases


def _generalisation_observation(kind: str, product: Product, latest: str):
    """A realistic observation of `latest`: Debian epoch and revision, rpm release, a banner
    with the product's label, an image tag with a variant suffix, os-release fields."""
    purls = [parse_purl(i) for i in product.identifiers_of("purl")]
    deb = next((u.name for u in purls if u and u.type == "deb"), product.name)
    rpm = next((u.name for u in purls if u and u.type == "rpm"), product.name)
    image = next((f"{u.namespace}/{u.name}" if u.namespace else u.name for u in purls
                  if u and u.type == "docker"), product.name)
    return {
        "dpkg": ("dpkg", {"package": deb, "version": f"1:{latest}-2+deb12u1"}),
        "rpm": ("rpm", {"name": rpm, "epoch": "1", "version": latest, "release": "3.el9_4"}),
        "binary": ("binary", {"name": product.name,
                              "version_output": f"{product.label} {latest} (built 2024-01-16)"}),
        "container-image": ("container-image", {"image": f"{image}:{latest}-alpine3.19"}),
        "http-banner": ("http-banner", {"server": f"{product.label}/{latest} (Unix)"}),
        "os-release": ("os-release", {"ID": product.name, "VERSION_ID": latest,
                                      "NAME": product.label}),
    }[kind]


def generalisation_rate(kind: str) -> tuple[float, int, int, list[str]]:
    """(hit rate, observations, products, misses) for one kind of observation."""
    cases = _generalisation_cases(kind)
    misses = []
    matcher = snapshot_matcher()
    for product, cycle, latest in cases:
        found = matcher.match(*_generalisation_observation(kind, product, latest))
        if found is None or (found.product, found.cycle) != (product.name, cycle.name):
            misses.append(f"{product.name} {cycle.name} {latest} -> "
                          f"{found and (found.product, found.cycle)}")
    products = len({product.name for product, _, _ in cases})
    return 1 - len(misses) / len(cases), len(cases), products, misses


@pytest.mark.parametrize("kind", GENERALISATION_KINDS)
def test_generalisation(kind):
    rate, total, products, misses = generalisation_rate(kind)
    assert total > 100 and products > 20
    assert rate >= GENERALISATION_KINDS[kind][1], \
        f"{kind}: {rate:.1%} of {total} ({products} products); e.g. {misses[:10]}"


# Odd input never crashes.

def _odd_value(rng: random.Random, depth: int = 0):
    choices = [
        None, True, 0, -1, 3.5, float("nan"), "", " ", "\x00", "é", "1:", "v", "9" * 400,
        "x" * 200_000, "SSH-2.0-", "pkg:", "pkg:deb/", "cpe:2.3:", "10.0.", "Version ",
        "Microsoft SQL Server", "Linux version ", "ltsc", "@", ":" * 50, "Windows Server",
        ("a", 1), b"bytes", object(),
    ]
    if depth < 3:
        choices += [[_odd_value(rng, depth + 1)],
                    {rng.choice(["name", "version", "raw", "Caption", "body", "headers",
                                 "image", 1, None]): _odd_value(rng, depth + 1)}]
    return rng.choice(choices)


def test_fuzz_odd_raw_values_never_crash():
    rng = random.Random(20261129)
    keys = ["package", "name", "version", "release", "epoch", "ID", "VERSION_ID", "Caption",
            "BuildNumber", "CurrentBuild", "EditionID", "image", "tag", "sysDescr", "banner",
            "command", "output", "text", "server", "headers", "body", "url", "product", "path",
            "content", "driver_version", "model name", "ProcessorSummary", "PSVersion",
            "ProductVersion", "DisplayName", "purl", "cpe", 7, None]
    sources = [*SOURCES, "dpkg", "rpm", "apk", "pip", "npm", "nonsense", "", "  DPKG "]
    matcher = snapshot_matcher()
    for _ in range(3000):
        raw = {rng.choice(keys): _odd_value(rng) for _ in range(rng.randint(0, 6))}
        found = matcher.match(rng.choice(sources), raw)
        assert found is None or isinstance(found, Match)
    for raw in (None, 42, "nginx/1.2", ["a"], b"x", 3.5):
        for source in ("dpkg", "http-banner", "nonsense"):
            matcher.match(source, raw)  # type: ignore[arg-type]
    assert matcher.match(None, {}) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("source", "raw", "expected"), [
    ("http-banner", {"server": "Apache/2.4.57 " + "x" * 1_000_000}, "apache-http-server"),
    ("http-banner", {"server": "a " * 500_000}, None),
    ("scanner", {"text": "PostgreSQL " * 100_000}, None),
    ("binary", {"name": "python3", "version_output": "Python " + "9." * 200_000}, "python"),
    ("snmp", {"sysDescr": "Cisco IOS XE " + "Version " * 100_000}, "cisco-ios-xe"),
])
def test_huge_values_are_cheap(source, raw, expected):
    found = snapshot_matcher().match(source, raw)
    assert (found.product if found else None) == expected


# Building blocks.

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1:10.5.23-0+deb11u1", (10, 5, 23)),
        ("v20.11.1", (20, 11, 1)),
        ("1.1.1k", (1, 1, 1)),
        ("17.09.04a", (17, 9, 4)),
        ("5:24.0.7-1~debian.12~bookworm", (24, 0, 7)),
        ("15+248", (15,)),
        ("latest", None),
        ("", None),
    ],
)
def test_components(text, expected):
    assert components(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Python 3.11.2", "3.11.2"), ("go version go1.21.6 linux/amd64", "1.21.6"),
     ("Redis server v=8.4.0 sha=0", "8.4.0"), ("x86_64 2024-01-16", None), ("", None)],
)
def test_first_version(text, expected):
    assert first_version(text) == expected


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("nginx:1.25", ("docker.io/library/nginx", "1.25")),
        ("docker.io/library/postgres:15.4-alpine", ("docker.io/library/postgres", "15.4-alpine")),
        ("bitnami/redis", ("docker.io/bitnami/redis", None)),
        ("localhost:5000/app:2", ("localhost:5000/app", "2")),
        ("quay.io/keycloak/keycloak@sha256:abc", ("quay.io/keycloak/keycloak", None)),
    ],
)
def test_image_repository(ref, expected):
    assert image_repository(ref) == expected


def test_longest_prefix_respects_component_boundaries():
    catalog = Catalog((Product(name="demo", label="Demo", category="server-app", cycles=(
        Cycle(name="10.11", eol=True), Cycle(name="10.1", eol=date(2020, 1, 1)),
        Cycle(name="10", eol=False), Cycle(name="1.1.1", eol=True))),))
    matcher = Matcher(catalog)
    assert matcher.match_package("dpkg", "demo", "10.11.2-1").cycle == "10.11"
    assert matcher.match_package("dpkg", "demo", "10.1.9").cycle == "10.1"
    assert matcher.match_package("dpkg", "demo", "10.12").cycle == "10"
    assert matcher.match_package("dpkg", "demo", "1.1.1w").cycle == "1.1.1"
    assert matcher.match_package("dpkg", "demo", "1.1").cycle is None


def test_match_to_json():
    assert Match("a", "1", date(2024, 1, 2)).to_json() == {
        "product": "a", "cycle": "1", "eol": "2024-01-02"}
    assert Match("a", "1", False).to_json()["eol"] is False
    assert Match("a", None, None).to_json() == {"product": "a", "cycle": None, "eol": None}


def test_a_product_missing_from_the_catalog_is_no_match():
    matcher = Matcher(Catalog(()))
    assert matcher.match("dpkg", {"package": "nginx", "version": "1.22.1-9"}) is None
    assert matcher.match("os-release", {"ID": "debian", "VERSION_ID": "12"}) is None


def test_pickers_are_the_declared_ones():
    assert set(PICKERS) == product_rules.PICKED_PRODUCTS


def test_matches_are_memoised_in_bounded_caches():
    matcher = Matcher(snapshot(), cache_size=8, observation_cache_size=4)
    for _ in range(3):
        matcher.match("dpkg", {"package": "nginx", "version": "1.22.1-9"})
        matcher.match_package("dpkg", "nginx", "1.22.1-9")
    info = matcher.cache_info()
    assert (info.package_misses, info.package_hits) == (1, 5)
    for i in range(20):
        matcher.match_package("rpm", "nginx", f"1.{i}.0")
        matcher.match("os-release", {"ID": "debian", "VERSION_ID": str(i)})
    assert matcher.match("os-release", {"ID": "debian", "VERSION_ID": "12"}).cycle == "12"
    info = matcher.cache_info()
    assert (info.packages, info.observations) == (8, 4)
    unhashable = {"ID": "debian", "VERSION_ID": "12", "extra": ["a", "list"]}
    assert matcher.match("os-release", unhashable).cycle == "12"  # matched, not cached


def test_lenient_package_keys():
    assert _product_cycle("DPKG", {"Package": "nginx", "Version": "1.22.1-9"}) == ("nginx", "1.22")
    assert _product_cycle("rpm", {"NAME": "nginx", "VERSION": 1.22}) == ("nginx", "1.22")
    assert _product_cycle("rpm", {"NAME": "nginx"}) == ("nginx", None)
    assert _product_cycle("rpm", {"version": "1.22"}) is None
    assert _product_cycle("dpkg", {"purl": "pkg:deb/debian/nginx@1.22.1-9"}) == ("nginx", "1.22")
