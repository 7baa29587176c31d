"""Notice settings (which notices reach a person by e-mail, at once or in a daily digest) and
the one-click unsubscribe link every notice e-mail carries."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from service.accounts.permissions import guard
from service.core.forms import redirect, render
from service.core.i18n import gettext
from service.core.web import context, transaction
from service.notifications import kinds
from service.notifications import service as notifications
from service.notifications.kinds import EmailMode

FIELD = "email_"


def _choices() -> list[tuple[str, str]]:
    return [
        (EmailMode.off.value, gettext("Only in the app")),
        (EmailMode.immediate.value, gettext("By e-mail, at once")),
        (EmailMode.daily.value, gettext("By e-mail, in one daily summary")),
    ]


def _groups(modes: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"name": name, "label": gettext(group.label), "mode": modes[name]}
        for name, group in kinds.GROUPS.items()
    ]


@guard("signed_in")
async def settings_page(request: Request) -> Response:
    user = context(request).actor.user
    assert user is not None
    if request.method == "GET":
        modes = {g: m.value for g, m in (await notifications.email_modes(user.id)).items()}
        return render(
            request, "notifications/settings.html", groups=_groups(modes), choices=_choices()
        )
    form = await request.form()
    chosen: dict[str, EmailMode] = {}
    errors: dict[str, str] = {}
    shown: dict[str, str] = {}
    current = await notifications.email_modes(user.id)
    for name in kinds.GROUPS:
        value = str(form.get(FIELD + name, current[name].value))
        shown[name] = value
        try:
            chosen[name] = EmailMode(value)
        except ValueError:
            errors[FIELD + name] = gettext("Choose one of the offered ways.")
    if errors:
        # Nothing is saved: the form comes back with the person's choices and the error.
        return render(
            request,
            "notifications/settings.html",
            422,
            groups=_groups(shown),
            choices=_choices(),
            errors=errors,
        )
    async with transaction(request):
        await notifications.set_email_modes(user.id, chosen)
    return redirect(
        request, "/account/notifications", notice=gettext("Your notice settings are saved.")
    )


# No sign-in and no CSRF token: the link's signature is the proof (RFC 8058), and the
# one-click POST comes from the reader's mail program, with no session at all.
@guard("public", csrf=False)
async def unsubscribe_page(request: Request) -> Response:
    token = request.path_params["token"]
    settings = request.app.state.settings
    try:
        user_id, scope = notifications.read_unsubscribe_token(settings.secret_key, token)
    except notifications.BadUnsubscribeLink:
        return render(
            request,
            "notifications/unsubscribe.html",
            400,
            token=token,
            bad=True,
            errors={"__root__": gettext("This link is not valid: nothing was changed.")},
        )
    label = (
        gettext("every notice")
        if scope == notifications.ALL
        else gettext(kinds.GROUPS[scope].label)
    )
    if request.method == "GET":
        return render(
            request, "notifications/unsubscribe.html", token=token, bad=False, label=label
        )
    async with transaction(request):
        await notifications.unsubscribe(user_id, scope)
    return render(
        request, "notifications/unsubscribe.html", token=token, bad=False, label=label, done=True
    )


routes: list[BaseRoute] = [
    Route("/account/notifications", settings_page, methods=["GET", "POST"]),
    Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET", "POST"]),
]
