"""Per-product rules, for where the endoflife.date data alone cannot name the product or cycle.

Most matching is data-driven (registry/catalog_index.py builds its indexes from product names,
aliases, labels and the cpe/purl/repology identifiers). This module holds the small, explicit
tables for the rest (package, binary and command-output names, OS ids, release files, SQL
banners, version normalisers); each entry says why it exists. The tables of a family live
beside it: registry/appliance_rules.py (appliance CLIs, SNMP, hypervisors),
registry/windows_rules.py (Windows editions, .NET release keys, Exchange builds) and
registry/hardware_rules.py (CPU and GPU models). Everything here is plain data or a pure
function of a string: no I/O, no catalog access.

What is deliberately NOT matched (a wrong match is worse than none):

- Client libraries and development files (libpq5, libssl3, libmysqlclient21, libsqlite3-0,
  *-dev, *-doc, *-common, python3-requests, php8.2-mysql): they are not the product's server
  or runtime. They count only when the data says so with a purl or repology identifier.
- Distribution builds of OpenJDK that the data has no product for (Debian/Ubuntu
  openjdk-17-jre-headless, "-Debian-" / "-Ubuntu-" java builds): the data models JDKs per
  vendor build, and Oracle's jdk.java.net builds (openjdk-builds-from-oracle, six months of
  updates) are a different product from a distribution's build, which the distribution
  supports for its own lifetime.
- Products the data does not have: OpenSSH (an SSH banner or `ssh -V` mentioning OpenSSL is
  not an OpenSSL install), Microsoft IIS, OpenResty, classic Cisco IOS, ASA, Junos, server
  hardware and firmware.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Package ecosystems: observation source / manager -> purl type. The OS package managers
# (OS_PACKAGE_TYPES) also match on names from repology and product names; the language
# ecosystems match only on the data's purl identifiers.
PACKAGE_MANAGERS: dict[str, str] = {
    "dpkg": "deb", "deb": "deb", "apt": "deb",
    "rpm": "rpm", "yum": "rpm", "dnf": "rpm", "zypper": "rpm",
    "apk": "apk",
    "pacman": "alpm", "alpm": "alpm",
    "brew": "brew", "homebrew": "brew",
    "pip": "pypi", "pypi": "pypi",
    "npm": "npm", "gem": "gem", "rubygems": "gem",
    "maven": "maven", "nuget": "nuget", "cargo": "cargo", "composer": "composer",
    "golang": "golang", "gomod": "golang", "hex": "hex",
    "choco": "chocolatey", "chocolatey": "chocolatey", "winget": "winget", "scoop": "scoop",
}
OS_PACKAGE_TYPES = frozenset({"deb", "rpm", "apk", "alpm"})

# Categories whose product names, aliases and labels may be matched as a package, binary or
# banner name. Devices, cloud services and standards are never installed software; OS names
# are matched only through the OS readers (os-release, lsb_release, ...) and the rules below.
NAME_CATEGORIES = frozenset({"app", "database", "framework", "lang", "server-app"})

# Names from the data that are ordinary words or other software in a package or binary list.
NAME_DENYLIST = frozenset({
    "heartbeat",  # beats alias; Debian's `heartbeat` is Linux-HA
    "argo",  # argo-cd alias; the `argo` CLI is Argo Workflows
    "unity", "office", "cake", "citrix", "concrete", "craft", "prism", "spring", "spark",
    "phoenix", "haskell", "camel", "sonar", "roro", "graalvm",
    "erl",  # prints the ERTS version, not the OTP release the erlang cycles use
})


@dataclass(frozen=True, slots=True)
class NameRule:
    """A package or binary name pattern (full match, lower-case) -> product.

    `version_group`: a named group of the pattern that holds the version when the package
    version is not the product's (oracle-database-ee-19c has version 1.0). `types`: the purl
    types (deb, rpm, apk) the rule is for; empty for all."""

    pattern: re.Pattern[str]
    product: str
    why: str
    version_group: str | None = None
    types: frozenset[str] = frozenset()


def _rule(pattern: str, product: str, why: str, version_group: str | None = None,
          types: str = "") -> NameRule:
    return NameRule(re.compile(pattern), product, why, version_group, frozenset(types.split()))


# OS package names (dpkg, rpm, apk) that the data's identifiers do not cover. Only server and
# runtime packages: client, library, -dev, -doc and -common packages are left out on purpose.
PACKAGE_RULES: tuple[NameRule, ...] = (
    _rule(r"postgresql-\d+(\.\d+)?", "postgresql", "Debian/Ubuntu server: postgresql-15"),
    _rule(r"(rh-)?postgresql\d*(-postgresql)?-server", "postgresql",
          "RHEL postgresql-server, PGDG postgresql15-server, SCL rh-postgresql12-..."),
    _rule(r"postgresql\d+", "postgresql", "Alpine's server package postgresql16 (PGDG's rpm "
          "of that name is the client)", types="apk"),
    _rule(r"mysql-(community-)?server(-\d+\.\d+)?", "mysql", "mysql-server-8.0, community"),
    _rule(r"mariadb-server(-\d+\.\d+)?", "mariadb", "mariadb-server-10.5, MariaDB-server"),
    _rule(r"php\d+(\.\d+)?", "php", "php8.1 (Debian), php81 (Remi)"),
    _rule(r"php(\d+(\.\d+)?)?-(fpm|cli|cgi)", "php", "php8.1-fpm, php-fpm, php-cli"),
    _rule(r"php\d+-php(-fpm|-cli)?", "php", "Remi SCL php81-php-fpm"),
    _rule(r"libapache2-mod-php\d+(\.\d+)?", "php", "mod_php for Apache (Debian)"),
    _rule(r"python\d(\.?\d+)?", "python", "python3.11, python39 (RHEL 8 module), python2"),
    _rule(r"platform-python", "python", "RHEL 8's system Python"),
    _rule(r"ruby\d(\.\d+)?", "ruby", "ruby3.1 (Debian)"),
    _rule(r"golang(-\d+\.\d+)?(-go)?", "go", "golang-go, golang-1.21-go, golang (rpm)"),
    _rule(r"java-(1\.\d\.0|\d+)-openjdk(-headless|-devel)?", "redhat-build-of-openjdk",
          "RHEL java-17-openjdk-headless (the data's purls list only some)"),
    _rule(r"java-(1\.8\.0|\d+)-amazon-corretto(-devel|-headless|-jdk)?", "amazon-corretto",
          "Corretto rpm/deb packages"),
    _rule(r"temurin-\d+-(jdk|jre)", "eclipse-temurin", "Adoptium apt/yum repository"),
    _rule(r"zulu-?\d+(-ca)?(-jdk|-jre)?(-headless)?", "azul-zulu", "Azul repository"),
    _rule(r"msopenjdk-\d+", "microsoft-build-of-openjdk", "Microsoft's apt repository"),
    _rule(r"sapmachine-\d+(-jdk|-jre)?(-headless)?", "sapmachine", "SapMachine apt repository"),
    _rule(r"ibm-semeru-(open|certified)-\d+-(jdk|jre)", "ibm-semeru-runtime", "IBM Semeru"),
    _rule(r"bellsoft-java\d+(-full|-lite|-runtime(-full|-lite)?)?", "bellsoft-liberica",
          "Liberica deb packages (the data lists the apk and rpm ones)"),
    _rule(r"jdk-\d+(\.\d+)*|jdk1\.8(\.0_\d+)?|jre1\.8(\.0_\d+)?", "oracle-jdk",
          "Oracle JDK rpm (jdk-17, jdk1.8)"),
    _rule(r"linux-image-(unsigned-)?\d+\.\d+[\w.+-]*", "linux",
          "Debian/Ubuntu kernel images (not the linux-image-amd64/-generic metapackages)"),
    _rule(r"kernel(-core|-uek(-core)?|-default|-rt(-core)?|-lt|-ml|-azure)?", "linux",
          "RHEL/SUSE/Oracle kernels (not kernel-headers, -devel, -tools)"),
    _rule(r"(pve|proxmox)-kernel-\d+\.\d+[\w.+-]*", "linux", "Proxmox kernels"),
    _rule(r"nginx-(core|full|light|extras)", "nginx", "Debian/Ubuntu nginx server flavours"),
    _rule(r"apache2", "apache-http-server", "Debian/Ubuntu name of httpd"),
    _rule(r"tomcat\d*", "tomcat", "tomcat9, tomcat10 (Debian), tomcat (rpm)"),
    _rule(r"redis(-server|\d+)?", "redis", "Debian redis-server, Amazon Linux redis6"),
    _rule(r"valkey(-server)?", "valkey", "Debian valkey-server"),
    _rule(r"mongodb-(org|enterprise)(-server)?|mongodb-server", "mongodb", "MongoDB repos"),
    _rule(r"docker-ce|docker\.io|docker-engine|moby-engine", "docker-engine",
          "Docker's repository, Debian's docker.io, Microsoft's moby-engine"),
    _rule(r"containerd(\.io)?", "containerd", "Docker's repository ships containerd.io"),
    _rule(r"kubelet|kubeadm", "kubernetes", "node components (kubectl is a client)"),
    _rule(r"mssql-server", "mssqlserver", "SQL Server on Linux"),
    _rule(r"oracle-database-(ee|se2|xe|free)-(?P<v>\d+)c", "oracle-database",
          "the rpm's version is 1.0; the release is in the name", version_group="v"),
    _rule(r"proxmox-ve|pve-manager", "proxmox-ve", "Proxmox VE"),
    _rule(r"gitlab-(ce|ee)", "gitlab", "Omnibus GitLab"),
    _rule(r"zabbix-(server|proxy)-(mysql|pgsql|sqlite3)|zabbix-agent2?", "zabbix",
          "Zabbix components share the release's lifecycle"),
    _rule(r"grafana-enterprise", "grafana", "Grafana's repository"),
    _rule(r"exim4(-daemon-(light|heavy))?", "exim", "Debian's exim4"),
    _rule(r"dovecot-core", "dovecot", "Debian's dovecot server package"),
    _rule(r"proftpd-(basic|core)", "proftpd", "Debian's proftpd"),
    _rule(r"isc-dhcp-server|dhcp-server", "isc-dhcp", "ISC DHCP server"),
    _rule(r"openssl\d+", "openssl", "openssl11 (Amazon Linux 2, EPEL), openssl3"),
    _rule(r"zfsutils-linux|zfs", "openzfs", "OpenZFS userland"),
    _rule(r"nvidia-driver(-\d+)?(-server)?(-open)?|nvidia-driver-latest(-dkms)?", "nvidia",
          "NVIDIA driver packages (Ubuntu nvidia-driver-535, Debian/CUDA nvidia-driver)"),
    _rule(r"(dotnet|aspnetcore)-(runtime|sdk)-\d+\.\d+|dotnet\d+", "dotnet",
          "Microsoft and Ubuntu .NET packages"),
    _rule(r"powershell(-lts)?", "powershell", "Microsoft's repository"),
    _rule(r"virtualbox-\d+\.\d+", "virtualbox", "Oracle's repository: virtualbox-7.0"),
    _rule(r"google-chrome-(stable|beta)", "chrome", "Google's repository"),
    _rule(r"salt-(master|minion)", "salt", "Salt components"),
    _rule(r"influxdb2", "influxdb", "InfluxDB 2 package name"),
    # The package that identifies the installed OS release (its version is the release).
    _rule(r"redhat-release(-server|-workstation)?", "rhel", "RHEL release package", types="rpm"),
    _rule(r"centos-(linux-)?release", "centos", "CentOS release package", types="rpm"),
    _rule(r"centos-stream-release", "centos-stream", "CentOS Stream release", types="rpm"),
    _rule(r"rocky-release", "rocky-linux", "Rocky Linux release package", types="rpm"),
    _rule(r"almalinux-release", "almalinux", "AlmaLinux release package", types="rpm"),
    _rule(r"oraclelinux-release", "oracle-linux", "Oracle Linux release", types="rpm"),
    _rule(r"fedora-release(-common)?", "fedora", "Fedora release package", types="rpm"),
    _rule(r"system-release", "amazon-linux", "Amazon Linux release package", types="rpm"),
    _rule(r"sles-release", "sles", "SLES release package (version 15.4 = 15 SP4)", types="rpm"),
    _rule(r"opensuse-(leap-)?release", "opensuse", "openSUSE Leap release", types="rpm"),
    _rule(r"alpine-base", "alpine-linux", "Alpine's base package", types="apk"),
)

# Binary names (basename, lower case, without .exe) -> product, for `binary` observations
# and `ssh` command output. Exact names from the data are used as well (see matching.py).
BINARY_RULES: tuple[NameRule, ...] = (
    _rule(r"python(\d(\.\d+)?)?", "python", "python3, python3.11"),
    _rule(r"php(-fpm|-cgi)?(\d(\.\d+)?)?", "php", "php8.1, php-fpm8.1"),
    _rule(r"ruby\d?(\.\d+)?", "ruby", "ruby3.1"),
    _rule(r"postgres|postmaster|pg_ctl|pg_config", "postgresql", "server binaries"),
    _rule(r"mysqld", "mysql", "the server (a MariaDB output is recognised first)"),
    _rule(r"mariadbd?", "mariadb", "MariaDB server and client"),
    _rule(r"redis-(server|cli)", "redis", "Redis"),
    _rule(r"valkey-(server|cli)", "valkey", "Valkey"),
    _rule(r"mongod|mongos", "mongodb", "MongoDB server and router"),
    _rule(r"apache2|apachectl|apache2ctl", "apache-http-server", "Debian name of httpd"),
    _rule(r"nodejs|node", "nodejs", "Node.js"),
    _rule(r"go", "go", "the go command (`go version`)"),
    _rule(r"kubelet|kubeadm|kubectl|kube-(apiserver|proxy|controller-manager|scheduler)",
          "kubernetes", "Kubernetes components"),
    _rule(r"dockerd?", "docker-engine", "Docker CLI and daemon"),
    _rule(r"catalina\.sh|tomcat\d*", "tomcat", "Tomcat scripts"),
    _rule(r"zabbix_(agentd|agent2|server|proxy)", "zabbix", "Zabbix daemons"),
    _rule(r"rabbitmqctl|rabbitmq-server", "rabbitmq", "RabbitMQ"),
    _rule(r"postconf", "postfix", "`postconf mail_version`"),
    _rule(r"exim4?", "exim", "Exim"),
    _rule(r"varnishd", "vinyl-cache", "Varnish daemon"),
    _rule(r"ansible(-playbook)?", "ansible-core", "`ansible --version` prints ansible-core's"),
    _rule(r"salt(-call|-minion|-master)?", "salt", "Salt"),
    _rule(r"grafana(-server)?", "grafana", "Grafana"),
    _rule(r"clamscan|clamd|freshclam", "clamav", "ClamAV"),
    _rule(r"tshark", "wireshark", "Wireshark CLI"),
    _rule(r"soffice", "libreoffice", "LibreOffice"),
    _rule(r"vboxmanage", "virtualbox", "VirtualBox CLI"),
    _rule(r"rustc", "rust", "the Rust compiler"),
    _rule(r"svn(serve|admin|look|sync|rdump)?", "apache-subversion", "Subversion tools"),
    _rule(r"db2level|db2licm", "ibm-db2", "Db2 level and licence tools"),
    _rule(r"mvn", "apache-maven", "Maven"),
    _rule(r"zfs", "openzfs", "`zfs version`"),
    _rule(r"pveversion", "proxmox-ve", "Proxmox VE"),
    _rule(r"freebsd-version", "freebsd", "FreeBSD userland version"),
    _rule(r"sqlservr", "mssqlserver", "SQL Server on Linux"),
)


@dataclass(frozen=True, slots=True)
class TextRule:
    """A regular expression over a text (a version banner, sysDescr, `show version`...) that
    names a product; group `v` holds the version when the text has it."""

    pattern: re.Pattern[str]
    product: str | None  # None: a known product the data does not have (stop, no match)
    why: str


def _text(pattern: str, product: str | None, why: str, flags: int = re.MULTILINE) -> TextRule:
    return TextRule(re.compile(pattern, flags), product, why)


# Version output of a command (`binary` source, `ssh` command output). Checked before the
# binary's name, so that `mysql` printing a MariaDB version is MariaDB. Anchored at a line
# start: a library version further in a line (ssh -V's OpenSSL) never matches.
OUTPUT_RULES: tuple[TextRule, ...] = (
    _text(r"Distrib (?P<v>\d[\w.]*)-MariaDB", "mariadb", "mysql client of MariaDB"),
    _text(r"^\S+\s+Ver (?P<v>\d[\w.]*)-MariaDB", "mariadb", "mariadbd/mysqld of MariaDB"),
    _text(r"^(mysql|mysqld|mysqladmin)\s+Ver (?P<v>\d[\w.]*)", "mysql", "MySQL"),
    _text(r"^Server version: Apache Tomcat/(?P<v>\d[\w.]*)", "tomcat", "version.sh"),
    _text(r"^Server version: Apache/(?P<v>\d[\w.]*)", "apache-http-server", "httpd -v"),
    _text(r"^nginx version: nginx/(?P<v>\d[\w.]*)", "nginx", "nginx -v"),
    _text(r"^nginx version: openresty/", None, "OpenResty is not nginx"),
    _text(r"^\S+ \(PostgreSQL\) (?P<v>\d[\w.]*)", "postgresql", "postgres/psql --version"),
    _text(r"^Redis server v=(?P<v>\d[\w.]*)", "redis", "redis-server --version"),
    _text(r"^Valkey server v=(?P<v>\d[\w.]*)", "valkey", "valkey-server --version"),
    _text(r"^db version v(?P<v>\d[\w.]*)", "mongodb", "mongod --version"),
    _text(r"^Python (?P<v>\d[\w.]*)", "python", "python --version"),
    _text(r"^OpenSSL (?P<v>\d[\w.]*)", "openssl", "openssl version"),
    _text(r"^(LibreSSL|BoringSSL)", None, "not OpenSSL"),
    _text(r"^OpenSSH_", None, "no OpenSSH product; the OpenSSL it names is a library"),
    _text(r"^HAProxy version (?P<v>\d[\w.]*)", "haproxy", "haproxy -v"),
    _text(r"^Docker version (?P<v>\d[\w.]*)", "docker-engine", "docker --version"),
    _text(r"^go version go(?P<v>\d[\w.]*)", "go", "go version"),
    _text(r"^PHP (?P<v>\d[\w.]*)", "php", "php --version"),
    _text(r"^ruby (?P<v>\d[\w.]*)", "ruby", "ruby --version"),
    _text(r"^(Windows )?PowerShell (?P<v>[1-5]\.[\w.]*)", "windows-powershell",
          "5.1 and earlier are Windows PowerShell, shipped with Windows"),
    _text(r"^PowerShell (?P<v>\d[\w.]*)", "powershell", "pwsh --version (6 and later)"),
    _text(r"^(svn|svnserve|svnadmin|svnlook|svnsync|svnrdump), version (?P<v>\d[\w.]*)",
          "apache-subversion", "svn --version: svn, version 1.14.2 (r1899510)"),
    _text(r'Informational tokens are "DB2 v(?P<v>\d[\d.]*)"', "ibm-db2",
          'db2level: Informational tokens are "DB2 v11.5.8.0", ...'),
    _text(r"^VMware (?:vCenter Server|VirtualCenter) (?P<v>\d[\w.]*)", "vcenter",
          "vpxd -v: VMware VirtualCenter 8.0.2 build-22385739"),
    _text(r"^Squid Cache: Version (?P<v>\d[\w.]*)", "squid", "squid -v"),
    _text(r"^Exim version (?P<v>\d[\w.]*)", "exim", "exim -bV"),
    _text(r"^Terraform v(?P<v>\d[\w.]*)", "terraform", "terraform version"),
    _text(r"^Vault v(?P<v>\d[\w.]*)", "hashicorp-vault", "vault version"),
    _text(r"^Consul v(?P<v>\d[\w.]*)", "consul", "consul version"),
    _text(r"^Nomad v(?P<v>\d[\w.]*)", "nomad", "nomad version"),
    _text(r"^ansible \[core (?P<v>\d[\w.]*)\]", "ansible-core", "ansible --version"),
    _text(r"^Kubernetes v(?P<v>\d[\w.]*)", "kubernetes", "kubelet --version"),
    _text(r"^prometheus, version (?P<v>\d[\w.]*)", "prometheus", "prometheus --version"),
    _text(r"^Apache Maven (?P<v>\d[\w.]*)", "apache-maven", "mvn -v"),
    _text(r"^(java|openjdk) version ", "java", "handled by the JDK vendor table"),
    _text(r"^(IBM Semeru Runtime|Eclipse OpenJ9)", "java", "handled by the JDK vendor table"),
)

# JDK vendor markers in `java -version` output or a java.vendor property, first match wins.
JAVA_VENDORS: tuple[TextRule, ...] = (
    _text(r"Corretto|Amazon\.com", "amazon-corretto", "OpenJDK Runtime Environment Corretto-"),
    _text(r"Temurin|Eclipse Adoptium", "eclipse-temurin", "Temurin-17.0.10+7"),
    _text(r"Zulu|Azul Systems", "azul-zulu", "Zulu17.48+15-CA"),
    _text(r"Microsoft", "microsoft-build-of-openjdk", "OpenJDK Runtime Environment Microsoft-"),
    _text(r"Red[ _]Hat", "redhat-build-of-openjdk", "(Red_Hat-17.0.10.0.7-1)"),
    _text(r"SapMachine|SAP SE", "sapmachine", "SapMachine"),
    _text(r"Semeru", "ibm-semeru-runtime", "IBM Semeru Runtime Open Edition"),
    _text(r"BellSoft|Liberica", "bellsoft-liberica", "BellSoft Liberica"),
    _text(r"Dragonwell|Alibaba", "alibaba-dragonwell", "Alibaba Dragonwell"),
    _text(r"Oracle GraalVM", "oracle-graalvm", "Java(TM) SE Runtime Environment Oracle GraalVM"),
    _text(r"GraalVM CE|GraalVM Community", "graalvm-ce", "GraalVM CE"),
    _text(r"Debian|Ubuntu|Alpine|SUSE|Homebrew|Private Build|AdoptOpenJDK|JetBrains",
          None, "distribution or other builds: no product in the data"),
    _text(r"Java\(TM\) SE Runtime Environment|Java HotSpot", "oracle-jdk", "Oracle JDK"),
    # Oracle's jdk.java.net builds print no vendor and a build number such as "+13-58".
    _text(r"^OpenJDK Runtime Environment \(build \d[\d.]*\+\d+-\d+\)$",
          "openjdk-builds-from-oracle", "OpenJDK Runtime Environment (build 21.0.2+13-58)"),
)
JAVA_PRODUCTS = frozenset({
    "amazon-corretto", "eclipse-temurin", "azul-zulu", "microsoft-build-of-openjdk",
    "redhat-build-of-openjdk", "sapmachine", "ibm-semeru-runtime", "bellsoft-liberica",
    "alibaba-dragonwell", "oracle-graalvm", "graalvm-ce", "oracle-jdk",
    "openjdk-builds-from-oracle",
})

# os-release ID / lsb_release "Distributor ID" (lower case, spaces removed) -> product, where
# it is not the product's name or alias. None: a known OS without data (rolling releases,
# derivatives with their own lifecycle): no match rather than the parent distribution's.
OS_IDS: dict[str, str | None] = {
    "ol": "oracle-linux", "oracleserver": "oracle-linux",
    "amzn": "amazon-linux", "amazon": "amazon-linux", "amazonami": "amazon-linux",
    "sles": "sles", "sles_sap": "sles", "suse": "sles",
    "opensuse-leap": "opensuse", "opensuseleap": "opensuse", "opensuseproject": "opensuse",
    "opensuse-tumbleweed": None, "opensuse-microos": None, "opensusetumbleweed": None,
    "redhatenterpriseserver": "rhel", "redhatenterprise": "rhel",
    "redhatenterpriseworkstation": "rhel", "redhatenterpriseclient": "rhel",
    "centosstream": "centos-stream",
    "pop": "pop-os", "clear-linux-os": "clear-linux",
    "raspbian": None, "kali": None, "arch": None, "manjaro": None, "gentoo": None,
    "flatcar": None, "rhcos": None, "ubuntu-core": None,
}

# /etc/redhat-release and friends (also /etc/system-release, /etc/oracle-release).
RELEASE_FILE_RULES: tuple[TextRule, ...] = (
    _text(r"^Red Hat Enterprise Linux\b.*?release (?P<v>\d[\w.]*)", "rhel", "RHEL"),
    _text(r"^CentOS Stream release (?P<v>\d[\w.]*)", "centos-stream", "CentOS Stream"),
    _text(r"^CentOS( Linux)? release (?P<v>\d[\w.]*)", "centos", "CentOS Linux"),
    _text(r"^Rocky Linux release (?P<v>\d[\w.]*)", "rocky-linux", "Rocky Linux"),
    _text(r"^AlmaLinux release (?P<v>\d[\w.]*)", "almalinux", "AlmaLinux"),
    _text(r"^Oracle Linux Server release (?P<v>\d[\w.]*)", "oracle-linux", "Oracle Linux"),
    _text(r"^Fedora release (?P<v>\d+)", "fedora", "Fedora"),
    _text(r"^Amazon Linux (AMI )?release (?P<v>\d[\w.]*)", "amazon-linux", "Amazon Linux"),
    _text(r"^EuroLinux release (?P<v>\d[\w.]*)", "eurolinux", "EuroLinux"),
    _text(r"^SUSE Linux Enterprise Server (?P<v>\d+( SP\d+)?)", "sles", "/etc/SuSE-release"),
    _text(r"^VMware Photon OS (?P<v>\d[\w.]*)", "photon", "/etc/photon-release"),
    _text(r"^\s*Oracle Solaris (?P<v>\d+(\.\d+)?)\b", "oracle-solaris",
          "Solaris /etc/release: Oracle Solaris 11.4 X86, Oracle Solaris 10 1/13 s10x_u11wos_24a"),
    _text(r"^\s*Solaris (?P<v>\d+)\b", "oracle-solaris", "Solaris 10 10/09 (before Oracle)"),
)

# SELECT version() / @@VERSION texts.
SQL_RULES: tuple[TextRule, ...] = (
    _text(r"Microsoft SQL Azure|Azure SQL", None, "managed service, no product"),
    _text(r"Microsoft SQL Server", "mssqlserver", "@@VERSION"),
    _text(r"TiDB|Percona|Aurora|CockroachDB CCL", None, "MySQL/PG compatible, other products"),
    _text(r"^PostgreSQL (?P<v>\d[\w.]*)", "postgresql", "SELECT version()"),
    _text(r"^(?P<v>\d[\w.]*)-MariaDB", "mariadb", "SELECT version() on MariaDB"),
    _text(r"Oracle Database \d+\w* .*?Release (?P<v>\d[\w.]*)", "oracle-database",
          "SELECT banner FROM v$version"),
    _text(r"^MySQL (Community|Enterprise) Server", "mysql", "@@version_comment"),
    _text(r"^DB2 v(?P<v>\d[\d.]*)", "ibm-db2",
          "Db2 service_level (SYSIBMADM.ENV_INST_INFO, env_get_inst_info()): DB2 v11.5.8.0"),
)
# Explicit engine hints (raw "engine"/"dbms") for SQL texts that are a bare version.
SQL_ENGINES: dict[str, str] = {
    "postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql",
    "mariadb": "mariadb", "mssql": "mssqlserver", "sqlserver": "mssqlserver",
    "oracle": "oracle-database", "sqlite": "sqlite", "mongodb": "mongodb",
    "clickhouse": "clickhouse", "cockroachdb": "cockroachdb", "redis": "redis",
    "db2": "ibm-db2", "ibmdb2": "ibm-db2",
}

# Container images that the data's purls and names do not cover: repository path (registry
# included, docker.io/library/ for official images) -> product.
IMAGE_NAMES: dict[str, str | None] = {
    "docker.io/library/mongo": "mongodb",
    "docker.io/library/httpd": "apache-http-server",
    "docker.io/library/rockylinux": "rocky-linux",
    "docker.io/library/ibm-semeru-runtimes": "ibm-semeru-runtime",
    "docker.io/library/openjdk": None,  # deprecated image of mixed builds
    "docker.io/library/sonarqube": None,  # community and server editions share the image
    "docker.io/jenkins/jenkins": "jenkins",
    "docker.io/gitlab/gitlab-ce": "gitlab",
    "docker.io/gitlab/gitlab-ee": "gitlab",
    "docker.io/grafana/grafana": "grafana",
    "docker.io/grafana/grafana-enterprise": "grafana",
    "docker.io/hashicorp/vault": "hashicorp-vault",
    "docker.io/hashicorp/consul": "consul",
    "docker.io/opensuse/leap": "opensuse",
    "docker.io/redhat/ubi8": "rhel", "docker.io/redhat/ubi9": "rhel",
    "mcr.microsoft.com/mssql/server": "mssqlserver",
    "mcr.microsoft.com/dotnet/runtime": "dotnet",
    "mcr.microsoft.com/dotnet/aspnet": "dotnet",
    "mcr.microsoft.com/dotnet/sdk": "dotnet",
    "mcr.microsoft.com/windows/servercore": "windows-server-core",
    "mcr.microsoft.com/windows/nanoserver": "windows-nano-server",
    "mcr.microsoft.com/powershell": "powershell",
    "docker.elastic.co/elasticsearch/elasticsearch": "elasticsearch",
    "docker.elastic.co/kibana/kibana": "kibana",
    "docker.elastic.co/logstash/logstash": "logstash",
    "quay.io/keycloak/keycloak": "keycloak",
    "registry.k8s.io/kube-apiserver": "kubernetes",
    "registry.k8s.io/kube-proxy": "kubernetes",
    "registry.k8s.io/kube-controller-manager": "kubernetes",
    "registry.k8s.io/kube-scheduler": "kubernetes",
    "registry.suse.com/suse/sle15": "sles",
    "registry.access.redhat.com/ubi8/ubi": "rhel", "registry.access.redhat.com/ubi9/ubi": "rhel",
    "registry.access.redhat.com/ubi8": "rhel", "registry.access.redhat.com/ubi9": "rhel",
}

# Image tags that name another product than the image's: CentOS Stream is published in the
# centos image as stream8, stream9 (quay.io/centos/centos:stream9). product -> (tag, product
# the tag names; group 1 is its cycle).
IMAGE_TAG_PRODUCTS: dict[str, tuple[re.Pattern[str], str]] = {
    "centos": (re.compile(r"stream(\d+)\b"), "centos-stream"),
}

# Version normalisers: product -> function(version text) -> numeric components, where the
# product's versions are not written like its cycle names. None means "no cycle can be
# told" (the product is still matched, without a cycle).

_NUMBERS = re.compile(r"\d+(?:\.\d+)*")
# Digits a version's number may have (a build date-time such as 20231201123456 has 14): an
# observation is whatever an agent sent, and int() raises over 4,300 digits.
MAX_NUMBER_DIGITS = 18


def number(text: str) -> int | None:
    """`text` as a whole number when it is one of at most MAX_NUMBER_DIGITS ASCII digits."""
    if text.isascii() and text.isdigit() and len(text) <= MAX_NUMBER_DIGITS:
        return int(text)
    return None


def components(text: str) -> tuple[int, ...] | None:
    """"1:10.5.23-0+deb11u1" -> (10, 5, 23); "v20.11.1" -> (20, 11, 1); "1.1.1k" -> (1, 1, 1).

    The Debian/rpm epoch is dropped, a leading v is ignored, and the version ends at the first
    character that is neither a digit nor a dot between digits. Leading zeros do not count
    (IOS XE writes 17.09.04a for 17.9.4a)."""
    text = text.strip()
    head, sep, rest = text.partition(":")
    if sep and head.isdigit():
        text = rest
    if text[:1] in ("v", "V"):
        text = text[1:]
    found = _NUMBERS.match(text)
    if found is None:
        return None
    parts = found.group().split(".")
    if any(len(part) > MAX_NUMBER_DIGITS for part in parts):
        return None   # no version's number is that long; int() refuses over 4,300 digits
    return tuple(int(part) for part in parts)


def java_components(text: str) -> tuple[int, ...] | None:
    """Java 8 and earlier are 1.8.0_402: the cycle is the second number."""
    parts = components(text)
    if parts and len(parts) > 1 and parts[0] == 1 and 2 <= parts[1] <= 8:
        return parts[1:]
    return parts


# Numbers bounded and not inside a longer run (?<!\d): with \d+ an unanchored search over a
# long run of digits without "SP" was quadratic (40,000 digits: 45 s, in the push handler).
_SP = re.compile(r"(?<!\d)(\d{1,9})(?:\.\d{1,9})?[\s_-]{0,3}SP\s{0,3}(\d{1,9})", re.I)


def sles_components(text: str) -> tuple[int, ...] | None:
    """SLES cycles are major.servicepack: "15-SP4" and "15.4" are 15.4; a bare 15 is 15.0."""
    found = _SP.search(text)
    if found:
        major, pack = number(found.group(1)), number(found.group(2))
        return (major, pack) if major is not None and pack is not None else None
    parts = components(text)
    if parts and len(parts) == 1:
        return parts[0], 0
    return parts


_AIX_LEVEL = re.compile(r"^\s*(\d)(\d)00-(\d{2})")


def aix_components(text: str) -> tuple[int, ...] | None:
    """AIX cycles are version.release.TL: `oslevel -s` 7200-05-03-2148 is 7.2.5. Plain
    `oslevel` prints 7.2.0.0 whatever the technology level, so four numbers give 7.2 only."""
    found = _AIX_LEVEL.match(text)
    if found:
        return int(found.group(1)), int(found.group(2)), int(found.group(3))
    parts = components(text)
    if parts and len(parts) >= 4:
        return parts[:2]
    return parts


def freebsd_components(text: str) -> tuple[int, ...] | None:
    """13.2-RELEASE-p4 is the 13.2 point-release cycle; 14.0-STABLE is the 14 branch;
    -CURRENT is development, with no cycle."""
    upper = text.upper()
    if "CURRENT" in upper:
        return None
    parts = components(text)
    if parts and "STABLE" in upper:
        return parts[:1]
    return parts


VERSION_NORMALISERS = {
    **dict.fromkeys(JAVA_PRODUCTS, java_components),
    "sles": sles_components,
    "ibm-aix": aix_components,
    "freebsd": freebsd_components,
}

# Products whose cycle is chosen by a dedicated picker in matching.py (not by prefix):
# windows / windows-server (build numbers, editions), mssqlserver (service-pack build bands),
# nvidia (driver branches), jenkins (weekly vs LTS), cos (cycle names cos-<milestone>),
# msexchange (release years from the build), panos (the XFR line).
PICKED_PRODUCTS = frozenset({
    "windows", "windows-server", "windows-server-core", "windows-nano-server",
    "mssqlserver", "nvidia", "jenkins", "cos", "msexchange", "panos",
})
