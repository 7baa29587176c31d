"""Notify users: an in-app notice and/or an e-mail, written in the caller's transaction.

E-mails go to the outbox table first; the `notifications.send_email` task delivers them
after the commit, so an event that rolls back never sends mail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol, cast

import jinja2
from tortoise.expressions import Q

from service.accounts.models import User
from service.config import Settings
from service.core import i18n
from service.core.jobs import enqueue
from service.core.templates import TEMPLATES_DIR
from service.core.vocab import kind_label, role_label
from service.notifications import kinds
from service.notifications.kinds import EmailMode
from service.notifications.models import (
    Notification,
    NotificationDigest,
    NotificationSetting,
    OutboxEmail,
    OutboxStatus,
)

_mail_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "email"),
    autoescape=False,  # noqa: S701 - plain-text e-mail bodies, never served as HTML
    extensions=["jinja2.ext.i18n"],
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)
_mail_env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True
)
_mail_env.globals.update(role_label=role_label, kind_label=kind_label)


def render_email(template: str, language: str, **context: Any) -> tuple[str, str]:
    """Render `email/<template>.txt` in `language`; its first line is the subject."""
    token = i18n.current_locale.set(language if language in i18n.LANGUAGES else "en")
    try:
        text = _mail_env.get_template(f"{template}.txt").render(**context)
    finally:
        i18n.current_locale.reset(token)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


async def send_email(to: str, template: str, *, language: str, **context: Any) -> OutboxEmail:
    subject, body = render_email(template, language, **context)
    email = await OutboxEmail.create(to=to, subject=subject, body=body)
    enqueue("notifications.send_email", outbox_id=email.id, job_id=f"outbox-{email.id}")
    return email


class Named(Protocol):
    """What a notice is about: a challenge or a proposal (anything with an id and a title)."""

    @property
    def id(self) -> int: ...

    @property
    def title(self) -> str: ...


@dataclass(frozen=True)
class Ref:
    """A challenge or proposal known by its id and title only."""

    id: int
    title: str


@dataclass(frozen=True)
class Subject:
    """The challenge or proposal a notice names, with the path of its page."""

    label: str
    name: str
    path: str


@dataclass(frozen=True)
class Shown:
    """A notice as its reader sees it, in the reader's language."""

    id: int
    kind: str
    title: str
    body: str
    link: str
    subject: Subject | None
    challenge_id: int | None
    proposal_id: int | None
    created_at: datetime
    read_at: datetime | None


async def notify(
    user: User,
    kind: str,
    *,
    link: str = "",
    challenge: Named | None = None,
    proposal: Named | None = None,
    **params: Any,
) -> Notification:
    """Tell `user` of an event of `kind` (see kinds.py), in the app and, as the person chose,
    by e-mail now or in the daily digest. Only the kind and `params` are stored: the words
    are written when read, in the reader's language. A notice about a challenge or a
    proposal names it and links to it."""
    if challenge is not None:
        params.setdefault("challenge", challenge.title)
    if proposal is not None:
        params.setdefault("proposal", proposal.title)
    kinds.check(kind, params)
    # The English text stays beside the event, as the rows from before kinds have it.
    title, body = kinds.render(kind, params, "en")
    mode = await email_mode(user.id, kinds.KINDS[kind].group)
    notice = await Notification.create(
        user_id=user.id,
        kind=kind,
        params=params,
        title=title[:255],
        body=body,
        link=link,
        challenge_id=challenge.id if challenge is not None else None,
        proposal_id=proposal.id if proposal is not None else None,
        email_state=_STATES[mode],
    )
    if mode is EmailMode.immediate:
        # Written by the worker after the commit, with the site's address and secret.
        enqueue("notifications.email_notice", notice_id=notice.id, job_id=f"notice-{notice.id}")
    return notice


_STATES = {EmailMode.off: "", EmailMode.immediate: "queued", EmailMode.daily: "daily"}


def subject_of(notice: Notification | Any) -> Subject | None:
    """The challenge or proposal a notice (or a timeline entry) names, in the current language."""
    params = getattr(notice, "params", None) or {}
    if notice.challenge_id is not None:
        return Subject(
            i18n.gettext("Challenge"),
            str(params.get("challenge", "")) or f"#{notice.challenge_id}",
            f"/challenges/{notice.challenge_id}",
        )
    if notice.proposal_id is not None:
        return Subject(
            i18n.gettext("Proposal"),
            str(params.get("proposal", "")) or f"#{notice.proposal_id}",
            f"/proposals/{notice.proposal_id}",
        )
    return None


def shown(notice: Notification, language: str | None = None) -> Shown:
    """The notice in `language` (default: the current one); rows from before kinds as stored."""
    with kinds.language(language):
        if notice.kind in kinds.KINDS and notice.params is not None:
            title, body = kinds.render(notice.kind, notice.params)
        else:
            title, body = notice.title, notice.body
        return Shown(
            id=notice.id,
            kind=notice.kind,
            title=title,
            body=body,
            link=notice.link,
            subject=subject_of(notice),
            challenge_id=notice.challenge_id,
            proposal_id=notice.proposal_id,
            created_at=notice.created_at,
            read_at=notice.read_at,
        )


# --- e-mail settings -------------------------------------------------------------------------


async def email_mode(user_id: int, group: str) -> EmailMode:
    row = await NotificationSetting.get_or_none(user_id=user_id, group=group)
    return row.email if row is not None else kinds.GROUPS[group].default


async def email_modes(user_id: int) -> dict[str, EmailMode]:
    """Every group's e-mail mode for the person: chosen, or the group's default."""
    chosen = {row.group: row.email for row in await NotificationSetting.filter(user_id=user_id)}
    return {name: chosen.get(name, g.default) for name, g in kinds.GROUPS.items()}


async def set_email_modes(user_id: int, modes: dict[str, EmailMode]) -> None:
    unknown = set(modes) - set(kinds.GROUPS)
    if unknown:
        raise ValueError(f"unknown groups {sorted(unknown)}")
    for group, mode in modes.items():
        row, created = await NotificationSetting.get_or_create(
            user_id=user_id, group=group, defaults={"email": mode}
        )
        if not created and row.email is not mode:
            row.email = mode
            await row.save(update_fields=["email", "updated_at"])
    daily = {g for g, m in (await email_modes(user_id)).items() if m is EmailMode.daily}
    # Notices waiting for a digest the person no longer wants are not sent later.
    waiting = await Notification.filter(user_id=user_id, email_state="daily").only("id", "kind")
    dropped = [
        n.id for n in waiting if n.kind not in kinds.KINDS or kinds.KINDS[n.kind].group not in daily
    ]
    if dropped:
        await Notification.filter(id__in=dropped).update(email_state="")


# --- unsubscribe links (RFC 8058) ------------------------------------------------------------

ALL = "all"


def unsubscribe_token(secret: str, user_id: int, scope: str) -> str:
    """A link's token that stops e-mails of one group (or `all`) for one person. It is signed
    with the app's secret (HMAC-SHA256) and does not expire: an old e-mail's link still works."""
    payload = f"{user_id}.{scope}"
    return f"{payload}.{_signature(secret, payload)}"


def _signature(secret: str, payload: str) -> str:
    key = hashlib.sha256(f"unsubscribe:{secret}".encode()).digest()
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class BadUnsubscribeLink(ValueError):
    pass


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, str]:
    """The person and the scope a token names; BadUnsubscribeLink if it was not signed here."""
    user_part, _, rest = token.partition(".")
    scope, _, signature = rest.partition(".")
    payload = f"{user_part}.{scope}"
    if (
        not user_part.isdigit()
        or len(user_part) > 10
        or (scope != ALL and scope not in kinds.GROUPS)
        or not hmac.compare_digest(signature.encode(), _signature(secret, payload).encode())
    ):
        raise BadUnsubscribeLink(token)
    return int(user_part), scope


async def unsubscribe(user_id: int, scope: str) -> list[str]:
    """Stop the e-mails of `scope` (a group, or all of them); returns the groups stopped."""
    groups = list(kinds.GROUPS) if scope == ALL else [scope]
    await set_email_modes(user_id, dict.fromkeys(groups, EmailMode.off))
    return groups


def unsubscribe_url(settings: Settings, user_id: int, scope: str) -> str:
    return (
        f"{settings.base_url}/unsubscribe/{unsubscribe_token(settings.secret_key, user_id, scope)}"
    )


# --- notice e-mails: one at once, or the day's digest -----------------------------------------


def _item(notice: Notification, language: str, base_url: str) -> dict[str, Any]:
    seen = shown(notice, language)
    return {
        "title": seen.title,
        "body": seen.body,
        "link": f"{base_url}{seen.link}" if seen.link else "",
        "subject": seen.subject,
        "subject_url": f"{base_url}{seen.subject.path}" if seen.subject else "",
    }


async def email_notice(settings: Settings, notice_id: int) -> OutboxEmail | None:
    """Write a notice's own e-mail, once: the notice is locked and its state checked."""
    notice = await Notification.select_for_update().get_or_none(id=notice_id)
    if notice is None or notice.email_state != "queued" or notice.kind not in kinds.KINDS:
        return None
    user = await User.get_or_none(id=notice.user_id)
    notice.email_state = "sent"
    await notice.save(update_fields=["email_state"])
    if user is None or user.deleted_at is not None:
        return None
    group = kinds.KINDS[notice.kind].group
    stop = unsubscribe_url(settings, user.id, group)
    language = user.language if user.language in i18n.LANGUAGES else "en"
    with kinds.language(language):
        item = _item(notice, language, settings.base_url)
        group_label = i18n.gettext(kinds.GROUPS[group].label)
    subject, body = render_email(
        "notification",
        language,
        user=user,
        item=item,
        group=group_label,
        settings_url=f"{settings.base_url}/account/notifications",
        unsubscribe_url=stop,
    )
    return await _queue(user.email, subject, body, stop)


async def _queue(to: str, subject: str, body: str, stop: str) -> OutboxEmail:
    email = await OutboxEmail.create(to=to, subject=subject, body=body, unsubscribe_url=stop)
    enqueue("notifications.send_email", outbox_id=email.id, job_id=f"outbox-{email.id}")
    return email


async def digest_readers() -> list[int]:
    """The people with notices waiting for their digest."""
    found = await (
        Notification.filter(email_state="daily")
        .order_by("user_id")
        .distinct()
        .values_list("user_id", flat=True)
    )
    return cast(list[int], found)


async def send_digest(settings: Settings, user_id: int, *, today: date) -> int:
    """One e-mail with every notice waiting for the person's digest, at most one a day;
    returns how many e-mails were written (0 or 1)."""
    mark, _ = await NotificationDigest.get_or_create(
        user_id=user_id, defaults={"sent_on": today - timedelta(days=1)}
    )
    # The mark's row is the lock: two runs at once write one digest.
    mark = await NotificationDigest.select_for_update().get(user_id=user_id)
    if mark.sent_on >= today:
        return 0
    notices = await Notification.filter(user_id=user_id, email_state="daily").order_by("id")
    user = await User.get_or_none(id=user_id)
    if not notices:
        return 0
    if user is None or user.deleted_at is not None:
        # Nobody to write to any more: the notices stop waiting.
        await Notification.filter(id__in=[n.id for n in notices]).update(email_state="")
        return 0
    language = user.language if user.language in i18n.LANGUAGES else "en"
    with kinds.language(language):
        items = [_item(n, language, settings.base_url) for n in notices]
    stop = unsubscribe_url(settings, user.id, ALL)
    subject, body = render_email(
        "digest",
        language,
        user=user,
        items=items,
        settings_url=f"{settings.base_url}/account/notifications",
        unsubscribe_url=stop,
    )
    await _queue(user.email, subject, body, stop)
    await Notification.filter(id__in=[n.id for n in notices]).update(email_state="sent")
    mark.sent_on = today
    await mark.save(update_fields=["sent_on"])
    return 1


def build_message(settings: Settings, email: OutboxEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Message-ID"] = f"<outbox-{email.id}@civic-challenges>"
    if email.unsubscribe_url:
        # RFC 2369 and RFC 8058: mail programs offer a one-click unsubscribe, which POSTs
        # "List-Unsubscribe=One-Click" to the signed link (no sign-in, no CSRF token).
        message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(email.body)
    return message


async def unread_count(user_id: int) -> int:
    return await Notification.filter(user_id=user_id, read_at=None).count()


async def list_for(user_id: int, *, before_id: int | None = None, limit: int = 20) -> list[Shown]:
    """The person's notices, newest first, written out in the current (the reader's) language."""
    query = Notification.filter(user_id=user_id)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return [shown(n) for n in await query.order_by("-id").limit(limit)]


async def mark_read(user_id: int, notification_ids: list[int] | None = None) -> int:
    query = Notification.filter(Q(user_id=user_id) & Q(read_at=None))
    if notification_ids is not None:
        query = query.filter(id__in=notification_ids)
    return await query.update(read_at=datetime.now(UTC))


__all__ = [
    "OutboxStatus",
    "Ref",
    "Shown",
    "build_message",
    "list_for",
    "mark_read",
    "notify",
    "send_digest",
    "send_email",
    "shown",
]
