#!/usr/bin/env python3
"""A long randomized fault schedule against a cluster under a continuous workload.

    python3 tests/integration/scenarios/chaos.py --build build --duration 300 [--seed S]
    make chaos DURATION=300

Faults (chosen at random, the seed makes the schedule reproducible): kill -9 of a node or
of the leader followed by a restart, SIGTERM + restart, SIGSTOP of a node or of the leader
followed by SIGCONT, a leadership transfer (Raft thesis 3.10) to a random node, which may be
down or paused (then the transfer gives up and the leader goes on); with --partitions (nodes on a netlab network) also network partitions
cutting off a random minority, or a minority holding the leader, until healed. At most a
minority is down, paused or cut off at any time, so the cluster can always make progress. The workload runs in rounds (raftor-bench with history; each round on
its own keys, checked by raftor-lincheck) beside one set workload for the whole run. At the
end every node runs again, every round and the set are checked, and a summary table is
printed: operations, faults by kind, violations, lost writes.
"""
import collections
import time

import _common  # noqa: F401
from harness import CheckFailed, HarnessError, SetWorkload, Workload, run_scenario

KINDS = ["kill", "kill-leader", "term-restart", "pause", "pause-leader", "transfer-leader"]
NET_KINDS = ["partition", "partition-leader"]


def add_arguments(p):
    p.add_argument("--duration", type=float, default=60, help="seconds of faults (default 60)")
    p.add_argument("--nodes", type=int, default=3, help="cluster size (default 3)")
    p.add_argument("--round", type=float, default=20, help="seconds per workload round")
    p.add_argument("--partitions", action="store_true",
                   help="run on a netlab network and add network partitions to the faults")


def body(ctx):
    args, rng = ctx.args, ctx.rng
    faults = collections.Counter()
    transfers_done = 0  # leadership transfers that handed over (the others gave up)
    down = {}  # node -> ("killed" | "paused", when to bring it back)
    cut, heal_at = set(), None  # the minority a partition cut off, and when to heal
    kinds = KINDS + (NET_KINDS if args.partitions else [])
    rounds, results, problems = [], [], []
    with ctx.cluster(args.nodes, name="chaos", netlab=args.partitions) as c:
        c.log(f"network: {c.network_mode}")
        minority = (args.nodes - 1) // 2
        sw = SetWorkload(c, tag="chaos", rate=100).start()
        t_end = time.monotonic() + args.duration
        wl = None
        next_fault = time.monotonic() + rng.uniform(0.5, 2)
        while time.monotonic() < t_end or wl is not None:
            now = time.monotonic()
            if wl is None and now < t_end:
                wl = Workload(c, duration=min(args.round, max(2, t_end - now)),
                              name=f"round{len(rounds) + 1}").start()
                rounds.append(wl)
            if wl is not None and wl.elapsed() >= wl.duration:
                # Let the round finish and check it while faults continue; its final reads
                # wait for a leader all reachable nodes follow, so a partition heals first.
                if cut:
                    c.net.heal()
                    c.log(f"heal (nodes {sorted(cut)} were cut off) for the round's check")
                    cut = set()
                try:
                    results.append(wl.check())
                except CheckFailed as e:
                    problems.append(str(e))
                    results.append(wl.result)
                wl = None
            # Bring back what is due.
            if cut and time.monotonic() >= heal_at:
                c.net.heal()
                c.log(f"heal (nodes {sorted(cut)} were cut off)")
                cut = set()
            for node, (state, until) in list(down.items()):
                if time.monotonic() >= until:
                    if state == "paused":
                        c.resume(node)
                        c.log(f"SIGCONT node {node}")
                        del down[node]
                    else:
                        try:
                            c.start(node)
                            c.log(f"restarted node {node}")
                            del down[node]
                        except HarnessError as e:
                            problems.append(f"node {node} did not restart: {e}")
                            c.log(problems[-1])
                            down[node] = ("killed", time.monotonic() + 1)
            if time.monotonic() >= next_fault and time.monotonic() < t_end:
                next_fault = time.monotonic() + rng.uniform(1, 4)
                if len(down) + len(cut) < minority:
                    kind = rng.choice(kinds)
                    up = [i for i in c.nodes if i not in down]
                    target = None
                    if kind in NET_KINDS:
                        if cut:  # one partition at a time
                            continue
                        size = rng.randint(1, minority - len(down))
                        group = rng.sample(up, size)
                        leader = c.current_leader(up) if kind == "partition-leader" else None
                        if leader is not None and leader not in group:
                            group[0] = leader
                        cut = set(group)
                        rest = [i for i in c.nodes if i not in cut]
                        c.net.partition([sorted(cut), rest])
                        heal_at = time.monotonic() + rng.uniform(0.5, 4.0)
                        faults[kind] += 1
                        c.log(f"fault: partition {sorted(cut)} | {rest} ({kind})")
                        continue
                    if kind == "transfer-leader":
                        target = rng.choice([i for i in c.nodes])
                        rc, _, err = c.ctl("transfer-leader", target, timeout_ms=3000)
                        faults[kind] += 1
                        transfers_done += rc == 0
                        c.log(f"fault: transfer leadership to node {target}: "
                              f"{'done' if rc == 0 else err.strip()}")
                        continue
                    if kind.endswith("leader"):
                        target = c.current_leader(up)
                    if target is None:
                        target = rng.choice(up)
                    back = time.monotonic() + rng.uniform(0.3, 3.0)
                    if kind.startswith("kill"):
                        c.kill(target)
                        down[target] = ("killed", back)
                        c.log(f"fault: kill -9 node {target} ({kind})")
                    elif kind == "term-restart":
                        rc = c.stop(target)
                        if rc != 0:
                            problems.append(f"node {target} exited with {rc} after SIGTERM")
                        down[target] = ("killed", back)
                        c.log(f"fault: SIGTERM node {target} (exit {rc})")
                    else:
                        c.pause(target)
                        down[target] = ("paused", back)
                        c.log(f"fault: SIGSTOP node {target} ({kind})")
                    faults[kind] += 1
            for i in c.nodes:  # a node that stopped on its own is a finding
                if i not in down and not c.nodes[i].running():
                    problems.append(f"node {i} exited with {c.exit_code(i)} on its own")
                    c.log(problems[-1])
                    c.start(i)
            time.sleep(0.05)
        if cut:
            c.net.heal()
        for node, (state, _) in list(down.items()):
            if state == "paused":
                c.resume(node)
            else:
                c.start(node)
        c.wait_leader(timeout=30)
        sw.stop()
        try:
            sres = sw.check()
        except CheckFailed as e:
            problems.append(str(e))
            sres = sw.result
        for i in c.nodes:
            try:
                c.wait_caught_up(i, timeout=30)
            except Exception as e:  # noqa: BLE001
                problems.append(f"node {i} did not catch up at the end: {e}")

        ops = sum(r.get("ops", 0) for r in results)
        ok = sum(r.get("ok", 0) for r in results)
        unknown = sum(r.get("unknown", 0) for r in results)
        lost = sum(r.get("lost", 0) for r in results) + sres.get("lost", 0)
        violations = sum(1 for r in results if r.get("lincheck", 0) == 1)
        undecided = sum(1 for r in results if r.get("lincheck", 0) not in (0, 1))
        rows = [("seed", ctx.seed), ("duration s", f"{args.duration:.0f}"),
                ("nodes", args.nodes), ("workload rounds", len(results)),
                ("operations", ops), ("  ok", ok), ("  unknown outcome", unknown),
                ("set adds / acknowledged", f"{sres.get('adds', 0)} / {sres.get('acked', 0)}")]
        rows += [("network", c.network_mode)]
        rows += [(f"faults: {k}", faults[k]) for k in kinds]
        rows += [("  transfers handed over", transfers_done)]
        rows += [("faults total", sum(faults.values())),
                 ("linearizability violations", violations),
                 ("linearizability unknown", undecided), ("lost writes", lost),
                 ("set duplicated", sres.get("duplicated", 0)),
                 ("other problems", len(problems) - violations - undecided)]
        width = max(len(r[0]) for r in rows)
        print("\n" + "-" * (width + 14))
        for k, v in rows:
            print(f"{k:<{width}}  {v:>10}")
        print("-" * (width + 14), flush=True)
        if problems:
            raise CheckFailed(f"{len(problems)} problems: " + " | ".join(problems[:5]))
        return (f"{ops} ops, {sum(faults.values())} faults, 0 violations, 0 lost writes")


if __name__ == "__main__":
    run_scenario("chaos", "randomized kills, restarts and pauses under load", body,
                 add_arguments)
