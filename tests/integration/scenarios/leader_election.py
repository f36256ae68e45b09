#!/usr/bin/env python3
"""Start a 3-node and a 5-node cluster: exactly one leader, every other node follows it in
the same term, the leadership stays put while nothing fails, and the cluster serves."""
import time

import _common  # noqa: F401
from harness import check, run_scenario


def one_cluster(ctx, n):
    t0 = time.monotonic()
    with ctx.cluster(n, name=f"election{n}") as c:
        leader = c.wait_leader()
        elected = time.monotonic() - t0
        c.log(f"{n} nodes: node {leader} leads after {elected:.2f} s (process start included)")
        # Stable: 10 samples over ~1.5 s, always the same single leader in the same term.
        term = c.answered_status(leader)["term"]
        for _ in range(10):
            st = c.status()
            check(all(st.values()), f"{n} nodes: a node is unreachable: {st}")
            leaders = [i for i, s in st.items() if s["role"] == "leader"]
            check(leaders == [leader], f"{n} nodes: leaders {leaders}, expected [{leader}]: {st}")
            check(all(s["term"] == term and s["leader"] == leader for s in st.values()),
                  f"{n} nodes: not all in term {term} following {leader}: {st}")
            time.sleep(0.15)
        rc, _, err = c.ctl("put", "hello", "world")
        check(rc == 0, f"put failed: {err}")
        rc, out, err = c.ctl("get", "hello")
        check(rc == 0 and out.strip() == "world", f"get: exit {rc}, {out!r} {err}")
        c.log(f"{n} nodes: one leader (node {leader}, term {term}), stable, serving")
        return f"{n} nodes: leader {leader} in {elected:.2f} s"


def body(ctx):
    return "; ".join(one_cluster(ctx, n) for n in (3, 5))


if __name__ == "__main__":
    run_scenario("leader_election", "start 3 and 5 nodes: exactly one leader", body)
