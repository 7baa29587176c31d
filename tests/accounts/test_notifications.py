"""E-mail leaves through the outbox exactly once; in-app notices count as unread."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from starlette.applications import Starlette

from service import db
from service.accounts.models import User
from service.core.jobs import enqueue
from service.notifications import service as notifications
from service.notifications.models import OutboxEmail, OutboxStatus
from tests import factories
from tests.smtp import Mailbox

Worker = Callable[[], Awaitable[None]]


async def test_outbox_mail_is_sent_once_however_often_the_job_runs(
    app: Starlette, mailbox: Mailbox, worker_burst: Worker
) -> None:
    user = await factories.make_user(email="once@example.org")
    async with db.transaction(app.state.deps.queue):
        email = await notifications.send_email(
            user.email, "reset_password", language="es", user=user, link="http://x/reset/abc"
        )
        # The same job queued again (a retry, a sweeper) under another id.
        enqueue("notifications.send_email", outbox_id=email.id)
    await worker_burst()
    await worker_burst()
    assert len(mailbox.to("once@example.org")) == 1
    sent = await OutboxEmail.get(id=email.id)
    assert sent.status is OutboxStatus.sent and sent.attempts == 1
    message = mailbox.to("once@example.org")[0]
    assert message["Subject"] == "Elige una contraseña nueva"


async def test_rolled_back_event_sends_no_mail(
    app: Starlette, mailbox: Mailbox, worker_burst: Worker
) -> None:
    user = await factories.make_user(email="never@example.org")
    try:
        async with db.transaction(app.state.deps.queue):
            await notifications.send_email(
                user.email, "verify_email", language="en", user=user, link="http://x"
            )
            raise RuntimeError("the event failed")
    except RuntimeError:
        pass
    await worker_burst()
    assert mailbox.to("never@example.org") == []
    assert await OutboxEmail.all().count() == 0


async def test_unread_count_and_mark_read(app: Starlette, client: httpx.AsyncClient) -> None:
    person = await factories.person(client)
    user = await User.get(id=person.user.id)
    async with db.transaction(app.state.deps.queue):
        for n in range(3):
            await notifications.notify(
                user, "organization_verified", link="/", organization=f"Org {n}"
            )
    listing = (
        await client.get("/api/v1/me/notifications", params={"limit": 2}, headers=person.headers)
    ).json()
    assert listing["unread_count"] == 3 and len(listing["items"]) == 2 and listing["next_cursor"]
    read = await client.post(
        "/api/v1/me/notifications/read", json={"ids": None}, headers=person.headers
    )
    assert read.status_code == 200
    me = (await client.get("/api/v1/me", headers=person.headers)).json()
    assert me["unread_notifications"] == 0
