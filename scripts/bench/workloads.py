"""The workloads `make bench` runs against both systems, and the key space they share."""

import base64
from dataclasses import dataclass

KEY_SPACE = 10_000
KEY_SIZE = 16      # raftor-bench's default: "key-" + zero-padded number
VALUE_SIZE = 256


@dataclass(frozen=True)
class Workload:
    name: str          # short id, used in the JSON and with --workloads
    title: str         # the table's row label
    concurrency: int   # clients (raftor-bench) = connections (wrk), one request in flight each
    raftor_op: str     # raftor-bench --op
    etcd_op: str       # "put" | "get"
    etcd_serializable: bool = False


WORKLOADS = [
    Workload("put-1", "put, 1 in flight", 1, "put", "put"),
    Workload("put-64", "put, 64 in flight", 64, "put", "put"),
    Workload("get-1", "linearizable get, 1", 1, "get", "get"),
    Workload("get-64", "linearizable get, 64", 64, "get", "get"),
    Workload("local-get-64", "lease get (raftor) / serializable (etcd), 64", 64,
             "lease-get", "get", etcd_serializable=True),
]


def key_name(n):
    """raftor-bench's key for number n (make_key in tools/raftor-bench/bench_runner.cpp)."""
    digits = str(n)
    return "key-" + "0" * max(0, KEY_SIZE - 4 - len(digits)) + digits


def all_keys():
    return [key_name(n) for n in range(KEY_SPACE)]


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def value_bytes():
    return b"v" * VALUE_SIZE


def select(names):
    """The workloads named in a comma-separated list (all for None or "all")."""
    if not names or names == "all":
        return list(WORKLOADS)
    by_name = {w.name: w for w in WORKLOADS}
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown workload(s) {', '.join(unknown)}; "
                         f"known: {', '.join(by_name)}")
    return [by_name[n] for n in wanted]
