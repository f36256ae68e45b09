#!/usr/bin/env python3
"""Random and malformed bytes sent to nodes' ports with raw sockets, while a workload runs:
random junk of several sizes, the node's own greeting echoed back with bytes flipped,
headers claiming huge payloads, an HTTP request, connect-and-close storms, idle half-sent
connections. Every node must keep running and answering, and the history must stay
linearizable with nothing acknowledged lost."""
import socket
import struct
import time

import _common  # noqa: F401
from harness import SetWorkload, Workload, check, run_scenario


def connect(port, timeout=2.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    return s


def greeting(port):
    """What the node sends first on a fresh connection (b"" if nothing within 0.5 s)."""
    s = connect(port)
    s.settimeout(0.5)
    data = b""
    try:
        while len(data) < 4096:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, OSError):
        pass
    s.close()
    return data


def send_and_close(port, payload, linger=0.05):
    try:
        s = connect(port)
        s.sendall(payload)
        time.sleep(linger)
        s.close()
    except OSError:
        pass  # the node may close on us: fine


def attacks(rng, port):
    """(name, callable) pairs; each sends something bad to the port."""
    out = []
    for size in (1, 7, 64, 1024, 65536):
        out.append((f"{size} random bytes",
                    lambda size=size: send_and_close(port, rng.randbytes(size))))
    g = greeting(port)
    out.append((f"greeting ({len(g)} bytes) echoed back",
                lambda: send_and_close(port, g)))
    for k in range(5):
        def flipped(k=k):
            data = bytearray(g or rng.randbytes(64))
            for _ in range(1 + k):
                i = rng.randrange(len(data))
                data[i] ^= 1 << rng.randrange(8)
            send_and_close(port, bytes(data) + rng.randbytes(rng.randrange(64)))
        out.append((f"greeting with {k + 1} bits flipped", flipped))
    if len(g) >= 8:
        def truncated():
            send_and_close(port, g[: len(g) // 2])
        out.append(("greeting cut in half", truncated))
    for fill in (b"\xff", b"\x00", b"\x7f"):
        def huge(fill=fill):
            # Headers of all-0xff / all-zero / 0x7f fields: length fields claim up to 4 GiB.
            send_and_close(port, fill * 64 + struct.pack(">Q", 2**63 - 1) * 4)
        out.append((f"header of {fill.hex()} bytes (huge lengths)", huge))
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
        sent = 0
        leader = c.wait_leader()
        targets = [leader] + [i for i in c.nodes if i != leader][:1]
        for node in targets:
            port = c.nodes[node].port
            # Idle connections that sent half a message and stay open during the attacks.
            for _ in range(3):
                s = connect(port)
                s.sendall(ctx.rng.randbytes(5))
                idle.append(s)
            for name, attack in attacks(ctx.rng, port):
                attack()
                sent += 1
                check(c.nodes[node].running(),
                      f"node {node} died after '{name}' (exit {c.exit_code(node)}); "
                      f"log:\n{c.nodes[node].log_tail()}")
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
        return (f"{sent} bad inputs to nodes {targets}, all nodes up, leader {leader} -> "
                f"{leader_after}; {r['ops']} ops linearizable, lost {r['lost']}; set lost "
                f"{s['lost']}")


if __name__ == "__main__":
    run_scenario("bad_bytes", "random and malformed bytes to a node's port", body)
