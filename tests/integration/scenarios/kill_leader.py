#!/usr/bin/env python3
"""kill -9 of the leader during writes (twice): a new leader within a few election
timeouts, no acknowledged write lost, the history linearizable."""
import time

import _common  # noqa: F401
from harness import SetWorkload, Workload, check, run_scenario


def body(ctx):
    with ctx.cluster(3) as c:
        limit = 6 * 2 * c.election_ms / 1000  # 6 of the longest election timeouts
        wl = Workload(c, duration=14).start()
        sw = SetWorkload(c).start()
        failovers = []
        for round_ in (1, 2):
            time.sleep(3)
            old = c.wait_leader()
            before = c.answered_status(old)["term"]
            c.log(f"kill -9 leader {old} (term {before}) during writes")
            t0 = time.monotonic()
            c.kill(old)
            new = c.wait_leader(timeout=limit + 10)
            dt = time.monotonic() - t0
            term = c.answered_status(new)["term"]
            c.log(f"new leader {new} in term {term} after {dt:.2f} s")
            check(new != old and term > before, f"leader {new} term {term} after killing {old}")
            check(dt <= limit, f"no new leader within {limit:.1f} s (took {dt:.2f} s)")
            failovers.append(dt)
            time.sleep(1.5)
            c.log(f"restart node {old}")
            c.start(old)
        sw.stop()
        c.wait_leader()
        r = wl.check()
        s = sw.check()
        return (f"failovers in {', '.join(f'{d:.2f}' for d in failovers)} s; "
                f"{r['ops']} ops linearizable, lost {r['lost']}; set lost {s['lost']}")


if __name__ == "__main__":
    run_scenario("kill_leader", "kill -9 of the leader during writes", body)
