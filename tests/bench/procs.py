"""Child processes of the harness: core pinning, CPU accounting and clean stops."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

_PR_SET_PDEATHSIG = 1
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Pinning:
    """Which core the servers and the load generator run on (None: not pinned)."""

    server_cpu: int | None
    load_cpu: int | None
    note: str

    @classmethod
    def detect(cls) -> Pinning:
        cpus = sorted(os.sched_getaffinity(0))
        if shutil.which("taskset") is None:
            return cls(None, None, "taskset not found: servers and load are NOT pinned")
        if len(cpus) < 2:
            return cls(None, None, f"only {len(cpus)} usable core: servers and load share it")
        server, load = cpus[0], cpus[1]
        return cls(server, load, f"servers on core {server}, load on core {load} (taskset)")

    def server(self, argv: Sequence[str]) -> list[str]:
        return _pinned(argv, self.server_cpu)

    def load(self, argv: Sequence[str]) -> list[str]:
        return _pinned(argv, self.load_cpu)


def _pinned(argv: Sequence[str], cpu: int | None) -> list[str]:
    if cpu is None:
        return list(argv)
    return ["taskset", "-c", str(cpu), *argv]


def _die_with_parent() -> None:
    """Runs in the child before exec: it gets SIGTERM if the harness dies without cleaning up."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    stdout: int | None = None,
    stderr: int | None = None,
) -> subprocess.Popen[bytes]:
    """Start a child in its own session (Ctrl-C reaches only the harness, which stops it)."""
    return subprocess.Popen(
        list(argv),
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
        preexec_fn=_die_with_parent,  # safe: the harness starts no threads
    )


def stop(process: subprocess.Popen[bytes], *, grace: float = 10.0) -> None:
    """SIGINT (graceful, runs the lifespan shutdown), then SIGKILL after `grace` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(timeout=5)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        stat = handle.read()
    # The command name may contain spaces; the fields after it are space-separated.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _CLOCK_TICKS


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def core_busy_seconds(cpu: int) -> float:
    """CPU time one core spent on anything but idling (all processes and the kernel)."""
    with open("/proc/stat", encoding="ascii") as handle:
        for line in handle:
            name, *values = line.split()
            if name == f"cpu{cpu}":
                ticks = [int(value) for value in values]
                idle = ticks[3] + ticks[4]  # idle + iowait
                return (sum(ticks[:8]) - idle) / _CLOCK_TICKS
    raise LookupError(f"no cpu{cpu} in /proc/stat")
