"""etcd's side of the benchmark: a 3-member etcd cluster (Debian's etcd-server) on loopback,
clients on ports 23791-23793 and peers on 23801-23803 (as in ../shared/tools/etcd-bench),
default durability (fsync of its WAL before acknowledging), data in a temporary directory;
driven with wrk through etcd's JSON gateway (/v3/kv/put, /v3/kv/range) on the leader.

Processes are started with the integration harness's spawn(), so they die with this script
(on exit, Ctrl-C, or even SIGKILL of the script through PR_SET_PDEATHSIG).
"""

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request

from harness.cluster import _die_with_parent, kill_proc, spawn

import workloads as wl

CLIENT_PORTS = (23791, 23792, 23793)
PEER_PORTS = (23801, 23802, 23803)
WRK_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk", "etcd_kv.lua")
TXN_MAX_OPS = 128  # etcd's default --max-txn-ops


def _tool_version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


class EtcdSide:
    name = "etcd"

    def __init__(self, work_dir):
        for tool in ("etcd", "etcdctl", "wrk"):
            if shutil.which(tool) is None:
                raise SystemExit(f"{tool} is missing: run scripts/setup-bench.sh")
        self.work_dir = work_dir
        os.makedirs(work_dir, exist_ok=True)
        self.procs = []
        cluster = ",".join(f"e{i}=http://127.0.0.1:{p}" for i, p in enumerate(PEER_PORTS, 1))
        for i, (cport, pport) in enumerate(zip(CLIENT_PORTS, PEER_PORTS), 1):
            argv = ["etcd", "--name", f"e{i}", "--data-dir", os.path.join(work_dir, f"e{i}"),
                    "--listen-client-urls", f"http://127.0.0.1:{cport}",
                    "--advertise-client-urls", f"http://127.0.0.1:{cport}",
                    "--listen-peer-urls", f"http://127.0.0.1:{pport}",
                    "--initial-advertise-peer-urls", f"http://127.0.0.1:{pport}",
                    "--initial-cluster", cluster, "--initial-cluster-state", "new",
                    "--initial-cluster-token", "bench", "--log-level", "error"]
            log = open(os.path.join(work_dir, f"e{i}.log"), "ab")
            self.procs.append(spawn(argv, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL))
            log.close()
        self.leader = self._wait_leader()
        self.keys_file = os.path.join(work_dir, "keys.b64")
        with open(self.keys_file, "w") as f:
            f.write("\n".join(wl.b64(k) for k in wl.all_keys()) + "\n")
        self.version = _tool_version(["etcd", "--version"])

    def _endpoints(self):
        return ",".join(f"127.0.0.1:{p}" for p in CLIENT_PORTS)

    def _wait_leader(self, timeout=30):
        """The leader's client address, once the cluster is healthy and has one."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"an etcd member exited with {p.returncode} (ports "
                                       f"23791-23803 busy?); logs in {self.work_dir}")
            out = subprocess.run(["etcdctl", "--endpoints", self._endpoints(),
                                  "--command-timeout=2s", "endpoint", "status", "-w", "json"],
                                 capture_output=True, text=True, timeout=15,
                                 preexec_fn=_die_with_parent)
            last = out.stderr.strip()
            try:
                members = json.loads(out.stdout)
            except ValueError:
                members = []
            for m in members:
                st = m["Status"]
                if st["leader"] and st["leader"] == st["header"]["member_id"]:
                    return m["Endpoint"]
            time.sleep(0.2)
        raise RuntimeError(f"etcd has no leader after {timeout} s: {last}")

    def pause(self):
        """SIGSTOP every member while raftor runs (see RaftorSide.pause)."""
        for p in self.procs:
            os.kill(p.pid, signal.SIGSTOP)

    def resume(self):
        for p in self.procs:
            os.kill(p.pid, signal.SIGCONT)

    def server_pids(self):
        return [p.pid for p in self.procs]

    def describe(self):
        return {"members": 3, "version": self.version, "leader": self.leader,
                "durability": "default (WAL fsync before acknowledging)",
                "driver": "wrk -t1 over the JSON gateway (HTTP/1.1 keep-alive, one request "
                          "in flight per connection)",
                "wrk": _tool_version(["wrk", "--version"])}

    def _post(self, path, body):
        req = urllib.request.Request(f"http://{self.leader}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def prefill(self):
        """Every key of the key space, in transactions of TXN_MAX_OPS puts."""
        keys, value = wl.all_keys(), wl.b64(wl.value_bytes())
        for i in range(0, len(keys), TXN_MAX_OPS):
            ops = [{"requestPut": {"key": wl.b64(k), "value": value}}
                   for k in keys[i:i + TXN_MAX_OPS]]
            reply = self._post("/v3/kv/txn", {"success": ops})
            if not reply.get("succeeded"):
                raise RuntimeError(f"etcd prefill txn failed: {reply}")
        got = self._post("/v3/kv/range", {"key": wl.b64(wl.key_name(wl.KEY_SPACE - 1))})
        if got.get("count") != "1":
            raise RuntimeError(f"etcd prefill: the last key is missing: {got}")

    def prepare(self):
        """Before a run: wrk talks to one member, so find the leader again (a pause or the
        machine's load could have moved it)."""
        leader = self._wait_leader()
        if leader != self.leader:
            print(f"etcd's leader moved: {self.leader} -> {leader}", flush=True)
        self.leader = leader

    def run(self, workload, seconds):
        env = dict(os.environ, OP=workload.etcd_op, KEYS_FILE=self.keys_file,
                   VALUE_B64=wl.b64(wl.value_bytes()),
                   SERIALIZABLE="1" if workload.etcd_serializable else "0")
        argv = ["wrk", "-t1", f"-c{workload.concurrency}", f"-d{seconds}s", "--timeout", "10s",
                "-s", WRK_SCRIPT, f"http://{self.leader}"]
        p = spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                  stdin=subprocess.DEVNULL)
        try:
            out, err = p.communicate(timeout=seconds + 60)
        finally:
            kill_proc(p)
        line = next((ln for ln in out.splitlines() if ln.startswith('{"requests"')), None)
        if p.returncode != 0 or line is None:
            raise RuntimeError(f"wrk exited {p.returncode}: {err.strip()} {out[-500:]}")
        r = json.loads(line)
        errors = sum(r["errors"].values())
        ok = r["requests"] - r["errors"]["status"]
        secs = r["duration_us"] / 1e6
        lat = {k: v / 1000.0 for k, v in r["latency_us"].items()}
        return {"ops_per_second": ok / secs if secs else 0.0, "ok": ok, "errors": errors,
                "seconds": secs, "p50_ms": lat["p50"], "p90_ms": lat["p90"],
                "p99_ms": lat["p99"], "p999_ms": lat["p999"], "max_ms": lat["max"],
                "first_error": "" if not errors else f"wrk errors: {r['errors']}"}

    def close(self, failed=False):
        for p in self.procs:
            kill_proc(p)
        self.procs = []
        if not failed:
            shutil.rmtree(self.work_dir, ignore_errors=True)
