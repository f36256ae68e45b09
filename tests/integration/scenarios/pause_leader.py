#!/usr/bin/env python3
"""SIGSTOP of the leader for longer than the election timeout during writes, then SIGCONT:
the others elect a new leader meanwhile, the old one steps down once it runs again, and the
history stays linearizable with no acknowledged write lost."""
import time

import _common  # noqa: F401
from harness import SetWorkload, Workload, check, run_scenario


def body(ctx):
    with ctx.cluster(3) as c:
        wl = Workload(c, duration=12).start()
        sw = SetWorkload(c).start()
        time.sleep(3)
        old = c.wait_leader()
        term = c.answered_status(old)["term"]
        pause = max(2.0, 5 * c.election_ms / 1000)
        c.log(f"SIGSTOP leader {old} (term {term}) for {pause:.1f} s")
        t0 = time.monotonic()
        c.pause(old)
        new = c.wait_leader(timeout=10)
        dt = time.monotonic() - t0
        new_term = c.answered_status(new)["term"]
        c.log(f"node {new} leads in term {new_term} after {dt:.2f} s")
        check(new != old and new_term > term, f"leader {new} term {new_term} while {old} paused")
        time.sleep(max(0, pause - (time.monotonic() - t0)))
        c.log(f"SIGCONT node {old}")
        c.resume(old)
        t1 = time.monotonic()
        st = None
        while time.monotonic() - t1 < 5:
            st = c.node_status(old)
            if st and st["role"] != "leader" and st["term"] >= new_term:
                break
            time.sleep(0.05)
        check(st and st["role"] != "leader" and st["term"] >= new_term,
              f"node {old} did not step down within 5 s of SIGCONT: {st}")
        down = time.monotonic() - t1
        c.log(f"node {old} is {st['role']} in term {st['term']} {down:.2f} s after SIGCONT")
        leader = c.wait_leader()
        c.log(f"cluster leader now {leader}")
        sw.stop()
        r = wl.check()
        s = sw.check()
        return (f"new leader after {dt:.2f} s, old leader stepped down {down:.2f} s after "
                f"SIGCONT; {r['ops']} ops linearizable, lost {r['lost']}; set lost {s['lost']}")


if __name__ == "__main__":
    run_scenario("pause_leader", "SIGSTOP of the leader, then SIGCONT", body)
