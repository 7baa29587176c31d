"""Every permission, in one place, and the one decorator that enforces them.

Each route is wrapped in `@guard("permission.name", load=...)`: the guard loads the object
the route acts on, checks the rule for the acting user, and for pages checks the CSRF token
of state-changing forms. Handlers never check roles by hand. A test walks every registered
route and fails on one without a guard.

Outcomes: not signed in -> 401; an object of an organization the user is not part of ->
404, so that its existence does not leak; a member without the needed role -> 403.
"""

from __future__ import annotations

import functools
import hmac
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, get_type_hints

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from service.accounts.actor import Actor
from service.accounts.models import Invitation, Organization, Role, User
from service.core.bodylimit import DEFAULT_BODY_LIMIT, FORM_MAX_FIELDS, upload_limit_of
from service.core.errors import (
    BadRequest,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
)
from service.core.i18n import N_, gettext

Loader = Callable[[Request], Awaitable[Any]]
Handler = Callable[[Request], Awaitable[Response]]
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
T = TypeVar("T")


class TwoFactorRequired(PermissionDenied):
    default_detail = N_("Turn on two-factor sign-in and sign in with it to do this.")


class CsrfFailed(PermissionDenied):
    default_detail = N_("The form expired or did not come from this site. Reload it and try again.")


def organization_of(obj: Any) -> int | None:
    """The organization an object belongs to (objects carry an `organization_id`)."""
    if isinstance(obj, Organization):
        return obj.id
    value = getattr(obj, "organization_id", None)
    if value is None:
        # Objects that hang from a challenge (questions, attachments) belong to its organization.
        value = getattr(getattr(obj, "challenge", None), "organization_id", None)
    return int(value) if value is not None else None


@dataclass(frozen=True)
class Rule:
    """Who may: anyone, the signed-in, operators, organization roles, or a custom check."""

    signed_in: bool = True
    operator: bool = False
    roles: frozenset[Role] | None = None
    # A member of the object's organization with any role.
    member: bool = False
    mfa: bool = False
    custom: Callable[[Actor, Any], bool] | None = None
    # Whether a refusal hides the object (404) or admits it exists (403).
    hide: bool = True
    # Objects anyone may see once public (a published challenge); otherwise the rest applies.
    public_when: Callable[[Any], bool] | None = None

    def enforce(self, actor: Actor, obj: Any) -> None:
        if self.public_when is not None:
            public = self.public_when(obj)
            if public and (actor.signed_in or not self.signed_in):
                return
            if not public and not actor.signed_in:
                raise NotFound()
            # Not public yet: only the organization's members (checked below) may.
        elif not self.signed_in:
            return
        if not actor.signed_in:
            raise NotAuthenticated(actor.auth_error or None)
        if self.operator:
            if not actor.is_operator:
                raise PermissionDenied()
            self._require_mfa(actor)
            return
        if self.roles is not None or self.member:
            org_id = organization_of(obj)
            if actor.role_in(org_id) is None:
                if actor.is_operator and not self.hide:
                    raise PermissionDenied()
                raise NotFound()
            if self.roles is not None and not actor.has_role(org_id, *self.roles):
                raise PermissionDenied("Your role in this organization does not allow this.")
        if self.custom is not None and not self.custom(actor, obj):
            if self.hide:
                raise NotFound()
            raise PermissionDenied()
        self._require_mfa(actor)

    def _require_mfa(self, actor: Actor) -> None:
        if self.mfa and not actor.mfa:
            raise TwoFactorRequired()


def _is_invitee(actor: Actor, invitation: Invitation) -> bool:
    # A confirmed address only: anyone could register an invited address otherwise.
    return (
        actor.user is not None
        and actor.user.email_verified_at is not None
        and actor.user.email == invitation.email
    )


def _is_self(actor: Actor, user: User) -> bool:
    return actor.user is not None and actor.user.id == user.id


PERMISSIONS: dict[str, Rule] = {
    "public": Rule(signed_in=False),
    "signed_in": Rule(),
    "operator": Rule(operator=True, mfa=True),
    "organization.view_members": Rule(member=True),
    "organization.manage": Rule(roles=frozenset({Role.owner})),
    "invitation.answer": Rule(custom=_is_invitee),
    "user.self": Rule(custom=_is_self),
}


def register(name: str, rule: Rule) -> None:
    """Areas add their permissions here at import time."""
    if name in PERMISSIONS and PERMISSIONS[name] != rule:
        raise ValueError(f"permission {name!r} registered twice")
    PERMISSIONS[name] = rule


def actor_of(request: Request) -> Actor:
    actor: Actor = getattr(request.state, "actor", None) or Actor()
    return actor


async def check_csrf(request: Request, actor: Actor) -> None:
    """Check a page form's CSRF token, reading as little of an untrusted body as possible.

    The expected token is known before the body is read: without one (no form was ever
    handed out) nothing is read at all. Only routes that take a file accept multipart
    bodies; the body limit itself is counted by `BodyLimitMiddleware` as bytes arrive.
    """
    expected = csrf_token_for(request, actor, create=False)
    if not expected:
        raise CsrfFailed()
    upload = upload_limit_of(request.scope.get("endpoint"))
    content_type = request.headers.get("content-type", "").lower()
    if upload is None and content_type.startswith("multipart/"):
        raise UnsupportedForm()
    form = await request.form(
        max_files=1 if upload is not None else 0,
        max_fields=FORM_MAX_FIELDS,
        max_part_size=DEFAULT_BODY_LIMIT,
    )
    if any(isinstance(value, str) and "\x00" in value for _, value in form.multi_items()):
        raise BadRequest(gettext("NUL characters are not accepted."))
    sent = str(form.get("csrf_token", ""))
    if not sent or not hmac.compare_digest(sent, expected):
        raise CsrfFailed()


def csrf_token_for(request: Request, actor: Actor, *, create: bool = True) -> str:
    """The signed-in session's token, or one kept in the signed cookie session before it."""
    if actor.session is not None:
        return actor.session.csrf_token
    if "session" not in request.scope:
        return ""
    token = str(request.session.get("csrf", ""))
    if not token and create:
        import secrets

        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


class UnsupportedForm(ServiceError):
    status_code = 415
    default_detail = N_("This form does not take files. Send it as an ordinary form.")


class UnsupportedMediaType(ServiceError):
    status_code = 415
    default_detail = N_("Send the body as JSON, with Content-Type: application/json.")


async def check_input(
    request: Request, *, expects_json: bool, body_optional: bool = False
) -> Request:
    """Input no handler should see: text that is not UTF-8, NUL characters (no database
    column holds them), or a JSON operation called without a JSON body.

    An operation whose body fields are all optional (`body_optional`) also takes no body at
    all, with or without a Content-Type, as an operation without a body model does: the
    request is handed on with an empty JSON object for its body."""
    if "%00" in request.url.query:
        raise ValidationFailed(fields={"query": gettext("NUL characters are not accepted.")})
    if not expects_json:
        return request
    if body_optional and not (await request.body()).strip():
        return _with_json_body(request, b"{}")
    if not request.headers.get("content-type", "").lower().startswith("application/json"):
        raise UnsupportedMediaType()
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(gettext("The body is not valid UTF-8.")) from None
    if "\x00" in text or "\\u0000" in text:
        raise BadRequest(gettext("NUL characters are not accepted."))
    try:
        parsed = json.loads(text)
    except ValueError:
        return request  # not JSON at all: the validator answers with its own 400
    except RecursionError:
        # Thousands of nested arrays exhaust the parser's stack: refused, not a 500.
        raise BadRequest(gettext("The body is nested too deeply.")) from None
    if not isinstance(parsed, dict):
        raise ValidationFailed(fields={"body": gettext("The body must be a JSON object.")})
    return request


def _with_json_body(request: Request, body: bytes) -> Request:
    """The same request (scope, state, session) with `body` as its JSON body: the validator
    reads a body only when the Content-Type says JSON."""
    headers = [
        (name, value)
        for name, value in request.scope["headers"]
        if name not in (b"content-type", b"content-length")
    ]
    headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            # After the body, what the client does next (a disconnect) comes from it.
            return await request.receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request({**request.scope, "headers": headers}, receive)


def _body_is_optional(handler: Handler) -> bool:
    """Whether the handler's JSON body model (its `json` argument) has no required field."""
    try:
        model = get_type_hints(inspect.unwrap(handler)).get("json")
    except (NameError, TypeError):
        return False
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return False
    return not any(field.is_required() for field in model.model_fields.values())


def guard(
    permission: str, *, load: Loader | None = None, csrf: bool = True
) -> Callable[[Handler], Handler]:
    """`csrf=False` only for a page whose URL carries its own signature (a one-click
    unsubscribe link, RFC 8058): mail programs POST to it without any session or form."""
    rule = PERMISSIONS[permission]

    def wrap(handler: Handler) -> Handler:
        # Operations validated with a JSON body model take it as their `json` argument.
        expects_json = "json" in inspect.signature(inspect.unwrap(handler)).parameters
        body_optional = expects_json and _body_is_optional(handler)

        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            actor = actor_of(request)
            if rule.signed_in and rule.public_when is None and not actor.signed_in:
                # Before loading anything: the body of a refused request is never read.
                raise NotAuthenticated(actor.auth_error or None)
            obj = await load(request) if load is not None else None
            rule.enforce(actor, obj)
            try:
                served = request
                if request.scope["path"].startswith("/api/"):
                    served = await check_input(
                        request, expects_json=expects_json, body_optional=body_optional
                    )
                elif request.method in UNSAFE_METHODS and csrf:
                    await check_csrf(request, actor)
                request.state.obj = obj
                return await handler(served)
            finally:
                # Uploaded parts are spooled to temporary files: close them with the request.
                await request.close()

        guarded.__permission__ = permission  # type: ignore[attr-defined]
        return guarded

    return wrap


def loaded(request: Request, kind: type[T]) -> T:
    """The object the guard's loader gave this request, as the type that loader returns.

    Anything else is a route guarded with another loader than its handler expects: a mistake
    in the code, answered as an internal error, never as the user's."""
    obj = getattr(request.state, "obj", None)
    if not isinstance(obj, kind):
        raise TypeError(
            f"the guard of {request.url.path} loaded {type(obj).__name__}, not {kind.__name__}"
        )
    return obj


def path_int(request: Request, name: str) -> int:
    try:
        value = int(request.path_params[name])
    except (KeyError, ValueError):
        raise NotFound() from None
    if not 0 < value < 2**31:
        # Ids are 32-bit: anything else names nothing (and must not reach the database).
        raise NotFound()
    return value


async def load_organization(request: Request) -> Organization:
    org = await Organization.get_or_none(id=path_int(request, "organization_id"))
    if org is None:
        raise NotFound("No such organization.")
    return org


async def load_invitation(request: Request) -> Invitation:
    invitation = await Invitation.get_or_none(id=path_int(request, "invitation_id"))
    if invitation is None:
        raise NotFound("No such invitation.")
    return invitation


async def load_user(request: Request) -> User:
    user = await User.get_or_none(id=path_int(request, "user_id"))
    if user is None:
        raise NotFound("No such user.")
    return user
