"""Delivering queued e-mail."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from arq import Retry

from service import db
from service.core.jobs import TaskDeps, cron, task
from service.notifications import service
from service.notifications.models import OutboxEmail, OutboxStatus
from service.notifications.service import build_message

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


@task("notifications.send_email", max_tries=MAX_ATTEMPTS)
async def send_email(deps: TaskDeps, *, outbox_id: int) -> None:
    """Send one outbox e-mail and mark it sent.

    Running it twice is harmless: the row is locked and re-read, and a message already
    marked sent is not sent again. A failure is recorded and retried with back-off.
    """
    async with db.transaction(deps.queue):
        email = await OutboxEmail.select_for_update().get_or_none(id=outbox_id)
        if email is None or email.status is not OutboxStatus.pending:
            return
        email.attempts += 1
        try:
            await deps.mailer.send(build_message(deps.settings, email))
        except Exception as exc:
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if email.attempts >= MAX_ATTEMPTS:
                email.status = OutboxStatus.failed
                await email.save(update_fields=["attempts", "last_error", "status"])
                log.error("mail failed for good", extra={"outbox_id": outbox_id})
                return
            await email.save(update_fields=["attempts", "last_error"])
            failed = True
        else:
            email.status = OutboxStatus.sent
            email.sent_at = datetime.now(UTC)
            await email.save(update_fields=["attempts", "status", "sent_at"])
            failed = False
    if failed:
        raise Retry(defer=10 * email.attempts)


@task("notifications.email_notice")
async def email_notice(deps: TaskDeps, *, notice_id: int) -> None:
    """Write the e-mail of one notice sent at once, in its reader's language, with its signed
    unsubscribe link. Running it twice is harmless: the notice is locked and marked sent in
    the transaction that writes the e-mail, and a notice already sent is left alone."""
    async with db.transaction(deps.queue):
        await service.email_notice(deps.settings, notice_id)


@cron("notifications.send_digests", hour={7}, minute={0})
async def send_digests(deps: TaskDeps) -> int:
    """Every morning, one e-mail per person with every notice waiting for the digest.

    Running it twice is harmless: each person's digest day is locked and checked (one digest
    a day), and the notices it carries are marked sent in the same transaction. It catches up
    after downtime: what waits is whatever is still marked for the digest."""
    today = datetime.now(UTC).date()
    sent = 0
    for user_id in await service.digest_readers():
        # A transaction per person: one failing e-mail does not hold back the others.
        async with db.transaction(deps.queue):
            sent += await service.send_digest(deps.settings, user_id, today=today)
    if sent:
        log.info("digests written", extra={"emails": sent})
    return sent
