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
source "$(dirname "$0")/lib/apt_install.sh"
apt_install_missing setup "${packages[@]}"
