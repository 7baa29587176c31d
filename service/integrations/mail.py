"""Outgoing e-mail: SMTP (aiosmtplib) in production, the log when no SMTP server is set."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from service.config import Settings

log = logging.getLogger(__name__)


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        settings = self.settings
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=30,
        )


class LogMailer:
    """For `make run` without SMTP: every message is written to the log, links included."""

    async def send(self, message: EmailMessage) -> None:
        body = message.get_content() if not message.is_multipart() else str(message)
        log.info(
            "mail (not sent: no SMTP server configured)",
            extra={"to": message["To"], "subject": message["Subject"], "body": body},
        )


def mailer_for(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_enabled else LogMailer()
