#!/usr/bin/env python3
"""A follower crashes (kill -9) during writes and comes back: it catches up with the
leader and holds every acknowledged write; then another follower stops cleanly (SIGTERM,
exit 0) and catches up as well."""
import time

import _common  # noqa: F401
from harness import SetWorkload, Workload, check, run_scenario


def body(ctx):
    with ctx.cluster(3) as c:
        wl = Workload(c, duration=12).start()
        sw = SetWorkload(c).start()
        time.sleep(2)
        leader = c.wait_leader()
        f1, f2 = [i for i in c.nodes if i != leader][:2]
        notes = []
        for node, how in ((f1, "kill"), (f2, "term")):
            if how == "kill":
                c.log(f"kill -9 follower {node}")
                c.kill(node)
            else:
                c.log(f"SIGTERM follower {node}")
                rc = c.stop(node)
                check(rc == 0, f"node {node} exited with {rc} after SIGTERM")
            time.sleep(3)  # the others keep writing
            target = c.answered_status(c.wait_leader())["commit"]
            c.log(f"restart node {node}; leader commit is {target}")
            t0 = time.monotonic()
            c.start(node)
            st = c.wait_caught_up(node, timeout=20, min_index=target)
            dt = time.monotonic() - t0
            c.log(f"node {node} applied {st['applied']} >= {target} after {dt:.2f} s")
            notes.append(f"{how} {node}: caught up in {dt:.2f} s")
        sw.stop()
        r = wl.check()
        # Every acknowledged element is in each follower's own state machine.
        commit = c.answered_status(c.wait_leader())["commit"]
        for node in (f1, f2):
            c.wait_caught_up(node, min_index=commit)
            sw.check(ids=[node], consistency="eventual")
        s = sw.check()
        return "; ".join(notes) + f"; {r['ops']} ops linearizable; set lost {s['lost']}"


if __name__ == "__main__":
    run_scenario("follower_restart", "a follower restart catches up", body)
