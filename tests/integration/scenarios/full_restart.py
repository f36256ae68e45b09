#!/usr/bin/env python3
"""The whole cluster restarts, first cleanly (SIGTERM, every node exits 0) and then after a
crash of every node (kill -9): a leader again, and every acknowledged write is still there
with the same final values."""
import time

import _common  # noqa: F401
from harness import KvClient, SetWorkload, Workload, check, run_scenario


def final_values(c, keys):
    with KvClient(c, deadline_ms=10000) as kv:
        out = {}
        for k in keys:
            r = kv.get(k)
            check(r.get("ok"), f"read {k}: {r.get('error')}")
            out[k] = r["value"]
        return out


def body(ctx):
    with ctx.cluster(3) as c:
        notes, sets = [], []
        for round_, how in ((1, "SIGTERM"), (2, "kill -9")):
            wl = Workload(c, duration=4, name=f"workload{round_}").start()
            sw = SetWorkload(c, tag=f"r{round_}", name=f"set{round_}").start()
            wl.wait()
            sw.stop()
            sets.append(sw)
            wl.check()
            sw.check()
            keys = sorted({k for k in _keys(wl)})
            before = final_values(c, keys)
            c.log(f"{how} every node")
            if how == "SIGTERM":
                codes = c.stop_all()
                check(all(rc == 0 for rc in codes.values()), f"exit codes after SIGTERM: {codes}")
            else:
                c.kill_all()
            time.sleep(0.5)
            t0 = time.monotonic()
            c.start_all()
            leader = c.wait_leader()
            dt = time.monotonic() - t0
            c.log(f"restarted; node {leader} leads after {dt:.2f} s")
            after = final_values(c, keys)
            diff = {k: (before[k], after[k]) for k in keys if before[k] != after[k]}
            check(not diff, f"values changed across the restart: {diff}")
            for i in c.nodes:  # every node has every element in its own state machine
                c.wait_caught_up(i)
                for s in sets:
                    s.check(ids=[i], consistency="eventual")
            for s in sets:  # round 1's elements survived round 2's crash too
                s.check()
            notes.append(f"{how}: leader after {dt:.2f} s, {len(keys)} keys and "
                         f"{sw.acked()} elements intact")
        return "; ".join(notes)


def _keys(wl):
    from harness.workload import pair_operations, read_history
    keys = set()
    for _, _, hist in wl.procs:
        keys |= {op["key"] for op in pair_operations(read_history(hist))}
    return keys


if __name__ == "__main__":
    run_scenario("full_restart", "a full-cluster restart keeps all data", body)
