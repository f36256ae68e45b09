#!/usr/bin/env bash
# Installs what `make bench` needs besides the build: Debian's etcd (server and etcdctl) for
# the side-by-side comparison and wrk to drive etcd's JSON gateway. Only this target uses
# them, so scripts/setup.sh does not install them. Idempotent and silent when everything
# is present; runs `apt-get update` once before the first install.
set -euo pipefail
packages=(etcd-server etcd-client wrk)
# The benchmark starts its own etcd members on ports 23791-23803; the package's system
# service (port 2379), where an init system starts it, is not used.
source "$(dirname "$0")/lib/apt_install.sh"
apt_install_missing setup-bench "${packages[@]}"
