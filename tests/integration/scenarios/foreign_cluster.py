#!/usr/bin/env python3
"""A node configured with another cluster id, at a member's address: it must not join (no
votes, no entries, no leadership) and the others keep serving with the same leader. First
with a fresh data dir, then with the member's own data dir; finally the member comes back
with the right id and catches up. History linearizable, nothing acknowledged lost."""
import os
import time

import _common  # noqa: F401
from harness import SetWorkload, Workload, check, run_scenario


def watch(c, intruder, leader, term, seconds):
    """For `seconds`: the members keep their leader and term, the intruder stays out."""
    end = time.monotonic() + seconds
    members = [i for i in c.nodes if i != intruder]
    worst = None
    while time.monotonic() < end:
        st = c.status(members)
        for i, s in st.items():
            if s is None:
                # One slow answer (a fresh raftorctl connecting while the node's middleman
                # handshakes with the restarted intruder) is not a failure; two are.
                s = st[i] = c.node_status(i, timeout_ms=5000)
            check(s is not None, f"member {i} stopped answering")
            check(s["term"] == term and (s["leader"] == leader or i == leader),
                  f"member {i} disturbed by the intruder: {s} (leader {leader}, term {term})")
        check(st[leader]["role"] == "leader", f"node {leader} lost the lead: {st[leader]}")
        if c.nodes[intruder].running():
            s = c.node_status(intruder)
            if s:
                check(s["role"] != "leader", f"the intruder leads: {s}")
                worst = s
        time.sleep(0.2)
    return worst


def body(ctx):
    with ctx.cluster(3) as c:
        wl = Workload(c, duration=14).start()
        sw = SetWorkload(c).start()
        time.sleep(1)
        leader = c.wait_leader()
        term = c.answered_status(leader)["term"]
        intruder = [i for i in c.nodes if i != leader][0]
        node = c.nodes[intruder]
        own_dir = node.data_dir
        check(c.stop(intruder) == 0, f"node {intruder} did not exit 0")
        own_status = None
        notes = []
        for label, data_dir in (("fresh data dir", own_dir + "-foreign"), ("its own data dir", own_dir)):
            node.cluster_id, node.data_dir = "intruder", data_dir
            c.log(f"start node {intruder} with cluster id 'intruder' and {label}")
            try:
                c.start(intruder)
            except Exception as e:  # noqa: BLE001 - a clear refusal to start is fine
                c.log(f"node {intruder} refused to start: {str(e).splitlines()[0]}")
                notes.append(f"{label}: refused to start")
                continue
            s = watch(c, intruder, leader, term, 3)
            c.log(f"intruder after 3 s: {s}")
            if label.startswith("fresh"):
                check(s is None or s["commit"] == 0, f"the intruder learned entries: {s}")
            rc = c.stop(intruder)
            notes.append(f"{label}: kept out ({s['role'] if s else 'no status'}, commit "
                         f"{s['commit'] if s else '-'}), exit {rc}")
        with open(node.log_path, errors="replace") as f:
            text = f.read()
        refused = "cluster" in text and ("refus" in text or "another cluster" in text)
        c.log(f"intruder's log mentions the refusal: {refused}")
        node.cluster_id, node.data_dir = None, own_dir
        c.log(f"restart node {intruder} with the right cluster id")
        c.start(intruder)
        commit = c.answered_status(c.wait_leader())["commit"]
        c.wait_caught_up(intruder, min_index=commit)
        sw.stop()
        r = wl.check()
        s = sw.check()
        check(os.path.isdir(own_dir), "the member's data dir vanished")
        return ("; ".join(notes) + f"; leader {leader} kept term {term}; {r['ops']} ops "
                f"linearizable, lost {r['lost']}; set lost {s['lost']}")


if __name__ == "__main__":
    run_scenario("foreign_cluster", "a node with another cluster id must not join", body)
