#!/usr/bin/env python3
"""The newest write-ahead file of a stopped (kill -9) follower's RocksDB log dir is cut in
half. On restart the follower must either start (and catch up from the leader) or refuse
with a clear error; the others keep serving and nothing acknowledged is lost. Up to four
such crashes in a row (alternating followers) during writes, as the outcome depends on
where the cut lands relative to what the follower had acknowledged."""
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


def one_crash(ctx, c, victim):
    """kill -9, truncate, restart. Returns (outcome, problem or None)."""
    before = c.answered_status(victim)
    c.log(f"kill -9 follower {victim} (last index {before['last_index']}, applied "
          f"{before['applied']})")
    c.kill(victim)
    path = newest_log_file(os.path.join(c.nodes[victim].data_dir, "log"))
    size = os.path.getsize(path)
    os.truncate(path, size // 2)
    c.log(f"truncated {os.path.relpath(path, c.work_dir)} from {size} to {size // 2} bytes")
    time.sleep(0.5)
    try:
        c.start(victim)
        time.sleep(1)
        if not c.nodes[victim].running():
            raise HarnessError(f"exited with {c.exit_code(victim)} after starting")
    except HarnessError as e:
        tail = c.nodes[victim].log_tail(8)
        c.log(f"node {victim} refused to start: {str(e).splitlines()[0]}; log ends:\n{tail}")
        low = tail.lower()
        if not ("log" in low and ("corrupt" in low or "error" in low)):
            return "stopped", f"node {victim} stopped without a clear error about its log"
        return "refused clearly", None
    st = c.answered_status(victim)
    c.log(f"node {victim} started: log [{st['first_index']}, {st['last_index']}], applied "
          f"{st['applied']}")
    commit = c.answered_status(c.wait_leader())["commit"]
    try:
        st = c.wait_caught_up(victim, timeout=15, min_index=commit)
    except HarnessError:
        now = c.node_status(victim)
        problem = (f"node {victim} restarted after losing its log tail (before the kill: last "
                   f"index {before['last_index']}, applied {before['applied']}; after the "
                   f"restart: log [{st['first_index']}, {st['last_index']}], applied "
                   f"{st['applied']}) and had not caught up 15 s later (now {now and now['applied']},"
                   f" leader commit {commit}); it logs no error")
        c.log(problem)
        return "stuck", problem
    return f"caught up ({st['first_index']}..{st['last_index']})", None


def body(ctx):
    with ctx.cluster(3) as c:
        wl = Workload(c, duration=14).start()
        sw = SetWorkload(c, rate=0).start()
        time.sleep(2)
        leader = c.wait_leader()
        followers = [i for i in c.nodes if i != leader]
        outcomes, problem = [], None
        for attempt in range(4):
            victim = followers[attempt % len(followers)]
            outcome, problem = one_crash(ctx, c, victim)
            outcomes.append(f"node {victim}: {outcome}")
            if problem or outcome != "refused clearly" and not outcome.startswith("caught"):
                break
            if outcome == "refused clearly":
                break  # a node that refuses stays down: one is enough
            time.sleep(0.5)
        leader_now = c.wait_leader()  # the others kept serving all along
        sw.stop()
        r = wl.check()
        s = sw.check()
        check(problem is None, problem)
        for i in followers:
            if c.nodes[i].running():
                commit = c.answered_status(leader_now)["commit"]
                c.wait_caught_up(i, min_index=commit)
                sw.check(ids=[i], consistency="eventual")
        return (f"{'; '.join(outcomes)}; {r['ops']} ops linearizable, lost {r['lost']}; set "
                f"lost {s['lost']}")


if __name__ == "__main__":
    run_scenario("truncated_log", "a truncated log tail on a stopped follower", body)
