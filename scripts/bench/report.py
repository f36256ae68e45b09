"""The side-by-side table (medians of the repeats) and the issue's targets."""

import statistics


def median_of(samples, field):
    values = [s[field] for s in samples]
    return statistics.median(values) if values else 0.0


def spread_pct(samples, field="ops_per_second"):
    """(max - min) / median of the repeats, in percent: how noisy this row was."""
    values = [s[field] for s in samples]
    med = statistics.median(values) if values else 0
    return 100.0 * (max(values) - min(values)) / med if med else 0.0


def _per_op_us(samples, field):
    """Median CPU microseconds per successful operation (None without CPU figures)."""
    values = [s[field] / s["ok"] * 1e6 for s in samples if field in s and s.get("ok")]
    return statistics.median(values) if values else None


def _cores(samples, field):
    """Median cores busy during the runs (CPU seconds / wall seconds)."""
    values = [s[field] / s["seconds"] for s in samples if field in s and s.get("seconds")]
    return statistics.median(values) if values else None


def summarize(workload, raftor_samples, etcd_samples):
    row = {"workload": workload.name, "title": workload.title,
           "concurrency": workload.concurrency}
    for side, samples in (("raftor", raftor_samples), ("etcd", etcd_samples)):
        row[side] = {"ops_per_second": median_of(samples, "ops_per_second"),
                     "p50_ms": median_of(samples, "p50_ms"),
                     "p99_ms": median_of(samples, "p99_ms"),
                     "p999_ms": median_of(samples, "p999_ms"),
                     "errors": sum(s["errors"] for s in samples),
                     "spread_pct": spread_pct(samples),
                     "server_cpu_us_per_op": _per_op_us(samples, "server_cpu_s"),
                     "driver_cpu_us_per_op": _per_op_us(samples, "driver_cpu_s"),
                     "server_cores": _cores(samples, "server_cpu_s"),
                     "driver_cores": _cores(samples, "driver_cpu_s")}
    etcd_ops = row["etcd"]["ops_per_second"]
    row["ratio"] = row["raftor"]["ops_per_second"] / etcd_ops if etcd_ops else None
    return row


def _ops(x):
    return f"{x:,.0f}"


def _ms(x):
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def _grid(header, body):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + \
        [line(cells) for cells in body]


def table(rows, repeats):
    header = ["workload", "raftor ops/s", "etcd ops/s", "ratio", "p50 raftor", "p50 etcd",
              "p99 raftor", "p99 etcd"]
    body = []
    for r in rows:
        a, b = r["raftor"], r["etcd"]
        body.append([r["title"], f"{_ops(a['ops_per_second'])} ±{a['spread_pct']:.0f}%",
                     f"{_ops(b['ops_per_second'])} ±{b['spread_pct']:.0f}%",
                     f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-",
                     _ms(a["p50_ms"]), _ms(b["p50_ms"]), _ms(a["p99_ms"]), _ms(b["p99_ms"])])
    out = _grid(header, body)
    out.append(f"medians of {repeats} run(s) per row; ±: (max - min) / median of ops/s across "
               "the runs; latencies in ms")
    errors = [(r["title"], side, r[side]["errors"]) for r in rows for side in ("raftor", "etcd")
              if r[side]["errors"]]
    for title, side, n in errors:
        out.append(f"errors: {side}, {title}: {n}")
    return "\n".join(out)


def cpu_table(rows):
    """Where the CPU went: microseconds per operation in the three servers together and in
    the load driver, and the cores each kept busy (medians of the runs)."""
    def us(x):
        return "-" if x is None else f"{x:,.0f}"

    def cores(x):
        return "-" if x is None else f"{x:.2f}"

    header = ["CPU per op (us) / cores busy", "raftor servers", "etcd servers", "raftor driver",
              "etcd driver", "raftor cores", "etcd cores"]
    body = []
    for r in rows:
        a, b = r["raftor"], r["etcd"]
        busy = [None if x["server_cores"] is None or x["driver_cores"] is None
                else x["server_cores"] + x["driver_cores"] for x in (a, b)]
        body.append([r["title"], us(a["server_cpu_us_per_op"]), us(b["server_cpu_us_per_op"]),
                     us(a["driver_cpu_us_per_op"]), us(b["driver_cpu_us_per_op"]),
                     cores(busy[0]), cores(busy[1])])
    out = _grid(header, body)
    out.append("servers: the three nodes/members together; cores: servers + driver, of the "
               "machine's total (other users' load not included)")
    return "\n".join(out)


def targets(rows):
    """Issue 7's targets, judged on the medians: (description, met or None, detail)."""
    by = {r["workload"]: r for r in rows}
    out = []
    for name, desc in (("put-64", "writes/s >= 3x etcd (put, 64)"),
                       ("get-64", "linearizable reads/s >= 3x etcd (get, 64)")):
        if name in by:
            r = by[name]["ratio"]
            out.append((desc, r is not None and r >= 3,
                        f"{r:.2f}x" if r is not None else "etcd served nothing"))
    worse = [f"{r['title']} ({_ms(r['raftor']['p99_ms'])} vs {_ms(r['etcd']['p99_ms'])} ms)"
             for r in rows if r["raftor"]["p99_ms"] > r["etcd"]["p99_ms"]]
    out.append(("p99 latency not above etcd's", not worse,
                "every row" if not worse else "above on: " + "; ".join(worse)))
    return out


def targets_text(rows):
    return "\n".join(f"  [{'met' if met else 'NOT met'}] {desc}: {detail}"
                     for desc, met, detail in targets(rows))
