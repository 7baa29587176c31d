"""Accounts pages: register, sign in/out, e-mail links, account, organizations, admin."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts import devices, passwords, schemas, sessions, signin_guard, two_factor
from service.accounts import service as accounts
from service.accounts.actor import SESSION_COOKIE, host_cookie
from service.accounts.models import Organization, OrganizationKind, User
from service.accounts.permissions import guard, load_invitation, load_organization
from service.accounts.service import SESSION_TTL
from service.audit import service as audit
from service.core import zones
from service.core.context import Context
from service.core.errors import NotAuthenticated, RateLimited, ServiceError, ValidationFailed
from service.core.forms import errors_of, parse, redirect, render
from service.core.i18n import gettext, ngettext
from service.core.web import context, limit, transaction
from service.notifications import service as notifications

from .routes import RESET_ANSWER, reauth_limit


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        host_cookie(request.app.state.settings, SESSION_COOKIE),
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
        path="/",
    )


def safe_next(url: str | None) -> str:
    """Only same-site paths: an open redirect would let a link send users elsewhere."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    # The person's home: what each of their roles has waiting.
    return "/"


# --- register, sign in, sign out -----------------------------------------------------------


@guard("public")
async def register_page(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "accounts/register.html")
    data, values, errors = await parse(request, schemas.RegisterIn)
    values.pop("password", None)
    if data is None:
        return render(request, "accounts/register.html", 422, values=values, errors=errors)
    settings = request.app.state.settings
    try:
        await limit(
            request,
            "register-ip",
            settings.rate_register_per_ip,
            settings.rate_register_window,
            request.client.host if request.client else "",
        )
        account = await accounts.prepare_registration(
            email=data.email, password=data.password, name=data.name
        )
        async with transaction(request):
            await accounts.register(context(request), account)
    except ServiceError as exc:
        if exc.status_code == 429:
            raise
        return render(
            request, "accounts/register.html", exc.status_code, values=values, errors=errors_of(exc)
        )
    # No session yet, and the same answer whether the address already had an account:
    # the page must not tell who uses the platform (its owner gets an e-mail instead).
    return redirect(
        request,
        "/signin",
        notice=gettext(
            "Thank you. We sent a message to %(email)s to confirm the address; "
            "sign in with your password meanwhile."
        )
        % {"email": accounts.normalize_email(data.email)},
    )


@guard("public")
async def signin_page(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return render(
            request,
            "accounts/signin.html",
            next=next_url,
            oidc=request.app.state.settings.oidc_enabled,
        )
    data, values, errors = await parse(request, schemas.TokenIn)
    values.pop("password", None)
    show = {"next": next_url, "oidc": request.app.state.settings.oidc_enabled}
    if data is None:
        return render(request, "accounts/signin.html", 422, values=values, errors=errors, **show)
    try:
        attempt = await signin_guard.begin(request, data.email)
    except RateLimited as exc:
        # The form again, saying how long to wait (the owner is not locked out for long).
        response = render(
            request, "accounts/signin.html", 429, values=values, errors=errors_of(exc), **show
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    try:
        # The page takes the password alone: a code, if one is due, is asked on the next page.
        user, mfa = await signin_guard.settle(
            request,
            attempt,
            accounts.authenticate(
                email=data.email, password=data.password, totp=None, ctx=context(request)
            ),
        )
    except accounts.TotpRequired:
        held = await User.get_or_none(email=accounts.normalize_email(data.email))
        if held is not None:
            response = redirect(request, f"/signin/code?next={quote(next_url, safe='/')}")
            await signin_guard.hold_for_second_factor(request, response, held, next_url=next_url)
            return response
        # The account went away between the two lines: as for any unknown address.
        unknown = accounts.InvalidCredentials()
        return render(
            request, "accounts/signin.html", 401, values=values, errors=errors_of(unknown), **show
        )
    except NotAuthenticated as exc:
        return render(
            request, "accounts/signin.html", 401, values=values, errors=errors_of(exc), **show
        )
    return await _signed_in(request, user, mfa=mfa, next_url=next_url)


async def _signed_in(
    request: Request, user: User, *, mfa: bool, next_url: str, notice: str = ""
) -> Response:
    """A new session, the device remembered for the account, and on to `next_url`."""
    ctx = context(request)
    async with transaction(request):
        token = await accounts.start_session(ctx, user, mfa=mfa, replacing=ctx.actor.session)
    response = redirect(request, next_url, notice=notice)
    set_session_cookie(request, response, token)
    signin_guard.remember_device(request, response, user)
    return response


def _code_step_over(request: Request) -> Response:
    """No pending sign-in (any more): back to the password, saying why."""
    next_url = safe_next(request.query_params.get("next"))
    if signin_guard.has_pending_cookie(request):
        notice = gettext(
            "More than 5 minutes passed since you entered your password. Enter it again to sign in."
        )
    else:
        notice = gettext("Enter your e-mail address and password first.")
    response = redirect(request, f"/signin?next={quote(next_url, safe='/')}", notice=notice)
    signin_guard.forget_pending(request, response)
    return response


@guard("public")
async def signin_code_page(request: Request) -> Response:
    """The second step of signing in with two-factor: only the code (or a recovery code)."""
    held = await signin_guard.pending(request)
    if held is None:
        return _code_step_over(request)
    show: dict[str, Any] = {"next": held.next_url}
    if request.method == "GET":
        return render(request, "accounts/signin_code.html", **show)
    form = await request.form()
    code = str(form.get("code", "")).strip()[:64]
    if not code:
        required = gettext(
            "Enter the 6-digit code from your authenticator app, or a recovery code."
        )
        return render(request, "accounts/signin_code.html", 422, errors={"code": required}, **show)
    try:
        # A code is guessed like a password: the same slow-down per account (or trusted
        # device) and the same budget per address.
        attempt = await signin_guard.begin(request, held.email)
    except RateLimited as exc:
        response = render(request, "accounts/signin_code.html", 429, errors=errors_of(exc), **show)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    try:
        factor = await signin_guard.settle(
            request, attempt, _second_factor(context(request), held.user, code)
        )
    except NotAuthenticated as exc:
        return render(
            request, "accounts/signin_code.html", exc.status_code, errors=errors_of(exc), **show
        )
    if not await signin_guard.finish_pending(request, held):
        # Another request finished this sign-in with another code at the same moment.
        return _code_step_over(request)
    response = await _signed_in(
        request,
        held.user,
        mfa=True,
        next_url=held.next_url,
        notice=await _recovery_notice(held.user, factor),
    )
    signin_guard.forget_pending(request, response)
    return response


async def _second_factor(ctx: Context, user: User, code: str) -> two_factor.SecondFactor:
    passed = await two_factor.check_second_factor(ctx, user, code)
    if passed is None:
        raise accounts.InvalidCredentials(fields={"code": gettext(two_factor.WRONG_CODE)})
    return passed


async def _recovery_notice(user: User, factor: two_factor.SecondFactor) -> str:
    """After a sign-in with a recovery code: how many are left."""
    if factor.method != "recovery_code":
        return ""
    left = await two_factor.recovery_codes_left(user)
    return (
        ngettext(
            "You signed in with a recovery code. %(num)s recovery code is left.",
            "You signed in with a recovery code. %(num)s recovery codes are left.",
            left,
        )
        % {"num": left}
        + " "
        + gettext("You can make new ones on your account page.")
    )


@guard("signed_in")
async def signout(request: Request) -> Response:
    ctx = context(request)
    if ctx.actor.session is not None:
        async with transaction(request):
            await accounts.end_session(ctx, ctx.actor.session)
    return _signed_out(request, gettext("You are signed out."))


def _signed_out(request: Request, notice: str) -> Response:
    response = redirect(request, "/", notice=notice)
    response.delete_cookie(
        host_cookie(request.app.state.settings, SESSION_COOKIE),
        path="/",
        secure=request.app.state.settings.secure_cookies,
    )
    return response


# --- e-mail links ------------------------------------------------------------------------


@guard("public")
async def verify_email_page(request: Request) -> Response:
    """The link shows a button: mail scanners that open links must not use them up."""
    token = request.path_params["token"]
    if request.method == "GET":
        return render(request, "accounts/verify_email.html", token=token)
    try:
        async with transaction(request):
            await accounts.verify_email(context(request), token=token)
    except ServiceError as exc:
        return render(
            request,
            "accounts/verify_email.html",
            exc.status_code,
            token=token,
            errors=errors_of(exc),
        )
    # Registering no longer signs in: whoever follows the link may not be signed in yet.
    target = "/account" if context(request).actor.signed_in else "/signin"
    return redirect(request, target, notice=gettext("Your e-mail address is confirmed."))


@guard("signed_in")
async def resend_verification(request: Request) -> Response:
    ctx = context(request)
    assert ctx.actor.user is not None
    settings = request.app.state.settings
    await limit(
        request,
        "reset-account",
        settings.rate_reset_per_account,
        settings.rate_reset_window,
        ctx.actor.user.email,
    )
    async with transaction(request):
        await accounts.send_verification(ctx, ctx.actor.user)
    return redirect(request, "/account", notice=gettext("We sent you a new confirmation link."))


@guard("public")
async def reset_request_page(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "accounts/reset_request.html")
    data, values, errors = await parse(request, schemas.ResetRequestIn)
    if data is None:
        return render(request, "accounts/reset_request.html", 422, values=values, errors=errors)
    settings = request.app.state.settings
    window = settings.rate_reset_window
    await limit(
        request,
        "reset-ip",
        settings.rate_reset_per_ip,
        window,
        request.client.host if request.client else "",
    )
    await limit(
        request,
        "reset-account",
        settings.rate_reset_per_account,
        window,
        accounts.normalize_email(data.email),
    )
    async with transaction(request):
        await accounts.request_password_reset(context(request), email=data.email)
    return render(
        request,
        "accounts/message.html",
        title=gettext("Check your e-mail"),
        message=gettext(RESET_ANSWER),
    )


@guard("public")
async def reset_confirm_page(request: Request) -> Response:
    token = request.path_params["token"]
    if request.method == "GET":
        return render(request, "accounts/reset_confirm.html", token=token)
    form = await request.form()
    data = schemas.ResetConfirmIn.model_validate(
        {"token": token, "password": str(form.get("password", "")) or "-"}
    )
    try:
        async with transaction(request):
            await accounts.reset_password(
                context(request), token=data.token, password=data.password
            )
    except ServiceError as exc:
        return render(
            request,
            "accounts/reset_confirm.html",
            exc.status_code,
            token=token,
            errors=errors_of(exc),
        )
    return redirect(
        request, "/signin", notice=gettext("Your password was changed. Sign in with it.")
    )


# --- account -------------------------------------------------------------------------------


@guard("signed_in")
async def account_page(request: Request) -> Response:
    return await _account_page(request)


async def _account_page(request: Request, status: int = 200, **extra: Any) -> Response:
    actor = context(request).actor
    user = actor.user
    assert user is not None
    memberships = await accounts.memberships_of(user)
    return render(
        request,
        "accounts/account.html",
        status,
        zone_choices=zones.choices(),
        zone_errors=extra.pop("zone_errors", {}),
        **extra,
        user=user,
        memberships=memberships,
        invitations=await accounts.pending_invitations(user),
        sessions=await sessions.active_sessions(actor),
        api_tokens=await sessions.active_tokens(user),
        current_session_id=actor.session.id if actor.session else None,
        region_name=devices.region_name,
        network_of=devices.network_of,
        recovery_codes_left=(
            await two_factor.recovery_codes_left(user) if user.totp_enabled_at else 0
        ),
    )


@guard("signed_in")
async def time_zone_page(request: Request) -> Response:
    """The zone one reads times in; "automatic" (empty) goes back to the default."""
    form = await request.form()
    name = str(form.get("time_zone", "")).strip()
    try:
        async with transaction(request):
            await accounts.set_user_time_zone(context(request), name)
    except ValueError as exc:
        return await _account_page(request, 422, zone_errors={"time_zone": gettext(str(exc))})
    return redirect(request, "/account#time-zone", notice=gettext("Time zone saved."))


# --- sessions, tokens and the password -----------------------------------------------------


@guard("signed_in")
async def end_session_page(request: Request) -> Response:
    ctx = context(request)
    session_id = int(request.path_params["session_id"])
    async with transaction(request):
        await sessions.end_session(ctx, session_id)
    if ctx.actor.session is not None and ctx.actor.session.id == session_id:
        return _signed_out(request, gettext("You are signed out."))
    return redirect(request, "/account#sessions", notice=gettext("That session is signed out."))


@guard("signed_in")
async def end_other_sessions_page(request: Request) -> Response:
    ctx = context(request)
    async with transaction(request):
        count = await sessions.end_other_sign_ins(ctx, reason="by owner")
    return redirect(
        request,
        "/account#sessions",
        notice=ngettext(
            "Signed out everywhere else: %(num)s session or token ended.",
            "Signed out everywhere else: %(num)s sessions and tokens ended.",
            count,
        )
        % {"num": count},
    )


@guard("signed_in")
async def revoke_token_page(request: Request) -> Response:
    async with transaction(request):
        await sessions.revoke_token(context(request), int(request.path_params["token_id"]))
    return redirect(request, "/account#sessions", notice=gettext("That API token is revoked."))


@guard("signed_in")
async def password_page(request: Request) -> Response:
    """Change the password: the current one (and a code with two-factor on) first."""
    ctx = context(request)
    user = ctx.actor.user
    assert user is not None
    if request.method == "GET":
        return render(request, "accounts/password.html", user=user)
    form = await request.form()
    current = str(form.get("password", ""))[:256]
    code = str(form.get("code", ""))[:64]
    new = str(form.get("new_password", ""))
    try:
        if not new:
            raise ValidationFailed(fields={"new_password": gettext("This field is required.")})
        if len(new) > passwords.MAX_LENGTH:
            raise ValidationFailed(fields={"new_password": gettext("Use at most 256 characters.")})
        # Guessing the current password from a stolen session is limited like signing in.
        await reauth_limit(request)
        await two_factor.reauthenticate(ctx, user, password=current, code=code)
        new_hash = await sessions.new_password_hash(user, new)
        async with transaction(request):
            await sessions.change_password(ctx, new_hash)
    except ServiceError as exc:
        if isinstance(exc, RateLimited):
            raise
        return render(
            request, "accounts/password.html", exc.status_code, user=user, errors=errors_of(exc)
        )
    return redirect(
        request,
        "/account",
        notice=gettext("Your password was changed. Every other session and API token ended."),
    )


# --- two-factor sign-in ----------------------------------------------------------------------


async def reauthenticated(request: Request, *, action: str, title: str) -> Response | None:
    """None once the session re-authenticated within five minutes; else the form asking for it.

    For pages that change the sign-in (two-factor, password, e-mail address): the form posts
    the password (and code) back to `action`, the same route, which then goes on.
    """
    ctx = context(request)
    user = ctx.actor.user
    assert user is not None
    if two_factor.recent_reauth(ctx.actor.session):
        return None
    form = await request.form()
    password, code = str(form.get("password", "")), str(form.get("code", ""))
    show: dict[str, Any] = {"action": action, "title": title, "user": user}
    if not password and not code:
        return render(request, "accounts/reauth.html", **show)
    try:
        await reauth_limit(request)
        await two_factor.reauthenticate(ctx, user, password=password, code=code)
    except ServiceError as exc:
        if exc.status_code == 429:
            raise
        return render(
            request, "accounts/reauth.html", exc.status_code, errors=errors_of(exc), **show
        )
    return None


def _enrolment_page(request: Request, user: User, status: int = 200, **extra: object) -> Response:
    secret = user.totp_pending_secret or ""
    uri = two_factor.provisioning_uri(user, secret)
    qr = two_factor.qr_svg(uri, title=gettext("QR code to add Civic Challenges to your app"))
    return render(
        request, "accounts/totp.html", status, secret=secret, uri=uri, qr=qr, user=user, **extra
    )


@guard("signed_in")
async def totp_start_page(request: Request) -> Response:
    ctx = context(request)
    user = ctx.actor.user
    assert user is not None
    title = (
        gettext("Change your authenticator app")
        if user.totp_enabled_at
        else gettext("Turn on two-factor sign-in")
    )
    asked = await reauthenticated(request, action="/account/totp", title=title)
    if asked is not None:
        return asked
    async with transaction(request):
        await two_factor.start_enrolment(ctx, user)
    return _enrolment_page(request, user)


@guard("signed_in")
async def totp_confirm_page(request: Request) -> Response:
    ctx = context(request)
    user = ctx.actor.user
    assert user is not None
    if not user.totp_pending_secret:
        return redirect(request, "/account", notice=gettext("Start two-factor sign-in first."))
    form = await request.form()
    code = str(form.get("code", ""))
    await reauth_limit(request)
    try:
        async with transaction(request):
            codes = await two_factor.confirm_enrolment(ctx, user, code=code)
            # The code just proved the second factor: this session may act as finance. Every
            # other session ended; this one goes on under a new cookie.
            token = await accounts.start_session(ctx, user, mfa=True, replacing=ctx.actor.session)
    except ServiceError as exc:
        return _enrolment_page(request, user, exc.status_code, errors=errors_of(exc))
    response = render(
        request,
        "accounts/recovery_codes.html",
        codes=codes,
        notice=gettext("Two-factor sign-in is on. You were signed out everywhere else."),
    )
    set_session_cookie(request, response, token)
    return response


@guard("signed_in")
async def totp_disable_page(request: Request) -> Response:
    ctx = context(request)
    user = ctx.actor.user
    assert user is not None
    if user.totp_enabled_at is None:
        return redirect(request, "/account", notice=gettext("Two-factor sign-in is already off."))
    asked = await reauthenticated(
        request, action="/account/totp/disable", title=gettext("Turn off two-factor sign-in")
    )
    if asked is not None:
        return asked
    async with transaction(request):
        await two_factor.disable(ctx, user)
        token = await accounts.start_session(ctx, user, mfa=False, replacing=ctx.actor.session)
    response = redirect(
        request,
        "/account",
        notice=gettext("Two-factor sign-in is off. You were signed out everywhere else."),
    )
    set_session_cookie(request, response, token)
    return response


@guard("signed_in")
async def recovery_codes_page(request: Request) -> Response:
    ctx = context(request)
    user = ctx.actor.user
    assert user is not None
    if user.totp_enabled_at is None:
        return redirect(request, "/account", notice=gettext("Turn on two-factor sign-in first."))
    asked = await reauthenticated(
        request, action="/account/recovery-codes", title=gettext("New recovery codes")
    )
    if asked is not None:
        return asked
    async with transaction(request):
        codes = await two_factor.regenerate_recovery_codes(ctx, user)
    return render(
        request,
        "accounts/recovery_codes.html",
        codes=codes,
        notice=gettext("New recovery codes are ready. The old ones no longer work."),
    )


@guard("signed_in")
async def revoke_tokens_page(request: Request) -> Response:
    ctx = context(request)
    assert ctx.actor.user is not None
    async with transaction(request):
        await accounts.revoke_tokens(ctx, ctx.actor.user)
    return redirect(request, "/account", notice=gettext("Every API token was revoked."))


# --- organizations -----------------------------------------------------------------------


def _kinds() -> list[tuple[str, str]]:
    labels = {
        OrganizationKind.government: gettext("City or government"),
        OrganizationKind.startup: gettext("Startup"),
        OrganizationKind.university: gettext("University"),
        OrganizationKind.research_center: gettext("Research centre"),
        OrganizationKind.investor: gettext("Investor"),
    }
    return [(kind.value, labels[kind]) for kind in OrganizationKind]


@guard("signed_in")
async def new_organization_page(request: Request) -> Response:
    user = context(request).actor.user
    assert user is not None
    # Said before the form is filled in, not only after it is refused.
    unconfirmed = user.email_verified_at is None
    if request.method == "GET":
        return render(request, "accounts/org_new.html", kinds=_kinds(), unconfirmed=unconfirmed)
    data, values, errors = await parse(request, schemas.OrganizationIn)
    if data is None:
        return render(
            request,
            "accounts/org_new.html",
            422,
            values=values,
            errors=errors,
            kinds=_kinds(),
            unconfirmed=unconfirmed,
        )
    try:
        async with transaction(request):
            org = await accounts.create_organization(
                context(request),
                name=data.name,
                kind=data.kind,
                country=data.country,
                region=data.region,
                time_zone=data.time_zone,
            )
    except ServiceError as exc:
        return render(
            request,
            "accounts/org_new.html",
            exc.status_code,
            values=values,
            errors=errors_of(exc),
            kinds=_kinds(),
            unconfirmed=unconfirmed,
        )
    return redirect(
        request,
        f"/organizations/{org.id}",
        notice=gettext("Organization created. An operator will verify it."),
    )


async def _answer_page(request: Request, *, accept: bool) -> Response:
    async with transaction(request):
        invitation = await accounts.answer_invitation(
            context(request), request.state.obj, accept=accept
        )
    if accept:
        return redirect(
            request,
            f"/organizations/{invitation.organization_id}",
            notice=gettext("You joined the organization."),
        )
    return redirect(request, "/invitations", notice=gettext("Invitation declined."))


@guard("invitation.answer", load=load_invitation)
async def accept_invitation_page(request: Request) -> Response:
    return await _answer_page(request, accept=True)


@guard("invitation.answer", load=load_invitation)
async def decline_invitation_page(request: Request) -> Response:
    return await _answer_page(request, accept=False)


# --- notifications -----------------------------------------------------------------------


@guard("signed_in")
async def notifications_page(request: Request) -> Response:
    user = context(request).actor.user
    assert user is not None
    before = request.query_params.get("before")
    before_id = int(before) if before and before.isdigit() else None
    rows = await notifications.list_for(user.id, before_id=before_id, limit=21)
    next_before = rows[19].id if len(rows) > 20 else None
    return render(request, "accounts/notifications.html", items=rows[:20], next_before=next_before)


@guard("signed_in")
async def mark_read_page(request: Request) -> Response:
    user = context(request).actor.user
    assert user is not None
    async with transaction(request):
        await notifications.mark_read(user.id)
    return redirect(request, "/notifications")


# --- operators -------------------------------------------------------------------------------


@guard("operator")
async def audit_page(request: Request) -> Response:
    params = request.query_params
    before = params.get("before", "")
    org = params.get("organization_id", "")
    rows = await audit.search(
        action=params.get("action", "")[:80],
        actor_email=params.get("actor", "")[:254],
        object_type=params.get("object_type", "")[:60],
        organization_id=int(org) if org.isdigit() else None,
        before_id=int(before) if before.isdigit() else None,
        limit=51,
    )
    filters = {k: params.get(k, "") for k in ("action", "actor", "object_type", "organization_id")}
    next_before = rows[49].id if len(rows) > 50 else None
    return render(
        request, "accounts/audit.html", events=rows[:50], filters=filters, next_before=next_before
    )


@guard("operator")
async def admin_organizations_page(request: Request) -> Response:
    pending = await Organization.filter(verified_at=None).order_by("id").limit(100)
    return render(request, "accounts/admin_orgs.html", pending=pending)


@guard("operator", load=load_organization)
async def admin_verify_page(request: Request) -> Response:
    async with transaction(request):
        org = await accounts.verify_organization(context(request), request.state.obj)
    return redirect(
        request,
        "/admin/organizations",
        notice=gettext("%(name)s is verified.") % {"name": org.name},
    )


routes = [
    Route("/register", register_page, methods=["GET", "POST"]),
    Route("/signin", signin_page, methods=["GET", "POST"]),
    Route("/signin/code", signin_code_page, methods=["GET", "POST"]),
    Route("/signout", signout, methods=["POST"]),
    Route("/verify-email/{token}", verify_email_page, methods=["GET", "POST"]),
    Route("/account/verify-email", resend_verification, methods=["POST"]),
    Route("/password-reset", reset_request_page, methods=["GET", "POST"]),
    Route("/password-reset/{token}", reset_confirm_page, methods=["GET", "POST"]),
    Route("/account", account_page, methods=["GET"]),
    Route("/account/totp", totp_start_page, methods=["POST"]),
    Route("/account/totp/confirm", totp_confirm_page, methods=["POST"]),
    Route("/account/totp/disable", totp_disable_page, methods=["POST"]),
    Route("/account/recovery-codes", recovery_codes_page, methods=["POST"]),
    Route("/account/revoke-tokens", revoke_tokens_page, methods=["POST"]),
    Route("/account/sessions/{session_id:int}/end", end_session_page, methods=["POST"]),
    Route("/account/sessions/end-others", end_other_sessions_page, methods=["POST"]),
    Route("/account/tokens/{token_id:int}/revoke", revoke_token_page, methods=["POST"]),
    Route("/account/password", password_page, methods=["GET", "POST"]),
    Route("/account/time-zone", time_zone_page, methods=["POST"]),
    Route("/organizations/new", new_organization_page, methods=["GET", "POST"]),
    Route("/invitations/{invitation_id:int}/accept", accept_invitation_page, methods=["POST"]),
    Route("/invitations/{invitation_id:int}/decline", decline_invitation_page, methods=["POST"]),
    Route("/notifications", notifications_page, methods=["GET"]),
    Route("/notifications/read", mark_read_page, methods=["POST"]),
    Route("/admin/audit", audit_page, methods=["GET"]),
    Route("/admin/organizations", admin_organizations_page, methods=["GET"]),
    Route("/admin/organizations/{organization_id:int}/verify", admin_verify_page, methods=["POST"]),
]
