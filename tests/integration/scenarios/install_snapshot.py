#!/usr/bin/env python3
"""A follower is down while the others write and purge their logs (small snapshot
thresholds): when it comes back the leader no longer has the entries it needs, so it must
catch up through InstallSnapshot. Its status then shows a snapshot index past what it had,
its own state machine holds every acknowledged element, and the history is linearizable."""
import time

import _common  # noqa: F401
from harness import SetWorkload, Workload, check, run_scenario

SNAPSHOT_FLAGS = ["--snapshot-entries-threshold", "100", "--snapshot-retention-entries", "20"]


def body(ctx):
    with ctx.cluster(3, extra_args=SNAPSHOT_FLAGS) as c:
        leader = c.wait_leader()
        lagger = [i for i in c.nodes if i != leader][0]
        sw = SetWorkload(c, rate=0).start()  # as fast as one client goes
        time.sleep(1)
        st = c.node_status(lagger)
        c.log(f"stop follower {lagger} (last index {st['last_index']}, snapshot "
              f"{st['snapshot_index']})")
        check(c.stop(lagger) == 0, f"node {lagger} did not exit 0 after SIGTERM")
        was_last = st["last_index"]
        wl = Workload(c, duration=6).start()
        # Write until the leader's log starts past what the lagger has.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            lst = c.node_status(c.wait_leader())
            if lst["first_index"] > was_last + 1 and lst["snapshot_index"] > was_last + 100:
                break
            time.sleep(0.3)
        check(lst["first_index"] > was_last + 1,
              f"the leader's log was not purged past {was_last}: {lst}")
        c.log(f"leader log now starts at {lst['first_index']} (snapshot {lst['snapshot_index']}); "
              f"restart node {lagger}")
        wl.wait()
        sw.stop()
        t0 = time.monotonic()
        c.start(lagger)
        commit = c.answered_status(c.wait_leader())["commit"]
        st = c.wait_caught_up(lagger, timeout=30, min_index=commit)
        dt = time.monotonic() - t0
        c.log(f"node {lagger} caught up in {dt:.2f} s: {st}")
        check(st["snapshot_index"] > was_last,
              f"node {lagger} shows snapshot index {st['snapshot_index']}, not past {was_last}")
        with open(c.nodes[lagger].log_path, errors="replace") as f:
            installed = "installed the snapshot" in f.read()
        check(installed, f"node {lagger}'s log has no 'installed the snapshot' line")
        s1 = sw.check(ids=[lagger], consistency="eventual")
        r = wl.check()
        s2 = sw.check()
        return (f"node {lagger} down at index {was_last}, leader log purged to "
                f"{lst['first_index']}; caught up by InstallSnapshot in {dt:.2f} s "
                f"(snapshot index {st['snapshot_index']}); {s1['acked']} elements on it, lost "
                f"{s1['lost']}; {r['ops']} ops linearizable; lost {s2['lost']}")


if __name__ == "__main__":
    run_scenario("install_snapshot", "a lagging node catches up through InstallSnapshot", body)
