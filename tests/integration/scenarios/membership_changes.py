#!/usr/bin/env python3
"""Membership changes and leadership transfer under writes and kill -9 (Raft thesis 4.1,
3.10): three founders grow to five (nodes 4 and 5 join as learners and are promoted once
caught up; the leader is killed right after node 5 is added), leadership is handed to a
node that joined, then two founders are removed (the leader among them if it is one) and
stopped. The cluster keeps acknowledging writes throughout; the history is linearizable,
nothing acknowledged is lost, and the set workload loses and duplicates nothing.

    membership_changes.py --build build
"""
import time

import _common  # noqa: F401
from harness import SetWorkload, Workload, check, run_scenario
from harness.membership import member, start_founders, wait_voters

FOUNDERS = [1, 2, 3]
JOINERS = [4, 5]


def body(ctx):
    with ctx.cluster(5, start=False, name="membership") as c:
        # The joiners know one founder only: the rest they learn from the log.
        start_founders(c, FOUNDERS, JOINERS, joiner_peers=[1])
        wl = Workload(c, duration=14).start()
        sw = SetWorkload(c).start()
        time.sleep(2)

        # Grow: node 4 joins and is promoted automatically once caught up.
        c.start(4)
        c.log(member(c, "add", 4, c.peer_address(4)))
        wait_voters(c, FOUNDERS + [4])
        c.log("node 4 is a voter")

        # Node 5 is added, and the leader is killed before node 5 can be promoted by it.
        c.start(5)  # not a member yet: it follows no one
        old = c.wait_leader(ids=FOUNDERS + [4])
        c.log(member(c, "add", 5, c.peer_address(5)))
        c.log(f"kill -9 leader {old} right after adding node 5")
        c.kill(old)
        new = c.wait_leader(timeout=15)
        check(new != old, f"leader {new} after killing {old}")
        wait_voters(c, FOUNDERS + JOINERS)
        c.log(f"node 5 promoted under leader {new}; restart node {old}")
        c.start(old)
        check(sw.wait_acked(sw.acked() + 20, 10), "writes stalled after the changes")

        # Hand leadership to a node that joined.
        target = 4 if c.wait_leader() != 4 else 5
        rc, out, err = c.ctl("--json", "transfer-leader", target, timeout_ms=5000)
        check(rc == 0, f"transfer-leader {target}: {err.strip()}")
        check(c.wait_leader() == target, f"node {target} does not lead after the transfer")
        c.log(f"leadership handed to node {target}")

        # Shrink: remove two founders (one may lead by now), then stop them.
        removed = []
        for gone in (1, 2):
            c.log(member(c, "remove", gone))
            removed.append(gone)
            remaining = [i for i in c.nodes if i not in removed]
            wait_voters(c, remaining)
            check(c.stop(gone) == 0, f"node {gone} did not exit cleanly")
            c.log(f"node {gone} removed and stopped; leader {c.wait_leader(ids=remaining)}")
        check(sw.wait_acked(sw.acked() + 20, 10), "writes stalled after the removals")

        sw.stop()
        r = wl.check()
        s = sw.check()
        final = c.members(ids=[3, 4, 5])
        voters = sorted(m["id"] for m in final["members"] if m["suffrage"] == "voter")
        check(voters == [3, 4, 5], f"final voters {voters}")
        return (f"3 -> 5 -> 3 voters (kill -9 of leader {old}, transfer to {target}); "
                f"{r['ops']} ops linearizable, lost {r['lost']}; set lost {s['lost']}, "
                f"duplicated {s['duplicated']}")


if __name__ == "__main__":
    run_scenario("membership_changes",
                 "grow 3 -> 5 -> 3 under writes, kill -9 and leadership transfer", body)
