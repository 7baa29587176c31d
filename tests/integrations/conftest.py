"""A real S3 HTTP endpoint for the run: moto's server mode, in a process of its own on a free
local port (so what the app holds in memory is measured apart from what the store holds)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

BUCKET = "civic-test"
_LISTENING = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # The server logs every request; the log stays in the run's temporary folder.
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield _wait_for_address(server, log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_for_address(server: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = _LISTENING.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if server.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"moto's S3 server did not start:\n{log.read_text(errors='replace')}")
