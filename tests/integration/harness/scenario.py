"""Scenario scripts: common command line, timing and the one-line verdict.

    def body(ctx):                    # ctx.build, ctx.seed, ctx.rng, ctx.keep, ctx.cluster(n)
        with ctx.cluster(3) as c:
            ...
            check(cond, "what went wrong")
            return "what was shown"   # appears in the verdict line
    if __name__ == "__main__":
        run_scenario("kill_leader", "kill -9 of the leader during writes", body)

Exit codes: 0 pass, 1 a check failed (a raftor problem), 2 the harness failed, 77 the
scenario cannot run here (raise SkipScenario; ctest reports it as skipped).
"""

import argparse
import os
import random
import sys
import time
import traceback

from .cluster import Cluster, HarnessError
from .workload import CheckFailed


SKIPPED = 77  # ctest's SKIP_RETURN_CODE for the scenarios


class SkipScenario(Exception):
    """The scenario cannot run on this machine (says why); not a failure."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def join_within(threads, seconds, what):
    """Joins client threads; one still running after `seconds` means a client call outlived
    its own deadline (raftor's client promises to return by it): CheckFailed."""
    deadline = time.monotonic() + seconds
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    if stuck:
        raise CheckFailed(f"{what}: {len(stuck)} client calls still running after {seconds} s, "
                          f"beyond their deadlines ({', '.join(stuck)})")


class Context:
    def __init__(self, args, name):
        self.build = args.build
        self.seed = args.seed
        self.rng = random.Random(args.seed)
        self.keep = args.keep
        self.args = args
        self.name = name
        self.clusters = []

    def cluster(self, n, **kwargs):
        kwargs.setdefault("build", self.build)
        kwargs.setdefault("keep", self.keep)
        kwargs.setdefault("name", self.name)
        c = Cluster(n, **kwargs)
        self.clusters.append(c)
        return c


def run_scenario(name, description, body, add_arguments=None):
    parser = argparse.ArgumentParser(description=f"integration scenario {name}: {description}")
    parser.add_argument("--build", default=os.environ.get("RAFTOR_BUILD", "build"),
                        help="the build directory (default: $RAFTOR_BUILD or ./build)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir on success too")
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args()
    if args.seed is None:
        args.seed = int(time.time() * 1000) % 1_000_000
    ctx = Context(args, name)
    print(f"== integration.{name}: {description} (seed {args.seed})", flush=True)
    t0 = time.monotonic()
    code, detail = 0, ""
    try:
        detail = body(ctx) or ""
        verdict = "PASS"
    except CheckFailed as e:
        code, verdict, detail = 1, "FAIL", str(e)
    except SkipScenario as e:
        code, verdict, detail = SKIPPED, "SKIPPED", str(e)
    except (HarnessError, Exception) as e:  # noqa: BLE001
        traceback.print_exc()
        code, verdict, detail = 2, "ERROR", f"{type(e).__name__}: {e}"
    if code and code != SKIPPED:
        for c in ctx.clusters:
            c.failed = True
            c.close(failed=True)
    elapsed = time.monotonic() - t0
    print(f"VERDICT integration.{name}: {verdict} in {elapsed:.1f} s (seed {args.seed})"
          f"{' - ' + detail if detail else ''}", flush=True)
    sys.exit(code)
