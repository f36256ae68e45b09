#!/usr/bin/env bash
# Installs what `make bench` needs besides the build: Debian's etcd (server and etcdctl) for
# the side-by-side comparison and wrk to drive etcd's JSON gateway. Only this target uses
# them, so scripts/setup.sh does not install them. Idempotent and silent when everything
# is present; runs `apt-get update` once before the first install.
set -euo pipefail
packages=(etcd-server etcd-client wrk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
echo "setup-bench: installing ${missing[*]}" >&2
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# The benchmark starts its own etcd members on ports 23791-23803; the package's system
# service (port 2379), where an init system starts it, is not used.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
