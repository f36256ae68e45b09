#!/usr/bin/env python3
"""`make bench-nodes`: where a raftor cluster's CPU goes, per node and per operation.

Starts the benchmark's 3-node cluster (scripts/bench/raftor_side.py: loopback, RocksDB log
with fsync, RocksDB state machine), fills the key space, then runs raftor-bench for --secs
seconds, --runs times, with `perf stat` attached to every node. Each run prints one line:
throughput, latency, and the CPU microseconds per operation of each node (the leader
starred), of the three together and of raftor-bench. --events adds perf events counted per
operation (context-switches, syscalls:sys_enter_sendto, ...); --per-thread splits them by
thread (the Raft actor, the handler, the snapshotter and CAF's multiplexer are threads of
their own). Comparing two builds: run it with --build A and --build B alternately, several
times each; single runs on 2 shared cores move by +-10%.

  scripts/bench/node_cpu.py [--build build] [--op put] [--clients 64] [--secs 6] [--runs 3]
                            [--events context-switches,...] [--per-thread] [--node-arg ARG]...
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))  # the harness package

from harness.cluster import Cluster, _die_with_parent  # noqa: E402

import raftor_side  # noqa: E402
import workloads as wl  # noqa: E402

# perf stat -x, lines: value,unit,event,... (per thread: thread,value,unit,event,...).
_NUMBER = re.compile(r"^[\d.]+$")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--op", default="put", help="raftor-bench --op (put, get, lease-get, ...)")
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--secs", type=float, default=6.0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--events", default="", help="extra perf events, comma-separated")
    p.add_argument("--per-thread", action="store_true", help="split the events by thread")
    p.add_argument("--node-arg", action="append", default=[],
                   help="extra raftor-node flag (repeat; e.g. --node-arg=--snapshot-enabled=false)")
    args = p.parse_args()
    if args.runs < 1 or args.secs <= 0 or args.clients < 1:
        p.error("--runs, --secs and --clients must be positive")
    return args


def perf_stat(pid, events, per_thread, out, secs):
    argv = ["perf", "stat", "-x", ",", "-e", events, "-p", str(pid), "-o", out]
    if per_thread:
        argv.append("--per-thread")
    return subprocess.Popen(argv + ["--", "sleep", str(secs)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)


def read_counts(path, per_thread):
    """{(thread or '', event): value} from a perf stat -x , file."""
    counts = {}
    with open(path) as f:
        for line in f:
            fields = line.strip().split(",")
            if per_thread and len(fields) >= 4 and _NUMBER.match(fields[1]):
                counts[(fields[0], fields[3])] = float(fields[1])
            elif not per_thread and len(fields) >= 3 and _NUMBER.match(fields[0]):
                counts[("", fields[2])] = float(fields[0])
    return counts


def main():
    args = parse_args()
    if subprocess.run(["perf", "--version"], capture_output=True).returncode != 0:
        sys.exit("node_cpu: needs perf (Debian's linux-perf)")
    work_dir = tempfile.mkdtemp(prefix="raftor-node-cpu-")
    cluster = Cluster(3, build=args.build, work_dir=work_dir, cluster_id="bench", name="bench",
                      tick_ms=raftor_side.TICK_MS, heartbeat_ms=raftor_side.HEARTBEAT_MS,
                      election_ms=raftor_side.ELECTION_MS,
                      extra_args=["--state-machine", "rocksdb"] + args.node_arg, log_level="warn")
    events = ",".join(["task-clock"] + [e for e in args.events.split(",") if e])
    try:
        cluster.wait_leader()
        out = os.path.join(work_dir, "bench.json")
        base = [cluster.bench_bin, "--endpoints", cluster.endpoints(), "--key-space",
                str(wl.KEY_SPACE), "--key-size", str(wl.KEY_SIZE), "--value-size",
                str(wl.VALUE_SIZE), "--json", out, "--quiet", "--no-progress"]
        subprocess.run(base + ["--op", "put", "--sequential-keys", "--requests",
                               str(wl.KEY_SPACE), "--clients", "16"], check=True)
        for run in range(args.runs):
            leader = cluster.current_leader()
            stats = {}
            for node_id, node in cluster.nodes.items():
                path = os.path.join(work_dir, f"perf-{node_id}.txt")
                stats[node_id] = (path, perf_stat(node.proc.pid, events, args.per_thread, path,
                                                  args.secs))
            bench_stat = os.path.join(work_dir, "perf-bench.txt")
            subprocess.run(["perf", "stat", "-x", ",", "-e", "task-clock", "-o", bench_stat, "--"]
                           + base + ["--op", args.op, "--clients", str(args.clients),
                                     "--duration", str(args.secs)], check=False)
            for _, proc in stats.values():
                proc.wait()
            with open(out) as f:
                result = json.load(f)
            ops = max(result["ok"], 1)
            line = (f"run {run + 1}: {result['ops_per_second']:,.0f} ops/s, p50 "
                    f"{result['latency_ms']['p50']:.2f} ms, p99 {result['latency_ms']['p99']:.2f} ms;"
                    " CPU us/op:")
            detail = []
            total = 0.0
            for node_id, (path, _) in sorted(stats.items()):
                counts = read_counts(path, args.per_thread)
                cpu_ms = sum(v for (_, e), v in counts.items() if e.startswith("task-clock"))
                total += cpu_ms * 1000 / ops
                star = "*" if node_id == leader else ""
                line += f" node {node_id}{star} {cpu_ms * 1000 / ops:.1f}"
                for (thread, event), value in sorted(counts.items()):
                    if args.per_thread or not event.startswith("task-clock"):
                        unit = "us" if event.startswith("task-clock") else ""
                        per_op = value * 1000 / ops if unit else value / ops
                        if per_op >= 0.01:  # idle threads (CAF's spare ones) are left out
                            detail.append(f"    node {node_id}{star} {thread:24} {event:32} "
                                          f"{per_op:10.3f}{unit} per op")
            bench_ms = sum(v for (_, e), v in read_counts(bench_stat, False).items()
                           if e.startswith("task-clock"))
            line += f", nodes {total:.1f}, raftor-bench {bench_ms * 1000 / ops:.1f}"
            print(line, flush=True)
            for d in detail:
                print(d)
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
