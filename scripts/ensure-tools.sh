#!/usr/bin/env bash
# Installs both toolchains (see src/moncheck/toolchain/versions.yml) when they are missing:
# - toolchain 2: promtool, amtool, Prometheus, Alertmanager and node exporter from the system's
#   Debian/Ubuntu packages (and the Debian archive keyring, which checks toolchain 3's packages);
# - toolchain 3 (the default): the pinned Prometheus 3.x LTS and Alertmanager, fetched with a
#   private apt configuration from a newer Debian suite and unpacked into .moncheck/toolchain
#   (python -m moncheck.toolchain fetch; nothing is installed system-wide, no service starts).
# A second run installs and downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

system_packages() {
  local need=()
  command -v promtool >/dev/null && command -v prometheus >/dev/null || need+=(prometheus)
  command -v amtool >/dev/null && { command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null; } || need+=(prometheus-alertmanager)
  command -v prometheus-node-exporter >/dev/null || command -v node_exporter >/dev/null || need+=(prometheus-node-exporter)
  [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
  [ ${#need[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "moncheck setup: missing ${need[*]} and apt-get is not available; install promtool, amtool," \
         "prometheus, alertmanager and node_exporter yourself and put them on PATH" >&2
    exit 2
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "moncheck setup: need root or sudo to apt-get install ${need[*]}" >&2; exit 2; }
    sudo="sudo"
  fi
  echo "moncheck setup: installing ${need[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

system_packages
"${PY:-.venv/bin/python}" -m moncheck.toolchain fetch
