"""scripts/bench's report (medians, ratios, targets, table) and workload definitions."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts", "bench"))

import report  # noqa: E402
import workloads as wl  # noqa: E402


def sample(ops, p50=1.0, p99=5.0, errors=0, seconds=2.0, server_cpu=None, driver_cpu=None):
    s = {"ops_per_second": ops, "ok": int(ops * seconds), "seconds": seconds, "p50_ms": p50,
         "p99_ms": p99, "p999_ms": p99 * 2, "errors": errors}
    if server_cpu is not None:
        s["server_cpu_s"], s["driver_cpu_s"] = server_cpu, driver_cpu
    return s


def row(name, raftor, etcd):
    return report.summarize(next(w for w in wl.WORKLOADS if w.name == name), raftor, etcd)


class SummarizeTest(unittest.TestCase):
    def test_medians_ratio_and_spread(self):
        r = row("put-64", [sample(900, p99=30), sample(1000, p99=10), sample(1200, p99=20)],
                [sample(400), sample(500, errors=2), sample(450)])
        self.assertEqual(r["raftor"]["ops_per_second"], 1000)
        self.assertEqual(r["raftor"]["p99_ms"], 20)  # median of the runs' p99, not the max
        self.assertEqual(r["etcd"]["ops_per_second"], 450)
        self.assertAlmostEqual(r["ratio"], 1000 / 450)
        self.assertAlmostEqual(r["raftor"]["spread_pct"], 30.0)  # (1200 - 900) / 1000
        self.assertEqual(r["etcd"]["errors"], 2)

    def test_even_number_of_repeats_averages_the_middle_two(self):
        r = row("get-1", [sample(100), sample(300)], [sample(100), sample(100)])
        self.assertEqual(r["raftor"]["ops_per_second"], 200)
        self.assertAlmostEqual(r["ratio"], 2.0)

    def test_no_etcd_throughput_gives_no_ratio(self):
        r = row("get-1", [sample(100)], [sample(0)])
        self.assertIsNone(r["ratio"])
        self.assertIn("| linearizable get, 1", report.table([r], 1))


class CpuTest(unittest.TestCase):
    def test_cpu_per_operation_and_cores(self):
        # 1000 ops/s for 2 s = 2000 ops; 1 CPU second in the servers = 500 us per op.
        r = row("put-64", [sample(1000, server_cpu=1.0, driver_cpu=0.5)],
                [sample(500, server_cpu=2.0, driver_cpu=0.1)])
        self.assertAlmostEqual(r["raftor"]["server_cpu_us_per_op"], 500)
        self.assertAlmostEqual(r["raftor"]["driver_cpu_us_per_op"], 250)
        self.assertAlmostEqual(r["etcd"]["server_cpu_us_per_op"], 2000)
        self.assertAlmostEqual(r["raftor"]["server_cores"], 0.5)
        text = report.cpu_table([r])
        self.assertIn("| put, 64 in flight", text)
        self.assertIn("0.75", text)  # raftor: 0.5 + 0.25 cores
        self.assertIn("2,000", text)

    def test_no_cpu_figures_print_dashes(self):
        r = row("put-1", [sample(10)], [sample(10)])
        self.assertIsNone(r["raftor"]["server_cpu_us_per_op"])
        self.assertIn(" - ", report.cpu_table([r]))


class TargetsTest(unittest.TestCase):
    def test_met_when_three_times_and_p99_not_above(self):
        rows = [row("put-64", [sample(3000, p99=10)], [sample(1000, p99=10)]),
                row("get-64", [sample(9000, p99=4)], [sample(3000, p99=5)])]
        self.assertEqual([met for _, met, _ in report.targets(rows)], [True, True, True])

    def test_not_met_names_the_rows(self):
        rows = [row("put-64", [sample(2999, p99=10)], [sample(1000, p99=9)]),
                row("get-64", [sample(9000, p99=4)], [sample(3000, p99=5)])]
        got = report.targets(rows)
        self.assertEqual([met for _, met, _ in got], [False, True, False])
        self.assertIn("put, 64 in flight", got[2][2])
        self.assertIn("NOT met", report.targets_text(rows))

    def test_etcd_serving_nothing_fails_the_target(self):
        got = report.targets([row("put-64", [sample(10)], [sample(0)])])
        self.assertEqual(got[0][1:], (False, "etcd served nothing"))

    def test_table_has_every_row_and_errors(self):
        rows = [row(w.name, [sample(10, errors=1)], [sample(5)]) for w in wl.WORKLOADS]
        text = report.table(rows, 3)
        for w in wl.WORKLOADS:
            self.assertIn(w.title, text)
        self.assertIn("2.00x", text)
        self.assertIn("errors: raftor, put, 1 in flight: 1", text)


class WorkloadsTest(unittest.TestCase):
    def test_keys_are_raftor_bench_keys(self):
        # tools/raftor-bench's make_key: "key-", zero padding to the key size, the number.
        self.assertEqual(wl.key_name(0), "key-000000000000")
        self.assertEqual(wl.key_name(9999), "key-000000009999")
        keys = wl.all_keys()
        self.assertEqual(len(set(keys)), wl.KEY_SPACE)
        self.assertTrue(all(len(k) == wl.KEY_SIZE for k in keys))

    def test_values_encode_to_the_value_size(self):
        import base64
        self.assertEqual(len(base64.b64decode(wl.b64(wl.value_bytes()))), wl.VALUE_SIZE)

    def test_select(self):
        self.assertEqual(len(wl.select("all")), len(wl.WORKLOADS))
        self.assertEqual([w.name for w in wl.select("get-64,put-1")], ["get-64", "put-1"])
        with self.assertRaises(SystemExit):
            wl.select("put-2")


if __name__ == "__main__":
    unittest.main()
