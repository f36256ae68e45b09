"""Network partitions between local raftor nodes (issue 6 §3). Standard library only.

    with make_network(3) as net:             # prints the mode it chose; also net.mode
        for i in 1, 2, 3:                    # node i: listen on net.host(i):net.listen_port(i),
            ...                              # dial peer j at net.peer_address(i, j), launch
                                             # through net.command_prefix(i)
        net.cut(1, 2)                        # 1 <-> 2 drop each other's traffic
        net.isolate(3)                       # 3 cut from every other node
        net.partition([[1, 2], [3]])         # cut every link across the groups
        net.cut_one_way(2, 1)                # 2's traffic to 1 dropped, 1's to 2 still flows
        net.heal()                           # every link up again
    # close(): every namespace, veth, bridge, qdisc and proxy thread is gone

Clients in the root namespace reach node i at net.client_address(i) whatever is cut.

Two modes, chosen by make_network (force one with mode= or RAFTOR_NETLAB_MODE=netns|proxy):

netns  (root, and `ip netns add` / veth / bridge / tc cls_bpf all work): one namespace per
       node, "raftor-lab-<pid>-<seq>-<i>", whose eth0 is a veth ("rlv<k>-<i>" on the root
       side) into a bridge "rlb<pid>-<seq>" in the root namespace. Node i is 10.77.<k>.i/24, the root namespace 10.77.<k>.254
       (k is free on this host, picked under a lock). Every node listens on the same port.
       A cut drops packets silently, like a real partition: a classic-BPF tc filter in
       direct-action mode on the ingress of node i's veth end in the bridge drops IPv4
       packets from i to every node i is cut from (the kernel here has cls_bpf but no
       act_gact, so `u32 ... action drop` is unavailable). Packets to and from the root
       address are never dropped. Existing TCP connections stall (retransmitting) and
       resume after heal() unless they timed out meanwhile; new connects time out.
       A one-way cut src -> dst drops only src's packets to dst: dst's data still reaches
       src (until dst's TCP window fills, as src's ACKs are lost too), src's never arrives.
proxy  (fallback): nodes listen on 127.0.0.1, each on its own port (free, outside the
       ephemeral range, so it stays free while a node restarts); for every ordered pair
       (i, j) a proxy thread listens on its own port and forwards to node j, and node i
       dials j through it. cut(i, j) closes the connections of both the i->j and j->i
       proxies (a CAF connection carries traffic both ways) and resets new ones until
       heal(). A one-way cut src -> dst holds back the bytes from src to dst on both
       proxies of the link (a stalled stream, as in netns mode) and delivers them at heal();
       bytes from dst to src flow. Clients dial nodes directly.

Cleanup: close() (idempotent, also atexit) kills whatever still runs in the lab's
namespaces, then deletes their veths (and so the qdiscs and filters), the namespaces and
the bridge. If this process dies without close() (SIGKILL, or a signal that skips atexit), a
watchdog process in its own session sees its pipe close and does the same. Every
make_network() first removes "raftor-lab-<pid>-*" namespaces and "rlb<pid>-*" bridges whose
pid is no longer alive.
"""

import atexit
import fcntl
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

NS_PREFIX = "raftor-lab-"
BRIDGE_PREFIX = "rlb"
SUBNET_PREFIX = "10.77"
ROOT_HOST_ID = 254
DEFAULT_NETNS_PORT = 7100
MAX_NODES = 200
LOCK_PATH = "/run/raftor-netlab.lock"

_seq = itertools.count()

# --- small helpers ---------------------------------------------------------------------------


def _run(argv, check=True, timeout=30):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _netns_names():
    r = _run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


def _bridge_names():
    r = _run(["ip", "-o", "link", "show", "type", "bridge"], check=False)
    return [m.group(1) for m in re.finditer(r"^\d+:\s+([^:@\s]+)", r.stdout, re.M)]


def _kill_netns_pids(ns):
    r = _run(["ip", "netns", "pids", ns], check=False)
    for tok in r.stdout.split():
        try:
            os.kill(int(tok), signal.SIGKILL)
        except (ValueError, ProcessLookupError, PermissionError):
            pass


def _remove_lab(namespaces, bridge):
    """Kill what runs in the namespaces, delete their veths, the namespaces and the bridge.
    Quiet about things already gone. The veths go explicitly: a namespace outlives its
    bind mount while orphaned TCP sockets of killed processes still reference it (FIN
    retransmits, up to minutes), and its veth pair would stay visible that long."""
    existing = set(_netns_names())
    namespaces = [ns for ns in namespaces if ns in existing]
    for ns in namespaces:
        _kill_netns_pids(ns)
    for ns in namespaces:
        _run(["ip", "-n", ns, "link", "del", "eth0"], check=False)
        _run(["ip", "netns", "del", ns], check=False)
    if bridge and bridge in _bridge_names():
        _run(["ip", "link", "del", bridge], check=False)


def _wait_links_gone(names, timeout=10.0):
    """Namespace teardown deletes veths asynchronously: wait until they are gone."""
    deadline = time.monotonic() + timeout
    while True:
        out = _run(["ip", "-o", "link", "show"], check=False).stdout
        present = set(re.findall(r"^\d+:\s+([^:@\s]+)", out, re.M))
        left = [x for x in names if x in present]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def cleanup_stale():
    """Remove namespaces and bridges of labs whose process is gone. Returns what it removed."""
    removed = []
    for ns in _netns_names():
        m = re.fullmatch(re.escape(NS_PREFIX) + r"(\d+)-\d+-\d+", ns)
        if m and not _pid_alive(int(m.group(1))):
            _remove_lab([ns], None)
            removed.append(ns)
    for br in _bridge_names():
        m = re.fullmatch(re.escape(BRIDGE_PREFIX) + r"(\d+)-\d+", br)
        if m and not _pid_alive(int(m.group(1))):
            _run(["ip", "link", "del", br], check=False)
            removed.append(br)
    return removed


def _bpf_drop_program(dst_addrs):
    """Classic BPF, tc direct-action: TC_ACT_SHOT (2) for IPv4 to one of dst_addrs, else
    TC_ACT_OK (0). Offsets count from the Ethernet header (tc pushes it back at ingress)."""
    m = len(dst_addrs)
    if m == 0:
        return "1,6 0 0 0"
    ins = [(0x28, 0, 0, 12),              # ldh [12]          ethertype
           (0x15, 0, m + 1, 0x0800),      # jeq #IPv4 else -> pass
           (0x20, 0, 0, 30)]              # ld [30]           IPv4 destination
    for t, a in enumerate(dst_addrs):
        ins.append((0x15, m - t, 0, a))   # jeq #a -> drop
    ins.append((0x06, 0, 0, 0))           # pass: ret TC_ACT_OK
    ins.append((0x06, 0, 0, 2))           # drop: ret TC_ACT_SHOT
    return ",".join([str(len(ins))] + [f"{c} {jt} {jf} {k}" for c, jt, jf, k in ins])


def _ip_u32(addr):
    a, b, c, d = (int(x) for x in addr.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


# The watchdog: started in its own session, it waits for its stdin to close. "done" first
# means close() already cleaned up; plain EOF means the owner died: clean up for it.
_WATCHDOG = r"""
import os, signal, subprocess, sys
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
bridge, namespaces = sys.argv[1], sys.argv[2:]
data = sys.stdin.read()
if data.strip() == "done":
    sys.exit(0)
def run(*a):
    return subprocess.run(list(a), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True).stdout
for ns in namespaces:
    for tok in run("ip", "netns", "pids", ns).split():
        try:
            os.kill(int(tok), signal.SIGKILL)
        except Exception:
            pass
for ns in namespaces:
    run("ip", "-n", ns, "link", "del", "eth0")
    run("ip", "netns", "del", ns)
run("ip", "link", "del", bridge)
"""


class _LinkDown(Exception):
    pass


# --- the network -----------------------------------------------------------------------------


class Network:
    """Base: the cut bookkeeping shared by both modes. Nodes are 1..n."""

    mode = None

    def __init__(self, n):
        if not 1 <= n <= MAX_NODES:
            raise ValueError(f"make_network: n must be in 1..{MAX_NODES}, got {n}")
        self.n = n
        self._cuts = set()          # frozenset({i, j})
        self._one_way = set()       # (src, dst): src's traffic to dst dropped
        self._lock = threading.RLock()
        self._closed = False

    # addresses ---------------------------------------------------------------------------
    def nodes(self):
        return range(1, self.n + 1)

    def _check(self, *ids):
        for i in ids:
            if not (isinstance(i, int) and 1 <= i <= self.n):
                raise ValueError(f"netlab: no node {i!r} (nodes are 1..{self.n})")

    def peer_address(self, i, j):
        """host:port node i dials to reach node j (i == j: i's own listen address, which is
        what raftor-node expects as its own cluster.peers entry)."""
        self._check(i, j)
        if i == j:
            return f"{self.host(i)}:{self.listen_port(i)}"
        return self._peer_address(i, j)

    def peers(self, i):
        """cluster.peers for node i: ["1@host:port", ...], every node, i included."""
        return [f"{j}@{self.peer_address(i, j)}" for j in self.nodes()]

    # cuts ---------------------------------------------------------------------------------
    def cut(self, i, j):
        self._check(i, j)
        if i == j:
            raise ValueError("netlab: cannot cut a node from itself")
        self._set_cuts(self._cuts | {frozenset((i, j))})

    def isolate(self, i):
        self._check(i)
        self._set_cuts(self._cuts | {frozenset((i, j)) for j in self.nodes() if j != i})

    def partition(self, groups):
        """Cut every link between nodes of different groups. Like cut() it adds cuts: links
        cut before stay cut (heal() first for a fresh topology); unlisted nodes keep their
        links."""
        seen = {}
        for g, group in enumerate(groups):
            for i in group:
                self._check(i)
                if i in seen:
                    raise ValueError(f"netlab: node {i} is in more than one group")
                seen[i] = g
        new = {frozenset((i, j)) for i in seen for j in seen if seen[i] != seen[j]}
        self._set_cuts(self._cuts | new)

    def cut_one_way(self, src, dst):
        """Drop src's traffic to dst only (an asymmetric failure: dst still reaches src).
        Adds to the cuts; heal() removes it with the others."""
        self._check(src, dst)
        if src == dst:
            raise ValueError("netlab: cannot cut a node from itself")
        self._set_cuts(self._cuts, self._one_way | {(src, dst)})

    def heal(self):
        self._set_cuts(set(), set())

    def is_cut(self, i, j):
        return frozenset((i, j)) in self._cuts

    def cuts(self):
        return sorted(tuple(sorted(c)) for c in self._cuts)

    def one_way_cuts(self):
        return sorted(self._one_way)

    def drops(self, src, dst):
        """Whether src's traffic to dst is dropped (a cut or a one-way cut src -> dst)."""
        return frozenset((src, dst)) in self._cuts or (src, dst) in self._one_way

    def _set_cuts(self, cuts, one_way=None):
        with self._lock:
            if self._closed:
                raise RuntimeError("netlab: network is closed")
            old, self._cuts = self._cuts, set(cuts)
            if one_way is not None:
                self._one_way = set(one_way)
            self._apply(old, self._cuts)

    # lifetime -----------------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._teardown()
        try:
            atexit.unregister(self.close)
        except Exception:  # noqa: BLE001  (interpreter shutting down)
            pass


class NetnsNetwork(Network):
    mode = "netns"

    def __init__(self, n, port=DEFAULT_NETNS_PORT):
        super().__init__(n)
        pid, seq = os.getpid(), next(_seq)
        self.port = port
        self.namespaces = {i: f"{NS_PREFIX}{pid}-{seq}-{i}" for i in self.nodes()}
        self.bridge = f"{BRIDGE_PREFIX}{pid}-{seq}"
        self.veths = {}             # root-side veth ends, "rlv<k>-<i>": k is unique per lab
        self.subnet = None
        self._watchdog = None
        self._drops = {i: () for i in self.nodes()}
        atexit.register(self.close)
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self):
        os.makedirs(os.path.dirname(LOCK_PATH), exist_ok=True)
        with open(LOCK_PATH, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            cleanup_stale()
            # the watchdog first, so that whatever gets created below is covered
            self._watchdog = subprocess.Popen(
                [sys.executable, "-c", _WATCHDOG, self.bridge, *self.namespaces.values()],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, text=True)
            k = self._free_subnet()
            self.subnet = f"{SUBNET_PREFIX}.{k}"
            self.veths = {i: f"rlv{k}-{i}" for i in self.nodes()}
            _run(["ip", "link", "add", self.bridge, "type", "bridge"])
            _run(["ip", "addr", "add", f"{self.subnet}.{ROOT_HOST_ID}/24", "dev", self.bridge])
            _run(["ip", "link", "set", self.bridge, "up"])
        for i in self.nodes():
            ns, veth = self.namespaces[i], self.veths[i]
            _run(["ip", "netns", "add", ns])
            _run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0",
                  "netns", ns])
            _run(["ip", "link", "set", veth, "master", self.bridge, "up"])
            _run(["ip", "-n", ns, "addr", "add", f"{self.host(i)}/24", "dev", "eth0"])
            _run(["ip", "-n", ns, "link", "set", "lo", "up"])
            _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            _run(["tc", "qdisc", "add", "dev", veth, "clsact"])
            self._install_filter(i, (), "add")

    def _free_subnet(self):
        used = set()
        out = _run(["ip", "-4", "-o", "addr", "show"]).stdout + _run(["ip", "-4", "route"]).stdout
        for m in re.finditer(re.escape(SUBNET_PREFIX) + r"\.(\d+)\.", out):
            used.add(int(m.group(1)))
        links = _run(["ip", "-o", "link", "show"]).stdout
        for m in re.finditer(r"^\d+:\s+rlv(\d+)-", links, re.M):
            used.add(int(m.group(1)))   # a veth end still there: keep its name free
        start = os.getpid() % 250
        for d in range(250):
            k = (start + d) % 250 + 1
            if k not in used:
                return k
        raise RuntimeError(f"netlab: no free {SUBNET_PREFIX}.x.0/24 subnet")

    def _install_filter(self, i, drop_ids, verb="replace"):
        prog = _bpf_drop_program([_ip_u32(self.host(j)) for j in sorted(drop_ids)])
        _run(["tc", "filter", verb, "dev", self.veths[i], "ingress", "prio", "1", "handle",
              "1", "bpf", "da", "bytecode", prog])
        self._drops[i] = tuple(sorted(drop_ids))

    def _apply(self, old, new):
        for i in self.nodes():
            want = tuple(sorted(j for j in self.nodes() if self.drops(i, j)))
            if want != self._drops[i]:
                self._install_filter(i, want)

    def host(self, i):
        self._check(i)
        return f"{self.subnet}.{i}"

    def listen_port(self, i):
        self._check(i)
        return self.port

    def _peer_address(self, i, j):
        return f"{self.host(j)}:{self.port}"

    def client_address(self, i):
        return f"{self.host(i)}:{self.port}"

    def command_prefix(self, i):
        self._check(i)
        return ["ip", "netns", "exec", self.namespaces[i]]

    def describe(self):
        return (f"netlab: mode=netns ({self.n} namespaces {NS_PREFIX}{os.getpid()}-*, bridge "
                f"{self.bridge}, nodes {self.subnet}.1-{self.n}:{self.port}, root "
                f"{self.subnet}.{ROOT_HOST_ID}; cuts drop packets with tc cls_bpf on the veths)")

    def _teardown(self):
        _remove_lab(list(self.namespaces.values()), self.bridge)
        _wait_links_gone(list(self.veths.values()) + [self.bridge])
        if self._watchdog is not None:
            try:
                self._watchdog.stdin.write("done")
                self._watchdog.stdin.close()
                self._watchdog.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass


class ProxyNetwork(Network):
    mode = "proxy"

    def __init__(self, n, reason=""):
        super().__init__(n)
        self.reason = reason
        self._ports = {}
        self._proxies = {}
        atexit.register(self.close)
        try:
            self._ports = dict(zip(self.nodes(), _free_fixed_ports(n)))
            for i in self.nodes():
                for j in self.nodes():
                    if i != j:
                        self._proxies[(i, j)] = _LinkProxy(i, j, ("127.0.0.1", self._ports[j]))
        except BaseException:
            self.close()
            raise

    def host(self, i):
        self._check(i)
        return "127.0.0.1"

    def listen_port(self, i):
        self._check(i)
        return self._ports[i]

    def _peer_address(self, i, j):
        return f"127.0.0.1:{self._proxies[(i, j)].port}"

    def client_address(self, i):
        return f"127.0.0.1:{self.listen_port(i)}"

    def command_prefix(self, i):
        self._check(i)
        return []

    def describe(self):
        why = f"; {self.reason}" if self.reason else ""
        return (f"netlab: mode=proxy ({self.n} nodes on 127.0.0.1, "
                f"{len(self._proxies)} link proxies{why})")

    def _apply(self, old, new):
        for (i, j), p in self._proxies.items():
            p.set_blocked(frozenset((i, j)) in new)
            # proxy (i, j) carries i's bytes to j forward and j's bytes to i backward
            p.set_stalled((i, j) in self._one_way, (j, i) in self._one_way)

    def _teardown(self):
        for p in self._proxies.values():
            p.close()


def _free_fixed_ports(count):
    """count ports free on 127.0.0.1 outside the kernel's ephemeral range, so that no
    outgoing connection or proxy takes one while its node is down (e.g. restarting). The
    scan starts at a pid-derived offset so that parallel runs pick different ports."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    candidates = list(range(10000, lo)) if lo - 10000 >= 1000 else list(range(hi + 1, 65536))
    start = (os.getpid() * 97) % len(candidates)
    ports = []
    for port in candidates[start:] + candidates[:start]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError("netlab: not enough free ports on 127.0.0.1")


class _LinkProxy:
    """One direction of one link: listens on its own port, forwards to the target node.
    Blocked, it aborts its connections and resets new ones. Stalled in a direction
    (forward: the dialing node's bytes to the target; backward: the answers), it holds the
    bytes of that direction back until unstalled."""

    def __init__(self, i, j, target):
        self.target = target
        self._blocked = False
        self._closed = False
        self._stalled = {True: False, False: False}   # forward?: stalled
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._conns = set()             # (client socket, upstream socket)
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name=f"netlab-proxy-{i}-{j}",
                                        daemon=True)
        self._thread.start()

    @staticmethod
    def _abort(s):
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        try:
            s.shutdown(socket.SHUT_RDWR)   # wakes the pump threads blocked on it
        except OSError:
            pass

    def _abort_all(self):
        with self._lock:
            conns = list(self._conns)
        for pair in conns:
            for s in pair:
                self._abort(s)

    def set_blocked(self, blocked):
        with self._lock:
            self._blocked = blocked
            self._changed.notify_all()
        if blocked:
            self._abort_all()

    def set_stalled(self, forward, backward):
        with self._lock:
            self._stalled = {True: forward, False: backward}
            self._changed.notify_all()

    def close(self):
        with self._lock:
            self._closed = True
            self._changed.notify_all()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept() on Linux
        except OSError:
            pass
        self._listener.close()
        self._abort_all()
        self._thread.join(timeout=5)
        for t in list(threading.enumerate()):
            if t.name.startswith(self._thread.name + "/"):
                t.join(timeout=5)

    def _accept_loop(self):
        while True:
            try:
                c, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                closed, blocked = self._closed, self._blocked
            if closed or blocked:
                self._abort(c)
                c.close()
                if closed:
                    return
                continue
            try:
                u = socket.create_connection(self.target, timeout=2)
                u.settimeout(None)
            except OSError:
                self._abort(c)
                c.close()
                continue
            for s in (c, u):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = (c, u)
            with self._lock:
                if self._blocked or self._closed:
                    late = True
                else:
                    late = False
                    self._conns.add(pair)
            if late:
                for s in pair:
                    self._abort(s)
                    s.close()
                continue
            state = {"left": 2}
            for src, dst, forward in ((c, u, True), (u, c, False)):
                threading.Thread(target=self._pump, args=(src, dst, forward, pair, state),
                                 daemon=True, name=f"{self._thread.name}/pump").start()

    def _pump(self, src, dst, forward, pair, state):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self._lock:
                    while self._stalled[forward] and not (self._blocked or self._closed):
                        self._changed.wait()
                    if self._blocked or self._closed:
                        raise _LinkDown()
                dst.sendall(data)
            with self._lock:
                if self._blocked or self._closed:
                    raise _LinkDown()
            dst.shutdown(socket.SHUT_WR)   # pass the half-close on
        except (OSError, _LinkDown):
            for s in pair:
                self._abort(s)
        finally:
            with self._lock:
                state["left"] -= 1
                last = state["left"] == 0
                if last:
                    self._conns.discard(pair)
            if last:
                for s in pair:
                    s.close()


# --- choosing a mode -------------------------------------------------------------------------


def _netns_unavailable():
    """None when netns mode can work here, else why not."""
    if os.geteuid() != 0:
        return "not root"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"no `{tool}`"
    probe = f"{NS_PREFIX}{os.getpid()}-0-0"   # node 0 never exists; stale-cleanup pattern
    r = _run(["ip", "netns", "add", probe], check=False)
    if r.returncode != 0:
        return f"`ip netns add` failed: {r.stderr.strip()}"
    _run(["ip", "netns", "del", probe], check=False)
    return None


def make_network(n, mode=None, port=DEFAULT_NETNS_PORT, quiet=False):
    """A Network for nodes 1..n: netns mode when possible, else proxy mode. mode (or the
    RAFTOR_NETLAB_MODE variable) forces one; a forced netns mode that fails raises."""
    mode = mode or os.environ.get("RAFTOR_NETLAB_MODE") or None
    if mode not in (None, "netns", "proxy"):
        raise ValueError(f"netlab: unknown mode {mode!r} (netns or proxy)")
    net, reason = None, ""
    if mode in (None, "netns"):
        why = _netns_unavailable()
        if why is None:
            try:
                net = NetnsNetwork(n, port=port)
            except Exception as e:  # noqa: BLE001
                why = f"netns setup failed: {e}"
        if net is None:
            if mode == "netns":
                raise RuntimeError(f"netlab: netns mode unavailable: {why}")
            reason = f"netns unavailable: {why}"
    if net is None:
        net = ProxyNetwork(n, reason=reason)
    if not quiet:
        print(net.describe(), file=sys.stderr, flush=True)
    return net
