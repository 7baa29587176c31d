"""Structured logs, request ids and Prometheus metrics, as one pure ASGI middleware."""

from __future__ import annotations

import asyncio
import atexit
import itertools
import json
import logging
import os
import re
import sys
import time
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
# Request ids: a random per-process prefix and a counter (unique without a syscall each).
_ID_PREFIX = os.urandom(6).hex()
_ids = itertools.count(1)
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("service.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id of the request being served."""

    RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        for key, value in vars(record).items():
            if key not in self.RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["stack"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    # Each log record would otherwise look up the process and thread: not worth a syscall.
    logging.logProcesses = False
    logging.logThreads = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # uvicorn's own access log would duplicate ours, in another format.
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False


class AccessLog:
    """One JSON line per request, in the shape of the other log lines, written in batches.

    Lines are formatted directly rather than through LogRecords (the logging machinery costs
    several times a trivial request), kept in a buffer and written to stderr together: when
    the buffer is full, else soon after the first line of a batch (a timer on the event
    loop), and at exit. A request never waits for a write to stderr.
    """

    BATCH = 256
    DELAY = 0.05

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.scheduled = False
        atexit.register(self.flush)

    def write(self, request_id: str, method: str, path: str, status: int, duration: float) -> None:
        # request_id and method are plain tokens (checked, or from the HTTP parser); the
        # path may hold anything and is JSON-escaped.
        when = datetime.now(UTC).isoformat(timespec="milliseconds")
        self.lines.append(
            f'{{"time": "{when}", "level": "info", "logger": "service.access", '
            f'"message": "request", "request_id": "{request_id}", "method": "{method}", '
            f'"path": {_json_text(path)}, "status": {status}, '
            f'"duration_ms": {round(duration * 1000, 2)}}}\n'
        )
        if len(self.lines) >= self.BATCH:
            self.flush()
        elif not self.scheduled:
            try:
                asyncio.get_running_loop().call_later(self.DELAY, self.flush)
                self.scheduled = True
            except RuntimeError:  # no event loop (a script): write at once
                self.flush()

    def flush(self) -> None:
        self.scheduled = False
        if not self.lines:
            return
        text, self.lines = "".join(self.lines), []
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except (OSError, ValueError):
            # A closed or broken stderr must never fail a request.
            pass


def _json_text(text: str) -> str:
    """`json.dumps(text)`, without its machinery for the usual path of printable ASCII with
    nothing to escape."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text)


_access = AccessLog()


def write_access_line(
    request_id: str, method: str, path: str, status: int, duration: float
) -> None:
    _access.write(request_id, method, path, status, duration)


class Metrics:
    """One registry per app, so several apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to serve a request",
            ["method", "route"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "job_queue_depth", "Jobs waiting in the queue", registry=self.registry
        )
        # (method, route, status) -> the request counter's and the latency histogram's
        # series: prometheus_client looks labels up (and checks them) on every `labels()`.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.worker_heartbeat = Gauge(
            "worker_last_heartbeat_timestamp_seconds",
            "When a worker last reported itself alive (0: never)",
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, duration: float) -> None:
        """Counts a request and its duration."""
        series = self._series.get((method, route, status))
        if series is None:
            series = self._series[(method, route, status)] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        series[0].inc()
        series[1].observe(duration)


def new_request_id(scope: Scope) -> str:
    """The request's id: the caller's `X-Request-Id` when it is a plain token, else ours."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            incoming = value.decode("latin-1")
            if incoming and _SAFE_REQUEST_ID.match(incoming):
                return incoming
            break
    return f"{_ID_PREFIX}{next(_ids):020x}"


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id(scope)
        id_bytes = request_id.encode()
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", id_bytes)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.observe(method, route, status, duration)
            if access_log.isEnabledFor(logging.INFO):
                write_access_line(request_id, method, scope["path"], status, duration)
            request_id_var.reset(token)


class _Recorded:
    """An answer as the whole stack sent it, with the place of its request id."""

    def __init__(self, route: str, start: Message, body: Message, at: int) -> None:
        # Copied: the messages sent belong to the server once sent.
        headers = list(start["headers"])
        self.route = route
        self.status: int = start["status"]
        self.before = headers[:at]
        self.after = headers[at + 1 :]
        self.body: bytes = body.get("body", b"")

    def start(self, request_id: bytes) -> Message:
        return {
            "type": "http.response.start",
            "status": self.status,
            "headers": [*self.before, (b"x-request-id", request_id), *self.after],
        }


class ConstantAnswers:
    """Answers a GET of a path whose answer never changes (the liveness probe) without the
    middleware stack: the first such request goes through the whole stack (`app`), whose
    answer is kept, and later ones are sent that answer with a request id of their own,
    counted in the metrics and written to the access log as the stack does.

    Only a complete answer of one body message with one request id is kept; until there is
    one (or for any other method, path or mount point), requests go through the stack.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, paths: tuple[str, ...]) -> None:
        self.app = app
        self.metrics = metrics
        self.paths = frozenset(paths)
        self.recorded: dict[str, _Recorded] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if not (
            scope["type"] == "http"
            and path in self.paths
            and scope["method"] == "GET"
            and not scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        recorded = self.recorded.get(path)
        if recorded is None:
            await self._record(path, scope, receive, send)
            return
        started = time.perf_counter()
        request_id = new_request_id(scope)
        await send(recorded.start(request_id.encode()))
        await send({"type": "http.response.body", "body": recorded.body})
        duration = time.perf_counter() - started
        self.metrics.observe("GET", recorded.route, recorded.status, duration)
        if access_log.isEnabledFor(logging.INFO):
            write_access_line(request_id, "GET", path, recorded.status, duration)

    async def _record(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        sent: list[Message] = []

        async def keep(message: Message) -> None:
            sent.append(message)
            await send(message)

        await self.app(scope, receive, keep)
        route = getattr(scope.get("route"), "path", None)
        if len(sent) != 2 or route is None:
            return
        start, body = sent
        if start["type"] != "http.response.start" or body["type"] != "http.response.body":
            return
        if start["status"] != 200:
            return
        if body.get("more_body") or start.get("trailers"):
            return
        places = [
            i for i, (name, _) in enumerate(start.get("headers", ())) if name == b"x-request-id"
        ]
        if len(places) != 1:
            return
        self.recorded[path] = _Recorded(route, start, body, places[0])
