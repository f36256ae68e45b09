"""Real raftor-node processes on this machine, for integration tests.

    with Cluster(3, build="build") as c:     # starts 3 nodes, waits for ready lines + a leader
        leader = c.wait_leader()
        c.kill(leader)                       # kill -9
        c.start(leader)                      # restart with the same data dir
        c.pause(2); c.resume(2)              # SIGSTOP / SIGCONT
        c.stop(3)                            # SIGTERM, clean exit expected

Each node gets its own data dir and log file under one work dir. Teardown (the context
manager's exit, atexit, SIGINT/SIGTERM) always kills every process this module started;
the work dir is removed on success and kept, with its path printed, on failure.

Networks: by default every node listens on 127.0.0.1 (LoopbackNetwork). `netlab=True` puts
the nodes on a netlab network (netlab.py: network namespaces as root, else link proxies) that
the scenario can cut through `c.net` (cut, isolate, partition, heal); the cluster closes it.
Any object with netlab's addressing methods works as `network=`: host(i) and
listen_port(i) (where node i listens), peers(i) (node i's --peer list: its own entry is its
listen address, the others what i dials), command_prefix(i) (argv prefix to launch node i,
e.g. ["ip", "netns", "exec", ns]) and client_address(i) (host:port clients dial).
"""

import atexit
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# --- process bookkeeping: everything spawned here dies with the harness ------------------

_live_procs = set()      # Popen objects still to reap
_live_clusters = []      # Cluster objects still to tear down
_handlers_installed = False

_libc = None
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover
    _libc = None


def _die_with_parent():
    """preexec_fn: SIGKILL this child when the harness dies, even by SIGKILL."""
    if _libc is not None:
        PR_SET_PDEATHSIG = 1
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def spawn(argv, **kwargs):
    """Popen tracked for teardown; killed with the harness (PDEATHSIG)."""
    kwargs.setdefault("preexec_fn", _die_with_parent)
    p = subprocess.Popen(argv, **kwargs)
    _live_procs.add(p)
    return p


def kill_proc(p):
    if p is None:
        return
    if p.poll() is None:
        try:
            os.kill(p.pid, signal.SIGCONT)
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pass
    _live_procs.discard(p)


def _kill_everything():
    for c in list(_live_clusters):
        try:
            c.close(failed=c.failed)
        except Exception as e:  # noqa: BLE001
            print(f"teardown: {e}", file=sys.stderr)
    for p in list(_live_procs):
        kill_proc(p)


def _on_signal(signum, _frame):
    print(f"\nreceived signal {signum}: stopping every node", file=sys.stderr, flush=True)
    for c in _live_clusters:
        c.failed = True
    _kill_everything()
    os._exit(128 + signum)


def install_teardown_handlers():
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(_kill_everything)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)


# --- helpers -----------------------------------------------------------------------------

def free_ports(n, host="127.0.0.1"):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def find_build(build):
    """Absolute build dir with the tools built."""
    build = os.path.abspath(build)
    for rel in ("tools/raftor-node/raftor-node", "tools/raftorctl/raftorctl"):
        if not os.access(os.path.join(build, rel), os.X_OK):
            raise SystemExit(f"{build}/{rel} is missing: build the project first")
    return build


class LoopbackNetwork:
    """Every node on 127.0.0.1 (on the given ports, node i on ports[i - 1]), launched
    directly; nothing can be cut."""

    mode = "loopback"

    def __init__(self, ports):
        self.ports = list(ports)

    def host(self, i):
        return "127.0.0.1"

    def listen_port(self, i):
        return self.ports[i - 1]

    def peers(self, i):
        return [f"{j}@127.0.0.1:{p}" for j, p in enumerate(self.ports, start=1)]

    def command_prefix(self, i):
        return []

    def client_address(self, i):
        return f"127.0.0.1:{self.listen_port(i)}"

    def describe(self):
        return f"network: loopback (ports {', '.join(map(str, self.ports))})"

    def close(self):
        pass


class HarnessError(Exception):
    pass


class Node:
    def __init__(self, cluster, node_id):
        self.cluster = cluster
        self.id = node_id
        self.data_dir = os.path.join(cluster.work_dir, f"node{node_id}")
        self.log_path = os.path.join(cluster.work_dir, f"node{node_id}.log")
        self.proc = None
        self.paused = False
        self.extra_args = []   # per-node flags added on every start
        self.cluster_id = None  # overrides the cluster's id when set
        # The ids this node lists as --peer (itself is always listed); None: every node.
        # Founders of a cluster that grows list only each other; a joining node (--join
        # true) lists itself and the members it can reach.
        self.peer_ids = None

    @property
    def host(self):
        """The address this node listens on (in its namespace, if any)."""
        return self.cluster.network.host(self.id)

    @property
    def port(self):
        return self.cluster.network.listen_port(self.id)

    @property
    def client_address(self):
        """host:port a client (in the harness's namespace) dials; never cut."""
        return self.cluster.network.client_address(self.id)

    @property
    def client_host(self):
        return self.client_address.rsplit(":", 1)[0]

    @property
    def client_port(self):
        return int(self.client_address.rsplit(":", 1)[1])

    @property
    def endpoint(self):
        return f"{self.id}@{self.client_address}"

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


class Cluster:
    def __init__(self, n, build="build", work_dir=None, cluster_id="itest", network=None,
                 tick_ms=10, heartbeat_ms=50, election_ms=300, extra_args=(), name="cluster",
                 ports=None, start=True, keep=False, log_level="info", netlab=False):
        """network: an addressing object (see the module doc), or None: loopback on `ports`
        (free ones by default), or with netlab=True a netlab network of n nodes that this
        cluster owns (c.net; closed with the cluster). The mode is logged either way."""
        install_teardown_handlers()
        self.build = find_build(build)
        self.node_bin = os.path.join(self.build, "tools/raftor-node/raftor-node")
        self.ctl_bin = os.path.join(self.build, "tools/raftorctl/raftorctl")
        self.bench_bin = os.path.join(self.build, "tools/raftor-bench/raftor-bench")
        self.kvbatch_bin = os.path.join(self.build, "tests/integration/kvbatch/raftor-kvbatch")
        self.lincheck_bin = os.path.join(self.build, "tests/integration/lincheck/raftor-lincheck")
        self.n = n
        self.cluster_id = cluster_id
        self.owns_network = False
        if network is None and netlab:
            from .netlab import make_network  # noqa: WPS433 - only partition scenarios need it
            network = make_network(n, quiet=True)
            self.owns_network = True
        elif network is None:
            network = LoopbackNetwork(ports or free_ports(n))
        self.network = network
        self.tick_ms, self.heartbeat_ms, self.election_ms = tick_ms, heartbeat_ms, election_ms
        self.extra_args = list(extra_args)
        self.log_level = log_level
        self.keep = keep
        self.failed = False
        self.closed = False
        self.work_dir = work_dir or tempfile.mkdtemp(prefix=f"raftor-{name}-")
        os.makedirs(self.work_dir, exist_ok=True)
        self.nodes = {i: Node(self, i) for i in range(1, n + 1)}
        self._key_size = 16
        _live_clusters.append(self)
        self.log(f"work dir {self.work_dir}; {n} nodes; clients at "
                 f"{', '.join(nd.endpoint for nd in self.nodes.values())}")
        describe = getattr(self.network, "describe", None)
        self.log(describe() if describe else f"network: {type(self.network).__name__}")
        if start:
            self.start_all()
            self.wait_leader()

    # --- lifecycle ---------------------------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.failed = True
        self.close(failed=self.failed)
        return False

    def log(self, msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    @property
    def net(self):
        """The network, to cut links on (netlab: cut, isolate, partition, heal)."""
        return self.network

    @property
    def network_mode(self):
        """"netns", "proxy" (netlab) or "loopback"."""
        return getattr(self.network, "mode", None) or type(self.network).__name__

    def close(self, failed=False):
        if self.closed:
            return
        self.closed = True
        for node in self.nodes.values():
            kill_proc(node.proc)
            node.proc = None
        if self.owns_network:
            try:
                self.network.close()  # netns: namespaces, veths, bridge; proxy: its threads
            except Exception as e:  # noqa: BLE001 - teardown goes on
                print(f"teardown: closing the network: {e}", file=sys.stderr)
        if self in _live_clusters:
            _live_clusters.remove(self)
        if failed or self.keep:
            print(f"work dir kept (node logs, data, histories): {self.work_dir}", flush=True)
        else:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    # --- nodes -------------------------------------------------------------------------

    def peer_flags(self, i):
        """Node i's --peer flags: in proxy mode every node has its own list."""
        wanted = self.nodes[i].peer_ids
        out = []
        for peer in self.network.peers(i):
            pid = int(peer.split("@", 1)[0])
            if wanted is None or pid == i or pid in wanted:
                out += ["--peer", peer]
        return out

    def peer_address(self, i):
        """host:port at which the other nodes reach node i (what `member add` records)."""
        own = [p for p in self.network.peers(i) if p.startswith(f"{i}@")]
        return own[0].split("@", 1)[1]

    def members(self, ids=None, timeout_ms=3000):
        """`raftorctl member list` as a dict: members (id, suffrage, address, ...),
        config_index, committed, leader; None when no node answered."""
        rc, out, _ = self.ctl("--json", "member", "list", ids=ids, timeout_ms=timeout_ms)
        try:
            doc = json.loads(out)
        except ValueError:
            return None
        return doc if doc.get("members") else None

    def voters(self, ids=None):
        doc = self.members(ids)
        return sorted(m["id"] for m in doc["members"] if m["suffrage"] == "voter") if doc else []

    def node_argv(self, i, extra=()):
        node = self.nodes[i]
        argv = list(self.network.command_prefix(i)) + [
            self.node_bin,
            "--cluster-id", node.cluster_id or self.cluster_id,
            "--id", str(i),
            "--listen", f"{node.host}:{node.port}",
            "--data-dir", node.data_dir,
            "--raft-tick-ms", str(self.tick_ms),
            "--raft-heartbeat-interval-ms", str(self.heartbeat_ms),
            "--raft-election-timeout-ms", str(self.election_ms),
            "--log-level", self.log_level,
        ] + self.peer_flags(i) + self.extra_args + node.extra_args + list(extra)
        return argv

    def start(self, i, extra=(), wait=True, timeout=20):
        """Starts (or restarts) node i; waits for its ready line unless wait=False."""
        node = self.nodes[i]
        if node.running():
            raise HarnessError(f"node {i} is already running")
        argv = self.node_argv(i, extra)
        with open(node.log_path, "ab") as f:
            f.write(f"--- {time.strftime('%H:%M:%S')} start: {' '.join(argv)}\n".encode())
            offset = f.tell()
        logf = open(node.log_path, "ab")
        node.proc = spawn(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        node.paused = False
        node.start_offset = offset
        if wait:
            self.wait_ready(i, timeout)
        return node

    def wait_ready(self, i, timeout=20):
        node = self.nodes[i]
        needle = f"raftor-node {i} ready on".encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(node.log_path, "rb") as f:
                f.seek(node.start_offset)
                if needle in f.read():
                    return
            if node.proc.poll() is not None:
                raise HarnessError(f"node {i} exited with {node.proc.returncode} before it was "
                                   f"ready; its log:\n{node.log_tail()}")
            time.sleep(0.02)
        raise HarnessError(f"node {i} not ready after {timeout} s; its log:\n{node.log_tail()}")

    def start_all(self, extra=()):
        procs = []
        for i in self.nodes:
            self.start(i, extra, wait=False)
            procs.append(i)
        for i in procs:
            self.wait_ready(i)

    def kill(self, i):
        """kill -9: a crash."""
        node = self.nodes[i]
        kill_proc(node.proc)
        node.proc = None
        node.paused = False

    def stop(self, i, timeout=15):
        """SIGTERM and wait; returns the exit code (SIGKILL and HarnessError after timeout)."""
        node = self.nodes[i]
        p = node.proc
        if p is None:
            return None
        if node.paused:
            self.resume(i)
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_proc(p)
            node.proc = None
            raise HarnessError(f"node {i} did not exit within {timeout} s of SIGTERM")
        _live_procs.discard(p)
        node.proc = None
        return rc

    def restart(self, i, extra=(), hard=False):
        if hard:
            self.kill(i)
        else:
            self.stop(i)
        return self.start(i, extra)

    def stop_all(self):
        for i in self.nodes:
            if self.nodes[i].proc is not None and self.nodes[i].proc.poll() is None:
                self.nodes[i].proc.send_signal(signal.SIGCONT)
                self.nodes[i].proc.send_signal(signal.SIGTERM)
        return {i: self.stop(i) for i in self.nodes}

    def kill_all(self):
        for i in self.nodes:
            self.kill(i)

    def pause(self, i):
        """SIGSTOP: the process freezes, its sockets stay open."""
        os.kill(self.nodes[i].proc.pid, signal.SIGSTOP)
        self.nodes[i].paused = True

    def resume(self, i):
        os.kill(self.nodes[i].proc.pid, signal.SIGCONT)
        self.nodes[i].paused = False

    def running_ids(self):
        return [i for i, nd in self.nodes.items() if nd.running() and not nd.paused]

    def exit_code(self, i):
        p = self.nodes[i].proc
        return None if p is None else p.poll()

    # --- clients -----------------------------------------------------------------------

    def endpoints(self, ids=None):
        ids = ids or list(self.nodes)
        return ",".join(self.nodes[i].endpoint for i in ids)

    def ctl(self, *args, ids=None, timeout_ms=1500, check=False):
        """raftorctl against the given nodes (all by default): (exit code, stdout, stderr)."""
        argv = [self.ctl_bin, "--endpoints", self.endpoints(ids), "--timeout-ms",
                str(timeout_ms)] + [str(a) for a in args]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_ms / 1000 + 30,
                           preexec_fn=_die_with_parent)
        if check and p.returncode != 0:
            raise HarnessError(f"raftorctl {' '.join(map(str, args))}: exit {p.returncode}: "
                               f"{p.stderr.strip()}")
        return p.returncode, p.stdout, p.stderr

    def status(self, ids=None, timeout_ms=3000):
        """{id: status dict or None if unreachable}; the dict has role, term, leader, commit,
        applied, first_index, last_index, last_term, snapshot_index."""
        ids = ids or list(self.nodes)
        rc, out, err = self.ctl("--json", "status", ids=ids, timeout_ms=timeout_ms)
        result = {i: None for i in ids}
        try:
            doc = json.loads(out)
        except ValueError:
            return result
        for nd in doc.get("nodes", []):
            if nd.get("reachable"):
                result[nd["id"]] = nd
        return result

    def node_status(self, i, timeout_ms=3000):
        return self.status([i], timeout_ms)[i]

    def answered_status(self, i, tries=3, timeout_ms=3000):
        """Node i's status, asking up to `tries` times: a node that is up but busy (a loaded
        machine, a middleman handshaking) can miss one 3 s deadline. Each miss is logged;
        HarnessError when every try went unanswered."""
        for attempt in range(1, tries + 1):
            st = self.node_status(i, timeout_ms)
            if st:
                return st
            self.log(f"status of node {i} unanswered within {timeout_ms} ms "
                     f"(try {attempt} of {tries})")
        raise HarnessError(f"node {i} answered none of {tries} status requests "
                           f"({timeout_ms} ms each); its log:\n{self.nodes[i].log_tail()}")

    def leaders(self, ids=None):
        """{id: term} of nodes that say they lead (among the running, unpaused ones)."""
        ids = ids or self.running_ids()
        if not ids:
            return {}
        st = self.status(ids)
        return {i: s["term"] for i, s in st.items() if s and s["role"] == "leader"}

    def current_leader(self, ids=None):
        """The leader of the highest term among the reachable nodes, or None."""
        ls = self.leaders(ids)
        if not ls:
            return None
        top = max(ls.values())
        best = [i for i, t in ls.items() if t == top]
        return best[0] if len(best) == 1 else None

    def wait_leader(self, timeout=15, ids=None, exclude=()):
        """Waits until exactly one reachable node of the highest term leads and every other
        reachable node follows it; returns its id."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            alive = [i for i in (ids or self.running_ids()) if i not in exclude]
            st = self.status(alive) if alive else {}
            last = st
            up = {i: s for i, s in st.items() if s}
            leaders = [i for i, s in up.items() if s["role"] == "leader"]
            if up:
                top = max(s["term"] for s in up.values())
                top_leaders = [i for i in leaders if up[i]["term"] == top]
                if len(top_leaders) == 1:
                    lid = top_leaders[0]
                    if all(s["leader"] == lid and s["term"] == top
                           for i, s in up.items() if i != lid):
                        return lid
            time.sleep(0.05)
        raise HarnessError(f"no single leader within {timeout} s; last status: {last}")

    def wait_caught_up(self, i, timeout=30, min_index=None):
        """Waits until node i has applied at least the leader's commit index (as read once
        at the start, or min_index); returns node i's status."""
        deadline = time.monotonic() + timeout
        target = min_index
        if target is None:
            lid = self.wait_leader(timeout)
            target = self.node_status(lid)["commit"]
        st = None
        while time.monotonic() < deadline:
            st = self.node_status(i)
            if st and st["applied"] >= target:
                return st
            time.sleep(0.1)
        raise HarnessError(f"node {i} did not apply index {target} within {timeout} s: {st}")

    def wait_converged(self, ids=None, timeout=30):
        """Waits until the nodes (every running one by default) report the same last index,
        commit index and applied index (an idle cluster, e.g. after a partition healed);
        returns their statuses."""
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            st = self.status(ids or self.running_ids())
            if all(st.values()):
                marks = {(s["last_index"], s["commit"], s["applied"]) for s in st.values()}
                if len(marks) == 1 and next(iter(marks))[1] == next(iter(marks))[2]:
                    return st
            time.sleep(0.1)
        raise HarnessError(f"nodes did not converge within {timeout} s: " + "; ".join(
            f"{i}: " + (f"last {s['last_index']} commit {s['commit']} applied {s['applied']}"
                        if s else "unreachable") for i, s in (st or {}).items()))

    def next_key_size(self):
        """A key size no earlier workload of this cluster used: raftor-bench keys of a new
        size are new keys, so every workload's history stands on its own."""
        self._key_size += 1
        return self._key_size
