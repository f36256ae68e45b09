#!/usr/bin/env python3
"""raftor-bench against a 3-node cluster: --sequential-keys fills exactly the key space
with the key names `make bench` gives etcd (scripts/bench/workloads.py), every operation
works with clients spread over several threads (--threads), and the JSON result carries
the counts and the settings."""
import json
import os
import subprocess
import sys

import _common  # noqa: F401
from harness import check, run_scenario

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "scripts", "bench"))
import workloads  # noqa: E402

KEYS = 200


def bench(c, *args):
    out = os.path.join(c.work_dir, "bench.json")
    argv = [c.bench_bin, "--endpoints", c.endpoints(), "--key-space", str(KEYS),
            "--key-size", str(workloads.KEY_SIZE), "--value-size", "256", "--json", out,
            "--quiet", "--no-progress"] + [str(a) for a in args]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"raftor-bench {' '.join(map(str, args))}: exit {p.returncode}: "
                             f"{p.stderr.strip()}")
    with open(out) as f:
        return json.load(f)


def body(ctx):
    with ctx.cluster(3, extra_args=["--raft-lease-duration-ms", "200"]) as c:
        c.wait_leader()
        r = bench(c, "--op", "put", "--sequential-keys", "--requests", KEYS, "--clients", 4)
        check(r["ok"] == KEYS and r["errors"] == 0, f"prefill: {r}")
        check(r["sequential_keys"] is True and r["key_space"] == KEYS and r["value_size"] == 256,
              f"settings missing from the JSON: {r}")
        # Every key of the space, under the name the etcd side uses, and none past it.
        for n in (0, 1, KEYS // 2, KEYS - 1):
            rc, out, err = c.ctl("get", workloads.key_name(n))
            check(rc == 0 and len(out.strip()) == 256, f"key {n}: exit {rc}, {out!r} {err}")
        rc, _, _ = c.ctl("get", workloads.key_name(KEYS))
        check(rc != 0, f"key {KEYS} exists although the key space ends below it")
        results = []
        for op in ("get", "lease-get", "eventual-get", "cas", "mix"):
            # Two clients on two threads.
            r = bench(c, "--op", op, "--duration", "0.5", "--clients", 2, "--threads", 2)
            lat = r["latency_ms"]
            check(r["ok"] > 0 and r["errors"] == 0 and r["threads"] == 2, f"{op}: {r}")
            check(0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"],
                  f"{op}: percentiles out of order: {lat}")
            results.append(f"{op} {r['ops_per_second']:.0f}/s")
        p = subprocess.run([c.bench_bin, "--endpoints", c.endpoints(), "--clients", "2",
                            "--threads", "3"], capture_output=True, text=True, timeout=30)
        check(p.returncode == 2 and "--threads" in p.stderr,
              f"--threads above --clients: exit {p.returncode}, {p.stderr!r}")
        return f"{KEYS} sequential keys filled; " + ", ".join(results)


if __name__ == "__main__":
    run_scenario("bench_tool", "raftor-bench: sequential keys, every operation, JSON", body)
