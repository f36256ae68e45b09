#!/usr/bin/env python3
"""Random and malformed bytes sent to nodes' ports with raw sockets, while a workload runs:
random junk of several sizes, a valid frame echoed back with bits flipped, frame headers
claiming huge lengths, a wrong magic or version, a valid header with a garbage protobuf
payload, headers of all-0xff bytes, an HTTP request, connect-and-close storms, idle
half-sent connections. Every node must keep running and answering with bounded memory,
and the history must stay linearizable with nothing acknowledged lost."""
import socket
import struct
import time

import _common  # noqa: F401
from harness import SetWorkload, Workload, check, run_scenario


HOST = "127.0.0.1"  # set to the target node's client address in body()


MAX_RSS_MB = 256  # a node of this test uses ~30-80 MB; 8 x 60 MiB claims would be 480 MB


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


def connect(port, timeout=2.0):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.settimeout(timeout)
    return s


# raftor's frame header (actors/network/frame.hpp): magic, version, kind, 2 reserved bytes,
# payload length (u32, big-endian). Kinds: 1 peer message, 2 client request, 3 response.
MAGIC, VERSION = b"RFTR", 1


def frame(kind, payload, version=VERSION, magic=MAGIC, length=None):
    n = len(payload) if length is None else length
    return magic + bytes([version, kind, 0, 0]) + struct.pack(">I", n) + payload


def status_request():
    """A valid ClientRequest{id: 1, status: {}} (client.proto: field 1 varint, field 4 empty
    message), framed."""
    return frame(2, b"\x08\x01\x22\x00")


def closes_connection(port, payload, timeout=2.0):
    """Sends payload and reports whether the node closed the connection within timeout."""
    s = connect(port, timeout)
    try:
        s.sendall(payload)
        while True:
            if not s.recv(4096):
                return True
    except socket.timeout:
        return False
    except OSError:
        return True  # reset: closed too
    finally:
        s.close()


def send_and_close(port, payload, linger=0.05):
    try:
        s = connect(port)
        s.sendall(payload)
        time.sleep(linger)
        s.close()
    except OSError:
        pass  # the node may close on us: fine


def attacks(rng, port, pid=None):
    """(name, callable) pairs; each sends something bad to the port."""
    out = []
    for size in (1, 7, 64, 1024, 65536):
        out.append((f"{size} random bytes",
                    lambda size=size: send_and_close(port, rng.randbytes(size))))
    good = status_request()
    out.append(("a valid status request echoed back", lambda: send_and_close(port, good)))
    for k in range(5):
        def flipped(k=k):
            data = bytearray(good)
            for _ in range(1 + k):
                i = rng.randrange(len(data))
                data[i] ^= 1 << rng.randrange(8)
            send_and_close(port, bytes(data) + rng.randbytes(rng.randrange(64)))
        out.append((f"a status request with {k + 1} bits flipped", flipped))
    for fill in (b"\xff", b"\x00", b"\x7f"):
        def huge(fill=fill):
            # Headers of all-0xff / all-zero / 0x7f fields: length fields claim up to 4 GiB.
            send_and_close(port, fill * 64 + struct.pack(">Q", 2**63 - 1) * 4)
        out.append((f"header of {fill.hex()} bytes (huge lengths)", huge))

    def refused(what, payload):
        def attack():
            check(closes_connection(port, payload),
                  f"the node kept a connection open after {what}")
        return (what, attack)
    for kind in (1, 2):
        out.append(refused(f"a kind-{kind} frame claiming 4 GiB",
                           frame(kind, rng.randbytes(64), length=0xFFFFFFFF)))
        out.append(refused(f"a kind-{kind} frame claiming 1 GiB",
                           frame(kind, rng.randbytes(64), length=1 << 30)))
    out.append(refused("a wrong magic", frame(2, b"\x08\x01\x22\x00", magic=b"RFTX")))
    out.append(refused("a wrong version", frame(2, b"\x08\x01\x22\x00", version=9)))
    out.append(refused("an unknown kind", frame(9, b"\x08\x01\x22\x00")))
    out.append(refused("a response sent to a node", frame(3, b"\x08\x01")))
    out.append(refused("a client request of garbage protobuf", frame(2, b"\xff" * 32)))
    # A peer frame of garbage: the node refuses (and logs) the message, the frame itself
    # was well-formed.
    out.append(("a peer frame of garbage protobuf",
                 lambda: send_and_close(port, frame(1, rng.randbytes(200)))))

    # A frame that claims 60 MiB (within the 65 MiB maximum) and stops short: the node must
    # hold only what arrived. Memory is measured while the connections stay open.
    def claims_within_limit():
        socks = []
        try:
            for _ in range(8):
                s = connect(port)
                s.sendall(frame(1, rng.randbytes(64), length=60 << 20))
                socks.append(s)
            time.sleep(0.5)
            return rss_mb(pid) if pid else None
        finally:
            for s in socks:
                s.close()
    out.append(("8 frames each claiming 60 MiB, held open", claims_within_limit))
    out.append(("HTTP request", lambda: send_and_close(
        port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")))

    def storm():
        for _ in range(100):
            try:
                connect(port).close()
            except OSError:
                pass
    out.append(("100 connect-and-close", storm))

    def many():
        socks = []
        for _ in range(50):
            try:
                s = connect(port)
                s.sendall(rng.randbytes(rng.randrange(1, 200)))
                socks.append(s)
            except OSError:
                pass
        time.sleep(0.3)
        for s in socks:
            s.close()
    out.append(("50 concurrent junk connections", many))
    return out


def body(ctx):
    with ctx.cluster(3) as c:
        wl = Workload(c, duration=10).start()
        sw = SetWorkload(c).start()
        time.sleep(1)
        idle = []
        sent, peak = 0, 0
        leader = c.wait_leader()
        targets = [leader] + [i for i in c.nodes if i != leader][:1]
        global HOST
        for node in targets:
            port = c.nodes[node].client_port
            HOST = c.nodes[node].client_host
            # Idle connections that sent half a message and stay open during the attacks.
            for _ in range(3):
                s = connect(port)
                s.sendall(ctx.rng.randbytes(5))
                idle.append(s)
            for name, attack in attacks(ctx.rng, port, c.nodes[node].proc.pid):
                t0 = time.monotonic()
                during = attack() or 0
                sent += 1
                check(c.nodes[node].running(),
                      f"node {node} died after '{name}' (exit {c.exit_code(node)}); "
                      f"log:\n{c.nodes[node].log_tail()}")
                mb = max(during, rss_mb(c.nodes[node].proc.pid))
                peak = max(peak, mb)
                check(mb < MAX_RSS_MB, f"node {node}'s memory grew to {mb} MB after '{name}' "
                                       f"(a {MAX_RSS_MB} MB limit; seed {ctx.seed})")
                t1 = time.monotonic()
                st = c.node_status(node, timeout_ms=2000)
                check(st is not None, f"node {node} did not answer a status request within 2 s "
                                      f"after '{name}' (attack took {t1 - t0:.2f} s)")
            st = c.node_status(node, timeout_ms=3000)
            check(st is not None, f"node {node} stopped answering after the bad input")
            c.log(f"node {node} ({st['role']}, term {st['term']}): survived {sent} bad inputs")
        for s in idle:
            s.close()
        leader_after = c.wait_leader()
        for i in c.nodes:
            check(c.nodes[i].running(), f"node {i} exited with {c.exit_code(i)}")
        sw.stop()
        r = wl.check()
        s = sw.check()
        return (f"{sent} bad inputs to nodes {targets}, all nodes up (peak RSS {peak} MB), "
                f"leader {leader} -> "
                f"{leader_after}; {r['ops']} ops linearizable, lost {r['lost']}; set lost "
                f"{s['lost']}")


if __name__ == "__main__":
    run_scenario("bad_bytes", "random and malformed bytes to a node's port", body)
