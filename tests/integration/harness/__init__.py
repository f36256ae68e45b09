"""Python (stdlib only) harness for raftor integration tests: real raftor-node processes,
injected faults, recorded histories. See ../README.md."""
from .cluster import Cluster, HarnessError, LoopbackNetwork, free_ports  # noqa: F401
from .workload import CheckFailed, KvClient, SetWorkload, Workload  # noqa: F401
from .recorded import History, RecordedClient  # noqa: F401
from .scenario import SkipScenario, check, join_within, run_scenario  # noqa: F401
