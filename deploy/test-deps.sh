#!/usr/bin/env bash
# Install the real components the test suite starts, when they are missing (Debian/Ubuntu).
# Nothing is started here: each test starts its own instance on loopback ports it picks.
set -euo pipefail

need=()
for pair in prometheus:prometheus promtool:prometheus \
            prometheus-alertmanager:prometheus-alertmanager amtool:prometheus-alertmanager \
            prometheus-node-exporter:prometheus-node-exporter \
            snmpd:snmpd snmpget:snmp chromium:chromium pdftoppm:poppler-utils \
            jq:jq openssl:openssl; do   # the last two: commands the docs show (test_docs_run)
  binary=${pair%%:*} package=${pair#*:}
  PATH=$PATH:/usr/sbin command -v "$binary" >/dev/null 2>&1 || need+=("$package")
done
start_postgres() {
  # Store tests use the PostgreSQL server at 127.0.0.1:5432 (trust auth, database `test`).
  command -v pg_isready >/dev/null || return 0
  pg_isready -q -h 127.0.0.1 -p 5432 && return 0
  if command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
    echo "test-deps: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
}
trap start_postgres EXIT
if ((${#need[@]} == 0)); then
  exit 0
fi
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
echo "test-deps: installing ${need[*]}"
sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "test-deps: need root (or sudo) to install ${need[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
command -v apt-get >/dev/null || { echo "test-deps: no apt-get; install ${need[*]} by hand" >&2; exit 1; }
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
