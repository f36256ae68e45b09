# Local raftor clusters for scripts: start raftor-node processes on loopback, each with its
# own data directory under one work directory, and stop them all, also on Ctrl-C.
#
#   source scripts/lib/cluster.sh
#   cluster_init /tmp/somewhere 3      # work dir, nodes; picks free ports
#   cluster_start_all                  # waits until every node says it is ready
#   raftorctl --endpoints "$(cluster_endpoints)" status
#   cluster_kill 2; cluster_start 2    # kill -9 and restart one node
#   cluster_stop_all                   # SIGTERM, then SIGKILL after 10 s
#   cluster_set_peers 3 "1 3"          # node 3 lists only nodes 1 and 3 as --peer
#   cluster_wait_voter 3               # until the leader's configuration has node 3 voting
#
# cluster_init installs a trap that stops every node when the script exits or is
# interrupted, so no node outlives the script.

: "${RAFTOR_BUILD:=build}"
RAFTOR_NODE_BIN="${RAFTOR_NODE_BIN:-$RAFTOR_BUILD/tools/raftor-node/raftor-node}"
RAFTORCTL_BIN="${RAFTORCTL_BIN:-$RAFTOR_BUILD/tools/raftorctl/raftorctl}"

CLUSTER_DIR=""
CLUSTER_SIZE=0
CLUSTER_ID="local"
declare -a CLUSTER_PORTS=()
declare -a CLUSTER_PIDS=()
declare -a CLUSTER_PEER_IDS=()  # per node: the ids it lists as --peer ("" = every node)

# Free loopback ports, chosen by the kernel.
_cluster_free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

cluster_init() {
  CLUSTER_DIR="$1"
  CLUSTER_SIZE="$2"
  CLUSTER_ID="${3:-local}"
  mkdir -p "$CLUSTER_DIR"
  read -r -a CLUSTER_PORTS <<< "$(_cluster_free_ports "$CLUSTER_SIZE")"
  CLUSTER_PIDS=()
  trap 'cluster_stop_all' EXIT
  trap 'echo; echo "interrupted: stopping the cluster"; exit 130' INT TERM
}

cluster_endpoints() {
  local out="" i
  for ((i = 1; i <= CLUSTER_SIZE; i++)); do
    out+="${out:+,}$i@127.0.0.1:${CLUSTER_PORTS[i - 1]}"
  done
  echo "$out"
}

# The --peer flags of node $1: every node, or those cluster_set_peers chose.
cluster_peer_flags() {
  local ids="${CLUSTER_PEER_IDS[$1]:-}" i
  [[ -n "$ids" ]] || ids="$(seq 1 "$CLUSTER_SIZE")"
  for i in $ids; do
    printf -- '--peer %s@127.0.0.1:%s ' "$i" "${CLUSTER_PORTS[i - 1]}"
  done
}

# cluster_set_peers ID "IDS": node ID lists only these nodes as its peers (a cluster that
# grows: its founders list each other, a joining node itself and the members it knows).
cluster_set_peers() { CLUSTER_PEER_IDS[$1]="$2"; }

# The address the other nodes reach node $1 at (what `raftorctl member add` records).
cluster_address() { echo "127.0.0.1:${CLUSTER_PORTS[$1 - 1]}"; }

# cluster_start ID [extra raftor-node flags...]: starts (or restarts) one node.
cluster_start() {
  local id="$1"; shift
  local log="$CLUSTER_DIR/node$id.log"
  # shellcheck disable=SC2046
  "$RAFTOR_NODE_BIN" --cluster-id "$CLUSTER_ID" --id "$id" \
    --listen "127.0.0.1:${CLUSTER_PORTS[id - 1]}" --data-dir "$CLUSTER_DIR/node$id" \
    $(cluster_peer_flags "$id") "$@" >> "$log" 2>&1 &
  CLUSTER_PIDS[id]=$!
  local waited=0
  until grep -q "raftor-node $id ready" "$log" 2>/dev/null; do
    if ! kill -0 "${CLUSTER_PIDS[id]}" 2>/dev/null; then
      echo "node $id failed to start; its log:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.05
    waited=$((waited + 1))
    if ((waited > 400)); then echo "node $id not ready after 20 s" >&2; return 1; fi
  done
}

cluster_start_all() {
  local i
  for ((i = 1; i <= CLUSTER_SIZE; i++)); do cluster_start "$i" "$@" || return 1; done
}

cluster_pid() { echo "${CLUSTER_PIDS[$1]:-}"; }

# kill -9: no shutdown at all, as a crash.
cluster_kill() {
  local pid="${CLUSTER_PIDS[$1]:-}"
  [[ -n "$pid" ]] || return 0
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  CLUSTER_PIDS[$1]=""
}

# SIGTERM and wait (SIGKILL after 10 s).
cluster_stop() {
  local pid="${CLUSTER_PIDS[$1]:-}"
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "node $1 did not stop within 10 s: killing it" >&2
    kill -9 "$pid" 2>/dev/null || true
  fi
  local status=0
  wait "$pid" 2>/dev/null || status=$?
  # raftor-node exits 0 after a clean shutdown (state machine flushed, log closed).
  if ((status != 0)); then echo "node $1 exited with status $status (see its log)" >&2; fi
  CLUSTER_PIDS[$1]=""
}

cluster_stop_all() {
  local i
  for ((i = 1; i <= CLUSTER_SIZE; i++)); do
    [[ -n "${CLUSTER_PIDS[i]:-}" ]] && kill -TERM "${CLUSTER_PIDS[i]}" 2>/dev/null
  done
  for ((i = 1; i <= CLUSTER_SIZE; i++)); do cluster_stop "$i"; done
}

ctl() { "$RAFTORCTL_BIN" --endpoints "$(cluster_endpoints)" "$@"; }
# Prints the leader's id once one is elected (waits up to $1 seconds, default 20).
cluster_wait_leader() {
  local limit=$(( ${1:-20} * 10 )) i leader
  for ((i = 0; i < limit; i++)); do
    if leader="$(ctl leader 2>/dev/null)" && [[ -n "$leader" ]]; then
      echo "${leader%% *}"  # "ID HOST:PORT (term T)"
      return 0
    fi
    sleep 0.1
  done
  echo "no leader elected within ${1:-20} s" >&2
  return 1
}

# Waits until the configuration the leader reports has node $1 as a committed voter (up to
# $2 seconds, default 30).
cluster_wait_voter() {
  local limit=$(( ${2:-30} * 10 )) i
  for ((i = 0; i < limit; i++)); do
    if ctl --json member list 2>/dev/null | python3 -c '
import json, sys
doc = json.load(sys.stdin)
voters = [m["id"] for m in doc["members"] if m["suffrage"] == "voter"]
sys.exit(0 if doc.get("committed") and int(sys.argv[1]) in voters else 1)' "$1"; then
      return 0
    fi
    sleep 0.1
  done
  echo "node $1 is not a voter after ${2:-30} s" >&2
  return 1
}

# raftorctl against one node only (eventual reads then show that node's own state).
ctl_node() {
  local id="$1"; shift
  "$RAFTORCTL_BIN" --endpoints "$id@127.0.0.1:${CLUSTER_PORTS[id - 1]}" "$@"
}
