#!/usr/bin/env python3
"""`make bench`: raftor and etcd side by side on this machine.

Starts a 3-node raftor cluster (raftor-node processes, RocksDB log with fsync, RocksDB state
machine) and a 3-member etcd cluster (fsync on) on loopback, each in a temporary directory,
fills the same 10,000 keys with 256-byte values in both, then runs every workload on both,
alternating the two systems (and which goes first) per workload and repeat. Prints one table
of medians with the raftor/etcd ratio per row and writes every sample to a JSON file.
Everything started here is stopped on exit and on Ctrl-C.

  scripts/bench/bench.py [--build build] [--duration 6] [--repeats 3] [--workloads all]
                         [--json build/bench/results.json]

Drivers: raftor-bench (C++, one epoll thread, a connection per client) drives raftor; wrk drives etcd's JSON gateway. Both run on
the same machine as the six server processes and share its cores with them.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))  # the harness package

from harness import cluster as harness  # noqa: E402

import cpu  # noqa: E402
import report  # noqa: E402
import workloads as wl  # noqa: E402
from etcd_side import EtcdSide  # noqa: E402
from raftor_side import RaftorSide  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--duration", type=float, default=6.0, help="seconds per run (default 6)")
    p.add_argument("--repeats", type=int, default=3, help="runs per workload and system")
    p.add_argument("--workloads", default="all",
                   help="comma-separated: " + ",".join(w.name for w in wl.WORKLOADS))
    p.add_argument("--json", default=None, help="results file (default BUILD/bench/results.json)")
    args = p.parse_args()
    if args.repeats < 1 or args.duration <= 0:
        p.error("--repeats must be >= 1 and --duration > 0")
    args.json = args.json or os.path.join(args.build, "bench", "results.json")
    return args


def machine_info():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    rev = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "raftor_commit": rev}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def main():
    args = parse_args()
    chosen = wl.select(args.workloads)
    seconds = args.duration
    seconds_arg = int(seconds) if float(seconds).is_integer() else seconds
    top = tempfile.mkdtemp(prefix="raftor-vs-etcd-")
    sides = []

    # The harness stops every process it spawned on exit and on SIGINT/SIGTERM/SIGHUP; on a
    # signal it then leaves with os._exit, so the temporary directory is removed here first.
    harness.install_teardown_handlers()

    def on_signal(signum, _frame):
        print(f"\nsignal {signum}: stopping raftor and etcd", file=sys.stderr, flush=True)
        for side in sides:
            side.close(failed=False)  # the whole work dir goes below
        harness._kill_everything()
        shutil.rmtree(top, ignore_errors=True)
        os._exit(128 + signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    info = machine_info()
    info["load_average_before"] = os.getloadavg()
    started = datetime.datetime.now().astimezone()
    log(f"{info['nproc']} cores ({info['cpu']}), load average "
        f"{' '.join(f'{x:.2f}' for x in info['load_average_before'])}; work dir {top}")
    failed = True
    try:
        log("starting 3 raftor-node processes")
        raftor = RaftorSide(args.build, os.path.join(top, "raftor"))
        sides.append(raftor)
        log("starting 3 etcd members")
        etcd = EtcdSide(os.path.join(top, "etcd"))
        sides.append(etcd)
        log(f"raftor leader: node {raftor.leader}; etcd leader: {etcd.leader} ({etcd.version})")
        log(f"filling {wl.KEY_SPACE:,} keys with {wl.VALUE_SIZE}-byte values in both")
        raftor.prefill()
        etcd.prefill()

        samples = {w.name: {"raftor": [], "etcd": []} for w in chosen}
        total = len(chosen) * args.repeats * 2
        n = 0
        for rep in range(args.repeats):
            for w in chosen:
                # Alternate which system goes first, so a drift in the machine's load (other
                # builds) does not always land on the same one.
                order = (raftor, etcd) if (rep + chosen.index(w)) % 2 == 0 else (etcd, raftor)
                for side, other in (order, order[::-1]):
                    n += 1
                    # The idle system is stopped (SIGSTOP) while the other one runs.
                    other.pause()
                    try:
                        side.prepare()
                        load = os.getloadavg()[0]
                        server0 = cpu.processes_cpu_seconds(side.server_pids())
                        driver0 = cpu.children_cpu_seconds()
                        s = side.run(w, seconds_arg)
                        s["server_cpu_s"] = cpu.processes_cpu_seconds(side.server_pids()) - server0
                        s["driver_cpu_s"] = cpu.children_cpu_seconds() - driver0
                    finally:
                        other.resume()
                    s["repeat"] = rep + 1
                    s["load_average_1m_before"] = load
                    samples[w.name][side.name].append(s)
                    err = f", {s['errors']} errors" if s["errors"] else ""
                    log(f"[{n}/{total}] {w.title:<44} {side.name:<6} "
                        f"{s['ops_per_second']:>9,.0f} ops/s  p50 {s['p50_ms']:6.2f}  "
                        f"p99 {s['p99_ms']:6.2f} ms{err}")
        rows = [report.summarize(w, samples[w.name]["raftor"], samples[w.name]["etcd"])
                for w in chosen]
        info["load_average_after"] = os.getloadavg()
        raftor_info = raftor.describe()
        if raftor_info["leader_at_end"] != raftor_info["leader"]:
            log(f"raftor's leader moved during the runs: node {raftor_info['leader']} -> "
                f"{raftor_info['leader_at_end']}")
        table = report.table(rows, args.repeats)
        print()
        print(f"raftor vs etcd, {info['nproc']} cores, {seconds_arg} s per run, "
              f"{wl.VALUE_SIZE}-byte values, {wl.KEY_SPACE:,} keys; load average "
              f"{info['load_average_before'][0]:.2f} before, "
              f"{info['load_average_after'][0]:.2f} after")
        print(table)
        print()
        print(report.cpu_table(rows))
        print("drivers: raftor-bench (one epoll thread, a connection per client, raftor's framed protocol over TCP) for raftor; "
              "wrk -t1 over etcd's JSON gateway for etcd;\n"
              "both on this machine, sharing its cores with the six server processes.")
        print("issue 7 targets (medians):")
        print(report.targets_text(rows))

        doc = {"started": started.isoformat(timespec="seconds"),
               "machine": info,
               "settings": {"duration_s": seconds, "repeats": args.repeats,
                            "key_space": wl.KEY_SPACE, "key_size": wl.KEY_SIZE,
                            "value_size": wl.VALUE_SIZE},
               "raftor": raftor_info, "etcd": etcd.describe(),
               "rows": rows, "samples": samples,
               "targets": [{"target": d, "met": m, "detail": t}
                           for d, m, t in report.targets(rows)],
               "table": table}
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
        print(f"results: {args.json}")
        failed = False
    finally:
        for side in reversed(sides):
            side.close(failed=failed)
        if failed:
            print(f"benchmark failed: logs kept in {top}", file=sys.stderr)
        else:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
