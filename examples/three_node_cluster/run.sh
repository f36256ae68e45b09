#!/usr/bin/env bash
# Three raftor-node processes on loopback with the RocksDB state machine: write, kill the
# leader with kill -9, watch the others elect a new one and keep writing, restart the old
# leader and watch it catch up. Everything runs in a temporary directory and stops on exit
# (or Ctrl-C).
#
#   make build && examples/three_node_cluster/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/cluster.sh

work="$(mktemp -d /tmp/raftor-example.XXXXXX)"
cluster_init "$work" 3 example
trap 'cluster_stop_all; rm -rf "$work"' EXIT

if [[ -t 1 ]]; then
  step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  step() { printf '\n== %s\n' "$*"; }
fi

step "start three nodes (logs in $work)"
cluster_start_all
echo "leader: node $(cluster_wait_leader)"
ctl status

step "write through the leader"
for i in 1 2 3; do ctl put "city-$i" "value-$i"; done
ctl get city-2

old="$(cluster_wait_leader)"
step "kill -9 the leader, node $old"
cluster_kill "$old"
for _ in $(seq 1 100); do
  new="$(ctl leader 2>/dev/null || true)"
  new="${new%% *}"
  [[ -n "$new" && "$new" != "$old" ]] && break
  sleep 0.1
done
if [[ -z "$new" || "$new" == "$old" ]]; then echo "no new leader after 10 s" >&2; exit 1; fi
echo "new leader: node $new"
ctl put city-4 "written while node $old is down"
ctl status || true  # node $old shows as unreachable

step "restart node $old: it catches up from its log and the leader"
cluster_start "$old"
for _ in $(seq 1 100); do
  got="$(ctl_node "$old" get city-4 --consistency eventual 2>/dev/null || true)"
  [[ "$got" == *"written while"* ]] && break
  sleep 0.1
done
if [[ "$got" != *"written while"* ]]; then echo "node $old did not catch up" >&2; exit 1; fi
echo "node $old reads: $got"
ctl status
step "done: stopping the cluster"
