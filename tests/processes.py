"""Web server processes as a deployment runs them (uvicorn on the app factory, one port each),
started and stopped by a test. Job workers: `tests.rewards.payout_world.WorkerProcess`.

Every process is started in its own session, so that stopping it stops whatever it started;
`ProcessGroup` stops all of a test's processes even when the test fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Protocol, TypeVar

import httpx

from service.config import ROOT
from tests.rewards.payout_world import free_port


class Stoppable(Protocol):
    def kill(self) -> None: ...


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


S = TypeVar("S", bound=Stoppable)


class WebProcess:
    """`uvicorn --factory service.app:create_app` on a free port of 127.0.0.1."""

    def __init__(self, env: dict[str, str], log_path: Path, *, argv: list[str] | None = None):
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.argv = argv or [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "service.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
        ]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log.fileno(),
                stderr=log.fileno(),
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 40.0) -> None:
        """Until /readyz answers 200 (database and Redis reachable)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.argv} exited:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.url} not ready in {timeout} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def stop(self, grace: float = 10.0) -> None:
        """SIGINT to the whole process group (uvicorn's own workers too), then SIGKILL."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def kill(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)


class ProcessGroup:
    """Kills every process registered with it on the way out, however the block ends."""

    def __init__(self) -> None:
        self.members: list[Stoppable] = []

    def add(self, process: S) -> S:
        self.members.append(process)
        return process

    def __enter__(self) -> ProcessGroup:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for member in reversed(self.members):
            with contextlib.suppress(Exception):
                member.kill()


@contextlib.contextmanager
def service_run(
    args: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    log_path: Path,
    port: int,
    ready_within: float,
) -> Iterator[str]:
    """`python -m service migrate`, then `python -m service run --port PORT ARGS` as `make run`
    starts it (embedded Redis or REDIS_URL, web and worker processes): yields its base URL once
    /readyz answers 200, and stops it with Ctrl-C on the way out (killed if it lingers)."""
    python = sys.executable
    subprocess.run([python, "-m", "service", "migrate"], env=env, cwd=cwd, check=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [python, "-m", "service", "run", "--port", str(port), *args],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + ready_within
            while True:
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(_tail(log_path, 60))
                time.sleep(0.3)
            yield base
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                # Lingering (a busy machine slows the workers' graceful stop): killed with
                # its web and worker processes, and reaped.
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
