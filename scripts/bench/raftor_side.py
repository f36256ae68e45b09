"""raftor's side of the benchmark: a 3-node cluster of raftor-node processes on loopback
(RocksDB log, fsync before every acknowledgement; RocksDB state machine), driven by
raftor-bench over raftor's framed protocol (TCP).

The cluster comes from the integration harness (tests/integration/harness/cluster.py),
which kills every process it started when the script exits or is interrupted.
"""

import json
import os
import subprocess

from harness.cluster import Cluster, _die_with_parent

import workloads as wl

# raftor-node's defaults (node/raftor-node.example.toml), plus a leader lease for the lease
# read row: it must be shorter than the election timeout by more than one tick. A lease
# changes nothing for linearizable reads, which always confirm leadership (ReadIndex).
TICK_MS, HEARTBEAT_MS, ELECTION_MS, LEASE_MS = 10, 50, 500, 400


class RaftorSide:
    name = "raftor"

    def __init__(self, build, work_dir):
        self.cluster = Cluster(
            3, build=build, work_dir=work_dir, cluster_id="bench", name="bench",
            tick_ms=TICK_MS, heartbeat_ms=HEARTBEAT_MS, election_ms=ELECTION_MS,
            extra_args=["--state-machine", "rocksdb", "--raft-lease-duration-ms", str(LEASE_MS)],
            log_level="warn")
        self.bench_bin = self.cluster.bench_bin
        self.work_dir = work_dir
        self.leader = self.cluster.wait_leader()

    def pause(self):
        """SIGSTOP every node: an idle raftor cluster still costs CPU (ticks, heartbeats)
        that would be taken from etcd's runs. All nodes stop and resume together, and Raft's
        timers count ticks, so no election follows."""
        for i in self.cluster.nodes:
            self.cluster.pause(i)

    def resume(self):
        for i in self.cluster.nodes:
            self.cluster.resume(i)

    def prepare(self):
        """Before a run: nothing; raftor's clients find the leader themselves."""

    def server_pids(self):
        return [n.proc.pid for n in self.cluster.nodes.values() if n.proc is not None]

    def describe(self):
        return {"nodes": 3, "log": "RocksDB, fsync before acknowledging", "state_machine": "rocksdb",
                "tick_ms": TICK_MS, "heartbeat_ms": HEARTBEAT_MS, "election_timeout_ms": ELECTION_MS,
                "lease_ms": LEASE_MS, "leader": self.leader,
                "leader_at_end": self.cluster.current_leader(),
                "driver": "raftor-bench (one thread and one raftor Client per client, CAF 0.17)"}

    def _bench(self, extra, seconds_limit):
        out = os.path.join(self.work_dir, "bench.json")
        argv = [self.bench_bin, "--endpoints", self.cluster.endpoints(), "--key-space",
                str(wl.KEY_SPACE), "--key-size", str(wl.KEY_SIZE), "--value-size",
                str(wl.VALUE_SIZE), "--json", out, "--quiet", "--no-progress"] + extra
        p = subprocess.run(argv, capture_output=True, text=True, timeout=seconds_limit,
                           preexec_fn=_die_with_parent)
        # Exit 1 means some operations failed: they are counted in the result.
        if p.returncode not in (0, 1):
            raise RuntimeError(f"raftor-bench exited {p.returncode}: {p.stderr.strip()}")
        with open(out) as f:
            return json.load(f)

    def prefill(self):
        """Every key of the key space, once, so reads find values."""
        r = self._bench(["--op", "put", "--sequential-keys", "--requests", str(wl.KEY_SPACE),
                         "--clients", "16"], 300)
        if r["errors"]:
            raise RuntimeError(f"raftor prefill: {r['errors']} errors: {r.get('first_error')}")
        return r

    def run(self, workload, seconds):
        r = self._bench(["--op", workload.raftor_op, "--clients", str(workload.concurrency),
                         "--duration", str(seconds)], seconds + 60)
        lat = r["latency_ms"]
        return {"ops_per_second": r["ops_per_second"], "ok": r["ok"], "errors": r["errors"],
                "seconds": r["seconds"], "p50_ms": lat["p50"], "p90_ms": lat["p90"],
                "p99_ms": lat["p99"], "p999_ms": lat["p999"], "max_ms": lat["max"],
                "first_error": r.get("first_error", "")}

    def close(self, failed=False):
        self.cluster.close(failed=failed)
