"""The servers under measurement: one uvicorn process each, started and stopped by the harness."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench import procs

HOST = "127.0.0.1"
START_TIMEOUT = 60.0

# Traffic stays on this machine: no proxy from the environment is ever used.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class BenchError(RuntimeError):
    """The harness could not measure (a server did not start, the load generator failed...)."""


@dataclass(frozen=True)
class ServerSpec:
    name: str
    description: str
    target: str
    factory: bool = False
    # Paths that must answer 200 before the server is measured.
    ready_paths: tuple[str, ...] = ("/healthz",)


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes


def fetch(url: str, timeout: float = 5.0) -> Response:
    if not url.startswith(f"http://{HOST}:"):
        raise BenchError(f"refusing to send traffic off this machine: {url}")
    try:
        with _opener.open(url, timeout=timeout) as answer:
            return Response(answer.status, answer.headers.get("content-type", ""), answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers.get("content-type", ""), error.read())


@dataclass
class RunningServer:
    spec: ServerSpec
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def cpu_seconds(self) -> float:
        return procs.cpu_seconds(self.process.pid)

    def check_alive(self) -> None:
        code = self.process.poll()
        if code is not None:
            raise BenchError(f"server {self.spec.name} exited with code {code}\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        procs.stop(self.process)


def start(
    spec: ServerSpec, *, env: dict[str, str], pinning: procs.Pinning, cwd: Path, log_dir: Path
) -> RunningServer:
    port = procs.free_port()
    argv = [sys.executable, "-m", "uvicorn"]
    if spec.factory:
        argv.append("--factory")
    argv += [
        spec.target,
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    log_path = log_dir / f"{spec.name}.log"
    with log_path.open("wb") as log:
        process = procs.spawn(
            pinning.server(argv), env=env, cwd=str(cwd), stdout=log.fileno(), stderr=log.fileno()
        )
    return RunningServer(spec=spec, port=port, log_path=log_path, process=process)


def wait_ready(server: RunningServer, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    pending = list(server.spec.ready_paths)
    while pending:
        server.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(
                f"server {server.spec.name} not ready after {timeout:.0f} s "
                f"(waiting for {pending[0]})\n{server.log_tail()}"
            )
        try:
            answer = fetch(server.base_url + pending[0], timeout=2.0)
        except OSError:
            time.sleep(0.1)
            continue
        if answer.status == 200:
            pending.pop(0)
        else:
            time.sleep(0.2)


def launch(
    spec: ServerSpec,
    *,
    env: dict[str, str],
    pinning: procs.Pinning,
    cwd: Path,
    log_dir: Path,
    attempts: int = 3,
) -> RunningServer:
    """Start a server and wait until it is ready; on a port taken meanwhile, try another."""
    for attempt in range(1, attempts + 1):
        server = start(spec, env=env, pinning=pinning, cwd=cwd, log_dir=log_dir)
        try:
            wait_ready(server)
        except BenchError:
            server.stop()
            if attempt < attempts and "address already in use" in server.log_tail().lower():
                continue
            raise
        except BaseException:
            server.stop()
            raise
        return server
    raise BenchError(f"server {spec.name} could not start")
