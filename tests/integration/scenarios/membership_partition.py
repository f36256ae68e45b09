#!/usr/bin/env python3
"""Membership changes across a network partition (Raft thesis 4.1, 4.2.3, 3.10): a fourth
node joins three founders and is promoted; then the leader is cut off from everyone. The
majority elects a new leader, removes the cut-off node from the configuration and hands
leadership on, all while the partition lasts. After healing, the removed node must not
disrupt the cluster (the leader's term stays as it is), every write acknowledged is still
there and the history is linearizable.

Needs netlab's netns mode (root): the members' addresses travel in configuration entries,
and proxy mode's per-link addresses exist only in each node's own configuration; without
namespaces the scenario reports itself skipped.

    membership_partition.py --build build
"""
import time

import _common  # noqa: F401
from harness import SetWorkload, SkipScenario, Workload, check, run_scenario
from harness.netlab import make_network
from harness.membership import member, start_founders, wait_voters

FOUNDERS = [1, 2, 3]


def body(ctx):
    net = make_network(4, quiet=True)
    try:
        if net.mode != "netns":
            raise SkipScenario(f"needs netlab's netns mode (root); this machine: {net.mode}")
        with ctx.cluster(4, network=net, start=False, name="member-partition") as c:
            return run(c)
    finally:
        net.close()


def run(c):
    c.log(f"netlab mode: {c.network_mode}")
    start_founders(c, FOUNDERS, [4], joiner_peers=[2])
    wl = Workload(c, duration=16).start()
    sw = SetWorkload(c).start()
    c.start(4)
    c.log(member(c, "add", 4, c.peer_address(4)))
    wait_voters(c, FOUNDERS + [4])

    cut = c.wait_leader()
    rest = [i for i in c.nodes if i != cut]
    c.log(f"isolate leader {cut} from {rest}")
    c.net.isolate(cut)
    new = c.wait_leader(ids=rest, timeout=15)
    c.log(f"majority leader {new}; remove node {cut} while it is cut off")
    c.log(member(c, "remove", cut, deadline_s=30))
    wait_voters(c, rest)
    target = next(i for i in rest if i != new)
    rc, _, err = c.ctl("transfer-leader", target, ids=rest, timeout_ms=5000)
    check(rc == 0, f"transfer-leader {target} under the partition: {err.strip()}")
    check(c.wait_leader(ids=rest) == target, f"node {target} does not lead after the transfer")
    term = c.answered_status(target)["term"]
    c.log(f"node {target} leads in term {term}; heal")
    check(sw.wait_acked(sw.acked() + 20, 10), "writes stalled under the partition")

    c.net.heal()
    time.sleep(3 * c.election_ms / 1000 + 1)
    st = c.answered_status(target)
    check(st["role"] == "leader" and st["term"] == term,
          f"the removed node disrupted the cluster: node {target} is {st['role']} of term "
          f"{st['term']} (was leader of {term})")
    check(cut not in c.voters(ids=rest), f"node {cut} is a voter again")
    check(sw.wait_acked(sw.acked() + 20, 10), "writes stalled after healing")
    check(c.stop(cut) == 0, f"node {cut} did not exit cleanly")

    sw.stop()
    r = wl.check()
    s = sw.check()
    return (f"leader {cut} cut off and removed, leadership to {target}, term {term} kept "
            f"after healing; {r['ops']} ops linearizable, lost {r['lost']}; "
            f"set lost {s['lost']}, duplicated {s['duplicated']}")


if __name__ == "__main__":
    run_scenario("membership_partition",
                 "remove a cut-off leader and transfer leadership under a partition", body)
