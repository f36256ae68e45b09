#!/usr/bin/env bash
# Installs the Debian packages raftor builds and tests with. Idempotent and silent when
# everything is present; runs `apt-get update` once before the first install.
set -euo pipefail
packages=(
  cmake ninja-build g++ make pkg-config
  libcaf-dev                        # CAF 0.17.6: actors and caf::io networking
  librocksdb-dev                    # Raft log and the default state machine
  libprotobuf-dev protobuf-compiler # wire messages
  libspdlog-dev libfmt-dev          # logging
  libxxhash-dev                     # XXH3 checksums for snapshots and files
  libgtest-dev libgmock-dev         # tests and the StateMachineTestSuite
  nlohmann-json3-dev                # history parsing in the linearizability checker
  libbenchmark-dev                  # Google Benchmark targets
  libtoml11-dev libcli11-dev        # raftor-node: config file and command line
  python3                           # integration scripts (standard library only)
  iproute2                          # ip, tc: network namespaces and partitions (netlab.py)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
echo "setup: installing ${missing[*]}" >&2
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
