"""Signed webhook delivery, as Stripe does it.

Each event is POSTed as JSON to the configured URL with a `Stripe-Signature: t=<unix>,v1=<hex>`
header, the HMAC-SHA256 of `"<t>.<payload>"` under the endpoint's secret, so that
`stripe.Webhook.construct_event` accepts it. Delivery runs on the server's event loop, apart
from the request that caused the event; a non-2xx answer or a connection error is retried with
exponential backoff, a bounded number of times, each attempt signed afresh.

Test switches: `duplicates` delivers every event N times, `shuffle` delivers each batch in an
order drawn from a seeded RNG, `auto_deliver=False` holds events until `flush()` (or hands them
out signed with `take_signed()`, for a receiver that must be called in the test's own loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import httpx

from service.integrations.fake_stripe.state import Obj, StripeState

log = logging.getLogger(__name__)

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def sign(payload: bytes | str, secret: str, timestamp: int | float | None = None) -> str:
    """The `Stripe-Signature` header Stripe would send for `payload` at `timestamp` (now when
    None). Tests forge stale, future or wrongly keyed signatures with it."""
    body = payload.encode("utf-8") if isinstance(payload, str) else payload
    moment = int(time.time() if timestamp is None else timestamp)
    digest = hmac.new(secret.encode("utf-8"), f"{moment}.".encode() + body, hashlib.sha256)
    return f"t={moment},v1={digest.hexdigest()}"


@dataclass(frozen=True)
class WebhookSettings:
    url: str | None = None
    secret: str | None = None
    auto_deliver: bool = True
    duplicates: int = 1
    shuffle: bool = False
    max_attempts: int = 5
    backoff_seconds: float = 0.2  # before the first retry; doubles each time
    max_backoff_seconds: float = 5.0
    timeout_seconds: float = 5.0
    batch_window_seconds: float = 0.05  # with shuffle and auto_deliver: events gathered per batch

    def __post_init__(self) -> None:
        if self.duplicates < 1 or self.max_attempts < 1:
            raise ValueError("duplicates and max_attempts are at least 1")
        if self.url and not self.secret:
            raise ValueError("a webhook URL needs a signing secret (whsec_...)")

    @classmethod
    def field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["secret"] = "whsec_..." if self.secret else None
        return data


@dataclass(frozen=True)
class SignedDelivery:
    """One webhook request, ready to send: `payload` is the exact signed body."""

    event_id: str
    event_type: str
    payload: bytes
    headers: dict[str, str]


@dataclass
class Attempt:
    event_id: str
    event_type: str
    copy: int
    attempt: int
    status_code: int | None
    error: str | None
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookDispatcher:
    """Delivers the state's events. Thread-safe: events arrive from any thread; sending runs on
    the loop given to `start()` (the fake server's)."""

    def __init__(self, state: StripeState, settings: WebhookSettings, *, seed: int = 0) -> None:
        self.state = state
        self.settings = settings
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._held: deque[str] = deque()  # events not yet released for delivery
        self._released: deque[str] = deque()
        self._outstanding = 0  # deliveries started and not finished (retries included)
        self.attempts: list[Attempt] = []
        self.delivered: list[tuple[str, str]] = []  # (event id, type), in delivery order
        self.failed: list[str] = []  # event ids given up on after max_attempts
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        state.subscribe(self._on_event)

    # --- configuration and control (any thread) ----------------------------------------

    def configure(self, **changes: Any) -> WebhookSettings:
        unknown = set(changes) - WebhookSettings.field_names()
        if unknown:
            raise ValueError(f"unknown webhook settings: {', '.join(sorted(unknown))}")
        with self._lock:
            self.settings = replace(self.settings, **changes)
            settings = self.settings
        self._notify()
        return settings

    def reset(self, seed: int | None = None) -> None:
        with self._lock:
            self._held.clear()
            self._released.clear()
            self.attempts.clear()
            self.delivered.clear()
            self.failed.clear()
            if seed is not None:
                self._rng = random.Random(seed)

    def flush(self) -> int:
        """Release every held event for delivery now; returns how many."""
        with self._lock:
            if not self.settings.url:
                raise ValueError("no webhook URL is configured")
            count = len(self._held)
            self._released.extend(self._held)
            self._held.clear()
        self._notify()
        return count

    def take_signed(self) -> list[SignedDelivery]:
        """Hand the held events out as signed requests instead of sending them (with the
        `duplicates` and `shuffle` switches applied), for a receiver the caller invokes."""
        with self._lock:
            secret = self.settings.secret
            if not secret:
                raise ValueError("no webhook secret is configured")
            batch = self._expand(list(self._held))
            self._held.clear()
        return [self._signed(event_id, secret) for event_id, _ in batch]

    def idle(self) -> bool:
        """Nothing released is waiting or being delivered (events held by `auto_deliver=False`
        wait for `flush()` and do not count)."""
        with self._lock:
            held = bool(self._held) and self.settings.auto_deliver and bool(self.settings.url)
            return not self._released and self._outstanding == 0 and not held

    def wait_idle(self, seconds: float = 10.0) -> bool:
        """Block until idle (from any thread but the server's); False after `seconds`."""
        deadline = time.monotonic() + seconds
        while not self.idle():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    async def wait_idle_async(self, seconds: float = 10.0) -> bool:
        """Await until idle without blocking the caller's event loop; False after `seconds`."""
        deadline = time.monotonic() + seconds
        while not self.idle():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "settings": self.settings.as_json(),
                "held": len(self._held),
                "queued": len(self._released),
                "in_flight": self._outstanding,
                "delivered": len(self.delivered),
                "failed": len(self.failed),
                "attempts": len(self.attempts),
            }

    # --- event intake (any thread, under the state's lock) -----------------------------

    def _on_event(self, event: Obj) -> int:
        with self._lock:
            settings = self.settings
            if not settings.url and settings.auto_deliver:
                return 0  # no endpoint: nothing to deliver, as with Stripe
            self._held.append(event["id"])
            if settings.auto_deliver and settings.url:
                self._released.extend(self._held)
                self._held.clear()
        self._notify()
        return 1

    def _notify(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop is shutting down
                loop.call_soon_threadsafe(wake.set)

    # --- delivery (the server's loop) --------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._client = httpx.AsyncClient()
        self._worker = asyncio.create_task(self._run(), name="fake-stripe-webhooks")
        self._wake.set()

    async def stop(self) -> None:
        tasks = [t for t in (self._worker, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        with self._lock:
            self._outstanding = 0
        if self._client is not None:
            await self._client.aclose()
        self._loop = self._wake = self._worker = self._client = None

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.settings.shuffle and self.settings.auto_deliver:
                await asyncio.sleep(self.settings.batch_window_seconds)
            with self._lock:
                batch = self._expand(list(self._released))
                self._released.clear()
                self._outstanding += len(batch)
            for event_id, copy_number in batch:
                await self._deliver(event_id, copy_number, attempt=1)

    def _expand(self, event_ids: list[str]) -> list[tuple[str, int]]:
        """Duplicates and shuffling, under self._lock."""
        batch = [(e, n) for e in event_ids for n in range(1, self.settings.duplicates + 1)]
        if self.settings.shuffle:
            self._rng.shuffle(batch)
        return batch

    def _signed(self, event_id: str, secret: str) -> SignedDelivery:
        event = self.state.event(event_id)
        # Stripe sends its events pretty-printed; the signature covers these exact bytes.
        payload = json.dumps(event, indent=2).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": sign(payload, secret),
        }
        return SignedDelivery(event_id, event["type"], payload, headers)

    async def _deliver(self, event_id: str, copy_number: int, *, attempt: int) -> None:
        settings = self.settings
        status: int | None = None
        error: str | None = None
        event_type = "?"
        try:
            if not settings.url or not settings.secret or self._client is None:
                raise RuntimeError("no webhook endpoint is configured")
            delivery = self._signed(event_id, settings.secret)
            event_type = delivery.event_type
            response = await self._client.post(
                settings.url,
                content=delivery.payload,
                headers=delivery.headers,
                timeout=settings.timeout_seconds,
            )
            status = response.status_code
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        record = Attempt(event_id, event_type, copy_number, attempt, status, error)
        log.info("webhook %s %s attempt %d: %s", event_id, event_type, attempt, status or error)
        with self._lock:
            self.attempts.append(record)
        if record.ok:
            with self._lock:
                self.delivered.append((event_id, event_type))
                self._outstanding -= 1
            self.state.webhook_delivered(event_id)
            return
        if attempt >= settings.max_attempts:
            log.warning("webhook %s given up after %d attempts: %s", event_id, attempt, error)
            with self._lock:
                self.failed.append(event_id)
                self._outstanding -= 1
            return
        delay = min(settings.backoff_seconds * 2 ** (attempt - 1), settings.max_backoff_seconds)
        task = asyncio.create_task(self._retry(event_id, copy_number, attempt + 1, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _retry(self, event_id: str, copy_number: int, attempt: int, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._deliver(event_id, copy_number, attempt=attempt)
