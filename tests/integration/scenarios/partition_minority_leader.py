#!/usr/bin/env python3
"""A network partition puts the leader in the minority (alone of 3, or with one follower of
5) during writes. The isolated old leader must step down (check quorum, thesis §6.2) and
never answer a linearizable read; the majority elects a leader and keeps acknowledging
writes; after healing every node converges to the same log and the same values. The whole
history is linearizable, nothing acknowledged is lost, the set workload loses nothing.

    partition_minority_leader.py --build build [--nodes 3|5] [--hold 4]
"""
import threading
import time

import _common  # noqa: F401
from harness import (CheckFailed, HarnessError, KvClient, SetWorkload, Workload, check,
                     join_within, run_scenario)


def add_arguments(p):
    p.add_argument("--nodes", type=int, default=3, help="cluster size, 3 or 5 (default 3)")
    p.add_argument("--hold", type=float, default=4.0, help="seconds of partition (default 4)")
    p.add_argument("--lease-ms", type=int, default=0,
                   help="leader lease (raft.lease_duration_ms); with one, a lease read at the "
                        "old leader after the new one was elected must fail too (default 0)")


def old_leader_client(c, old, key):
    """A client of the old leader alone (no other endpoint to fall back on), connected."""
    kv = KvClient(c, ids=[old], timeout_ms=1000, deadline_ms=2500)
    check(kv.get(key, consistency="eventual").get("ok"), f"node {old} does not answer")
    return kv


def read_old_leader(kv, key, out, consistency="linearizable"):
    """A read at the old leader: it must fail, never return a value."""
    t0 = time.monotonic()
    out.append((kv.get(key, consistency=consistency), time.monotonic() - t0))
    kv.close()


def wait_stepped_down(c, nodes, limit):
    """Seconds until none of `nodes` says it leads; CheckFailed after `limit`."""
    t0 = time.monotonic()
    st = None
    while time.monotonic() - t0 < limit:
        st = c.status(nodes)
        if all(s and s["role"] != "leader" for s in st.values()):
            return time.monotonic() - t0, st
        time.sleep(0.05)
    raise CheckFailed(f"the minority {nodes} still has a leader {limit:.1f} s after the "
                      f"partition (no step-down on lost quorum): {st}")


def body(ctx):
    n = ctx.args.nodes
    check(n in (3, 5), "--nodes must be 3 or 5")
    lease = ["--raft-lease-duration-ms", str(ctx.args.lease_ms)] if ctx.args.lease_ms else []
    with ctx.cluster(n, netlab=True, name=f"partition{n}", extra_args=lease) as c:
        c.log(f"netlab mode: {c.network_mode}; leader lease "
              f"{ctx.args.lease_ms or 'off'}{' ms' if ctx.args.lease_ms else ''}")
        election_s = c.election_ms / 1000
        wl = Workload(c, duration=ctx.args.hold + 8).start()
        sw = SetWorkload(c).start()
        probe_key = "partition-probe"
        with KvClient(c) as kv:
            check(kv.put(probe_key, "before").get("ok"), "put before the partition failed")
        time.sleep(2)
        old = c.wait_leader()
        term = c.answered_status(old)["term"]
        followers = [i for i in c.nodes if i != old]
        minority = sorted([old] + followers[:(n - 1) // 2 - 1])  # alone of 3, with one of 5
        majority = [i for i in c.nodes if i not in minority]
        early_kv, late_kv, lease_kv = (old_leader_client(c, old, probe_key) for _ in range(3))
        c.log(f"partition {minority} | {majority}: leader {old} (term {term}) in the minority")
        c.net.partition([minority, majority])
        t0 = time.monotonic()

        # Sent at once, before the old leader can know it lost its quorum: ReadIndex must wait
        # for a majority's acknowledgement (thesis §6.4), which never comes.
        early = []
        reader = threading.Thread(target=read_old_leader, args=(early_kv, probe_key, early),
                                  name="early read", daemon=True)
        reader.start()

        down, st = wait_stepped_down(c, minority, limit=10 * election_s + 2)
        c.log(f"minority {minority} has no leader {down:.2f} s after the partition: "
              + ", ".join(f"{i} {s['role']} term {s['term']}" for i, s in st.items()))
        try:
            new = c.wait_leader(ids=majority, timeout=10)
        except HarnessError as e:
            raise CheckFailed(f"the majority {majority} elected no leader: {e}")
        elected = time.monotonic() - t0
        new_term = c.answered_status(new)["term"]
        c.log(f"majority leader {new} in term {new_term} {elected:.2f} s after the partition")
        check(new in majority and new_term > term, f"leader {new} term {new_term}")

        # And after the new leader was elected, while the majority writes: a linearizable
        # read, and a lease read (its lease must have expired before anyone else could lead,
        # thesis §6.4.1; without a lease it is a linearizable read).
        late, lease_late = [], []
        late_readers = [
            threading.Thread(target=read_old_leader, args=(late_kv, probe_key, late),
                             name="late read", daemon=True),
            threading.Thread(target=read_old_leader, name="lease read", daemon=True,
                             args=(lease_kv, probe_key, lease_late, "lease"))]
        for t in late_readers:
            t.start()

        # The majority keeps acknowledging writes for the rest of the partition.
        acked_before, writes = sw.acked(), 0
        with KvClient(c, ids=majority, timeout_ms=1000, deadline_ms=5000) as kv:
            while time.monotonic() - t0 < ctx.args.hold:
                writes += 1
                r = kv.put(probe_key, f"during-{writes}")
                check(r.get("ok"), f"the majority {majority} did not acknowledge a write during "
                                   f"the partition: {r}")
                time.sleep(0.05)
        check(sw.wait_acked(acked_before + 1, timeout=6),
              "the set workload (a client of all nodes) got no acknowledgement within 6 s of "
              "the election")
        set_acked = sw.acked() - acked_before
        join_within([reader] + late_readers, 20, "reads at the old leader (2.5 s deadline)")
        for label, ((r, took),) in (("linearizable read at once", early),
                                    ("linearizable read after the election", late),
                                    ("lease read after the election", lease_late)):
            c.log(f"{label} at the old leader: {r} after {took:.2f} s")
            check(not r.get("ok"), f"the isolated old leader {old} answered a {label}: {r}")
        c.log(f"during the partition the majority acknowledged {writes} probe writes and "
              f"{set_acked} set adds")
        for i in minority:
            st = c.answered_status(i)
            check(st["role"] != "leader", f"minority node {i} leads during the partition: {st}")

        commit = c.answered_status(new)["commit"]
        c.log(f"heal (majority commit index {commit})")
        c.net.heal()
        t1 = time.monotonic()
        leader = c.wait_leader(timeout=20)
        try:
            for i in minority:
                c.wait_caught_up(i, timeout=30, min_index=commit)
        except HarnessError as e:
            raise CheckFailed(f"the minority did not catch up after healing: {e}")
        healed = time.monotonic() - t1
        c.log(f"minority {minority} applied the majority's index {commit} {healed:.2f} s after "
              f"healing; leader {leader}")
        sw.stop()
        r = wl.check()
        s = sw.check()
        try:
            conv = c.wait_converged(timeout=30)
        except HarnessError as e:
            raise CheckFailed(str(e))
        mark = next(iter(conv.values()))
        c.log(f"converged: every node at last index {mark['last_index']}, commit = applied = "
              f"{mark['commit']}")

        # Every node holds the same values: the workload's final values, a sample of the set
        # and the probe key, read locally on each node (eventual reads).
        expected = dict(wl.final)
        expected[probe_key] = f"during-{writes}"
        acked = [(key, value) for _, key, value, outcome in sw.attempts if outcome == "ok"]
        for key, value in acked[:: max(1, len(acked) // 40)]:
            expected[key] = value
        for i in c.nodes:
            with KvClient(c, ids=[i]) as kv:
                for key, value in expected.items():
                    got = kv.get(key, consistency="eventual")
                    check(got.get("ok") and got.get("value") == value,
                          f"node {i} holds {got} for {key}, expected {value!r}")
        c.log(f"all {n} nodes hold the same {len(expected)} sampled values")
        return (f"{n} nodes, {c.network_mode} mode: old leader {old} stepped down "
                f"{down:.2f} s after the partition, refused linearizable{' and lease' if ctx.args.lease_ms else ''} reads; majority "
                f"leader {new} after {elected:.2f} s, {writes} writes acknowledged during the "
                f"partition; minority caught up {healed:.2f} s after heal; {r['ops']} ops linearizable, "
                f"lost {r['lost']}; set lost {s['lost']} dup {s['duplicated']}")


if __name__ == "__main__":
    run_scenario("partition_minority_leader", "the leader partitioned into a minority", body,
                 add_arguments)
