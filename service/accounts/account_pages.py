"""Account pages for one's own account: name and language, e-mail address, data, deletion."""

from __future__ import annotations

from typing import Any

from pydantic import EmailStr, TypeAdapter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts import account_changes, two_factor
from service.accounts.account_routes import EMAIL_CHANGE_ANSWER, export_response, mail_limit
from service.accounts.pages import _account_page, _signed_out
from service.accounts.permissions import guard
from service.accounts.routes import reauth_limit
from service.accounts.schemas import ProfileIn
from service.core import i18n
from service.core.errors import RateLimited, ServiceError, ValidationFailed
from service.core.forms import errors_of, parse, redirect, render
from service.core.i18n import gettext
from service.core.web import context, transaction

_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)


def _set_language_cookie(request: Request, response: Response, language: str) -> None:
    # The same cookie the language switch in the header sets (see i18n.LocaleMiddleware).
    response.set_cookie(
        i18n.COOKIE,
        language,
        max_age=31536000,
        path="/",
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )


@guard("signed_in")
async def profile_page(request: Request) -> Response:
    """Name and language; the page answers in the language chosen."""
    data, values, errors = await parse(request, ProfileIn)
    values.pop("time_zone", None)
    if data is None or data.name is None or data.language is None:
        if data is not None:
            missing = "name" if data.name is None else "language"
            errors = {missing: gettext("This field is required.")}
        return await _account_page(request, 422, profile_values=values, profile_errors=errors)
    async with transaction(request):
        user = await account_changes.update_profile(
            context(request), name=data.name, language=data.language
        )
    # Said in the language just chosen, as the page after it is.
    token = i18n.current_locale.set(user.language)
    try:
        notice = gettext("Your name and language are saved.")
    finally:
        i18n.current_locale.reset(token)
    response = redirect(request, "/account#profile", notice=notice)
    _set_language_cookie(request, response, user.language)
    return response


async def _reauth_fields(request: Request) -> tuple[str, str]:
    form = await request.form()
    return str(form.get("password", ""))[:256], str(form.get("code", ""))[:64]


@guard("signed_in")
async def email_page(request: Request) -> Response:
    """A new e-mail address: the current password (and code) first; a link goes to it."""
    ctx = context(request)
    user = ctx.actor.user
    assert user is not None
    if request.method == "GET":
        return render(request, "accounts/email_change.html", user=user)
    form = await request.form()
    new_email = str(form.get("email", "")).strip()[:254]
    values = {"email": new_email}
    password, code = await _reauth_fields(request)
    try:
        if not new_email:
            raise ValidationFailed(fields={"email": gettext("This field is required.")})
        try:
            _EMAIL.validate_python(new_email)
        except ValueError as exc:
            raise ValidationFailed(
                fields={"email": gettext("Enter a valid e-mail address.")}
            ) from exc
        await reauth_limit(request)
        await two_factor.reauthenticate(ctx, user, password=password, code=code)
        await mail_limit(request)
        async with transaction(request):
            address = await account_changes.request_email_change(ctx, new_email=new_email)
    except ServiceError as exc:
        if isinstance(exc, RateLimited):
            raise
        return render(
            request,
            "accounts/email_change.html",
            exc.status_code,
            user=user,
            values=values,
            errors=errors_of(exc),
        )
    return redirect(
        request,
        "/account",
        notice=gettext(EMAIL_CHANGE_ANSWER) + " (" + address + ")",
    )


@guard("public")
async def email_confirm_page(request: Request) -> Response:
    """The link shows a button: mail scanners that open links must not use them up."""
    token = request.path_params["token"]
    if request.method == "GET":
        return render(request, "accounts/email_confirm.html", token=token)
    try:
        async with transaction(request):
            user = await account_changes.confirm_email_change(context(request), token=token)
    except ServiceError as exc:
        return render(
            request,
            "accounts/email_confirm.html",
            exc.status_code,
            token=token,
            errors=errors_of(exc),
        )
    target = "/account" if context(request).actor.signed_in else "/signin"
    return redirect(
        request,
        target,
        notice=gettext("Your e-mail address is now %(email)s.") % {"email": user.email},
    )


@guard("signed_in")
async def export_page(request: Request) -> Response:
    user = context(request).actor.user
    assert user is not None
    return export_response(user)


@guard("signed_in")
async def delete_page(request: Request) -> Response:
    """Delete the account: what happens is said first, then the password (and code)."""
    ctx = context(request)
    user = ctx.actor.user
    assert user is not None
    blockers = await account_changes.deletion_blockers(user)
    # Who signs in with single sign-on has no password here: a fresh sign-in stands for it.
    fresh_sso = user.password_hash is None and two_factor.recent_reauth(ctx.actor.session)
    show: dict[str, Any] = {"user": user, "blockers": blockers, "fresh_sso": fresh_sso}
    if request.method == "GET":
        return render(request, "accounts/delete.html", **show)
    password, code = await _reauth_fields(request)
    try:
        if not fresh_sso:
            await reauth_limit(request)
            await two_factor.reauthenticate(ctx, user, password=password, code=code)
        async with transaction(request):
            await account_changes.delete_account(ctx, user)
    except ServiceError as exc:
        if isinstance(exc, RateLimited):
            raise
        return render(
            request, "accounts/delete.html", exc.status_code, errors=errors_of(exc), **show
        )
    return _signed_out(request, gettext("Your account is deleted. Thank you for taking part."))


routes = [
    Route("/account/profile", profile_page, methods=["POST"]),
    Route("/account/email", email_page, methods=["GET", "POST"]),
    Route("/account/email/confirm/{token}", email_confirm_page, methods=["GET", "POST"]),
    Route("/account/export", export_page, methods=["GET"]),
    Route("/account/delete", delete_page, methods=["GET", "POST"]),
]
