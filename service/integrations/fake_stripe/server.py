"""Serving the fake over a real socket: uvicorn in a background thread, or in the foreground.

    fake = FakeStripe(webhook_url=..., webhook_secret="whsec_...").start()
    client = fake.client()                      # stripe.StripeClient pointed at it
    ...
    fake.stop()

`with FakeStripe() as fake:` and `async with FakeStripe() as fake:` do the same; the async form
starts and stops the thread without blocking the caller's event loop.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import uvicorn
from starlette.types import ASGIApp

from service.integrations.fake_stripe.app import FakeStripeApp
from service.integrations.fake_stripe.faults import Fault, FaultPlan
from service.integrations.fake_stripe.state import PLATFORM, Obj, StripeState
from service.integrations.fake_stripe.webhooks import WebhookDispatcher, WebhookSettings

if TYPE_CHECKING:
    import stripe

TEST_API_KEY = "sk_test_fake_civic_challenges"


class BackgroundServer:
    """Any ASGI app on a real socket, served by uvicorn in a daemon thread.

    The socket is bound in `bind()` (called by `start()`), so the port is known, and free,
    before the server runs: port 0 picks a free one without a race.
    """

    def __init__(
        self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, name: str = "asgi"
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.name = name
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def bind(self) -> None:
        if self._socket is not None:
            return
        # With proto 0 asyncio would not set TCP_NODELAY on accepted connections, and every
        # answer written in two parts (headers, body) would wait ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        sock.set_inheritable(True)
        self.port = sock.getsockname()[1]
        self._socket = sock

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.app,
            lifespan="on",
            loop="asyncio",
            log_config=None,  # leave the host process's logging alone
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            timeout_graceful_shutdown=1,
        )

    def start(self, timeout: float = 10.0) -> None:
        if self.running:
            return
        self.bind()
        assert self._socket is not None
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name=self.name
        )
        self._thread.daemon = True
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not start on {self.url}")
            time.sleep(0.005)

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def run(self) -> None:
        """Serve in the calling (main) thread until Ctrl-C or SIGTERM."""
        self.bind()
        assert self._socket is not None
        try:
            uvicorn.Server(self._config()).run(sockets=[self._socket])
        finally:
            self._socket.close()
            self._socket = None


class FakeStripe:
    """The fake Stripe API server: state, faults, webhooks and the HTTP server together.

    Everything here is safe to call from the test's thread while the server runs in its own.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        default_currency: str = "usd",
        api_keys: Collection[str] | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhooks: WebhookSettings | None = None,
        public_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = StripeState(seed=seed, default_currency=default_currency, clock=clock)
        self.faults = FaultPlan(seed)
        settings = webhooks or WebhookSettings()
        settings = replace(
            settings, url=webhook_url or settings.url, secret=webhook_secret or settings.secret
        )
        self.webhooks = WebhookDispatcher(self.state, settings, seed=seed)
        self.app = FakeStripeApp(
            self.state, self.faults, self.webhooks, api_keys=api_keys, public_url=public_url
        )
        self.server = BackgroundServer(self.app, host=host, port=port, name="fake-stripe")
        self._http_clients: list[stripe.HTTPXClient] = []

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    async def start_async(self) -> Self:
        await asyncio.to_thread(self.server.start)
        return self

    async def stop_async(self) -> None:
        await asyncio.to_thread(self.server.stop)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await self.start_async()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        await self.stop_async()

    def serve_forever(self) -> None:
        self.server.run()

    # --- pointing the SDK at it --------------------------------------------------------

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def base_addresses(self) -> dict[str, str]:
        """For `stripe.StripeClient(key, base_addresses=...)`: every Stripe host, here."""
        return {"api": self.url, "connect": self.url, "files": self.url}

    def client(
        self,
        api_key: str = TEST_API_KEY,
        *,
        timeout: float = 10.0,
        max_network_retries: int = 0,
        **options: Any,
    ) -> stripe.StripeClient:
        """A `stripe.StripeClient` talking to this server over httpx, sync and async.

        Its connections stay open until `close_clients()` / `close_clients_async()`."""
        import stripe

        http_client = stripe.HTTPXClient(timeout=timeout, allow_sync_methods=True)
        self._http_clients.append(http_client)
        url = self.url
        return stripe.StripeClient(
            api_key,
            base_addresses={"api": url, "connect": url, "files": url},
            http_client=http_client,
            max_network_retries=max_network_retries,
            **options,
        )

    def close_clients(self) -> None:
        """Close the sync connections of every client made by `client()`."""
        while self._http_clients:
            self._http_clients.pop().close()

    async def close_clients_async(self) -> None:
        """Close the sync and async connections of every client made by `client()`; call it
        from the event loop the async calls ran in."""
        while self._http_clients:
            http_client = self._http_clients.pop()
            http_client.close()
            await http_client.close_async()

    # --- control (same as the /_fake/ endpoints) ---------------------------------------

    def reset(self, seed: int | None = None) -> None:
        """Back to an empty Stripe: objects, events, idempotent results, faults, webhook log
        (webhook settings stay). A `seed` restarts the random streams (ids, faults, shuffles)."""
        self.state.reset(seed)
        self.faults.clear()
        if seed is not None:
            self.faults.reseed(seed)
        self.webhooks.reset(seed)

    def counts(self) -> Obj:
        return {
            **self.state.counts(),
            "webhooks": self.webhooks.summary(),
            "faults_injected": dict(self.faults.injected),
        }

    def inject(
        self,
        route: str,
        fault: Fault | str | dict[str, Any],
        *,
        times: int = 1,
        probability: float | None = None,
    ) -> None:
        """Shorthand for `faults.add`."""
        self.faults.add(route, fault, times=times, probability=probability)

    def top_up(self, amount: int, currency: str | None = None) -> Obj:
        return self.state.top_up(amount, currency, owner=PLATFORM)

    def complete_onboarding(self, account_id: str) -> Obj:
        return self.state.complete_onboarding(account_id)

    def pay(self, payment_intent_id: str, *, succeed: bool = True) -> Obj:
        return self.state.pay_payment_intent(payment_intent_id, succeed=succeed)

    def fail_payout(
        self,
        account_id: str,
        amount: int,
        currency: str | None = None,
        failure_code: str = "account_closed",
    ) -> Obj:
        return self.state.fail_payout(
            account_id, amount=amount, currency=currency, failure_code=failure_code
        )

    def reverse_transfer(self, transfer_id: str, amount: int | None = None) -> Obj:
        return self.state.create_reversal(transfer_id, amount=amount)

    def wait_for_webhooks(self, seconds: float = 10.0) -> bool:
        """Block until every released event is delivered or given up; False after `seconds`."""
        return self.webhooks.wait_idle(seconds)

    async def wait_for_webhooks_async(self, seconds: float = 10.0) -> bool:
        """The same without blocking the caller's event loop (which may run the receiver)."""
        return await self.webhooks.wait_idle_async(seconds)
