"""Load generators: wrk when installed, else the httpx generator in `tests.bench.loadgen`.

Each run is a separate process pinned to the load core, bounded in time (its own duration,
plus a hard timeout here) and in count (it stops after `max_requests`).
"""

from __future__ import annotations

import contextlib
import json
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tests.bench import procs
from tests.bench.servers import HOST, BenchError

# No single-core Python server comes near this; it only bounds a run's request count.
MAX_RATE = 200_000
REQUEST_TIMEOUT = 2.0
# Extra time a load process may take beyond its duration (start-up, closing connections).
HARD_TIMEOUT_MARGIN = 20.0


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float | None
    p99_ms: float | None
    capped: bool
    # CPU used by the load generator, as a fraction of one core.
    cpu: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


class LoadGenerator(Protocol):
    name: str

    def describe(self) -> str: ...

    def run(self, url: str, *, duration: float, connections: int) -> LoadResult: ...


def max_requests(duration: float) -> int:
    return int(MAX_RATE * duration)


def _check_local(url: str) -> None:
    if not url.startswith(f"http://{HOST}:"):
        raise BenchError(f"refusing to send load off this machine: {url}")


def _run_bounded(argv: list[str], timeout: float) -> tuple[str, str, float]:
    """Run a load process to its end; returns stdout, stderr and its CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = procs.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"load generator still running after {timeout:.0f} s: {argv}") from exc
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.communicate(timeout=5)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stdout, stderr = out.decode(errors="replace"), err.decode(errors="replace")
    if process.returncode != 0:
        raise BenchError(f"load generator exited with {process.returncode}: {argv}\n{stderr}")
    return stdout, stderr, cpu


# --- wrk ---

# Stops the thread after a fixed number of responses (the count bound of a run).
_WRK_LIMIT_SCRIPT = """\
local limit = {limit}
local count = 0
function response(status, headers, body)
  count = count + 1
  if count >= limit then wrk.thread:stop() end
end
"""

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise BenchError(f"cannot read wrk duration {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> tuple[int, float, int, float | None, float | None]:
    """Requests, requests/s, errors, p50 ms and p99 ms from wrk's report (with --latency)."""
    count = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    rate = re.search(r"^Requests/sec:\s*([\d.]+)", output, re.MULTILINE)
    if count is None or rate is None:
        raise BenchError(f"cannot read wrk's report:\n{output}")
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        errors += sum(int(group) for group in sockets.groups())
    percentiles = {
        match.group(1): _duration_ms(match.group(2))
        for match in re.finditer(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE)
    }
    return (
        int(count.group(1)),
        float(rate.group(1)),
        errors,
        percentiles.get("50"),
        percentiles.get("99"),
    )


class Wrk:
    name = "wrk"

    def __init__(self, executable: str, pinning: procs.Pinning, work_dir: Path) -> None:
        self.executable = executable
        self.pinning = pinning
        self.work_dir = work_dir
        self.version = self._version()

    def _version(self) -> str:
        completed = subprocess.run(
            [self.executable, "-v"], capture_output=True, text=True, timeout=10, check=False
        )
        first = (completed.stdout or completed.stderr).splitlines()
        return first[0].split("[")[0].strip() if first else "wrk"

    def describe(self) -> str:
        return f"{self.version}, 1 thread"

    def run(self, url: str, *, duration: float, connections: int) -> LoadResult:
        _check_local(url)
        limit = max_requests(duration)
        script = self.work_dir / f"wrk-limit-{limit}.lua"
        script.write_text(_WRK_LIMIT_SCRIPT.format(limit=limit))
        argv = [
            self.executable,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            f"--timeout={REQUEST_TIMEOUT:g}s",
            "--latency",
            "-s",
            str(script),
            url,
        ]
        started = time.monotonic()
        stdout, _, cpu = _run_bounded(
            self.pinning.load(argv), timeout=duration + HARD_TIMEOUT_MARGIN
        )
        wall = time.monotonic() - started
        requests, rate, errors, p50, p99 = parse_wrk(stdout)
        return LoadResult(
            requests=requests,
            errors=errors,
            seconds=requests / rate if rate > 0 else duration,
            p50_ms=p50,
            p99_ms=p99,
            capped=requests >= limit,
            cpu=cpu / wall if wall > 0 else 0.0,
        )


# --- httpx (fallback) ---


class HttpxLoad:
    name = "httpx"

    def __init__(self, pinning: procs.Pinning, cwd: Path) -> None:
        import httpx

        self.pinning = pinning
        self.cwd = cwd
        self.version = f"httpx {httpx.__version__}"

    def describe(self) -> str:
        missing = "" if shutil.which("wrk") else "; wrk is not installed (apt-get install wrk)"
        return (
            f"{self.version} load generator (asyncio, one process; about 1,500 req/s per core, "
            f"so it may not saturate a server{missing})"
        )

    def run(self, url: str, *, duration: float, connections: int) -> LoadResult:
        _check_local(url)
        limit = max_requests(duration)
        argv = [
            sys.executable,
            "-m",
            "tests.bench.loadgen",
            "--url",
            url,
            "--connections",
            str(connections),
            "--duration",
            str(duration),
            "--max-requests",
            str(limit),
            "--timeout",
            str(REQUEST_TIMEOUT),
        ]
        started = time.monotonic()
        stdout, stderr, cpu = _run_bounded(
            self.pinning.load(argv), timeout=duration + HARD_TIMEOUT_MARGIN
        )
        wall = time.monotonic() - started
        try:
            report = json.loads(stdout.strip().splitlines()[-1])
        except (IndexError, ValueError) as exc:
            raise BenchError(f"cannot read the load generator's report:\n{stdout}{stderr}") from exc
        requests = int(report["requests"])
        return LoadResult(
            requests=requests,
            errors=int(report["errors"]),
            seconds=float(report["seconds"]),
            p50_ms=report["p50_ms"],
            p99_ms=report["p99_ms"],
            capped=requests >= limit,
            cpu=cpu / wall if wall > 0 else 0.0,
        )


def choose(preference: str, pinning: procs.Pinning, work_dir: Path, cwd: Path) -> LoadGenerator:
    """`auto`: wrk when it is on PATH, else httpx. `wrk`/`httpx`: that one."""
    executable = shutil.which("wrk")
    if preference == "wrk" and executable is None:
        raise BenchError("wrk is not installed (apt-get install wrk), use --loadgen httpx")
    if preference in ("auto", "wrk") and executable is not None:
        return Wrk(executable, pinning, work_dir)
    return HttpxLoad(pinning, cwd)
