"""CPU time spent by the servers and by the load driver during one run: with 2 cores shared
by six server processes and the driver, throughput alone does not say where the time went."""

import os
import resource

_TICKS = os.sysconf("SC_CLK_TCK")


def processes_cpu_seconds(pids):
    """User + system CPU seconds of these processes so far (all their threads)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                # The command name (field 2) may hold spaces: split after its closing ')'.
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / _TICKS


def children_cpu_seconds():
    """User + system CPU seconds of every child process this script has waited for."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
