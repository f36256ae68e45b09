"""Clusters that change their membership (Raft thesis 4.1): founders that list only each
other, nodes that join later, and raftorctl's member commands with retries."""
import time

from .workload import CheckFailed


def start_founders(c, founders, joiners, joiner_peers):
    """Starts `founders` as the bootstrap voters (each lists only the founders as peers) and
    prepares `joiners` to start with --join, listing only `joiner_peers` (and themselves):
    the other members they learn from the configuration entries. Waits for a leader."""
    for i in founders:
        c.nodes[i].peer_ids = list(founders)
    for i in joiners:
        c.nodes[i].peer_ids = list(joiner_peers)
        c.nodes[i].extra_args = ["--join"]
    for i in founders:
        c.start(i, wait=False)
    for i in founders:
        c.wait_ready(i)
    return c.wait_leader(ids=list(founders))


def member(c, *args, deadline_s=20, ids=None):
    """`raftorctl member ...` until it succeeds (the client retries a leader change within
    its own deadline; this retries beyond it); returns its stdout. CheckFailed on a refusal
    (exit 2) or after `deadline_s`."""
    t0 = time.monotonic()
    what = " ".join(map(str, args))
    while True:
        rc, out, err = c.ctl("member", *args, ids=ids, timeout_ms=5000)
        if rc == 0:
            return out.strip()
        if rc != 3 or time.monotonic() - t0 >= deadline_s:
            raise CheckFailed(f"raftorctl member {what}: exit {rc}: {err.strip()}")
        c.log(f"member {what}: {err.strip()} (retrying)")
        time.sleep(0.5)


def wait_voters(c, expected, timeout=30):
    """Waits until the leader's configuration is committed with exactly `expected` voting;
    returns `member list`'s document."""
    deadline = time.monotonic() + timeout
    voters = None
    while time.monotonic() < deadline:
        doc = c.members()
        if doc:
            voters = sorted(m["id"] for m in doc["members"] if m["suffrage"] == "voter")
            if voters == sorted(expected) and doc.get("committed"):
                return doc
        time.sleep(0.1)
    raise CheckFailed(f"voters {voters}, expected {sorted(expected)} within {timeout} s")
