#!/usr/bin/env bash
# The main job (`make run`): a local 3-node raftor cluster (RocksDB log with fsync, RocksDB
# state machine) as three raftor-node processes on loopback, in a temporary directory; a
# short write and read workload with a progress bar; the leader, the throughput and a
# status table; then every node is stopped. Ctrl-C stops everything too.
#
#   scripts/run_local_cluster.sh [SECONDS]      (RAFTOR_BUILD=build by default)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-5}"
source scripts/lib/cluster.sh
BENCH_BIN="${BENCH_BIN:-$RAFTOR_BUILD/tools/raftor-bench/raftor-bench}"

work="$(mktemp -d /tmp/raftor-run.XXXXXX)"
cleanup_dir() { rm -rf "$work"; }
cluster_init "$work" 3 run
trap 'cluster_stop_all; cleanup_dir' EXIT

echo "starting 3 raftor-node processes in $work"
cluster_start_all
endpoints="$(cluster_endpoints)"
echo "endpoints: $endpoints"
leader="$(cluster_wait_leader)"
echo "leader: node $leader"
echo

for spec in "put 64" "get 64"; do
  read -r op clients <<< "$spec"
  echo "== $op, $clients clients in flight, ${seconds}s"
  "$BENCH_BIN" --endpoints "$endpoints" --op "$op" --clients "$clients" --duration "$seconds" \
    --key-space 10000 --value-size 256
done
echo
ctl status
