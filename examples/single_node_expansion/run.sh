#!/usr/bin/env bash
# Grows a one-node raftor cluster to three with no downtime while a client keeps writing:
# nodes 2 and 3 start with --join (learners that know one member), `raftorctl member add`
# adds each, and the leader promotes each to voter once it has caught up (Raft thesis 4.1,
# 4.2.1). The writer (raftor-bench) must see no failed write. Everything runs in a
# temporary directory and stops on exit (or Ctrl-C).
#
#   make build && examples/single_node_expansion/run.sh [SECONDS of writing, default 8]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/cluster.sh
seconds="${1:-8}"
bench_bin="${RAFTOR_BUILD}/tools/raftor-bench/raftor-bench"

work="$(mktemp -d /tmp/raftor-expansion.XXXXXX)"
cluster_init "$work" 3 expansion
trap 'cluster_stop_all; rm -rf "$work"' EXIT
cluster_set_peers 1 "1"    # the founder: a cluster of one
cluster_set_peers 2 "1 2"  # the joiners know the founder, and learn the rest from the log
cluster_set_peers 3 "1 3"

if [[ -t 1 ]]; then
  step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  step() { printf '\n== %s\n' "$*"; }
fi

step "start node 1 alone: a cluster of one voter (logs in $work)"
cluster_start 1
echo "leader: node $(cluster_wait_leader)"

step "a client writes without pause for ${seconds} s while the cluster grows"
"$bench_bin" --endpoints "$(cluster_endpoints)" --clients 4 --op put --key-space 1000 \
  --duration "$seconds" --no-progress --json "$work/bench.json" > "$work/bench.out" 2>&1 &
writer=$!
sleep 1

for id in 2 3; do
  step "node $id joins: a learner until it has caught up, then a voter"
  cluster_start "$id" --join
  ctl member add "$id" "$(cluster_address "$id")"
  cluster_wait_voter "$id"
  ctl member list
done

if ! kill -0 "$writer" 2>/dev/null; then
  echo "note: the writer finished before the cluster had grown (give it more SECONDS)" >&2
fi

step "the writer finishes: every write must have been acknowledged"
status=0
wait "$writer" || status=$?
cat "$work/bench.out"
if ((status != 0)); then
  echo "writes failed while the cluster grew (raftor-bench exit $status)" >&2
  exit 1
fi
ctl status

step "node 1 steps aside: leadership moves to the most up-to-date voter"
ctl transfer-leader
echo "leader: node $(cluster_wait_leader)"
ctl put grown "from one node to three"
ctl get grown
step "done: stopping the cluster"
