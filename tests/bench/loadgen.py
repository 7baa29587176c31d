"""An async httpx load generator, used when wrk is not installed.

`python -m tests.bench.loadgen --url URL --connections N --duration S --max-requests M`
keeps N connections busy with sequential GETs until S seconds have passed or M responses
have arrived, then prints one JSON line: requests, errors, seconds, p50_ms, p99_ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Tally:
    max_requests: int
    deadline: float
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)

    def more(self) -> bool:
        return self.requests < self.max_requests and time.perf_counter() < self.deadline


def percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


async def _connection(client: httpx.AsyncClient, url: str, tally: Tally) -> None:
    while tally.more():
        started = time.perf_counter()
        try:
            response = await client.get(url)
            ok = response.status_code < 400
        except httpx.HTTPError:
            ok = False
        tally.latencies.append(time.perf_counter() - started)
        tally.requests += 1
        if not ok:
            tally.errors += 1


async def generate(
    url: str, *, connections: int, duration: float, max_requests: int, request_timeout: float
) -> dict[str, Any]:
    if not url.startswith(("http://127.0.0.1:", "http://localhost:", "http://[::1]:")):
        raise SystemExit(f"refusing to send load off this machine: {url}")
    # One client (one kept-alive connection) per worker: a pool shared by many tasks spends
    # its time assigning requests to connections, and the generator becomes the bottleneck.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(limits=limits, timeout=request_timeout, trust_env=False)
            )
            for _ in range(connections)
        ]
        started = time.perf_counter()
        tally = Tally(max_requests=max_requests, deadline=started + duration)
        workers = [_connection(client, url, tally) for client in clients]
        await asyncio.wait_for(asyncio.gather(*workers), timeout=duration + request_timeout + 5)
        elapsed = time.perf_counter() - started
    ordered = sorted(tally.latencies)
    p50, p99 = percentile(ordered, 0.50), percentile(ordered, 0.99)
    return {
        "requests": tally.requests,
        "errors": tally.errors,
        "seconds": elapsed,
        "p50_ms": None if p50 is None else p50 * 1000,
        "p99_ms": None if p99 is None else p99 * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.loadgen")
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        runner: Any = asyncio.run
    else:
        runner = uvloop.run
    report = runner(
        generate(
            args.url,
            connections=args.connections,
            duration=args.duration,
            max_requests=args.max_requests,
            request_timeout=args.timeout,
        )
    )
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
