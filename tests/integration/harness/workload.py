"""Workloads against a Cluster and their checks.

Workload      raftor-bench in the background, recording histories: one bench process with
              several clients doing puts and linearizable gets, one doing cas, on a small
              shared key space. check() reads every key at the end, merges the histories,
              counts lost writes and asks raftor-lincheck whether the whole is linearizable.
SetWorkload   one client adding unique elements (put set-<tag>-<n> = e<n>) in a thread;
              check() reads every element back: acknowledged ones must all be there.
KvClient      one raftor-kvbatch process: a client driven request by request.
"""

import json
import os
import select
import subprocess
import threading
import time

from .cluster import HarnessError, kill_proc, spawn, _die_with_parent


class CheckFailed(Exception):
    """A scenario's check found a problem in raftor (not in the harness)."""


# --- one client, request by request ------------------------------------------------------

class KvClient:
    def __init__(self, cluster, ids=None, timeout_ms=1000, deadline_ms=5000):
        self.argv = [cluster.kvbatch_bin, "--endpoints", cluster.endpoints(ids),
                     "--timeout-ms", str(timeout_ms), "--deadline-ms", str(deadline_ms)]
        # A call returns by its deadline (raftor::client::Client promises it); the margin is
        # for a loaded machine. One request at a time: at most one answer line is buffered.
        self.answer_within = deadline_ms / 1000 + 15
        self.proc = spawn(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def request(self, f, key, **fields):
        req = dict(fields, f=f, key=key)
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], self.answer_within)
        if not ready:
            raise CheckFailed(f"raftor-kvbatch gave no answer to {req} within "
                              f"{self.answer_within:.0f} s, beyond its deadline")
        line = self.proc.stdout.readline()
        if not line:
            raise HarnessError(f"raftor-kvbatch exited ({self.proc.poll()})")
        return json.loads(line)

    def put(self, key, value):
        return self.request("put", key, value=value)

    def get(self, key, consistency="linearizable"):
        return self.request("get", key, consistency=consistency)

    def cas(self, key, expected, value):
        return self.request("cas", key, expected=expected, value=value)

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            pass
        kill_proc(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# --- histories ---------------------------------------------------------------------------

def read_history(path):
    events = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                events.append(json.loads(line))
    return events


def pair_operations(events):
    """Invoke/completion pairs per process, in order: dicts with f, key, value, expected,
    type (ok|fail|info), succeeded, read (value returned by a get), t0, t1 (None: unknown)."""
    ops, open_ops = [], {}
    for e in events:
        p = e["process"]
        if e["type"] == "invoke":
            if p in open_ops:  # a new invoke closes the previous one as unknown
                ops.append(open_ops.pop(p))
            open_ops[p] = {"process": p, "f": e["f"], "key": e["key"], "value": e.get("value"),
                           "expected": e.get("expected"), "type": "info", "t0": e["time"],
                           "t1": None, "succeeded": None, "read": None}
        else:
            op = open_ops.pop(p, None)
            if op is None:
                continue
            op["type"] = e["type"]
            if e["type"] == "ok":
                op["t1"] = e["time"]
                op["succeeded"] = e.get("succeeded")
                if op["f"] == "get":
                    op["read"] = e.get("value")
            ops.append(op)
    ops.extend(open_ops.values())
    return ops


def lost_writes(ops, final):
    """Acknowledged writes the final values contradict. `final`: {key: value or None}.
    For each key, the final value's writer w must not be followed in real time (invoked
    after w completed) by an acknowledged write; a missing value with an acknowledged write,
    or a value nobody wrote, count too. Returns (lost count, details)."""
    lost, details = 0, []
    by_key = {}
    for op in ops:
        if op["f"] in ("put", "cas") and op["type"] != "fail":
            if op["f"] == "cas" and op["type"] == "ok" and not op["succeeded"]:
                continue  # changed nothing
            by_key.setdefault(op["key"], []).append(op)
    for key, writes in by_key.items():
        acked = [w for w in writes if w["type"] == "ok"]
        if key not in final:
            continue
        v = final[key]
        if v is None:
            if acked:
                lost += len(acked)
                details.append(f"{key}: absent, {len(acked)} acknowledged writes")
            continue
        writers = [w for w in writes if w["value"] == v]
        if not writers:
            lost += 1
            details.append(f"{key}: final value {v!r} was never written")
            continue
        w = writers[0]
        if w["t1"] is None:
            continue  # unknown write: could have landed last
        after = [a for a in acked if a["t0"] > w["t1"]]
        if after:
            lost += len(after)
            details.append(f"{key}: final value {v!r} but {len(after)} acknowledged writes "
                           f"were invoked after it completed, e.g. {after[-1]['value']!r}")
    return lost, details


def run_lincheck(cluster, history_path):
    """(exit code, one-line summary) of raftor-lincheck on the file."""
    p = subprocess.run([cluster.lincheck_bin, history_path], capture_output=True, text=True,
                       timeout=300, preexec_fn=_die_with_parent)
    return p.returncode, (p.stdout.strip() or p.stderr.strip()).splitlines()[0:6]


# --- raftor-bench workload ---------------------------------------------------------------

class Workload:
    """raftor-bench in the background: `clients` clients of puts + linearizable gets and
    `cas_clients` clients of cas, all on `key_space` keys."""

    def __init__(self, cluster, duration=10.0, clients=4, cas_clients=2, key_space=8,
                 read_percent=50, timeout_ms=1000, deadline_ms=4000, name="workload"):
        self.cluster = cluster
        self.duration = duration
        self.name = name
        self.key_size = cluster.next_key_size()
        self.timeout_ms, self.deadline_ms = timeout_ms, deadline_ms
        self.dir = os.path.join(cluster.work_dir, name)
        os.makedirs(self.dir, exist_ok=True)
        common = ["--endpoints", cluster.endpoints(), "--duration", str(duration),
                  "--key-space", str(key_space), "--key-size", str(self.key_size),
                  "--timeout-ms", str(timeout_ms), "--deadline-ms", str(deadline_ms),
                  "--no-progress"]
        # Distinct value sizes keep the two processes' values distinct ("v<w>-<n>-xxx").
        self.runs = []
        if clients:
            self.runs.append(("mix", common + ["--clients", str(clients), "--op", "mix",
                                               "--read-percent", str(read_percent),
                                               "--value-size", "24"]))
        if cas_clients:
            self.runs.append(("cas", common + ["--clients", str(cas_clients), "--op", "cas",
                                               "--value-size", "25"]))
        self.procs = []
        self.started = None
        self.history_path = os.path.join(self.dir, "history.jsonl")
        self.result = {}
        self.final = {}

    def start(self):
        self.started = time.monotonic()
        for tag, args in self.runs:
            hist = os.path.join(self.dir, f"history-{tag}.jsonl")
            out = open(os.path.join(self.dir, f"bench-{tag}.out"), "w")
            p = spawn([self.cluster.bench_bin] + args + ["--history", hist],
                      stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            out.close()
            self.procs.append((tag, p, hist))
        return self

    def elapsed(self):
        return time.monotonic() - self.started

    def wait(self):
        limit = self.duration + self.deadline_ms / 1000 + 30
        for tag, p, _ in self.procs:
            try:
                rc = p.wait(timeout=max(1, limit - self.elapsed()))
            except subprocess.TimeoutExpired:
                kill_proc(p)
                raise HarnessError(f"raftor-bench ({tag}) did not finish within {limit:.0f} s")
            if rc not in (0, 1):
                out = open(os.path.join(self.dir, f"bench-{tag}.out")).read()
                raise HarnessError(f"raftor-bench ({tag}) exited with {rc}: {out}")

    def check(self, final_reads=True):
        """Waits for the bench processes, reads every key, checks. Returns a dict with ops,
        ok, unknown, lost, lincheck (exit code) and a summary; raises CheckFailed."""
        self.wait()
        events = []
        for i, (tag, _, hist) in enumerate(self.procs):
            for e in read_history(hist):
                e["process"] += 100 * i
                events.append(e)
        ops = pair_operations(events)
        keys = sorted({op["key"] for op in ops})
        final = {}
        if final_reads and keys:
            self.cluster.wait_leader(timeout=20)
            with KvClient(self.cluster, deadline_ms=10000) as kv:
                for n, key in enumerate(keys):
                    t0 = time.monotonic_ns()
                    r = kv.get(key)
                    t1 = time.monotonic_ns()
                    if not r.get("ok"):
                        raise CheckFailed(f"final read of {key} failed: {r.get('error')}")
                    final[key] = r["value"]
                    p = 10000 + n
                    events.append({"process": p, "type": "invoke", "f": "get", "key": key,
                                   "time": t0})
                    events.append({"process": p, "type": "ok", "f": "get", "key": key,
                                   "value": r["value"], "time": t1})
        with open(self.history_path, "w") as f:
            for e in events:
                f.write(json.dumps(e) + "\n")
        self.final = final  # {key: value read at the end}, e.g. to compare nodes with
        lost, lost_details = lost_writes(ops, final)
        rc, lin = run_lincheck(self.cluster, self.history_path)
        counts = {t: sum(1 for op in ops if op["type"] == t) for t in ("ok", "fail", "info")}
        self.result = {"ops": len(ops), "ok": counts["ok"], "failed": counts["fail"],
                       "unknown": counts["info"], "lost": lost, "lincheck": rc,
                       "lincheck_summary": " ".join(lin), "history": self.history_path}
        summary = (f"{self.name}: {len(ops)} ops ({counts['ok']} ok, {counts['fail']} failed, "
                   f"{counts['info']} unknown) on {len(keys)} keys; lost writes {lost}; "
                   f"lincheck: {'linearizable' if rc == 0 else 'VIOLATION' if rc == 1 else 'UNKNOWN'}")
        self.result["summary"] = summary
        self.cluster.log(summary)
        problems = []
        if lost:
            problems.append(f"{lost} acknowledged writes lost: " + "; ".join(lost_details[:5]))
        if rc == 1:
            problems.append("history not linearizable: " + " | ".join(lin))
        elif rc != 0:
            problems.append("linearizability unknown: " + " | ".join(lin))
        if counts["ok"] == 0:
            problems.append("no operation succeeded")
        if problems:
            raise CheckFailed(f"{self.name}: " + "; ".join(problems) +
                              f" (history: {self.history_path})")
        return self.result


# --- set workload ------------------------------------------------------------------------

class SetWorkload:
    """One client adding unique elements in a thread until stop()."""

    def __init__(self, cluster, tag="s", rate=200.0, name="set", timeout_ms=1000,
                 deadline_ms=4000):
        self.cluster = cluster
        self.tag = tag
        self.name = name
        self.interval = 1.0 / rate if rate else 0
        self.timeout_ms, self.deadline_ms = timeout_ms, deadline_ms
        self.attempts = []  # (n, key, value, "ok" | "unknown")
        self._stop = threading.Event()
        self._thread = None
        self.error = None
        self.result = {}
        self.log_path = os.path.join(cluster.work_dir, f"{name}.jsonl")

    def key(self, n):
        return f"set-{self.tag}-{n:07d}"

    def start(self):
        self._client = KvClient(self.cluster, timeout_ms=self.timeout_ms,
                                deadline_ms=self.deadline_ms)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        n = 0
        try:
            with open(self.log_path, "w") as log:
                while not self._stop.is_set():
                    n += 1
                    key, value = self.key(n), f"e{n}"
                    t0 = time.monotonic_ns()
                    r = self._client.put(key, value)
                    outcome = "ok" if r.get("ok") else "unknown"
                    self.attempts.append((n, key, value, outcome))
                    log.write(json.dumps({"n": n, "key": key, "outcome": outcome, "t0": t0,
                                          "t1": time.monotonic_ns(),
                                          "error": r.get("error")}) + "\n")
                    if self.interval:
                        time.sleep(self.interval)
        except Exception as e:  # noqa: BLE001
            self.error = e

    def acked(self):
        return sum(1 for a in self.attempts if a[3] == "ok")

    def wait_acked(self, count, timeout):
        """Whether `count` adds were acknowledged within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self.acked() < count:
            if time.monotonic() > deadline or self.error:
                return False
            time.sleep(0.02)
        return True

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=self.deadline_ms / 1000 + 15)
        self._client.close()
        if self.error:
            raise HarnessError(f"set workload: {self.error}")

    def check(self, ids=None, consistency="linearizable"):
        """Reads every attempted element (through the nodes `ids`, all by default):
        lost = acknowledged but missing or changed; duplicated = an element found under more
        than one key (impossible unless data mixes up); unknown writes may or may not be
        there. Raises CheckFailed on a lost or duplicated element."""
        if self._thread and self._thread.is_alive():
            self.stop()
        lost, dup, present_unknown, seen = [], 0, 0, {}
        with KvClient(self.cluster, ids=ids, deadline_ms=10000) as kv:
            for n, key, value, outcome in self.attempts:
                r = kv.get(key, consistency=consistency)
                if not r.get("ok"):
                    raise CheckFailed(f"{self.name}: reading {key} failed: {r.get('error')}")
                got = r["value"]
                if got is not None:
                    seen.setdefault(got, []).append(key)
                if outcome == "ok" and got != value:
                    lost.append((key, got))
                elif outcome == "unknown" and got == value:
                    present_unknown += 1
        dup = sum(len(keys) - 1 for keys in seen.values() if len(keys) > 1)
        acked = self.acked()
        where = f"nodes {ids}" if ids else "the cluster"
        summary = (f"{self.name}: {len(self.attempts)} adds, {acked} acknowledged, "
                   f"{len(self.attempts) - acked} unknown ({present_unknown} present); "
                   f"read back through {where} ({consistency}): lost {len(lost)}, "
                   f"duplicated {dup}")
        self.result = {"adds": len(self.attempts), "acked": acked, "lost": len(lost),
                       "duplicated": dup, "summary": summary}
        self.cluster.log(summary)
        if lost or dup:
            raise CheckFailed(f"{summary}; first lost: {lost[:5]} (log: {self.log_path})")
        if acked == 0:
            raise CheckFailed(f"{self.name}: no element was acknowledged")
        return self.result
