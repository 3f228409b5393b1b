#!/usr/bin/env bash
# Installs promtool, amtool, Prometheus, Alertmanager and node exporter from Debian/Ubuntu
# packages when they are missing. A second run installs nothing.
set -euo pipefail
need=()
command -v promtool >/dev/null && command -v prometheus >/dev/null || need+=(prometheus)
command -v amtool >/dev/null && { command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null; } || need+=(prometheus-alertmanager)
command -v prometheus-node-exporter >/dev/null || command -v node_exporter >/dev/null || need+=(prometheus-node-exporter)
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "moncheck setup: missing ${need[*]} and apt-get is not available; install promtool, amtool," \
       "prometheus, alertmanager and node_exporter yourself and put them on PATH" >&2
  exit 2
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "moncheck setup: need root or sudo to apt-get install ${need[*]}" >&2; exit 2; }
  sudo="sudo"
fi
echo "moncheck setup: installing ${need[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
