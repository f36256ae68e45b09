#!/usr/bin/env python3
"""A follower's snapshot file is corrupted on disk while it is stopped (bytes flipped in
every snapshots/*.data file); on restart it must either refuse with a clear error or start
and recover (drop the bad snapshot, refetch or replay): then it catches up and its own state
holds every acknowledged element. The others keep serving; nothing acknowledged is lost."""
import glob
import os
import time

import _common  # noqa: F401
from harness import HarnessError, SetWorkload, Workload, check, run_scenario

SNAPSHOT_FLAGS = ["--snapshot-entries-threshold", "100", "--snapshot-retention-entries", "20"]


def flip(path, rng, count=16):
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        for _ in range(count):
            pos = rng.randrange(size)
            f.seek(pos)
            b = f.read(1)
            f.seek(pos)
            f.write(bytes([b[0] ^ 0xFF]))
    return size


def body(ctx):
    with ctx.cluster(3, extra_args=SNAPSHOT_FLAGS) as c:
        sw = SetWorkload(c, rate=0).start()
        leader = c.wait_leader()
        victim = [i for i in c.nodes if i != leader][0]
        snapdir = os.path.join(c.nodes[victim].data_dir, "snapshots")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not glob.glob(os.path.join(snapdir, "*.data")):
            time.sleep(0.2)
        time.sleep(1)
        wl = Workload(c, duration=8).start()
        rc = c.stop(victim)
        check(rc == 0, f"node {victim} exited with {rc}")
        files = sorted(glob.glob(os.path.join(snapdir, "*.data")))
        check(files, f"node {victim} has no snapshot file in {snapdir}")
        for path in files:
            size = flip(path, ctx.rng)
            c.log(f"flipped 16 bytes of {os.path.basename(path)} ({size} bytes)")
        time.sleep(1)  # the others keep writing
        c.log(f"restart node {victim}")
        outcome = None
        try:
            c.start(victim)
        except HarnessError as e:
            outcome = f"refused to start: {str(e).splitlines()[0]}"
        if outcome is None:
            time.sleep(1)
            if not c.nodes[victim].running():
                outcome = f"exited with {c.exit_code(victim)} after starting"
        if outcome:
            tail = c.nodes[victim].log_tail(8)
            c.log(f"node {victim} {outcome}; its log ends with:\n{tail}")
            check("snapshot" in tail.lower() or "checksum" in tail.lower(),
                  f"node {victim} stopped without a clear error about the snapshot")
        else:
            commit = c.answered_status(c.wait_leader())["commit"]
            st = c.wait_caught_up(victim, timeout=30, min_index=commit)
            with open(c.nodes[victim].log_path, errors="replace") as f:
                text = f.read()[c.nodes[victim].start_offset:]
            detected = "refusing snapshot" in text or "checksum" in text
            check(detected, f"node {victim} started without noticing its corrupt snapshot")
            outcome = (f"started, refused the corrupt snapshot, caught up (snapshot index "
                       f"{st['snapshot_index']})")
            c.log(f"node {victim} {outcome}")
        sw.stop()
        r = wl.check()
        s = sw.check()
        if c.nodes[victim].running():
            commit = c.answered_status(c.wait_leader())["commit"]
            c.wait_caught_up(victim, min_index=commit)
            sv = sw.check(ids=[victim], consistency="eventual")
            check(sv["lost"] == 0, "elements missing on the restarted node")
        return (f"node {victim}: {len(files)} corrupt snapshot files, {outcome}; "
                f"{r['ops']} ops linearizable, lost {r['lost']}; set lost {s['lost']}")


if __name__ == "__main__":
    run_scenario("corrupt_snapshot", "a corrupt snapshot file on disk", body)
