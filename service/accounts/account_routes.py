"""Accounts API for one's own account: a new e-mail address, a copy of one's data, deletion."""

from __future__ import annotations

from datetime import UTC, datetime

from spectree import Response as Doc
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from service.accounts import account_changes, schemas
from service.accounts.models import User
from service.accounts.permissions import guard
from service.accounts.routes import TAG_AUTH, reauthenticate, user_out
from service.core.api import ErrorOut, api, json
from service.core.i18n import N_, gettext
from service.core.web import context, limit, transaction

EMAIL_CHANGE_ANSWER = N_(
    "We sent a link to the new address. Your address changes when you open it (within 24"
    " hours); until then, sign in with the current one."
)


async def mail_limit(request: Request) -> None:
    """Links sent on a person's request are limited like password resets: per account."""
    user = context(request).actor.user
    assert user is not None
    settings = request.app.state.settings
    await limit(
        request,
        "email-change",
        settings.rate_reset_per_account,
        settings.rate_reset_window,
        str(user.id),
    )


@guard("signed_in")
@api.validate(
    json=schemas.EmailChangeIn,
    resp=Doc(
        HTTP_202=schemas.MessageOut,
        HTTP_401=ErrorOut,
        HTTP_403=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
        HTTP_429=ErrorOut,
    ),
    tags=[TAG_AUTH],
    security={"bearer": []},
)
async def change_email(request: Request, json: schemas.EmailChangeIn) -> Response:
    """Ask to change one's e-mail address, with the current `password` (and `code` with
    two-factor on): a link valid for 24 hours goes to the new address, which replaces the
    current one only when the link is opened; the old address is then told.

    An address another account uses is refused (409)."""
    await reauthenticate(request, json.password, json.code)
    await mail_limit(request)
    async with transaction(request):
        await account_changes.request_email_change(context(request), new_email=str(json.email))
    return json_out(schemas.MessageOut(detail=gettext(EMAIL_CHANGE_ANSWER)), 202)


@guard("public")
@api.validate(
    json=schemas.EmailChangeConfirmIn,
    resp=Doc(HTTP_200=schemas.UserOut, HTTP_400=ErrorOut, HTTP_409=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG_AUTH],
)
async def confirm_email_change(request: Request, json: schemas.EmailChangeConfirmIn) -> Response:
    """Confirm a new e-mail address with the token of the link sent to it (400 when the
    link is wrong, expired or already used; 409 when another account took the address)."""
    async with transaction(request):
        user = await account_changes.confirm_email_change(context(request), token=json.token)
    return json_out(user_out(user))


@guard("signed_in")
# Streamed as it is read from the database: the body is not read back to be validated.
@api.validate(
    resp=Doc(HTTP_200=schemas.AccountExportOut, HTTP_401=ErrorOut),
    tags=[TAG_AUTH],
    security={"bearer": []},
    skip_validation=True,
)
async def export_me(request: Request) -> Response:
    """Everything the platform holds about the current user, as a JSON file: profile,
    memberships, proposals, supports, comments, questions, applications they wrote, reviews,
    statements, notifications, sessions, API tokens and the audit entries about them."""
    user = context(request).actor.user
    assert user is not None
    return export_response(user)


def export_response(user: User) -> StreamingResponse:
    """The export as a download (the account page's link uses it too)."""
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    return StreamingResponse(
        account_changes.export(user),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="civic-challenges-account-{day}.json"',
            "Cache-Control": "no-store",
        },
    )


@guard("signed_in")
@api.validate(
    json=schemas.ReauthIn,
    resp=Doc(
        HTTP_204=None,
        HTTP_401=ErrorOut,
        HTTP_403=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
        HTTP_429=ErrorOut,
    ),
    tags=[TAG_AUTH],
    security={"bearer": []},
)
async def delete_me(request: Request, json: schemas.ReauthIn) -> Response:
    """Delete one's account, with the current `password` (and `code` with two-factor on).

    The name, the e-mail address, the password and the two-factor secret are erased and
    every session and token ends; proposals, comments, applications and reviews stay, shown
    as a former member's. Refused (409, saying what to do) while the person is the last owner
    of an organization with money in escrow or milestones not paid."""
    await reauthenticate(request, json.password, json.code)
    ctx = context(request)
    assert ctx.actor.user is not None
    async with transaction(request):
        await account_changes.delete_account(ctx, ctx.actor.user)
    return Response(status_code=204)


def json_out(model: schemas.BaseModel, status: int = 200) -> Response:
    return json(model, status)


V1 = "/api/v1"
routes = [
    Route(f"{V1}/me/email", change_email, methods=["POST"]),
    Route(f"{V1}/me/email/confirm", confirm_email_change, methods=["POST"]),
    Route(f"{V1}/me/export", export_me, methods=["GET"]),
    Route(f"{V1}/me/delete", delete_me, methods=["POST"]),
]
