#!/usr/bin/env python3
"""Regression: a retried write must be applied once (chaos seed 11 once found one applied
twice). Deterministic: in each round the followers' traffic to the leader is cut (one way,
so the leader's entries still reach them but it never hears back and never commits), every
client sends one write to that leader, and once the followers hold the entries the leader
is SIGSTOPped. The followers elect a new leader, which commits the entries: the first
attempts are applied, and their replies are lost with the frozen leader. Meanwhile another
client overwrites the put keys. When their request to the frozen leader times out, the
clients retry with the same client id and sequence on the new leader: the state machine's
session table (Raft thesis §6.3) must report the first outcome, not apply them again.

Checked, each round and at the end:
  - put clients: the retried put does not come back over the later write (reads show
    a, then b, and b stays);
  - append clients: each owns a key holding a list of elements, appended by a cas loop
    (read, cas(old, old + ",e"), re-read and again on a mismatch, as a real client would):
    every cas reply says swapped (the key is the client's own), and every element appears
    exactly once;
  - every retried write really went to the old leader first and then to the new one
    (kvbatch reports the nodes a write was proposed to), and its first attempt committed;
  - the whole history is linearizable; after healing the nodes converge with equal values.

    retry_double_apply.py --build build [--rounds 3] [--clients 3]
"""
import threading
import time

import _common  # noqa: F401
from harness import (CheckFailed, HarnessError, History, RecordedClient, check, join_within,
                     run_scenario)

# The frozen leader holds the first attempts this long before the clients retry: long enough
# for the election, the commit of the first attempts and the overwrites (about 1-2 s).
RETRY_AFTER_MS = 4000
# A round's writes are done in about RETRY_AFTER_MS; each kvbatch call has a 20 s deadline.
WRITES_WITHIN_S = 45


def add_arguments(p):
    p.add_argument("--rounds", type=int, default=3, help="leader changes (default 3)")
    p.add_argument("--clients", type=int, default=3,
                   help="put clients and append clients each (default 3)")


class Appender:
    """A client appending elements to its own key with a read + cas loop."""

    def __init__(self, c, history, n):
        self.key = f"list-{n}"
        self.client = RecordedClient(c, history, timeout_ms=RETRY_AFTER_MS, deadline_ms=20000)
        self.appended = []      # elements this client was told it appended
        self.mismatches = []    # cas replies "not swapped" on this client's own key
        self.value = None

    def init(self):
        r = self.client.put(self.key, "start")
        check(r.get("ok"), f"{self.key}: initial put failed: {r}")
        self.value = "start"

    def append(self, element):
        """One element, retried until a cas reports it swapped; returns the first cas reply."""
        first = None
        for _ in range(5):
            new = f"{self.value},{element}"
            r = self.client.cas(self.key, self.value, new)
            first = first or r
            if r.get("ok") and r.get("swapped"):
                self.value = new
                self.appended.append(element)
                return first
            if r.get("ok"):
                self.mismatches.append((element, r))
            g = self.client.get(self.key)  # unknown outcome or a mismatch: look, then again
            check(g.get("ok"), f"{self.key}: read failed: {g}")
            self.value = g["value"]
        raise CheckFailed(f"{self.key}: could not append {element} in 5 tries: {r}")


class RoundSkipped(Exception):
    """The setup of a round did not happen as planned (e.g. an election, on a loaded machine,
    moved the leader before the cut): the round tests nothing and is done again."""


def wait_holding(c, nodes, index, timeout=5):
    """Waits until each of `nodes` has entries up to `index` in its log."""
    deadline = time.monotonic() + timeout
    st = None
    while time.monotonic() < deadline:
        st = c.status(nodes)
        if all(s and s["last_index"] >= index for s in st.values()):
            return st
        time.sleep(0.02)
    raise RoundSkipped(f"nodes {nodes} do not hold the entries up to {index}: {st}")


def one_round(c, rnd, tag, putters, appenders, history):
    """Round `rnd`; `tag` makes its values unique (a round done again gets a new one)."""
    old = c.wait_leader()
    followers = [i for i in c.nodes if i != old]
    # Warm up: every client's cached leader is `old`, so its next write goes there first.
    for k, p in enumerate(putters):
        check(p.put(f"reg-{k}", f"w{tag}-{k}").get("ok"), "warm-up put failed")
    for a in appenders:
        a.append(f"w{tag}-{a.key}")
    base = c.answered_status(old)["last_index"]

    for f in followers:
        c.net.cut_one_way(f, old)
    c.log(f"round {rnd}: followers {followers} -> leader {old}: cut one way; "
          f"{len(putters) + len(appenders)} writes to the leader")
    results = {}

    def run(name, call):
        try:
            results[name] = call()
        except Exception as e:  # noqa: BLE001 - re-raised by the main thread
            results[name] = e

    threads = [threading.Thread(target=run, args=(("put", f"reg-{k}"), lambda k=k, p=p: p.put(
        f"reg-{k}", f"a{tag}-{k}")), name=f"put reg-{k}", daemon=True)
        for k, p in enumerate(putters)]
    threads += [threading.Thread(target=run, args=(("append", a.key), lambda a=a: a.append(
        f"e{tag}")), name=f"append {a.key}", daemon=True) for a in appenders]
    for t in threads:
        t.start()
    writes = len(threads)
    try:
        st = wait_holding(c, [old], base + writes)  # the leader appended them all ...
        wait_holding(c, followers, st[old]["last_index"])  # ... and the followers too
    except RoundSkipped:
        c.net.heal()
        join_within(threads, WRITES_WITHIN_S, f"round {rnd} (skipped)")
        raise
    c.pause(old)
    t0 = time.monotonic()
    c.log(f"round {rnd}: followers hold entries up to {st[old]['last_index']}; "
          f"SIGSTOP leader {old}")
    new = c.wait_leader(ids=followers, timeout=10)
    c.log(f"round {rnd}: new leader {new} after {time.monotonic() - t0:.2f} s")

    # The first attempts are committed by the new leader; then other writes overwrite the
    # put keys, all before the clients' retries (RETRY_AFTER_MS after they sent).
    with RecordedClient(c, history, ids=followers) as other:
        for k in range(len(putters)):
            r = other.get(f"reg-{k}")
            check(r.get("ok"), f"read of reg-{k} through the new leader failed: {r}")
            if r["value"] != f"a{tag}-{k}":
                raise HarnessError(
                    f"round {rnd}: reg-{k} is {r['value']!r}: the first attempt was not "
                    f"committed by the new leader, so this round tests no retry")
            check(other.put(f"reg-{k}", f"b{tag}-{k}").get("ok"), "overwrite failed")
        before_retry = time.monotonic() - t0
        join_within(threads, WRITES_WITHIN_S, f"round {rnd}")
        retried = 0
        for (kind, name), r in sorted(results.items()):
            if isinstance(r, Exception):
                raise r
            to = r.get("proposed_to", [])
            check(r.get("ok"), f"round {rnd}: {kind} {name} failed: {r}")
            if not (to and to[0] == old and to[-1] == new and len(to) >= 2):
                raise HarnessError(f"round {rnd}: {kind} {name} was not retried from the old "
                                   f"leader {old} to the new one {new}: proposed to {to}")
            retried += 1
            if kind == "append":
                check(r.get("swapped"), f"round {rnd}: the retried cas on {name} (a key only "
                                        f"its client writes) reported no swap: the retry was "
                                        f"applied again after the first attempt: {r}")
        for k in range(len(putters)):
            r = other.get(f"reg-{k}")
            check(r.get("ok") and r["value"] == f"b{tag}-{k}",
                  f"round {rnd}: reg-{k} is {r.get('value')!r} after the retry, expected "
                  f"b{tag}-{k}: the retried put a{tag}-{k} was applied a second time")
    c.log(f"round {rnd}: {retried} writes retried on node {new}, each applied once "
          f"(overwrites done {before_retry:.2f} s after the SIGSTOP, before the retries)")
    c.resume(old)
    c.net.heal()
    c.wait_leader(timeout=15)
    return retried


def body(ctx):
    # debug: the nodes log the retried requests their state machine did not apply again
    with ctx.cluster(3, netlab=True, name="retry", log_level="debug") as c:
        c.log(f"netlab mode: {c.network_mode}")
        history = History()
        putters = [RecordedClient(c, history, timeout_ms=RETRY_AFTER_MS, deadline_ms=20000)
                   for _ in range(ctx.args.clients)]
        appenders = [Appender(c, history, n) for n in range(ctx.args.clients)]
        try:
            for a in appenders:
                a.init()
            retried, rnd, skipped = 0, 0, 0
            while rnd < ctx.args.rounds:
                try:
                    retried += one_round(c, rnd + 1, f"{rnd + 1}.{skipped}", putters, appenders,
                                         history)
                    rnd += 1
                except RoundSkipped as e:
                    skipped += 1
                    c.log(f"round {rnd + 1} skipped, done again: {e}")
                    if skipped > ctx.args.rounds:
                        raise HarnessError(f"{skipped} rounds skipped: {e}")
                    c.wait_leader(timeout=15)
            try:
                c.wait_converged(timeout=30)
            except HarnessError as e:
                raise CheckFailed(str(e))
            # Every element exactly once, on every node.
            for a in appenders:
                check(not a.mismatches, f"{a.key}: cas on the client's own key reported "
                                        f"mismatches (a write applied twice): {a.mismatches}")
                want = ",".join(["start"] + a.appended)
                for i in c.nodes:
                    with RecordedClient(c, history, ids=[i]) as kv:
                        got = kv.get(a.key, consistency="eventual")
                    check(got.get("ok"), f"node {i}: reading {a.key} failed: {got}")
                    elements = (got["value"] or "").split(",")[1:]
                    dups = sorted({e for e in elements if elements.count(e) > 1})
                    check(not dups, f"node {i}: {a.key} holds {dups} more than once: "
                                    f"{got['value']!r}")
                    check(got["value"] == want,
                          f"node {i}: {a.key} is {got['value']!r}, expected {want!r}")
        finally:
            for client in putters + [a.client for a in appenders]:
                client.close()
            history.write(f"{c.work_dir}/history.jsonl")
        summary = history.check(c, f"{c.work_dir}/history.jsonl")
        elements = sum(len(a.appended) for a in appenders)
        return (f"{c.network_mode} mode: {ctx.args.rounds} rounds, {retried} writes whose "
                f"first attempt committed without a reply, retried on a new leader, each "
                f"applied once; {elements} list elements each present once on every node; "
                f"history linearizable ({summary})")


if __name__ == "__main__":
    run_scenario("retry_double_apply", "a retried write whose first attempt committed", body,
                 add_arguments)
