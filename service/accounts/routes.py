"""Accounts API: sign-up, tokens, the current user, organizations, invitations, audit."""

from __future__ import annotations

from spectree import Response as Doc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.accounts import account_changes, schemas, signin_guard, tokens, two_factor
from service.accounts import service as accounts
from service.accounts.models import Invitation, Membership, Organization, User
from service.accounts.permissions import (
    guard,
    load_invitation,
    load_organization,
    load_user,
)
from service.audit import service as audit
from service.core.api import ErrorOut, api, json
from service.core.errors import ValidationFailed
from service.core.i18n import N_, gettext
from service.core.web import context, limit, transaction
from service.notifications import service as notifications

TAG_AUTH = "auth"
TAG_ORGS = "organizations"


def user_out(user: User) -> schemas.UserOut:
    return schemas.UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        language=user.language,
        email_verified=user.email_verified_at is not None,
        is_operator=user.is_operator,
        totp_enabled=user.totp_enabled_at is not None,
        time_zone=user.time_zone or None,
    )


def organization_out(org: Organization) -> schemas.OrganizationOut:
    return schemas.OrganizationOut(
        id=org.id,
        name=org.name,
        kind=org.kind,
        country=org.country,
        region=org.region,
        time_zone=org.time_zone,
        verified=org.is_verified,
        created_at=org.created_at,
    )


def invitation_out(invitation: Invitation, org: Organization) -> schemas.InvitationOut:
    return schemas.InvitationOut(
        id=invitation.id,
        organization_id=org.id,
        organization_name=org.name,
        email=invitation.email,
        role=invitation.role,
        status=invitation.status,
        created_at=invitation.created_at,
    )


# --- auth ----------------------------------------------------------------------------------


REGISTER_ANSWER = N_(
    "We sent a message to this address: open its link to confirm it. If the address already "
    "has an account, the message says so instead."
)


@guard("public")
@api.validate(
    json=schemas.RegisterIn,
    resp=Doc(HTTP_202=schemas.MessageOut, HTTP_422=ErrorOut, HTTP_429=ErrorOut),
    tags=[TAG_AUTH],
)
async def register(request: Request, json: schemas.RegisterIn) -> Response:
    """Create an account; a verification link is e-mailed.

    The answer is the same whether the address already has an account (its owner is told
    by e-mail instead), so that registering cannot reveal who uses the platform.
    """
    settings = request.app.state.settings
    ip = request.client.host if request.client else ""
    await limit(
        request, "register-ip", settings.rate_register_per_ip, settings.rate_register_window, ip
    )
    account = await accounts.prepare_registration(
        email=json.email, password=json.password, name=json.name
    )
    async with transaction(request):
        await accounts.register(context(request), account)
    return _json(schemas.MessageOut(detail=gettext(REGISTER_ANSWER)), 202)


@guard("public")
@api.validate(
    json=schemas.TokenIn,
    resp=Doc(HTTP_200=schemas.TokenOut, HTTP_401=ErrorOut, HTTP_429=ErrorOut),
    tags=[TAG_AUTH],
)
async def issue_token(request: Request, json: schemas.TokenIn) -> Response:
    """A short-lived bearer token (15 minutes). Users with two-factor sign-in send `totp`.

    A recovery code may stand in for the code (in `totp` or `recovery_code`): it is used up,
    and `recovery_codes_left` says how many remain.
    """
    attempt = await signin_guard.begin(request, json.email)
    code = json.totp or json.recovery_code
    user, mfa = await signin_guard.settle(
        request,
        attempt,
        accounts.authenticate(
            email=json.email, password=json.password, totp=code, ctx=context(request)
        ),
    )
    async with transaction(request):
        token = await accounts.issue_token(context(request), user, mfa=mfa)
    left = (
        await two_factor.recovery_codes_left(user)
        if mfa and two_factor.is_recovery_code(code)
        else None
    )
    return _json(
        schemas.TokenOut(
            access_token=token, expires_in=tokens.TOKEN_TTL_SECONDS, recovery_codes_left=left
        )
    )


@guard("signed_in")
@api.validate(resp=Doc(HTTP_204=None, HTTP_401=ErrorOut), tags=[TAG_AUTH], security={"bearer": []})
async def revoke_tokens(request: Request) -> Response:
    """Revoke every bearer token of the current user, this one included."""
    ctx = context(request)
    assert ctx.actor.user is not None
    async with transaction(request):
        await accounts.revoke_tokens(ctx, ctx.actor.user)
    return Response(status_code=204)


@guard("public")
@api.validate(
    json=schemas.VerifyEmailIn,
    resp=Doc(HTTP_200=schemas.UserOut, HTTP_400=ErrorOut),
    tags=[TAG_AUTH],
)
async def verify_email(request: Request, json: schemas.VerifyEmailIn) -> Response:
    """Confirm an e-mail address with the token from the link."""
    async with transaction(request):
        user = await accounts.verify_email(context(request), token=json.token)
    return _json(user_out(user))


RESET_ANSWER = "If an account uses this address, a link to choose a new password is on its way."


@guard("public")
@api.validate(
    json=schemas.ResetRequestIn,
    resp=Doc(HTTP_202=schemas.MessageOut, HTTP_429=ErrorOut),
    tags=[TAG_AUTH],
)
async def request_reset(request: Request, json: schemas.ResetRequestIn) -> Response:
    """Ask for a password reset link. The answer is the same whether the account exists."""
    settings = request.app.state.settings
    ip = request.client.host if request.client else ""
    window = settings.rate_reset_window
    await limit(request, "reset-ip", settings.rate_reset_per_ip, window, ip)
    await limit(
        request,
        "reset-account",
        settings.rate_reset_per_account,
        window,
        accounts.normalize_email(json.email),
    )
    async with transaction(request):
        await accounts.request_password_reset(context(request), email=json.email)
    return _json(schemas.MessageOut(detail=RESET_ANSWER), 202)


@guard("public")
@api.validate(
    json=schemas.ResetConfirmIn,
    resp=Doc(HTTP_200=schemas.UserOut, HTTP_400=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG_AUTH],
)
async def confirm_reset(request: Request, json: schemas.ResetConfirmIn) -> Response:
    """Choose a new password with the token from the link; every session and token ends."""
    async with transaction(request):
        user = await accounts.reset_password(
            context(request), token=json.token, password=json.password
        )
    return _json(user_out(user))


# --- me ------------------------------------------------------------------------------------


@guard("signed_in")
@api.validate(
    resp=Doc(HTTP_200=schemas.MeOut, HTTP_401=ErrorOut), tags=[TAG_AUTH], security={"bearer": []}
)
async def me(request: Request) -> Response:
    """The current user, the organizations they belong to and their unread count."""
    user = context(request).actor.user
    assert user is not None
    memberships = await Membership.filter(user=user).select_related("organization")
    body = schemas.MeOut(
        **user_out(user).model_dump(),
        memberships=[
            schemas.MembershipOut(
                organization_id=m.organization.id,
                organization_name=m.organization.name,
                kind=m.organization.kind,
                role=m.role,
            )
            for m in memberships
        ],
        unread_notifications=await notifications.unread_count(user.id),
    )
    return _json(body)


@guard("signed_in")
@api.validate(
    json=schemas.ProfileIn,
    resp=Doc(HTTP_200=schemas.UserOut, HTTP_401=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG_AUTH],
    security={"bearer": []},
)
async def update_me(request: Request, json: schemas.ProfileIn) -> Response:
    """Change one's name, language (`en`, `es`, `pt`: pages and e-mails are written in it)
    or time zone (an IANA name: times and deadlines are shown in it). Fields left
    out stay as they are; the e-mail address and the password have routes of their own."""
    async with transaction(request):
        user = await account_changes.update_profile(
            context(request), name=json.name, language=json.language, time_zone=json.time_zone
        )
    return _json(user_out(user))


async def reauth_limit(request: Request) -> None:
    """Passwords and codes typed by a signed-in user count against the sign-in limit too:
    a stolen session must not become a way to guess them."""
    user = context(request).actor.user
    assert user is not None
    settings = request.app.state.settings
    await limit(
        request,
        "reauth-account",
        settings.rate_signin_per_account,
        settings.rate_signin_window,
        str(user.id),
    )


async def reauthenticate(request: Request, password: str, code: str | None) -> None:
    """The current password (and code) again, counted against the sign-in limit per account."""
    ctx = context(request)
    assert ctx.actor.user is not None
    await reauth_limit(request)
    await two_factor.reauthenticate(ctx, ctx.actor.user, password=password, code=code or "")


@guard("signed_in")
@api.validate(
    json=schemas.ReauthIn,
    resp=Doc(HTTP_201=schemas.TotpOut, HTTP_401=ErrorOut, HTTP_422=ErrorOut, HTTP_429=ErrorOut),
    tags=[TAG_AUTH],
    security={"bearer": []},
)
async def start_totp(request: Request, json: schemas.ReauthIn) -> Response:
    """Start (or change) two-factor sign-in: a new secret, active once a code is confirmed.

    Needs the current `password`, and with two-factor on a current `code`. An active secret
    keeps working until the new one is confirmed.
    """
    await reauthenticate(request, json.password, json.code)
    ctx = context(request)
    assert ctx.actor.user is not None
    async with transaction(request):
        secret, uri = await two_factor.start_enrolment(ctx, ctx.actor.user)
    return _json(schemas.TotpOut(secret=secret, otpauth_uri=uri), 201)


@guard("signed_in")
@api.validate(
    json=schemas.TotpConfirmIn,
    resp=Doc(HTTP_200=schemas.TotpConfirmOut, HTTP_422=ErrorOut),
    tags=[TAG_AUTH],
    security={"bearer": []},
)
async def confirm_totp(request: Request, json: schemas.TotpConfirmIn) -> Response:
    """Confirm a code from the new secret; from then on sign-in asks for one.

    Every session and token of the user ends; the answer carries a new token (with the second
    factor) and ten single-use recovery codes, shown this once.
    """
    ctx = context(request)
    user = ctx.actor.user
    assert user is not None
    await reauth_limit(request)
    async with transaction(request):
        codes = await two_factor.confirm_enrolment(ctx, user, code=json.code)
        # Issued after the others were revoked: it carries the new token version.
        token = await accounts.issue_token(ctx, user, mfa=True)
    return _json(
        schemas.TotpConfirmOut(
            **user_out(user).model_dump(),
            recovery_codes=codes,
            access_token=token,
            expires_in=tokens.TOKEN_TTL_SECONDS,
        )
    )


@guard("signed_in")
@api.validate(
    json=schemas.ReauthIn,
    resp=Doc(HTTP_200=schemas.TotpDisabledOut, HTTP_422=ErrorOut, HTTP_429=ErrorOut),
    tags=[TAG_AUTH],
    security={"bearer": []},
)
async def disable_totp(request: Request, json: schemas.ReauthIn) -> Response:
    """Turn two-factor sign-in off, with the current password and code.

    Every session and token of the user ends; the answer carries a new token.
    """
    await reauthenticate(request, json.password, json.code)
    ctx = context(request)
    user = ctx.actor.user
    assert user is not None
    async with transaction(request):
        await two_factor.disable(ctx, user)
        token = await accounts.issue_token(ctx, user, mfa=False)
    return _json(
        schemas.TotpDisabledOut(
            **user_out(user).model_dump(), access_token=token, expires_in=tokens.TOKEN_TTL_SECONDS
        )
    )


@guard("signed_in")
@api.validate(
    json=schemas.ReauthIn,
    resp=Doc(HTTP_200=schemas.RecoveryCodesOut, HTTP_422=ErrorOut, HTTP_429=ErrorOut),
    tags=[TAG_AUTH],
    security={"bearer": []},
)
async def regenerate_recovery_codes(request: Request, json: schemas.ReauthIn) -> Response:
    """Ten new single-use recovery codes, with the current password and code; the old ones end."""
    await reauthenticate(request, json.password, json.code)
    ctx = context(request)
    assert ctx.actor.user is not None
    async with transaction(request):
        codes = await two_factor.regenerate_recovery_codes(ctx, ctx.actor.user)
    return _json(schemas.RecoveryCodesOut(recovery_codes=codes))


@guard("signed_in")
@api.validate(resp=Doc(HTTP_200=schemas.InvitationList), tags=[TAG_ORGS], security={"bearer": []})
async def my_invitations(request: Request) -> Response:
    """Pending invitations addressed to the current user's e-mail."""
    user = context(request).actor.user
    assert user is not None
    items = [invitation_out(i, i.organization) for i in await accounts.pending_invitations(user)]
    return _json(schemas.InvitationList(items=items))


@guard("signed_in")
@api.validate(
    query=schemas.CursorQuery,
    resp=Doc(HTTP_200=schemas.NotificationList),
    tags=[TAG_AUTH],
    security={"bearer": []},
)
async def my_notifications(request: Request, query: schemas.CursorQuery) -> Response:
    """In-app notifications, newest first, with the unread count."""
    user = context(request).actor.user
    assert user is not None
    before = int(query.cursor) if query.cursor else None
    rows = await notifications.list_for(user.id, before_id=before, limit=query.limit + 1)
    items = [
        schemas.NotificationOut(
            id=n.id,
            kind=n.kind,
            title=n.title,
            body=n.body,
            link=n.link,
            challenge_id=n.challenge_id,
            proposal_id=n.proposal_id,
            subject_title=n.subject.name if n.subject else None,
            subject_url=n.subject.path if n.subject else None,
            created_at=n.created_at,
            read=n.read_at is not None,
        )
        for n in rows[: query.limit]
    ]
    next_cursor = str(rows[query.limit - 1].id) if len(rows) > query.limit else None
    return _json(
        schemas.NotificationList(
            items=items,
            next_cursor=next_cursor,
            unread_count=await notifications.unread_count(user.id),
        )
    )


@guard("signed_in")
@api.validate(
    json=schemas.MarkReadIn,
    resp=Doc(HTTP_200=schemas.MessageOut),
    tags=[TAG_AUTH],
    security={"bearer": []},
)
async def mark_notifications_read(request: Request, json: schemas.MarkReadIn) -> Response:
    """Mark the given notifications (or all) as read."""
    user = context(request).actor.user
    assert user is not None
    async with transaction(request):
        count = await notifications.mark_read(user.id, json.ids)
    return _json(schemas.MessageOut(detail=f"{count} marked as read"))


# --- organizations -------------------------------------------------------------------------


@guard("signed_in")
@api.validate(
    json=schemas.OrganizationIn,
    resp=Doc(HTTP_201=schemas.OrganizationOut, HTTP_403=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG_ORGS],
    security={"bearer": []},
)
async def create_organization(request: Request, json: schemas.OrganizationIn) -> Response:
    """Create an organization; the creator becomes its owner. It starts unverified.

    Needs a confirmed e-mail address (403); a name with a web address is refused (422)."""
    async with transaction(request):
        org = await accounts.create_organization(
            context(request),
            name=json.name,
            kind=json.kind,
            country=json.country,
            region=json.region,
            time_zone=json.time_zone,
        )
    return _json(organization_out(org), 201)


@guard("organization.manage", load=load_organization)
@api.validate(
    json=schemas.TimeZoneIn,
    resp=Doc(
        HTTP_200=schemas.OrganizationOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut
    ),
    tags=[TAG_ORGS],
    security={"bearer": []},
)
async def update_organization(request: Request, json: schemas.TimeZoneIn) -> Response:
    """Change the organization's time zone (its owner): its deadlines are typed and shown in it.

    Deadlines already set keep their moment; only how they read changes."""
    async with transaction(request):
        org = await accounts.set_organization_time_zone(
            context(request), request.state.obj, json.time_zone
        )
    return _json(organization_out(org))


@guard("public", load=load_organization)
@api.validate(resp=Doc(HTTP_200=schemas.OrganizationOut, HTTP_404=ErrorOut), tags=[TAG_ORGS])
async def get_organization(request: Request) -> Response:
    """An organization's public profile."""
    return _json(organization_out(request.state.obj))


@guard("organization.view_members", load=load_organization)
@api.validate(
    resp=Doc(HTTP_200=schemas.MemberList, HTTP_404=ErrorOut),
    tags=[TAG_ORGS],
    security={"bearer": []},
)
async def list_members(request: Request) -> Response:
    """Members and their roles (visible to members only)."""
    rows = await accounts.members(request.state.obj)
    items = [
        schemas.MemberOut(user_id=m.user.id, name=m.user.name, email=m.user.email, role=m.role)
        for m in rows
    ]
    return _json(schemas.MemberList(items=items))


@guard("organization.manage", load=load_organization)
@api.validate(
    json=schemas.InviteIn,
    resp=Doc(
        HTTP_201=schemas.InvitationOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
        HTTP_429=ErrorOut,
    ),
    tags=[TAG_ORGS],
    security={"bearer": []},
)
async def invite_member(request: Request, json: schemas.InviteIn) -> Response:
    """Invite a person by e-mail with a role; they accept from their invitations.

    Needs a confirmed e-mail address (403). An organization not verified yet sends at most
    20 invitations in 24 hours (429, with Retry-After)."""
    org = request.state.obj
    async with transaction(request):
        invitation = await accounts.invite(context(request), org, email=json.email, role=json.role)
    return _json(invitation_out(invitation, org), 201)


async def _answer(request: Request, *, accept: bool) -> Response:
    async with transaction(request):
        invitation = await accounts.answer_invitation(
            context(request), request.state.obj, accept=accept
        )
    org = await Organization.get(id=invitation.organization_id)
    return _json(invitation_out(invitation, org))


@guard("invitation.answer", load=load_invitation)
@api.validate(
    resp=Doc(HTTP_200=schemas.InvitationOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut),
    tags=[TAG_ORGS],
    security={"bearer": []},
)
async def accept_invitation(request: Request) -> Response:
    """Accept an invitation: the current user joins the organization with its role."""
    return await _answer(request, accept=True)


@guard("invitation.answer", load=load_invitation)
@api.validate(
    resp=Doc(HTTP_200=schemas.InvitationOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut),
    tags=[TAG_ORGS],
    security={"bearer": []},
)
async def decline_invitation(request: Request) -> Response:
    """Decline an invitation."""
    return await _answer(request, accept=False)


@guard("operator", load=load_organization)
@api.validate(
    resp=Doc(HTTP_200=schemas.OrganizationOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut),
    tags=[TAG_ORGS],
    security={"bearer": []},
)
async def verify_organization(request: Request) -> Response:
    """Mark an organization as verified (operators, signed in with two-factor)."""
    async with transaction(request):
        org = await accounts.verify_organization(context(request), request.state.obj)
    return _json(organization_out(org))


@guard("operator", load=load_user)
@api.validate(
    json=schemas.OperatorIn,
    resp=Doc(HTTP_200=schemas.UserOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut),
    tags=[TAG_AUTH],
    security={"bearer": []},
)
async def set_operator(request: Request, json: schemas.OperatorIn) -> Response:
    """Make a user an operator, or remove the role (operators only)."""
    ctx = context(request)
    if (
        ctx.actor.user is not None
        and ctx.actor.user.id == request.state.obj.id
        and not json.is_operator
    ):
        raise ValidationFailed(fields={"is_operator": "Operators cannot remove their own role."})
    async with transaction(request):
        user = await accounts.set_operator(ctx, request.state.obj, is_operator=json.is_operator)
    return _json(user_out(user))


@guard("operator")
@api.validate(
    query=schemas.AuditQuery,
    resp=Doc(HTTP_200=schemas.AuditList, HTTP_403=ErrorOut),
    tags=["audit"],
    security={"bearer": []},
)
async def audit_log(request: Request, query: schemas.AuditQuery) -> Response:
    """The audit log, newest first, filtered by action prefix, actor, object type, organization."""
    rows = await audit.search(
        action=query.action,
        actor_email=query.actor,
        object_type=query.object_type,
        organization_id=query.organization_id,
        before_id=int(query.cursor) if query.cursor else None,
        limit=query.limit + 1,
    )
    items = [
        schemas.AuditEventOut.model_validate(row, from_attributes=True)
        for row in rows[: query.limit]
    ]
    next_cursor = str(rows[query.limit - 1].id) if len(rows) > query.limit else None
    return _json(schemas.AuditList(items=items, next_cursor=next_cursor))


def _json(model: schemas.BaseModel, status: int = 200) -> JSONResponse:
    return json(model, status)


V1 = "/api/v1"
routes = [
    Route(f"{V1}/auth/register", register, methods=["POST"]),
    Route(f"{V1}/auth/token", issue_token, methods=["POST"]),
    Route(f"{V1}/auth/revoke", revoke_tokens, methods=["POST"]),
    Route(f"{V1}/auth/verify-email", verify_email, methods=["POST"]),
    Route(f"{V1}/auth/password-reset", request_reset, methods=["POST"]),
    Route(f"{V1}/auth/password-reset/confirm", confirm_reset, methods=["POST"]),
    Route(f"{V1}/me", me, methods=["GET"]),
    Route(f"{V1}/me", update_me, methods=["PATCH"]),
    Route(f"{V1}/me/totp", start_totp, methods=["POST"]),
    Route(f"{V1}/me/totp/confirm", confirm_totp, methods=["POST"]),
    Route(f"{V1}/me/totp/disable", disable_totp, methods=["POST"]),
    Route(f"{V1}/me/recovery-codes", regenerate_recovery_codes, methods=["POST"]),
    Route(f"{V1}/me/invitations", my_invitations, methods=["GET"]),
    Route(f"{V1}/me/notifications", my_notifications, methods=["GET"]),
    Route(f"{V1}/me/notifications/read", mark_notifications_read, methods=["POST"]),
    Route(f"{V1}/organizations", create_organization, methods=["POST"]),
    Route(f"{V1}/organizations/{{organization_id:int}}", get_organization, methods=["GET"]),
    Route(f"{V1}/organizations/{{organization_id:int}}", update_organization, methods=["PATCH"]),
    Route(f"{V1}/organizations/{{organization_id:int}}/members", list_members, methods=["GET"]),
    Route(f"{V1}/organizations/{{organization_id:int}}/members", invite_member, methods=["POST"]),
    Route(
        f"{V1}/organizations/{{organization_id:int}}/verify", verify_organization, methods=["POST"]
    ),
    Route(f"{V1}/invitations/{{invitation_id:int}}/accept", accept_invitation, methods=["POST"]),
    Route(f"{V1}/invitations/{{invitation_id:int}}/decline", decline_invitation, methods=["POST"]),
    Route(f"{V1}/users/{{user_id:int}}/operator", set_operator, methods=["POST"]),
    Route(f"{V1}/audit", audit_log, methods=["GET"]),
]
