"""The fake's ASGI app: Stripe's `/v1/` API, the `/_fake/` control endpoints and the
onboarding page that an account link points at.

A `/v1/` request goes through: call counting, fault injection, authentication, Stripe-Version,
form decoding and validation, the idempotency key (replay, mismatch, in progress), the
operation on the state, and the stored result. The state's operations are synchronous and
short; the only waits are the injected delays.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
import logging
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route, compile_path
from starlette.types import Receive, Scope, Send

from service.integrations.fake_stripe.faults import Fault, FaultPlan
from service.integrations.fake_stripe.params import (
    EXPAND,
    LIST_SPEC,
    METADATA,
    Param,
    Spec,
    StripeError,
    invalid,
    merge_metadata,
    parse_form,
    validate,
)
from service.integrations.fake_stripe.state import PLATFORM, Obj, RequestInfo, StripeState
from service.integrations.fake_stripe.webhooks import WebhookDispatcher

log = logging.getLogger(__name__)

_KEY_RE = re.compile(r"^(sk|rk)_test_[A-Za-z0-9_]+$")
_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z_]+)?$")
_SERVER_ERROR = (
    "Sorry, something went wrong. We've already been notified of the problem, but if you need "
    "any help, you can reach us at https://support.stripe.com/contact."
)


# --- the API's routes -------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    params: dict[str, Any]
    path: dict[str, str]
    req: RequestInfo
    account: str | None
    base_url: str


Handler = Callable[[Call], Obj]


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str
    spec: Spec
    handler: Handler
    connect: bool = False  # accepts the Stripe-Account header
    regex: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex, _, _ = compile_path(self.template)
        object.__setattr__(self, "regex", regex)


BUSINESS_PROFILE = {
    name: Param()
    for name in (
        "mcc",
        "name",
        "product_description",
        "support_email",
        "support_phone",
        "support_url",
        "url",
    )
}
BUSINESS_TYPE = Param("enum", choices=("individual", "company", "non_profit", "government_entity"))
ACCOUNT_CREATE: Spec = {
    "type": Param("enum", required=True, choices=("express", "standard", "custom")),
    "country": Param(),
    "email": Param(),
    "capabilities": Param("map", item=Param("hash", fields={"requested": Param("bool")})),
    "metadata": METADATA,
    "business_type": BUSINESS_TYPE,
    "business_profile": Param("hash", fields=BUSINESS_PROFILE),
    "default_currency": Param("currency"),
    "expand": EXPAND,
}
ACCOUNT_UPDATE: Spec = {
    "email": Param(),
    "metadata": METADATA,
    "business_type": BUSINESS_TYPE,
    "business_profile": Param("hash", fields=BUSINESS_PROFILE),
    "default_currency": Param("currency"),
    "expand": EXPAND,
}
ACCOUNT_LINK: Spec = {
    "account": Param(required=True),
    "refresh_url": Param(required=True),
    "return_url": Param(required=True),
    "type": Param("enum", required=True, choices=("account_onboarding", "account_update")),
    "collect": Param("enum", choices=("currently_due", "eventually_due")),
    "expand": EXPAND,
}
TRANSFER_CREATE: Spec = {
    "amount": Param("int", required=True, minimum=1),
    "currency": Param("currency", required=True),
    "destination": Param(required=True),
    "transfer_group": Param(),
    "metadata": METADATA,
    "description": Param(),
    "source_transaction": Param(),
    "expand": EXPAND,
}
TRANSFER_UPDATE: Spec = {"metadata": METADATA, "description": Param(), "expand": EXPAND}
TRANSFER_LIST: Spec = {**LIST_SPEC, "destination": Param(), "transfer_group": Param()}
REVERSAL_CREATE: Spec = {
    "amount": Param("int", minimum=1),
    "description": Param(),
    "metadata": METADATA,
    "refund_application_fee": Param("bool"),
    "expand": EXPAND,
}
PAYMENT_INTENT_CREATE: Spec = {
    "amount": Param("int", required=True, minimum=1),
    "currency": Param("currency", required=True),
    "metadata": METADATA,
    "description": Param(),
    "payment_method_types": Param("list", item=Param()),
    "automatic_payment_methods": Param(
        "hash",
        fields={
            "enabled": Param("bool", required=True),
            "allow_redirects": Param("enum", choices=("always", "never")),
        },
    ),
    "transfer_group": Param(),
    "receipt_email": Param(),
    "payment_method": Param(),
    "confirm": Param("bool"),
    "return_url": Param(),
    "expand": EXPAND,
}
PAYMENT_INTENT_CONFIRM: Spec = {
    "payment_method": Param(),
    "return_url": Param(),
    "expand": EXPAND,
}
PAYMENT_INTENT_CANCEL: Spec = {
    "cancellation_reason": Param(
        "enum", choices=("duplicate", "fraudulent", "requested_by_customer", "abandoned")
    ),
    "expand": EXPAND,
}
REFUND_CREATE: Spec = {
    "payment_intent": Param(),
    "charge": Param(),
    "amount": Param("int", minimum=1),
    "reason": Param("enum", choices=("duplicate", "fraudulent", "requested_by_customer")),
    "metadata": METADATA,
    "expand": EXPAND,
}
RETRIEVE: Spec = {"expand": EXPAND}
EVENT_LIST: Spec = {**LIST_SPEC, "type": Param(), "types": Param("list", item=Param())}


def _page(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: params.get(k) for k in ("limit", "starting_after", "ending_before")}


def _metadata(params: Mapping[str, Any]) -> dict[str, str]:
    return merge_metadata({}, params.get("metadata") or {})


def api_endpoints(state: StripeState) -> list[Endpoint]:
    """Every `/v1/` route the fake answers; anything else is Stripe's 404 for an unknown URL."""

    def current_account(c: Call) -> Obj:
        return state.get_account(c.account or state.platform_account["id"])

    def update_account(c: Call) -> Obj:
        changes = {k: v for k, v in c.params.items() if k != "expand"}
        if "metadata" in changes:
            current = state.get_account(c.path["id"])["metadata"]
            changes["metadata"] = merge_metadata(current, changes["metadata"])
        return state.update_account(c.path["id"], changes=changes, req=c.req)

    def create_account(c: Call) -> Obj:
        p = c.params
        capabilities = {
            name: bool((value or {}).get("requested"))
            for name, value in (p.get("capabilities") or {}).items()
        }
        return state.create_account(
            type=p["type"],
            country=p.get("country"),
            email=p.get("email"),
            capabilities=capabilities,
            metadata=_metadata(p),
            business_type=p.get("business_type"),
            business_profile=p.get("business_profile"),
            default_currency=p.get("default_currency"),
            req=c.req,
        )

    def create_link(c: Call) -> Obj:
        p = c.params
        return state.create_account_link(
            account=p["account"],
            refresh_url=p["refresh_url"],
            return_url=p["return_url"],
            type=p["type"],
            base_url=c.base_url,
            req=c.req,
        )

    def create_transfer(c: Call) -> Obj:
        p = c.params
        return state.create_transfer(
            amount=p["amount"],
            currency=p["currency"],
            destination=p["destination"],
            transfer_group=p.get("transfer_group"),
            metadata=_metadata(p),
            description=p.get("description"),
            source_transaction=p.get("source_transaction"),
            req=c.req,
        )

    def update_transfer(c: Call) -> Obj:
        changes: dict[str, Any] = {}
        if "description" in c.params:
            changes["description"] = c.params["description"]
        if "metadata" in c.params:
            current = state.get_transfer(c.path["id"])["metadata"]
            changes["metadata"] = merge_metadata(current, c.params["metadata"])
        return state.update_transfer(c.path["id"], changes=changes, req=c.req)

    def list_transfers(c: Call) -> Obj:
        p = c.params
        return state.list_transfers(
            destination=p.get("destination"), transfer_group=p.get("transfer_group"), **_page(p)
        )

    def create_reversal(c: Call) -> Obj:
        return state.create_reversal(
            c.path["id"],
            amount=c.params.get("amount"),
            metadata=_metadata(c.params),
            req=c.req,
        )

    def create_intent(c: Call) -> Obj:
        p = c.params
        types = p.get("payment_method_types")
        automatic = p.get("automatic_payment_methods")
        if types and automatic and automatic.get("enabled"):
            raise invalid(
                "You may only specify one of these parameters: automatic_payment_methods, "
                "payment_method_types.",
                param="payment_method_types",
            )
        return state.create_payment_intent(
            amount=p["amount"],
            currency=p["currency"],
            metadata=_metadata(p),
            description=p.get("description"),
            payment_method_types=types,
            transfer_group=p.get("transfer_group"),
            receipt_email=p.get("receipt_email"),
            payment_method=p.get("payment_method"),
            confirm=bool(p.get("confirm")),
            req=c.req,
        )

    def create_refund(c: Call) -> Obj:
        p = c.params
        return state.create_refund(
            payment_intent=p.get("payment_intent"),
            charge=p.get("charge"),
            amount=p.get("amount"),
            reason=p.get("reason"),
            metadata=_metadata(p),
            req=c.req,
        )

    def list_events(c: Call) -> Obj:
        types = list(c.params.get("types") or [])
        if c.params.get("type"):
            if types:
                raise invalid("You may only specify one of these parameters: type, types.")
            types = [c.params["type"]]
        return state.list_events(types=types, **_page(c.params))

    E = Endpoint
    return [
        E("GET", "/v1/account", RETRIEVE, current_account, connect=True),
        E("POST", "/v1/accounts", ACCOUNT_CREATE, create_account),
        E("GET", "/v1/accounts", LIST_SPEC, lambda c: state.list_accounts(**_page(c.params))),
        E("GET", "/v1/accounts/{id}", RETRIEVE, lambda c: state.get_account(c.path["id"])),
        E("POST", "/v1/accounts/{id}", ACCOUNT_UPDATE, update_account),
        E("POST", "/v1/account_links", ACCOUNT_LINK, create_link),
        E("POST", "/v1/transfers", TRANSFER_CREATE, create_transfer),
        E("GET", "/v1/transfers", TRANSFER_LIST, list_transfers),
        E("GET", "/v1/transfers/{id}", RETRIEVE, lambda c: state.get_transfer(c.path["id"])),
        E("POST", "/v1/transfers/{id}", TRANSFER_UPDATE, update_transfer),
        E("POST", "/v1/transfers/{id}/reversals", REVERSAL_CREATE, create_reversal),
        E(
            "GET",
            "/v1/transfers/{id}/reversals",
            LIST_SPEC,
            lambda c: state.list_reversals(c.path["id"], **_page(c.params)),
        ),
        E(
            "GET",
            "/v1/transfers/{id}/reversals/{reversal}",
            RETRIEVE,
            lambda c: state.get_reversal(c.path["id"], c.path["reversal"]),
        ),
        E("POST", "/v1/payment_intents", PAYMENT_INTENT_CREATE, create_intent),
        E(
            "GET",
            "/v1/payment_intents",
            LIST_SPEC,
            lambda c: state.list_payment_intents(**_page(c.params)),
        ),
        E(
            "GET",
            "/v1/payment_intents/{id}",
            RETRIEVE,
            lambda c: state.get_payment_intent(c.path["id"]),
        ),
        E(
            "POST",
            "/v1/payment_intents/{id}/confirm",
            PAYMENT_INTENT_CONFIRM,
            lambda c: state.confirm_payment_intent(
                c.path["id"], payment_method=c.params.get("payment_method"), req=c.req
            ),
        ),
        E(
            "POST",
            "/v1/payment_intents/{id}/cancel",
            PAYMENT_INTENT_CANCEL,
            lambda c: state.cancel_payment_intent(
                c.path["id"], cancellation_reason=c.params.get("cancellation_reason"), req=c.req
            ),
        ),
        E("GET", "/v1/charges/{id}", RETRIEVE, lambda c: state.get_charge(c.path["id"])),
        E("POST", "/v1/refunds", REFUND_CREATE, create_refund),
        E(
            "GET",
            "/v1/refunds",
            {**LIST_SPEC, "payment_intent": Param()},
            lambda c: state.list_refunds(
                payment_intent=c.params.get("payment_intent"), **_page(c.params)
            ),
        ),
        E("GET", "/v1/refunds/{id}", RETRIEVE, lambda c: state.get_refund(c.path["id"])),
        E(
            "GET",
            "/v1/balance",
            RETRIEVE,
            lambda c: state.balance(c.account or PLATFORM),
            connect=True,
        ),
        E(
            "GET",
            "/v1/payouts",
            LIST_SPEC,
            lambda c: state.list_payouts(owner=c.account or PLATFORM, **_page(c.params)),
            connect=True,
        ),
        E(
            "GET",
            "/v1/payouts/{id}",
            RETRIEVE,
            lambda c: state.get_payout(c.path["id"], owner=c.account or PLATFORM),
            connect=True,
        ),
        E("GET", "/v1/events", EVENT_LIST, list_events),
        E("GET", "/v1/events/{id}", RETRIEVE, lambda c: state.event(c.path["id"])),
    ]


# --- replies ----------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _json(obj: Any) -> bytes:
    # Stripe pretty-prints its responses.
    return json.dumps(obj, indent=2).encode("utf-8")


def _error_reply(exc: StripeError, headers: Mapping[str, str]) -> Reply:
    return Reply(exc.status, _json(exc.body()), {**headers, **exc.headers})


async def _send(send: Send, reply: Reply) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(reply.body)).encode()),
    ] + [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items()]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


async def drop_connection(receive: Receive, send: Send) -> None:
    """Close the client's connection without an answer.

    ASGI has no message for this, so the transport is taken from uvicorn's `send` (a bound
    method of its request cycle) and aborted: the client sees the peer go away, which
    the SDK reports as `APIConnectionError`. Under another server the fallback promises a body
    and returns without it, which also ends in a closed connection without a full answer.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "abort"):
        transport.abort()
        # Wait until the server has seen the disconnect, so it does not answer 500 for us.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                while (await receive())["type"] != "http.disconnect":
                    pass
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]}
    )


@dataclass
class Prepared:
    endpoint: Endpoint
    call: Call
    scope_key: tuple[str, str, str] | None
    headers: dict[str, str]


# --- the app ----------------------------------------------------------------------------


class FakeStripeApp:
    def __init__(
        self,
        state: StripeState,
        faults: FaultPlan,
        webhooks: WebhookDispatcher,
        *,
        api_keys: Collection[str] | None = None,
        public_url: str | None = None,
    ) -> None:
        self.state = state
        self.faults = faults
        self.webhooks = webhooks
        self.api_keys = frozenset(api_keys) if api_keys else None
        self.public_url = public_url
        self.endpoints = api_endpoints(state)
        self.control = control_app(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"].startswith("/v1/"):
            await self._api(scope, receive, send)
        else:
            await self.control(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.webhooks.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.webhooks.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def match(self, method: str, path: str) -> tuple[Endpoint | None, dict[str, str], str]:
        """The endpoint, its path parameters and its template (the path when unknown)."""
        template = None
        for endpoint in self.endpoints:
            found = endpoint.regex.match(path)
            if found:
                template = template or endpoint.template
                if endpoint.method == method:
                    return endpoint, found.groupdict(), endpoint.template
        return None, {}, template or path

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        method, path = request.method, request.url.path
        request_id = self.state.new_id("req", 14)
        endpoint, path_params, template = self.match(method, path)
        self.state.record_call(f"{method} {template}")
        body = await request.body()
        fault = self.faults.pick(method, path, template)
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
        if fault is not None and not fault.takes_effect:
            # The request never reaches the API: nothing happens, nothing is stored.
            if fault.kind == "timeout":
                await asyncio.sleep(fault.seconds)
            if fault.kind == "error_500":
                await _send(send, self._server_error(request_id))
            else:
                await drop_connection(receive, send)
            return
        prepared = self._prepare(request, endpoint, path_params, body, request_id)
        try:
            if fault is not None and fault.kind == "timeout" and fault.effect == "after":
                await asyncio.sleep(fault.seconds)  # the key stays reserved meanwhile
            reply = prepared if isinstance(prepared, Reply) else self._run(prepared)
        except BaseException:
            if isinstance(prepared, Prepared) and prepared.scope_key is not None:
                self.state.idempotency_release(prepared.scope_key)
            raise
        await self._finish(receive, send, reply, fault, request_id)

    async def _finish(
        self, receive: Receive, send: Send, reply: Reply, fault: Fault | None, request_id: str
    ) -> None:
        if fault is not None and fault.kind == "timeout" and fault.effect == "before":
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.kind in ("error_500", "error_500_after"):
            reply = self._server_error(request_id)  # done, but the client cannot know it
        elif fault is not None and fault.kind == "drop":
            await drop_connection(receive, send)
            return
        await _send(send, reply)

    def _server_error(self, request_id: str) -> Reply:
        error = StripeError(500, _SERVER_ERROR, type="api_error")
        return _error_reply(error, {"Request-Id": request_id})

    def _prepare(
        self,
        request: Request,
        endpoint: Endpoint | None,
        path_params: dict[str, str],
        body: bytes,
        request_id: str,
    ) -> Prepared | Reply:
        method, path = request.method, request.url.path
        headers = {"Request-Id": request_id}
        try:
            api_key = self._authenticate(request)
            version = request.headers.get("stripe-version")
            if version is not None and not _VERSION_RE.fullmatch(version):
                raise invalid(f"Invalid Stripe API version: {version}")
            headers["Stripe-Version"] = version or self.state.api_version
            if endpoint is None:
                raise StripeError(
                    404,
                    f"Unrecognized request URL ({method}: {path}). Please see "
                    "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                    saved=False,
                )
            account = request.headers.get("stripe-account") or None
            if account is not None:
                self._check_account_header(endpoint, account, api_key)
            pairs = parse_qsl(request.url.query, keep_blank_values=True)
            if method == "POST":
                try:
                    pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True)
                except UnicodeDecodeError:
                    raise invalid("The request body is not valid UTF-8.") from None
            raw = parse_form(pairs)
            params = validate(raw, endpoint.spec)
            key = request.headers.get("idempotency-key") if method == "POST" else None
            scope_key = (api_key, account or "", key) if key else None
            if key:
                headers["Idempotency-Key"] = key
            call = Call(
                params=params,
                path=path_params,
                req=RequestInfo(request_id, key, version),
                account=account,
                base_url=self.public_url or str(request.base_url),
            )
            if scope_key is not None:
                stored = self.state.idempotency_begin(
                    scope_key, method=method, path=path, params=raw, request_id=request_id
                )
                if stored is not None and stored.status is not None:
                    replay = {
                        **stored.headers,
                        "Request-Id": request_id,
                        "Idempotent-Replayed": "true",
                        "Original-Request": stored.request_id,
                    }
                    return Reply(stored.status, stored.body, replay)
            return Prepared(endpoint, call, scope_key, headers)
        except StripeError as exc:
            return _error_reply(exc, headers)

    def _run(self, prepared: Prepared) -> Reply:
        scope_key = prepared.scope_key
        try:
            reply = Reply(200, _json(prepared.endpoint.handler(prepared.call)), prepared.headers)
        except StripeError as exc:
            reply = _error_reply(exc, prepared.headers)
            if not exc.saved:
                if scope_key is not None:
                    self.state.idempotency_release(scope_key)
                return reply
        except Exception:
            log.exception("fake Stripe failed on %s", prepared.endpoint.template)
            if scope_key is not None:
                self.state.idempotency_release(scope_key)
            return self._server_error(prepared.call.req.id or "")
        if scope_key is not None:
            self.state.idempotency_finish(
                scope_key, status=reply.status, body=reply.body, headers=reply.headers
            )
        return reply

    def _authenticate(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        key = ""
        if scheme.lower() == "bearer":
            key = credentials.strip()
        elif scheme.lower() == "basic":  # curl -u sk_test_...:
            with contextlib.suppress(ValueError):
                key = base64.b64decode(credentials).decode().partition(":")[0]
        if not key:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                "or we can help at https://support.stripe.com/.",
                saved=False,
            )
        if not _KEY_RE.fullmatch(key) or (self.api_keys is not None and key not in self.api_keys):
            # Live keys are refused too: the fake only ever stands in for test mode.
            raise StripeError(
                401, f"Invalid API Key provided: {_redact(key)}", code=None, saved=False
            )
        return key

    def _check_account_header(self, endpoint: Endpoint, account: str, api_key: str) -> None:
        if not endpoint.connect:
            raise invalid(
                "The fake Stripe server does not support the Stripe-Account header on "
                f"{endpoint.method} {endpoint.template}.",
            )
        if account not in self.state.accounts:
            raise StripeError(
                403,
                f"The provided key '{_redact(api_key)}' does not have access to account "
                f"'{account}' (or that account does not exist). Application access may have "
                "been revoked.",
                code="account_invalid",
                saved=False,
            )


def _redact(key: str) -> str:
    return f"{key[:8]}{'*' * max(len(key) - 12, 4)}{key[-4:]}" if len(key) > 12 else "****"


# --- control endpoints and the onboarding page -----------------------------------------


def control_app(fake: FakeStripeApp) -> Starlette:
    state, faults, webhooks = fake.state, fake.faults, fake.webhooks

    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw:
            return {}
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data

    def guarded(
        handler: Callable[[Request, dict[str, Any]], Any],
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                data = await body(request)
                result = handler(request, data)
                if asyncio.iscoroutine(result):
                    result = await result
            except StripeError as exc:
                return JSONResponse(exc.body(), status_code=exc.status)
            except (ValueError, TypeError, KeyError) as exc:
                message = f"{type(exc).__name__}: {exc}"
                error = {"error": {"type": "invalid_request_error", "message": message}}
                return JSONResponse(error, status_code=400)
            if isinstance(result, Response):
                return result
            return JSONResponse(result)

        return endpoint

    def reset(_: Request, data: dict[str, Any]) -> Obj:
        seed = data.get("seed")
        state.reset(None if seed is None else int(seed))
        faults.clear()
        if seed is not None:
            faults.reseed(int(seed))
        webhooks.reset(None if seed is None else int(seed))
        return {"reset": True, "seed": state.seed}

    def counts(_: Request, __: dict[str, Any]) -> Obj:
        return {
            **state.counts(),
            "webhooks": webhooks.summary(),
            "faults_injected": dict(faults.injected),
        }

    def get_faults(_: Request, __: dict[str, Any]) -> Obj:
        return {"rules": faults.rules(), "injected": dict(faults.injected)}

    def set_faults(_: Request, data: dict[str, Any]) -> Obj:
        if data.get("replace", True):
            faults.clear()
        if "seed" in data:
            faults.reseed(int(data["seed"]))
        faults.load(data.get("rules", []))
        return {"rules": faults.rules()}

    def clear_faults(_: Request, __: dict[str, Any]) -> Obj:
        faults.clear()
        return {"rules": []}

    def complete(request: Request, _: dict[str, Any]) -> Obj:
        return state.complete_onboarding(request.path_params["id"])

    def pay(request: Request, data: dict[str, Any]) -> Obj:
        outcome = data.get("outcome", "succeeded")
        if outcome not in ("succeeded", "failed"):
            raise ValueError("outcome is succeeded or failed")
        return state.pay_payment_intent(request.path_params["id"], succeed=outcome == "succeeded")

    def fail_payout(request: Request, data: dict[str, Any]) -> Obj:
        return state.fail_payout(
            request.path_params["id"],
            amount=int(data["amount"]),
            currency=data.get("currency"),
            failure_code=data.get("failure_code", "account_closed"),
        )

    def reverse(request: Request, data: dict[str, Any]) -> Obj:
        amount = data.get("amount")
        return state.create_reversal(
            request.path_params["id"], amount=None if amount is None else int(amount)
        )

    def top_up(_: Request, data: dict[str, Any]) -> Obj:
        return state.top_up(
            int(data["amount"]), data.get("currency"), owner=data.get("account") or PLATFORM
        )

    def balance(request: Request, _: dict[str, Any]) -> Obj:
        return state.balance(request.query_params.get("account") or PLATFORM)

    def webhook_log(_: Request, __: dict[str, Any]) -> Obj:
        attempts = [
            {
                "event": a.event_id,
                "type": a.event_type,
                "copy": a.copy,
                "attempt": a.attempt,
                "status": a.status_code,
                "error": a.error,
            }
            for a in webhooks.attempts[-100:]
        ]
        return {**webhooks.summary(), "last_attempts": attempts}

    def configure_webhooks(_: Request, data: dict[str, Any]) -> Obj:
        return webhooks.configure(**data).as_json()

    async def flush(_: Request, data: dict[str, Any]) -> Obj:
        released = webhooks.flush() if webhooks.settings.url else 0
        idle = True
        if data.get("wait", True):
            idle = await webhooks.wait_idle_async(float(data.get("seconds", 10.0)))
        return {**webhooks.summary(), "released": released, "idle": idle}

    def link_or_redirect(token: str) -> Any:
        link = state.onboarding_link(token)
        if link is not None:
            return link
        with state.lock:
            stale = state.links.get(token)
        if stale is None:
            return HTMLResponse("<h1>This link is not valid.</h1>", status_code=404)
        # Stripe sends used and expired links to the refresh URL, to ask for a new one.
        return RedirectResponse(stale.refresh_url, status_code=302)

    async def onboarding_page(request: Request) -> Response:
        found = link_or_redirect(request.path_params["token"])
        if isinstance(found, Response):
            return found
        account = html.escape(found.account)
        return HTMLResponse(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>Set up payouts - test mode</title></head><body><main>"
            f"<h1>Set up payouts for {account}</h1>"
            "<p>This page stands in for Stripe's hosted Connect onboarding (test mode). "
            "Completing it submits the account's details and enables its payouts.</p>"
            "<form method='post'>"
            "<button type='submit' name='action' value='complete'>Complete onboarding</button> "
            "<button type='submit' name='action' value='leave'>Leave without finishing</button>"
            "</form></main></body></html>"
        )

    async def onboarding_submit(request: Request) -> Response:
        token = request.path_params["token"]
        found = link_or_redirect(token)
        if isinstance(found, Response):
            return found
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        state.use_onboarding_link(token, complete=form.get("action", "complete") == "complete")
        # Stripe returns to return_url whether or not onboarding was finished.
        return RedirectResponse(found.return_url, status_code=303)

    async def index(_: Request) -> Response:
        return JSONResponse({"fake_stripe": True, "api": "/v1/", "control": "/_fake/"})

    return Starlette(
        routes=[
            Route("/", index),
            Route("/_fake/reset", guarded(reset), methods=["POST"]),
            Route("/_fake/counts", guarded(counts), methods=["GET"]),
            Route("/_fake/faults", guarded(get_faults), methods=["GET"]),
            Route("/_fake/faults", guarded(set_faults), methods=["POST"]),
            Route("/_fake/faults", guarded(clear_faults), methods=["DELETE"]),
            Route("/_fake/accounts/{id}/complete_onboarding", guarded(complete), methods=["POST"]),
            Route("/_fake/accounts/{id}/payouts/fail", guarded(fail_payout), methods=["POST"]),
            Route("/_fake/payment_intents/{id}/pay", guarded(pay), methods=["POST"]),
            Route("/_fake/transfers/{id}/reverse", guarded(reverse), methods=["POST"]),
            Route("/_fake/balance", guarded(balance), methods=["GET"]),
            Route("/_fake/balance", guarded(top_up), methods=["POST"]),
            Route("/_fake/webhooks", guarded(webhook_log), methods=["GET"]),
            Route("/_fake/webhooks", guarded(configure_webhooks), methods=["POST"]),
            Route("/_fake/webhooks/flush", guarded(flush), methods=["POST"]),
            Route("/_fake/onboarding/{token}", onboarding_page, methods=["GET"]),
            Route("/_fake/onboarding/{token}", onboarding_submit, methods=["POST"]),
        ]
    )
