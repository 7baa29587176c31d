"""The JSON API against its own OpenAPI document, fuzzed with Schemathesis.

Every operation of `/api/openapi.json` is one test: Hypothesis draws requests from the
operation's schema (valid ones and invalid ones), they reach the session's app through
ASGI in the session's event loop, and every response must pass the checks below: no
server error, a documented status, a documented content type and headers, a body that
matches the documented schema, and invalid input refused with a 4xx.

Requests carry a fresh bearer token of a signed-in user, except the ones Schemathesis
draws to test a missing or malformed token. A fixed seed, a bounded number of examples
and no example database keep the run deterministic and short; CIVIC_CONTRACT_EXAMPLES
raises the number of examples per operation for a deeper (still deterministic) run.

The tests are named at collection time from the app's route table; the requests are
drawn from the document the running app serves, and a test checks that the document
lists exactly those routes.
"""

from __future__ import annotations

import asyncio
import copy
import os
import re
import zlib
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.schemas import OpenApiSchema
from starlette.applications import Starlette
from starlette.routing import Route

from service.accounts import tokens
from service.accounts.models import User
from service.accounts.permissions import PERMISSIONS
from service.app import create_app
from service.config import Env, Settings
from tests import factories

T = TypeVar("T")

SEED = 20240611
MAX_EXAMPLES = int(os.environ.get("CIVIC_CONTRACT_EXAMPLES", "20"))
BASE_URL = "http://testserver"
# A documentation address (RFC 5737): the fuzzer's rate-limit counters are its own.
CALLER_ADDRESS = ("192.0.2.10", 50000)
CALLER_EMAIL = "contract-caller@example.org"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def contract_config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"allow-x00": True},
        }
    )


# --- the document ----------------------------------------------------------------------------


def api_route_labels() -> list[str]:
    """`METHOD /path` of every JSON API route of the app, from its route table."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env=Env.test,
        secret_key="contract-" + "x" * 40,
        database_url="sqlite://:memory:",
        log_level="WARNING",
    )
    labels: set[str] = set()
    for route in create_app(settings).routes:
        if isinstance(route, Route) and route.path.startswith("/api/v"):
            path = re.sub(r"{(\w+):\w+}", r"{\1}", route.path)
            labels.update(f"{method} {path}" for method in (route.methods or set()) - {"HEAD"})
    return sorted(labels)


def references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def operation_labels(document: dict[str, Any]) -> list[str]:
    loaded = schemathesis.openapi.from_dict(copy.deepcopy(document), config=contract_config())
    return sorted(
        result.ok().label for result in loaded.get_all_operations() if isinstance(result, Ok)
    )


def error_schema_ref(document: dict[str, Any]) -> str:
    names = [name for name in document["components"]["schemas"] if name.split(".")[0] == "ErrorOut"]
    assert len(names) == 1, names
    return f"#/components/schemas/{names[0]}"


def missing_platform_responses(document: dict[str, Any]) -> list[str]:
    """Statuses that every operation of a kind may answer, where its entry omits them.

    400: an operation that reads a JSON body refuses a body that is not JSON;
    415: and one sent without the JSON content type.
    401: an operation that needs a bearer token refuses a request without a valid one.
    """
    missing: list[str] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if "requestBody" in operation:
                missing.extend(
                    f"{status} {method.upper()} {path}"
                    for status in ("400", "415")
                    if status not in responses
                )
            if operation.get("security") and "401" not in responses:
                missing.append(f"401 {method.upper()} {path}")
    return missing


# Statuses single operations answer without declaring them (each pinned by a test below).
UNDECLARED_RESPONSES: list[str] = []


def with_undeclared_responses(document: dict[str, Any]) -> dict[str, Any]:
    """The document with the statuses above declared, as error bodies."""
    document = copy.deepcopy(document)
    error = {"content": {"application/json": {"schema": {"$ref": error_schema_ref(document)}}}}
    for entry in [*missing_platform_responses(document), *UNDECLARED_RESPONSES]:
        status, method, path = entry.split(" ", 2)
        responses = document["paths"][path][method.lower()]["responses"]
        responses.setdefault(status, {"description": HTTPStatus(int(status)).phrase, **error})
    return document


# Named at collection, from the routes; the document the app serves must list the same.
LABELS = api_route_labels()


# --- defects the fuzzing found -----------------------------------------------------------------
#
# Server errors the fuzzing found: each predicate names the input that caused one. The fixed
# ones are pinned by tests at the end of this module. An open one is in KNOWN_DEFECTS (its
# input is left out of the fuzzing) and pinned by a strict xfail test, which fails once the
# defect is fixed: the predicate then leaves KNOWN_DEFECTS and the test its mark.

INT32 = range(-(2**31), 2**31)


def id_beyond_int32(request: requests.PreparedRequest, case: Case) -> bool:
    """A path id the database column cannot hold: the query fails instead of a 404."""
    for value in (case.path_parameters or {}).values():
        try:
            number = int(str(value))
        except ValueError:
            continue
        if number not in INT32:
            return True
    return False


def header(request: requests.PreparedRequest, name: str) -> str:
    value = request.headers.get(name) or ""
    return value.decode("latin-1") if isinstance(value, bytes) else value


def body_not_utf8(request: requests.PreparedRequest, case: Case) -> bool:
    """A JSON body that is not UTF-8: decoding it fails instead of a 400."""
    body = request.body
    if not isinstance(body, bytes):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def body_not_json(request: requests.PreparedRequest, case: Case) -> bool:
    """No JSON content type on an operation that reads a JSON body: the handler gets None."""
    if "requestBody" not in case.operation.definition.raw:
        return False
    return not header(request, "Content-Type").lower().startswith("application/json")


def notification_id_beyond_int32(request: requests.PreparedRequest, case: Case) -> bool:
    """A notification id the database column cannot hold, as `cursor` in the query or in
    `ids` in the body: the query fails instead of a 422."""
    query = case.query if isinstance(case.query, dict) else {}
    body = case.body if isinstance(case.body, dict) else {}
    ids = body.get("ids")
    for value in [query.get("cursor"), *(ids if isinstance(ids, list) else [])]:
        try:
            number = int(str(value))
        except ValueError:
            continue
        if number not in INT32:
            return True
    return False


def organization_in_body_beyond_int32(request: requests.PreparedRequest, case: Case) -> bool:
    """An `organization_id` in a body, read to check permissions before the body is validated:
    beyond the database column, the query fails instead of a 422."""
    body = case.body if isinstance(case.body, dict) else {}
    value = body.get("organization_id")
    return isinstance(value, int) and value not in INT32


def falsy_body(request: requests.PreparedRequest, case: Case) -> bool:
    """A JSON body that is not an object but is falsy (0, false, "", [], null): it is read as
    `{}`, so an operation whose fields are all optional accepts it instead of a 422."""
    return "requestBody" in case.operation.definition.raw and request.body in (
        b"0",
        b"0.0",
        b"-0.0",
        b"false",
        b'""',
        b"[]",
        b"null",
    )


KNOWN_DEFECTS: list[Any] = []


# --- sending ---------------------------------------------------------------------------------


@dataclass
class Caller:
    """Sends Schemathesis cases to the app, in the session's event loop."""

    app: Starlette
    http: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        # Tests and Hypothesis run outside the loop; the app's connections belong to it.
        return self.loop.run_until_complete(coroutine)

    async def bearer(self) -> str:
        # Looked up on every case: a case may have revoked the tokens issued before it,
        # and the tables are emptied after every test.
        user = await User.get_or_none(email=CALLER_EMAIL)
        if user is None:
            user = await factories.make_user(email=CALLER_EMAIL, name="Contract Caller")
        return tokens.issue(
            self.app.state.settings.secret_key,
            user_id=user.id,
            version=user.token_version,
            mfa=False,
        )

    async def send(self, request: requests.PreparedRequest) -> httpx.Response:
        body = request.body
        assert body is None or isinstance(body, bytes | str), type(body)
        return await self.http.request(
            request.method or "GET",
            request.url or "",
            headers={name: header(request, name) for name in request.headers},
            content=body,
        )


def prepare(case: Case) -> requests.PreparedRequest:
    """The bytes Schemathesis would send: it serializes a case for `requests`."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
    return requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params"),
        cookies=kwargs.get("cookies"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
        files=kwargs.get("files"),
    ).prepare()


@pytest.fixture(scope="session")
async def api_caller(app: Starlette) -> AsyncIterator[Caller]:
    # An unhandled error comes back as the app's 500 response, for the checks to report;
    # its traceback is in the captured log.
    transport = httpx.ASGITransport(app=app, client=CALLER_ADDRESS, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield Caller(app=app, http=http, loop=asyncio.get_running_loop())


@pytest.fixture(scope="session")
async def served_document(api_caller: Caller) -> dict[str, Any]:
    response = await api_caller.http.get("/api/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture(scope="session")
def api_schema(served_document: dict[str, Any], api_caller: Caller) -> OpenApiSchema:
    loaded = schemathesis.openapi.from_dict(
        with_undeclared_responses(served_document), config=contract_config()
    )

    class SignedInCaller:
        def get(self, case: Case, ctx: schemathesis.AuthContext) -> str:
            return api_caller.run(api_caller.bearer())

        def set(self, case: Case, data: str, ctx: schemathesis.AuthContext) -> None:
            headers = CaseInsensitiveDict(case.headers or {})
            headers["Authorization"] = f"Bearer {data}"
            case.headers = headers

    # Not cached: a case may revoke every token issued before it.
    loaded.auth.auth(refresh_interval=None)(SignedInCaller)
    return loaded


# --- the document's own tests ------------------------------------------------------------------


def test_served_document_is_valid_openapi(served_document: dict[str, Any]) -> None:
    loaded = schemathesis.openapi.from_dict(
        copy.deepcopy(served_document), config=contract_config()
    )
    loaded.validate()
    errors = [
        str(result.err()) for result in loaded.get_all_operations() if isinstance(result, Err)
    ]
    assert errors == []


def test_served_document_resolves_every_reference(served_document: dict[str, Any]) -> None:
    # A dangling reference would silently drop the body it stands for from the fuzzing.
    components = served_document["components"]["schemas"]
    dangling = sorted(
        ref
        for ref in references(served_document)
        if ref.removeprefix("#/components/schemas/") not in components
    )
    assert dangling == []


def test_served_document_lists_every_api_route(served_document: dict[str, Any]) -> None:
    assert operation_labels(served_document) == LABELS


# --- fuzzing ---------------------------------------------------------------------------------


def cases(operation: APIOperation) -> st.SearchStrategy[Case]:
    return st.one_of(
        [
            operation.as_strategy(generation_mode=mode)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
    )


@pytest.mark.parametrize("label", LABELS)
def test_operation_keeps_its_contract(
    label: str, api_schema: OpenApiSchema, api_caller: Caller
) -> None:
    method, path = label.split(" ", 1)
    operation = api_schema[path][method]

    @hypothesis.seed(SEED ^ zlib.crc32(label.encode()))
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.generate, hypothesis.Phase.shrink],
        # Drawing a case includes signing the caller in (a database round trip).
        suppress_health_check=[hypothesis.HealthCheck.too_slow],
    )
    @hypothesis.given(case=cases(operation))
    def keeps_contract(case: Case) -> None:
        request = prepare(case)
        hypothesis.assume(not any(defect(request, case) for defect in KNOWN_DEFECTS))
        response = api_caller.run(api_caller.send(request))
        case.validate_response(response, checks=CHECKS)

    keeps_contract()


# --- pinned: the documentation gaps (strict xfail) and the fixed defects --------------------


def test_document_declares_platform_responses(served_document: dict[str, Any]) -> None:
    assert missing_platform_responses(served_document) == []


def test_document_declares_every_status_answered(served_document: dict[str, Any]) -> None:
    undeclared = []
    for entry in UNDECLARED_RESPONSES:
        status, method, path = entry.split(" ", 2)
        if status not in served_document["paths"][path][method.lower()]["responses"]:
            undeclared.append(entry)
    assert undeclared == []


async def bearer_headers(caller: Caller) -> dict[str, str]:
    return {"Authorization": f"Bearer {await caller.bearer()}"}


async def test_path_id_beyond_int32_is_not_found(api_caller: Caller) -> None:
    response = await api_caller.http.get(f"/api/v1/challenges/{2**31}")
    assert response.status_code == 404


async def test_body_not_utf8_is_refused(api_caller: Caller) -> None:
    response = await api_caller.http.post(
        "/api/v1/auth/password-reset",
        content=b'{"email": "\xff"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400


async def test_body_without_json_content_type_is_refused(api_caller: Caller) -> None:
    response = await api_caller.http.post(
        "/api/v1/organizations", headers=await bearer_headers(api_caller)
    )
    assert 400 <= response.status_code < 500


async def test_nul_character_is_refused(api_caller: Caller) -> None:
    response = await api_caller.http.post(
        "/api/v1/auth/token", json={"email": "a\u0000@example.org", "password": "x"}
    )
    assert response.status_code < 500


async def test_notification_cursor_beyond_int32_is_refused(api_caller: Caller) -> None:
    response = await api_caller.http.get(
        f"/api/v1/me/notifications?cursor={2**31}", headers=await bearer_headers(api_caller)
    )
    assert 400 <= response.status_code < 500


async def test_notification_ids_beyond_int32_are_refused(api_caller: Caller) -> None:
    response = await api_caller.http.post(
        "/api/v1/me/notifications/read",
        json={"ids": [2**31]},
        headers=await bearer_headers(api_caller),
    )
    assert 400 <= response.status_code < 500


async def test_organization_in_body_beyond_int32_is_refused(api_caller: Caller) -> None:
    response = await api_caller.http.post(
        "/api/v1/challenges",
        json={"organization_id": 2**31},
        headers=await bearer_headers(api_caller),
    )
    assert 400 <= response.status_code < 500


async def test_body_that_is_not_an_object_is_refused(api_caller: Caller) -> None:
    response = await api_caller.http.post(
        "/api/v1/me/notifications/read",
        content=b"0",
        headers={"Content-Type": "application/json", **await bearer_headers(api_caller)},
    )
    assert 400 <= response.status_code < 500


# --- the checks of `--checks all` that need more than one request ------------------------------
#
# Schemathesis' `ignored_auth`, `missing_required_header`, `unsupported_method` and
# `allow_header_conformance` send probes of their own or need its coverage phase; the
# requests here go through the same ASGI caller. (`positive_data_acceptance` stays off: valid
# bodies by the schema still meet rules the schema cannot state, such as closes_at after
# opens_at, and answer 422 by design. `use_after_free` and `ensure_resource_availability` need
# stateful links the document does not declare.)

TAMPERED = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWZyb20tZWxzZXdoZXJl"


def concrete(path: str) -> str:
    return re.sub(r"{\w+}", "1", path)


def loads_before_auth(app: Starlette, method: str, path: str) -> bool:
    for route in app.routes:
        if (
            isinstance(route, Route)
            and re.sub(r"{(\w+):\w+}", r"{\1}", route.path) == path
            and method in (route.methods or set())
        ):
            rule = PERMISSIONS[route.endpoint.__permission__]  # type: ignore[attr-defined]
            return rule.public_when is not None
    raise AssertionError(f"no route for {method} {path}")


def secured(document: dict[str, Any], label: str) -> bool:
    method, path = label.split(" ", 1)
    return bool(document["paths"][path][method.lower()].get("security"))


async def test_every_operation_enforces_its_declared_auth(
    served_document: dict[str, Any], api_caller: Caller
) -> None:
    """ASVS V8.1: an operation that declares a bearer token refuses a request without one, or
    with one that is malformed or signed elsewhere (Schemathesis' `ignored_auth` and
    `missing_required_header`). One test for all operations: no data is written."""
    refused = []
    checked = 0
    for label in LABELS:
        if not secured(served_document, label):
            continue
        method, path = label.split(" ", 1)
        # Operations on objects that become public (a published challenge) look the object
        # up first: a missing one is a 404 for everybody, which tells nothing an anonymous
        # visitor could not see. Every other operation refuses before loading anything.
        allowed = {401, 404} if loads_before_auth(api_caller.app, method, path) else {401}
        for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": f"Bearer {TAMPERED}"}):
            response = await api_caller.http.request(
                method,
                concrete(path),
                headers={"Content-Type": "application/json", **headers},
                content=b"{}" if method in {"POST", "PUT", "PATCH"} else None,
            )
            checked += 1
            if response.status_code not in allowed:
                refused.append(f"{label} {headers}: {response.status_code}")
    assert checked > 100
    assert refused == []


API_PATHS = sorted({label.split(" ", 1)[1] for label in LABELS})
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


async def test_every_path_refuses_undeclared_methods(
    served_document: dict[str, Any], api_caller: Caller
) -> None:
    """ASVS V4.1 (only the declared methods): every other method answers 405 with an `Allow`
    header that lists exactly the declared ones (`unsupported_method`,
    `allow_header_conformance`)."""
    headers = await bearer_headers(api_caller)
    wrong = []
    for path in API_PATHS:
        declared = {method.upper() for method in served_document["paths"][path]}
        for method in sorted(METHODS - declared):
            response = await api_caller.http.request(method, concrete(path), headers=headers)
            allowed = {m.strip() for m in response.headers.get("allow", "").split(",")} - {""}
            if response.status_code != 405 or allowed - {"HEAD"} != declared:
                wrong.append(f"{method} {path}: {response.status_code}, Allow {sorted(allowed)}")
    assert wrong == []
