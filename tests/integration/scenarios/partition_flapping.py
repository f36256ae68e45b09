#!/usr/bin/env python3
"""5 nodes under a workload while the network flaps between different splits without a
pause: majority/minority splits (the leader on either side, seeded), and one partial cut
(the leader loses a single follower, the others still see both). Each phase: the majority
side has exactly one leader and acknowledges writes, the minority side leads nothing.
Finally everything heals: the nodes converge, the history is linearizable, nothing
acknowledged is lost, the set workload loses and duplicates nothing.

    partition_flapping.py --build build [--phases 5] [--hold 2.5] [--seed N]
"""
import time

import _common  # noqa: F401
from harness import (CheckFailed, HarnessError, KvClient, SetWorkload, Workload, check,
                     run_scenario)

N = 5


def add_arguments(p):
    p.add_argument("--phases", type=int, default=5, help="network changes (default 5)")
    p.add_argument("--hold", type=float, default=2.5, help="seconds per phase (default 2.5)")


def pick_split(rng, leader, phase):
    """(description, groups, cut, majority): every third phase a partial cut (groups None,
    cut the pair leader <-> one follower); otherwise a 2 | 3 split (cut None) with the
    leader on a seeded side."""
    others = [i for i in range(1, N + 1) if i != leader]
    rng.shuffle(others)
    if phase % 3 == 2:
        return (f"cut {leader} <-> {others[0]} only", None, (leader, others[0]),
                list(range(1, N + 1)))
    if rng.random() < 0.5:
        minority = [leader, others[0]]
    else:
        minority = others[:2]
    majority = sorted(i for i in range(1, N + 1) if i not in minority)
    return (f"partition {sorted(minority)} | {majority}", [sorted(minority), majority], None,
            majority)


def wait_quorum_leader(c, timeout=15):
    """A node leading in the highest term with a majority of all nodes (itself included)
    following it in that term. Under a partial cut, the cut-off follower may never learn who
    leads: the others must not wait for it."""
    deadline = time.monotonic() + timeout
    st = None
    while time.monotonic() < deadline:
        st = c.status()
        up = {i: s for i, s in st.items() if s}
        if up:
            top = max(s["term"] for s in up.values())
            leaders = [i for i, s in up.items() if s["role"] == "leader" and s["term"] == top]
            if len(leaders) == 1:
                lid = leaders[0]
                with_it = [i for i, s in up.items()
                           if s["term"] == top and (i == lid or s["leader"] == lid)]
                if len(with_it) > N // 2:
                    return lid
        time.sleep(0.05)
    raise HarnessError(f"no leader followed by a majority within {timeout} s: {st}")


def no_leader_among(c, nodes, limit):
    t0 = time.monotonic()
    st = None
    while time.monotonic() - t0 < limit:
        st = c.status(nodes)
        if all(s and s["role"] != "leader" for s in st.values()):
            return
        time.sleep(0.05)
    raise CheckFailed(f"the minority {nodes} still has a leader after {limit:.1f} s: {st}")


def body(ctx):
    rng, args = ctx.rng, ctx.args
    with ctx.cluster(N, netlab=True, name="flapping") as c:
        c.log(f"netlab mode: {c.network_mode}")
        election_s = c.election_ms / 1000
        wl = Workload(c, duration=args.phases * args.hold + 4).start()
        sw = SetWorkload(c).start()
        time.sleep(1.5)
        notes = []
        for phase in range(args.phases):
            leader = wait_quorum_leader(c, timeout=15)
            what, groups, cut, majority = pick_split(rng, leader, phase)
            c.net.heal()
            if groups:
                c.net.partition(groups)
            else:
                c.net.cut(*cut)
            t0 = time.monotonic()
            c.log(f"phase {phase + 1}: {what} (leader was {leader})")
            try:
                new = (c.wait_leader(ids=majority, timeout=15) if groups
                       else wait_quorum_leader(c, timeout=15))
            except HarnessError as e:
                raise CheckFailed(f"phase {phase + 1} ({what}): no single leader on the "
                                  f"majority side {majority}: {e}")
            took = time.monotonic() - t0
            if groups:
                no_leader_among(c, groups[0], limit=10 * election_s + 2)
            with KvClient(c, ids=majority, timeout_ms=1000, deadline_ms=5000) as kv:
                r = kv.put(f"flap-{phase}", "x")
                check(r.get("ok"), f"phase {phase + 1} ({what}): the majority did not "
                                   f"acknowledge a write: {r}")
            # The set workload's client (of all nodes) finds the new leader too: its request
            # to a cut-off node times out (1 s) before it moves on, hence a generous limit.
            check(sw.wait_acked(sw.acked() + 1, timeout=6),
                  f"phase {phase + 1} ({what}): the set workload got no acknowledgement "
                  f"within 6 s of the election")
            time.sleep(max(0.0, args.hold - (time.monotonic() - t0)))
            notes.append(f"{what}: leader {new} after {took:.2f} s")
            c.log(f"phase {phase + 1}: leader {new} ({took:.2f} s), writes acknowledged")
        c.log("heal")
        c.net.heal()
        try:
            c.wait_leader(timeout=20)
        except HarnessError as e:
            raise CheckFailed(f"after healing every link, the nodes do not agree on a "
                              f"leader: {e}")
        sw.stop()
        r = wl.check()
        s = sw.check()
        try:
            c.wait_converged(timeout=30)
        except HarnessError as e:
            raise CheckFailed(str(e))
        for i in c.nodes:
            with KvClient(c, ids=[i]) as kv:
                for key, value in wl.final.items():
                    got = kv.get(key, consistency="eventual")
                    check(got.get("ok") and got.get("value") == value,
                          f"node {i} holds {got} for {key}, expected {value!r}")
        return (f"{c.network_mode} mode; " + "; ".join(notes) + f"; converged; {r['ops']} ops "
                f"linearizable, lost {r['lost']}; set lost {s['lost']} dup {s['duplicated']}")


if __name__ == "__main__":
    run_scenario("partition_flapping", "flapping partitions of 5 nodes", body, add_arguments)
