"""Hand-driven clients whose operations are recorded for raftor-lincheck.

    history = History()
    with RecordedClient(c, history) as a, RecordedClient(c, history, ids=[2, 3]) as b:
        a.put("k", "v1"); b.get("k"); a.cas("k", "v1", "v2")
    history.check(c, os.path.join(c.work_dir, "history.jsonl"))   # CheckFailed if not

Scenarios that place each operation themselves (rather than run raftor-bench) use this to
get the same linearizability check. Each RecordedClient is one lincheck process: one
raftor-kvbatch client, one request at a time. Replies are the raw kvbatch answers (see
kvbatch_main.cpp), "proposed_to" included for writes.
"""

import itertools
import json
import threading
import time

from .workload import CheckFailed, KvClient, run_lincheck


class History:
    """Invoke and completion events of every RecordedClient on it (thread-safe)."""

    def __init__(self):
        self._events = []
        self._lock = threading.Lock()
        self._processes = itertools.count(1)

    def new_process(self):
        with self._lock:
            return next(self._processes)

    def add(self, event):
        with self._lock:
            self._events.append(event)

    def events(self):
        with self._lock:
            return list(self._events)

    def write(self, path):
        """The events so far as JSON lines (also for a failed run's post-mortem)."""
        events = self.events()
        with open(path, "w") as f:
            for e in events:
                f.write(json.dumps(e) + "\n")
        return events

    def check(self, cluster, path):
        """Writes the history to `path` and runs raftor-lincheck on it: returns its summary,
        raises CheckFailed on a violation or an unknown verdict."""
        events = self.write(path)
        rc, lines = run_lincheck(cluster, path)
        summary = " ".join(lines)
        ops = sum(1 for e in events if e["type"] == "invoke")
        cluster.log(f"history: {ops} ops; lincheck: "
                    f"{'linearizable' if rc == 0 else 'VIOLATION' if rc == 1 else 'UNKNOWN'}")
        if rc == 1:
            raise CheckFailed(f"history not linearizable: {summary} (history: {path})")
        if rc != 0:
            raise CheckFailed(f"linearizability unknown: {summary} (history: {path})")
        return summary


class RecordedClient:
    """A KvClient (all nodes by default, or `ids`) recording into `history`. Only
    linearizable reads are recorded: eventual ones promise nothing to check."""

    def __init__(self, cluster, history, ids=None, timeout_ms=1000, deadline_ms=5000):
        self.history = history
        self.process = history.new_process()
        self.kv = KvClient(cluster, ids=ids, timeout_ms=timeout_ms, deadline_ms=deadline_ms)

    def _record(self, invoke, call):
        self.history.add(dict(invoke, process=self.process, type="invoke",
                              time=time.monotonic_ns()))
        reply = call()
        done = {"process": self.process, "f": invoke["f"], "key": invoke["key"],
                "time": time.monotonic_ns()}
        if not reply.get("ok"):
            done["type"] = "info"  # a write may have been applied; a read constrains nothing
        else:
            done["type"] = "ok"
            if invoke["f"] == "get":
                done["value"] = reply.get("value")
            elif invoke["f"] == "cas":
                done["succeeded"] = bool(reply.get("swapped"))
        self.history.add(done)
        return reply

    def put(self, key, value):
        return self._record({"f": "put", "key": key, "value": value},
                            lambda: self.kv.put(key, value))

    def cas(self, key, expected, value):
        return self._record({"f": "cas", "key": key, "expected": expected, "value": value},
                            lambda: self.kv.cas(key, expected, value))

    def get(self, key, consistency="linearizable"):
        if consistency != "linearizable":
            return self.kv.get(key, consistency)
        return self._record({"f": "get", "key": key}, lambda: self.kv.get(key))

    def close(self):
        self.kv.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
