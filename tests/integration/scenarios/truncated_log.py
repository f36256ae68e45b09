#!/usr/bin/env python3
"""The newest write-ahead file of a stopped (kill -9) follower's RocksDB log dir is cut in
half. On restart the follower must either start (and catch up from the leader) or refuse
with a clear error; the others keep serving and nothing acknowledged is lost."""
import glob
import os
import time

import _common  # noqa: F401
from harness import HarnessError, SetWorkload, Workload, check, run_scenario


def newest_log_file(log_dir):
    """The newest non-empty RocksDB WAL (NNNNNN.log), else the newest file of the dir."""
    wals = [p for p in glob.glob(os.path.join(log_dir, "*.log")) if os.path.getsize(p) > 0]
    if wals:
        return max(wals, key=lambda p: (int(os.path.basename(p).split(".")[0]), p))
    files = [p for p in glob.glob(os.path.join(log_dir, "*")) if os.path.isfile(p)]
    return max(files, key=os.path.getmtime)


def body(ctx):
    with ctx.cluster(3) as c:
        wl = Workload(c, duration=10).start()
        sw = SetWorkload(c).start()
        time.sleep(3)
        leader = c.wait_leader()
        victim = [i for i in c.nodes if i != leader][0]
        before = c.node_status(victim)
        c.log(f"kill -9 follower {victim} (last index {before['last_index']})")
        c.kill(victim)
        log_dir = os.path.join(c.nodes[victim].data_dir, "log")
        path = newest_log_file(log_dir)
        size = os.path.getsize(path)
        os.truncate(path, size // 2)
        c.log(f"truncated {os.path.relpath(path, c.work_dir)} from {size} to {size // 2} bytes")
        time.sleep(1)
        outcome, stuck = None, None
        try:
            c.start(victim)
        except HarnessError as e:
            outcome = f"refused to start: {str(e).splitlines()[0]}"
        if outcome is None:
            time.sleep(1)
            if not c.nodes[victim].running():
                outcome = f"exited with {c.exit_code(victim)} after starting"
        if outcome:
            c.log(f"node {victim} {outcome}; its log ends with:\n{c.nodes[victim].log_tail(8)}")
        else:
            st = c.node_status(victim)
            c.log(f"node {victim} started: log [{st and st['first_index']}, "
                  f"{st and st['last_index']}], applied {st and st['applied']} (before the "
                  f"crash: last index {before['last_index']}, applied {before['applied']})")
            commit = c.node_status(c.wait_leader())["commit"]
            try:
                st = c.wait_caught_up(victim, timeout=20, min_index=commit)
                outcome = f"started and caught up to {st['applied']}"
            except HarnessError:
                now = c.node_status(victim)
                stuck = (f"node {victim} restarted after losing its log tail (last index "
                         f"{before['last_index']} before the crash, log "
                         f"[{now['first_index']}, {now['last_index']}] after, applied "
                         f"{now['applied']}) and did not catch up within 20 s while the "
                         f"leader is at commit {commit}; it logs no error")
                c.log(stuck)
        # The others kept serving all along.
        leader_now = c.wait_leader()
        sw.stop()
        r = wl.check()
        s = sw.check()
        check(stuck is None, stuck)
        if outcome.startswith("refused") or outcome.startswith("exited"):
            tail = c.nodes[victim].log_tail(8).lower()
            check("log" in tail and ("corrupt" in tail or "error" in tail),
                  f"node {victim} stopped without a clear error about its log")
        if c.nodes[victim].running():
            commit = c.node_status(leader_now)["commit"]
            c.wait_caught_up(victim, min_index=commit)
            sw.check(ids=[victim], consistency="eventual")
        return (f"node {victim}: {os.path.basename(path)} cut to {size // 2} of {size} bytes, "
                f"{outcome}; {r['ops']} ops linearizable, lost {r['lost']}; set lost {s['lost']}")


if __name__ == "__main__":
    run_scenario("truncated_log", "a truncated log tail on a stopped follower", body)
