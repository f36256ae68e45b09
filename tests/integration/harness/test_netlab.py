"""Tests of netlab.py in every mode that works here (netns needs root; proxy works anywhere).

Each "node" is a small line-protocol agent listening on net.host(i):net.listen_port(i), in
its namespace (launched through net.command_prefix(i)) or as in-process threads. The test
talks to agent i through net.client_address(i), and asks it to open connections to its
peers (net.peer_address(i, j)) and to echo over them, to see which links carry traffic.

    python3 -m unittest -v test_netlab        (from this directory)
"""

import os
import select
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402

OPEN_TIMEOUT = 1.0      # a cut link must fail within this; a working one answers in ms
RECOVER_TIMEOUT = 15.0  # an existing netns connection resumes after heal (TCP backoff)

# --- the agent -------------------------------------------------------------------------------
#   PING                          -> PONG <id>
#   ECHO <x>                      -> <x>@<id>
#   OPEN <key> <host:port> <t>    -> OK <reply> | FAIL <why>   connect, one ECHO round trip
#   PROBE <key> <host:port> <t>   -> the same, then close the connection
#   SEND <key> <token> <t>        -> OK <reply> | FAIL <why>   ECHO <token> on connection key
#   CLOSE <key>                   -> OK
#   TELL <key> <token>            -> OK       NOTE <token> on connection key, no answer awaited
#   NOTE <token>                  -> (none)   remembered, for SEEN
#   SEEN <token>                  -> YES | NO


class _Conn:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def round_trip(self, token, timeout):
        """Send ECHO token, wait for the line token@<id>, skipping late answers."""
        deadline = time.monotonic() + timeout
        self.sock.sendall(f"ECHO {token}\n".encode())
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                line = line.decode()
                if line.startswith(token + "@"):
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timeout")
            self.sock.settimeout(left)
            data = self.sock.recv(4096)
            if not data:
                raise ConnectionError("closed")
            self.buf += data


class Agent:
    def __init__(self, node_id, host, port):
        agent = self
        self.id, self.conns, self.lock = node_id, {}, threading.Lock()
        self.seen = set()

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                for raw in self.rfile:
                    try:
                        reply = agent.command(raw.decode().strip())
                        if reply is None:
                            continue
                        self.wfile.write((reply + "\n").encode())
                        self.wfile.flush()
                    except OSError:
                        return

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True
            request_queue_size = 128    # the default 5 drops SYNs of parallel probes

        self.server = Server((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name=f"agent-{node_id}")

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            for c in self.conns.values():
                c.sock.close()
            self.conns.clear()

    def command(self, line):
        verb, *args = line.split()
        if verb == "PING":
            return f"PONG {self.id}"
        if verb == "ECHO":
            return f"{args[0]}@{self.id}"
        if verb in ("OPEN", "PROBE"):
            key, addr, t = args[0], args[1], float(args[2])
            host, port = addr.rsplit(":", 1)
            c = None
            try:
                c = _Conn(socket.create_connection((host, int(port)), timeout=t))
                reply = c.round_trip(f"open-{key}", t)
            except Exception as e:  # noqa: BLE001
                if c is not None:
                    c.sock.close()
                return f"FAIL {type(e).__name__}"
            if verb == "PROBE":
                c.sock.close()
                return f"OK {reply}"
            with self.lock:
                old = self.conns.pop(key, None)
                self.conns[key] = c
            if old:
                old.sock.close()
            return f"OK {reply}"
        if verb == "SEND":
            key, token, t = args[0], args[1], float(args[2])
            with self.lock:
                c = self.conns.get(key)
            if c is None:
                return "FAIL no-such-connection"
            try:
                return f"OK {c.round_trip(token, t)}"
            except Exception as e:  # noqa: BLE001
                return f"FAIL {type(e).__name__}"
        if verb == "TELL":
            with self.lock:
                c = self.conns.get(args[0])
            if c is None:
                return "FAIL no-such-connection"
            c.sock.sendall(f"NOTE {args[1]}\n".encode())
            return "OK"
        if verb == "NOTE":
            with self.lock:
                self.seen.add(args[0])
            return None
        if verb == "SEEN":
            with self.lock:
                return "YES" if args[0] in self.seen else "NO"
        if verb == "CLOSE":
            with self.lock:
                c = self.conns.pop(args[0], None)
            if c:
                c.sock.close()
            return "OK"
        return f"FAIL unknown-verb {verb}"


def _agent_main(argv):
    node_id, host, port = int(argv[0]), argv[1], int(argv[2])
    Agent(node_id, host, port).start()
    print("ready", flush=True)
    sys.stdin.read()        # until the test closes our stdin (or kills us)


# --- the test side ---------------------------------------------------------------------------


def _addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def _ask(address, line, timeout):
    """One command to the agent at address (a client connection from this process)."""
    with socket.create_connection(_addr(address), timeout=timeout) as s:
        s.sendall((line + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            data = s.recv(4096)
            if not data:
                raise ConnectionError(f"{address}: closed before answering {line!r}")
            buf += data
        return buf.decode().strip()


def _netns_skip_reason():
    why = netlab._netns_unavailable()
    return f"netns mode unavailable here: {why}" if why else None


class _LabTests:
    """Mixed into one TestCase per mode; MODE is "netns" or "proxy"."""

    MODE = None
    N = 5

    def setUp(self):
        self.net = netlab.make_network(self.N, mode=self.MODE)
        self.procs, self.agents = [], []
        self.pool = ThreadPoolExecutor(max_workers=64)
        self.addCleanup(self._cleanup)  # runs even when setUp fails half-way
        self.assertEqual(self.net.mode, self.MODE)
        self.seq = 0
        for i in self.net.nodes():
            self._start_agent(i)

    def _cleanup(self):
        self.pool.shutdown(wait=True)
        for a in self.agents:
            a.stop()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)
            p.stdout.close()
            p.stdin.close()
        self.net.close()
        if self.MODE == "netns":        # nothing left, whatever the test did
            _assert_gone(self, self.net)

    def _start_agent(self, i):
        host, port = self.net.host(i), self.net.listen_port(i)
        if self.MODE == "proxy":
            self.agents.append(Agent(i, host, port).start())
            return
        p = subprocess.Popen(self.net.command_prefix(i) + [
            sys.executable, os.path.abspath(__file__), "--agent", str(i), host, str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        ready, _, _ = select.select([p.stdout], [], [], 20)
        self.assertTrue(ready and p.stdout.readline().strip() == "ready", f"agent {i} failed")

    # probes, all in parallel ---------------------------------------------------------------
    def _pairs(self):
        return [(i, j) for i in self.net.nodes() for j in self.net.nodes() if i != j]

    def _parallel(self, fn, items):
        return dict(zip(items, self.pool.map(fn, items)))

    def _open(self, i, j, key, timeout=OPEN_TIMEOUT, verb="OPEN"):
        reply = _ask(self.net.client_address(i),
                     f"{verb} {key} {self.net.peer_address(i, j)} {timeout}", timeout + 5)
        if reply.startswith("OK"):
            self.assertEqual(reply, f"OK open-{key}@{j}")
        return reply.startswith("OK")

    def _send(self, i, key, j, timeout=OPEN_TIMEOUT):
        self.seq += 1
        token = f"t{self.seq}-{i}-{j}"
        reply = _ask(self.net.client_address(i), f"SEND {key} {token} {timeout}", timeout + 5)
        if reply.startswith("OK"):
            self.assertEqual(reply, f"OK {token}@{j}")
        return reply.startswith("OK")

    def new_links(self):
        """{(i, j): a new connection from i reaches j}."""
        self.seq += 1
        seq = self.seq
        return self._parallel(
            lambda p: self._open(p[0], p[1], f"n{seq}-{p[0]}-{p[1]}", verb="PROBE"), self._pairs())

    def old_links(self, timeout=OPEN_TIMEOUT):
        """{(i, j): the connection i opened to j at the start still carries traffic}."""
        return self._parallel(lambda p: self._send(p[0], f"p-{p[0]}-{p[1]}", p[1], timeout),
                              self._pairs())

    def reopen(self, pairs):
        ok = self._parallel(lambda p: self._open(p[0], p[1], f"p-{p[0]}-{p[1]}"), list(pairs))
        self.assertTrue(all(ok.values()), ok)

    def clients(self):
        """{i: a new client connection from the root namespace reaches i}."""
        def ping(i):
            try:
                return _ask(self.net.client_address(i), "PING", 5) == f"PONG {i}"
            except OSError:
                return False
        return self._parallel(ping, list(self.net.nodes()))

    def expected(self, cut):
        return {(i, j): frozenset((i, j)) not in cut for (i, j) in self._pairs()}

    def check(self, what, cut):
        """New and existing connections work exactly across the links not in cut; every
        node stays reachable by clients."""
        want = self.expected(cut)
        self.assertEqual(self.new_links(), want, f"{what}: new connections")
        self.assertEqual(self.old_links(), want, f"{what}: existing connections")
        self.assertEqual(self.clients(), {i: True for i in self.net.nodes()}, f"{what}: clients")

    def after_heal(self, what, was_cut):
        """Everything works again; existing connections over cut links resume (netns: TCP
        retransmits) or were closed by the cut (proxy) and can be opened again."""
        self.assertEqual(self.net.cuts(), [])
        self.assertEqual(self.new_links(), self.expected(set()), f"{what}: new after heal")
        broken = [p for p in self._pairs() if frozenset(p) in was_cut]
        if self.MODE == "netns":
            ok = self._parallel(lambda p: self._send(p[0], f"p-{p[0]}-{p[1]}", p[1],
                                                     RECOVER_TIMEOUT), broken)
            self.assertTrue(all(ok.values()), f"{what}: stalled connections resume: {ok}")
        else:
            self.reopen(broken)
        self.assertEqual(self.old_links(), self.expected(set()), f"{what}: existing after heal")

    # the scenario --------------------------------------------------------------------------
    def test_cut_isolate_partition_heal(self):
        net = self.net
        self.reopen(self._pairs())      # the long-lived connections, p-i-j
        self.check("start", set())

        net.cut(1, 2)
        cut = {frozenset((1, 2))}
        self.assertTrue(net.is_cut(2, 1))
        self.check("cut(1, 2)", cut)
        net.heal()
        self.after_heal("cut(1, 2)", cut)

        net.isolate(3)
        cut = {frozenset((3, j)) for j in net.nodes() if j != 3}
        self.assertEqual(len(net.cuts()), self.N - 1)
        self.check("isolate(3)", cut)
        net.heal()
        self.after_heal("isolate(3)", cut)

        net.partition([[1, 2], [3, 4, 5]])
        cut = {frozenset((i, j)) for i in (1, 2) for j in (3, 4, 5)}
        self.check("partition([[1, 2], [3, 4, 5]])", cut)
        net.cut(4, 5)                   # cuts add up
        cut.add(frozenset((4, 5)))
        self.check("partition + cut(4, 5)", cut)
        net.heal()
        self.after_heal("partition", cut)

    def _seen_within(self, j, token, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if _ask(self.net.client_address(j), f"SEEN {token}", 5) == "YES":
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def test_one_way_cut(self):
        net = self.net
        self.reopen(self._pairs())
        net.cut_one_way(1, 2)
        self.assertTrue(net.drops(1, 2) and not net.drops(2, 1))
        self.assertEqual(net.one_way_cuts(), [(1, 2)])
        # 2's bytes reach 1; 1's bytes to 2 do not (on the connections either one dialed).
        self.assertEqual(_ask(net.client_address(2), "TELL p-2-1 two-to-one", 5), "OK")
        self.assertTrue(self._seen_within(1, "two-to-one", 2), "2 -> 1 must flow")
        self.assertEqual(_ask(net.client_address(1), "TELL p-1-2 one-to-two", 5), "OK")
        self.assertFalse(self._seen_within(2, "one-to-two", 1), "1 -> 2 must be dropped")
        self.assertFalse(self._send(1, "p-1-2", 2), "no round trip over a one-way cut")
        others = [p for p in self._pairs() if set(p) != {1, 2}]
        ok = self._parallel(lambda p: self._send(p[0], f"p-{p[0]}-{p[1]}", p[1]), others)
        self.assertTrue(all(ok.values()), f"other links unaffected: {ok}")
        net.heal()
        self.assertEqual(net.one_way_cuts(), [])
        # What was held back arrives after heal (netns: TCP retransmits; proxy: the stalled
        # stream resumes); the link carries round trips again.
        self.assertTrue(self._seen_within(2, "one-to-two", RECOVER_TIMEOUT),
                        "the held-back bytes arrive after heal")
        self.assertTrue(self._send(1, "p-1-2", 2, RECOVER_TIMEOUT), "1 <-> 2 after heal")

    def test_addresses(self):
        net = self.net
        for i in net.nodes():
            self.assertEqual(net.peer_address(i, i), f"{net.host(i)}:{net.listen_port(i)}")
            self.assertEqual(len(net.peers(i)), self.N)
            self.assertEqual(len({net.peer_address(i, j) for j in net.nodes()}), self.N)
        with self.assertRaises(ValueError):
            net.cut(1, self.N + 1)
        with self.assertRaises(ValueError):
            net.partition([[1, 2], [2, 3]])


class ProxyModeTest(_LabTests, unittest.TestCase):
    MODE = "proxy"

    def test_close_leaves_nothing(self):
        net = self.net
        ports = [int(net.peer_address(i, j).rsplit(":", 1)[1]) for i, j in self._pairs()]
        for a in self.agents:
            a.stop()
        self.agents = []
        net.close()
        net.close()                     # idempotent
        threads = [p._thread for p in net._proxies.values()]
        self.assertEqual(len(threads), len(ports))
        self.assertEqual([t.name for t in threads if t.is_alive()], [])
        pumps = [t.name for t in threading.enumerate() if t.name.startswith("netlab-proxy")]
        self.assertEqual(pumps, [])
        for port in ports:
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=2).close()


@unittest.skipIf(_netns_skip_reason(), _netns_skip_reason())
class NetnsModeTest(_LabTests, unittest.TestCase):
    MODE = "netns"

    def test_addresses_netns(self):
        net = self.net
        subnet = net.host(1).rsplit(".", 1)[0]
        self.assertTrue(subnet.startswith("10.77."))
        for i in net.nodes():
            self.assertEqual(net.host(i), f"{subnet}.{i}")
            self.assertEqual(net.client_address(i), f"{subnet}.{i}:{net.listen_port(i)}")
            self.assertEqual(net.command_prefix(i)[:3], ["ip", "netns", "exec"])

    def test_close_leaves_nothing(self):
        net = self.net
        names = list(net.namespaces.values())
        links = list(net.veths.values()) + [net.bridge]
        net.close()                     # with every agent and its connections still up
        net.close()                     # idempotent
        for p in self.procs:            # close() killed what still ran in the namespaces
            self.assertIsNotNone(p.wait(timeout=10))
        _assert_gone(self, net)

    def test_parallel_labs_do_not_clash(self):
        with netlab.make_network(2, mode="netns", quiet=True) as other:
            self.assertNotEqual(other.host(1), self.net.host(1))
            self.assertNotEqual(other.bridge, self.net.bridge)
            # an agent of the other lab answers, and cuts there leave this lab alone
            other.cut(1, 2)
            self.assertEqual(self.clients(), {i: True for i in self.net.nodes()})
            self.assertEqual(self.new_links(), self.expected(set()))
        _assert_gone(self, other)


def _assert_gone(test, net):
    """No namespace, veth, bridge or qdisc of net left (checked right away: close() waits)."""
    links = list(net.veths.values()) + [net.bridge]
    test.assertEqual(_present_namespaces(list(net.namespaces.values())), [])
    test.assertEqual(_present_links(links), [])
    qdiscs = subprocess.run(["tc", "qdisc", "show"], capture_output=True, text=True).stdout
    test.assertFalse([x for x in links if f"dev {x} " in qdiscs], qdiscs)


def _present_namespaces(names):
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    present = {line.split()[0] for line in out.splitlines() if line.strip()}
    return [x for x in names if x in present]


def _present_links(names, timeout=0.0):
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
        present = {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}
        left = [x for x in names if x in present]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


@unittest.skipIf(_netns_skip_reason(), _netns_skip_reason())
class NetnsCleanupTest(unittest.TestCase):
    def test_watchdog_cleans_up_after_sigkill(self):
        code = ("import sys, time; sys.path.insert(0, sys.argv[1]); import netlab\n"
                "net = netlab.make_network(3, mode='netns', quiet=True)\n"
                "print(' '.join(list(net.namespaces.values()) + list(net.veths.values()) + "
                "[net.bridge]), flush=True)\n"
                "time.sleep(120)\n")
        p = subprocess.Popen([sys.executable, "-c", code, os.path.dirname(__file__) or "."],
                             stdout=subprocess.PIPE, text=True)
        try:
            names = p.stdout.readline().split()
            self.assertEqual(len(names), 7, names)
            self.assertEqual(len(_present_namespaces(names[:3])), 3)
        finally:
            p.kill()
            p.wait()
            p.stdout.close()
        deadline = time.monotonic() + 15
        while _present_namespaces(names[:3]) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(_present_namespaces(names[:3]), [])
        self.assertEqual(_present_links(names[3:], timeout=10), [])

    def test_stale_labs_are_removed_live_ones_kept(self):
        p = subprocess.Popen([sys.executable, "-c", "pass"])
        p.wait()
        dead = p.pid                    # a pid that just exited
        stale_ns, stale_br = f"raftor-lab-{dead}-0-1", f"rlb{dead}-0"
        live_ns = f"raftor-lab-{os.getpid()}-999-1"
        subprocess.run(["ip", "netns", "add", stale_ns], check=True)
        subprocess.run(["ip", "netns", "add", live_ns], check=True)
        subprocess.run(["ip", "link", "add", stale_br, "type", "bridge"], check=True)
        try:
            with netlab.make_network(1, mode="netns", quiet=True):
                self.assertEqual(_present_namespaces([stale_ns, live_ns]), [live_ns])
                self.assertEqual(_present_links([stale_br]), [])
        finally:
            for ns in (stale_ns, live_ns):
                subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            subprocess.run(["ip", "link", "del", stale_br], capture_output=True)


class ModeChoiceTest(unittest.TestCase):
    def test_forced_proxy_and_unknown_mode(self):
        with netlab.make_network(2, mode="proxy", quiet=True) as net:
            self.assertEqual(net.mode, "proxy")
            self.assertEqual(net.command_prefix(1), [])
            self.assertEqual(net.host(2), "127.0.0.1")
            self.assertNotEqual(net.peer_address(1, 2), net.client_address(2))
        with self.assertRaises(ValueError):
            netlab.make_network(2, mode="bogus")

    @unittest.skipIf(os.environ.get("RAFTOR_NETLAB_MODE"), "RAFTOR_NETLAB_MODE forces a mode")
    def test_default_mode(self):
        with netlab.make_network(2, quiet=True) as net:
            self.assertEqual(net.mode, "proxy" if _netns_skip_reason() else "netns")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--agent":
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _agent_main(sys.argv[2:])
    else:
        unittest.main()
