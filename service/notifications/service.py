"""Notify users: an in-app notice and/or an e-mail, written in the caller's transaction.

E-mails go to the outbox table first; the `notifications.send_email` task delivers them
after the commit, so an event that rolls back never sends mail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import jinja2
from tortoise.expressions import Q

from service.accounts.models import User
from service.config import Settings
from service.core import i18n
from service.core.jobs import enqueue
from service.core.templates import TEMPLATES_DIR
from service.core.vocab import kind_label, role_label
from service.notifications.models import Notification, OutboxEmail, OutboxStatus

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


async def notify(
    user: User,
    *,
    title: str,
    body: str = "",
    link: str = "",
    email_template: str = "",
    email_link: str = "",
    **context: Any,
) -> Notification:
    """An in-app notice (and an e-mail when a template is named), in the user's language."""
    notice = await Notification.create(user_id=user.id, title=title, body=body, link=link)
    if email_template:
        # In the app a path is enough; in an e-mail the link needs the site's address.
        await send_email(
            user.email,
            email_template,
            language=user.language,
            user=user,
            link=email_link or link,
            **context,
        )
    return notice


def build_message(settings: Settings, email: OutboxEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Message-ID"] = f"<outbox-{email.id}@civic-challenges>"
    message.set_content(email.body)
    return message


async def unread_count(user_id: int) -> int:
    return await Notification.filter(user_id=user_id, read_at=None).count()


async def list_for(
    user_id: int, *, before_id: int | None = None, limit: int = 20
) -> list[Notification]:
    query = Notification.filter(user_id=user_id)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(limit)


async def mark_read(user_id: int, notification_ids: list[int] | None = None) -> int:
    query = Notification.filter(Q(user_id=user_id) & Q(read_at=None))
    if notification_ids is not None:
        query = query.filter(id__in=notification_ids)
    return await query.update(read_at=datetime.now(UTC))


__all__ = ["OutboxStatus", "build_message", "list_for", "mark_read", "notify", "send_email"]
