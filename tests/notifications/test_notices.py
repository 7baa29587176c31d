"""Notices in the reader's language, naming their challenge or proposal; the city's staff told
of new questions; e-mail settings, the daily digest and the one-click unsubscribe link."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, Message
from typing import cast
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette

from service import db
from service.accounts.models import User
from service.core import jobs
from service.notifications import service as notifications
from service.notifications import tasks
from service.notifications.kinds import EmailMode
from service.notifications.models import Notification, NotificationSetting
from tests import factories
from tests.challenges.factories import challenge_body
from tests.challenges.helpers import City, make_city
from tests.smtp import Mailbox

Worker = Callable[[], Awaitable[None]]
QUESTION = "Can two startups apply together?"


async def published(client: httpx.AsyncClient) -> tuple[City, int, str]:
    city = await make_city(client)
    body = challenge_body(city.org, opens_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    created = await client.post("/api/v1/challenges", json=body, headers=city.editor.headers)
    challenge_id = int(created.json()["id"])
    published = await client.post(
        f"/api/v1/challenges/{challenge_id}/publish", headers=city.manager.headers
    )
    assert published.status_code == 200, published.text
    return city, challenge_id, str(body["title"])


async def ask(
    client: httpx.AsyncClient, challenge_id: int, asker: factories.Person, text: str
) -> None:
    asked = await client.post(
        f"/api/v1/challenges/{challenge_id}/questions", json={"text": text}, headers=asker.headers
    )
    assert asked.status_code == 201, asked.text


def text_of(message: Message) -> str:
    body = cast(EmailMessage, message).get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def unsubscribe_path(url: str) -> str:
    return urlsplit(url.strip("<>")).path


class TestQuestionsReachTheCity:
    async def test_owner_manager_and_editor_are_told_with_a_link_to_the_challenge(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, title = await published(client)
        asker = await factories.person(client)
        await ask(client, challenge_id, asker, QUESTION)
        for staff in (city.owner, city.manager, city.editor):
            (notice,) = await Notification.filter(user_id=staff.user.id, kind="question_asked")
            assert notice.challenge_id == challenge_id
            assert notice.link == f"/challenges/{challenge_id}#questions"
        # Finance does not answer questions, and whoever asked is not told of their own.
        assert not await Notification.filter(user_id=city.finance.user.id).exists()
        assert not await Notification.filter(user_id=asker.user.id, kind="question_asked").exists()
        listed = (
            await client.get("/api/v1/me/notifications", headers=city.manager.headers)
        ).json()["items"]
        (item,) = [i for i in listed if i["link"].endswith("#questions")]
        assert (
            QUESTION in item["body"]
            and item["title"] == "A new question on a challenge of your city"
        )
        assert item["challenge_id"] == challenge_id and item["kind"] == "question_asked"
        assert (item["subject_title"], item["subject_url"]) == (
            title,
            f"/challenges/{challenge_id}",
        )
        # The page names the challenge and links to it.
        await factories.web_signin(client, await User.get(id=city.manager.user.id))
        page = await client.get("/notifications")
        assert f'<a href="/challenges/{challenge_id}">{title}</a>' in page.text


class TestReadersLanguage:
    async def test_the_same_notice_reads_in_each_readers_language(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        person = await factories.person(client)
        user = await User.get(id=person.user.id)
        async with db.transaction(app.state.deps.queue):
            await notifications.notify(
                user, "organization_invitation", link="/invitations", name="Sevilla", role="manager"
            )
        titles = {}
        for language in ("en", "es"):
            listed = await client.get(
                "/api/v1/me/notifications",
                headers={**person.headers, "Accept-Language": language},
            )
            titles[language] = listed.json()["items"][0]["title"]
        assert titles["en"] == "You are invited to join an organization"
        assert titles["es"] != titles["en"]
        assert (
            titles["es"] == notifications.shown(await Notification.get(user_id=user.id), "es").title
        )

    async def test_rows_from_before_kinds_still_show_their_text(
        self, client: httpx.AsyncClient
    ) -> None:
        person = await factories.person(client)
        async with db.transaction(None):
            await Notification.create(
                user_id=person.user.id, title="A milestone is ready to release", body="Pilot"
            )
        listed = await client.get(
            "/api/v1/me/notifications", headers={**person.headers, "Accept-Language": "es"}
        )
        (item,) = listed.json()["items"]
        assert (item["title"], item["body"]) == ("A milestone is ready to release", "Pilot")
        await factories.web_signin(client, await User.get(id=person.user.id))
        assert "A milestone is ready to release" in (await client.get("/notifications")).text

    async def test_an_unknown_kind_is_refused_and_nothing_is_stored(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        person = await factories.person(client)
        user = await User.get(id=person.user.id)
        try:
            async with db.transaction(app.state.deps.queue):
                await notifications.notify(user, "no_such_kind", link="/")
        except LookupError:
            pass
        else:
            raise AssertionError("an unknown kind was stored")
        assert not await Notification.filter(user_id=user.id).exists()


class TestSettings:
    async def test_settings_page_saves_choices_and_refuses_unknown_ones(
        self, client: httpx.AsyncClient
    ) -> None:
        person = await factories.person(client)
        csrf = await factories.web_signin(client, await User.get(id=person.user.id))
        account = await client.get("/account")
        assert 'href="/account/notifications"' in account.text
        page = await client.get("/account/notifications")
        assert page.status_code == 200 and 'name="email_questions"' in page.text
        saved = await client.post(
            "/account/notifications",
            data={"csrf_token": csrf, "email_questions": "daily", "email_money": "immediate"},
        )
        assert saved.status_code == 303
        modes = await notifications.email_modes(person.user.id)
        assert modes["questions"] is EmailMode.daily and modes["money"] is EmailMode.immediate
        refused = await client.post(
            "/account/notifications",
            data={"csrf_token": csrf, "email_questions": "hourly", "email_money": "off"},
        )
        assert refused.status_code == 422 and "Choose one of the offered ways." in refused.text
        # Nothing changed: not the wrong field, nor the right one sent with it.
        assert await notifications.email_modes(person.user.id) == modes

    async def test_in_app_only_sends_no_mail(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        city, challenge_id, _ = await published(client)
        async with db.transaction(None):
            await NotificationSetting.create(
                user_id=city.manager.user.id, group="questions", email=EmailMode.off
            )
        await ask(client, challenge_id, await factories.person(client), QUESTION)
        await worker_burst()
        assert mailbox.to(city.manager.user.email) == []
        assert len(mailbox.to(city.editor.user.email)) == 1


class TestImmediateMailAndUnsubscribe:
    async def test_mail_names_the_challenge_and_unsubscribes_in_one_click(
        self, app: Starlette, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        city, challenge_id, title = await published(client)
        await User.filter(id=city.manager.user.id).update(language="es")
        await ask(client, challenge_id, await factories.person(client), QUESTION)
        await worker_burst()
        (message,) = mailbox.to(city.manager.user.email)
        text = text_of(message)
        assert title in text and f"/challenges/{challenge_id}" in text and QUESTION in text
        # Written in the manager's language: the wrapper's Spanish "Hola", not "Hello".
        assert "Hola" in text
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        header = str(message["List-Unsubscribe"])
        assert re.fullmatch(r"<https?://\S+/unsubscribe/\S+>", header)
        assert header.strip("<>") in text
        path = unsubscribe_path(header)
        # A GET (a mail scanner, a preview) changes nothing and shows a button.
        confirm = await client.get(path)
        assert confirm.status_code == 200 and f'action="{path}"' in confirm.text
        assert (await notifications.email_modes(city.manager.user.id))["questions"] is (
            EmailMode.immediate
        )
        # The mail program's one-click POST: no session, no CSRF token.
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as bare:
            done = await bare.post(path, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200
        assert (await notifications.email_modes(city.manager.user.id))["questions"] is (
            EmailMode.off
        )
        mailbox.clear()
        await ask(client, challenge_id, await factories.person(client), "And a second one?")
        await worker_burst()
        assert mailbox.to(city.manager.user.email) == []
        assert len(mailbox.to(city.owner.user.email)) == 1

    async def test_a_tampered_link_is_refused_and_changes_nothing(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        victim = await factories.make_user()
        other = await factories.make_user()
        secret = app.state.settings.secret_key
        token = notifications.unsubscribe_token(secret, other.id, "questions")
        forged = [
            token.replace(f"{other.id}.", f"{victim.id}.", 1),  # another person's id
            token.replace("questions", "all", 1),  # a wider scope
            token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # a changed signature
            f"{victim.id}.questions.",
        ]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as bare:
            for bad in forged:
                refused = await bare.post(
                    f"/unsubscribe/{bad}", data={"List-Unsubscribe": "One-Click"}
                )
                assert refused.status_code == 400, bad
                assert (await bare.get(f"/unsubscribe/{bad}")).status_code == 400
        assert not await NotificationSetting.exists()


class TestDailyDigest:
    async def test_one_mail_a_day_with_every_waiting_notice(
        self, app: Starlette, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        city, challenge_id, title = await published(client)
        async with db.transaction(None):
            await NotificationSetting.create(
                user_id=city.manager.user.id, group="questions", email=EmailMode.daily
            )
        asker = await factories.person(client)
        await ask(client, challenge_id, asker, QUESTION)
        await ask(client, challenge_id, asker, "Is the data open?")
        await worker_burst()
        assert mailbox.to(city.manager.user.email) == []  # nothing at once
        assert await tasks.send_digests(app.state.deps) == 1
        assert await tasks.send_digests(app.state.deps) == 0  # the job ran twice: one mail
        await worker_burst()
        (digest,) = mailbox.to(city.manager.user.email)
        text = text_of(digest)
        assert QUESTION in text and "Is the data open?" in text
        assert title in text and f"/challenges/{challenge_id}" in text
        assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/unsubscribe/" in str(digest["List-Unsubscribe"])
        # A notice later the same day waits for tomorrow's digest.
        await ask(client, challenge_id, asker, "A third question?")
        assert await tasks.send_digests(app.state.deps) == 0
        assert (
            await Notification.filter(user_id=city.manager.user.id, email_state="daily").count()
            == 1
        )

    async def test_a_deleted_account_gets_no_digest(
        self, app: Starlette, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        person = await factories.person(client)
        user = await User.get(id=person.user.id)
        async with db.transaction(app.state.deps.queue):
            await NotificationSetting.create(
                user_id=user.id, group="organizations", email=EmailMode.daily
            )
            await notifications.notify(user, "organization_verified", organization="Sevilla")
            await User.filter(id=user.id).update(deleted_at=datetime.now(UTC))
        assert await tasks.send_digests(app.state.deps) == 0
        await worker_burst()
        assert mailbox.to(user.email) == []
        assert not await Notification.filter(email_state="daily").exists()

    def test_the_digest_job_runs_once_a_day(self) -> None:
        jobs.load_tasks()
        spec = jobs.CRONS["notifications.send_digests"]
        assert spec.schedule == {"hour": {7}, "minute": {0}} and not spec.run_at_startup


class TestTimelines:
    async def test_entries_read_in_the_readers_language_and_followers_are_told(
        self, client: httpx.AsyncClient
    ) -> None:
        from service.participation.models import Update

        city = await make_city(client)
        author = await factories.person(client)
        created = await client.post(
            "/api/v1/proposals",
            json={
                "title": "Benches in the shade on Calle Mayor",
                "description": "The benches of Calle Mayor sit in full sun all afternoon.",
                "region": "Madrid",
            },
            headers=author.headers,
        )
        assert created.status_code == 201, created.text
        proposal_id = created.json()["id"]
        read = {}
        for language in ("en", "es"):
            timeline = await client.get(
                f"/api/v1/proposals/{proposal_id}/updates", headers={"Accept-Language": language}
            )
            (entry,) = timeline.json()["items"]
            read[language] = entry["title"]
        assert read == {"en": "Proposed by a resident", "es": "Propuesta de un habitante"}
        stored = await Update.get(id=entry["id"])
        assert stored.kind == "proposed"
        assert stored.params == {"proposal": "Benches in the shade on Calle Mayor"}
        feed = await client.get(
            f"/proposals/{proposal_id}/updates.atom", headers={"Accept-Language": "es"}
        )
        assert "Propuesta de un habitante" in feed.text
        # The city posts an update: the proposal's author is told, with the proposal named.
        posted = await client.post(
            f"/api/v1/proposals/{proposal_id}/updates",
            json={"title": "We measured the shade", "body": "Three benches get none."},
            headers=city.manager.headers,
        )
        assert posted.status_code == 201, posted.text
        (notice,) = await Notification.filter(user_id=author.user.id, kind="timeline.staff")
        assert notice.proposal_id == proposal_id
        await factories.web_signin(client, await User.get(id=author.user.id))
        page = (await client.get("/notifications")).text
        assert "We measured the shade" in page
        assert f'<a href="/proposals/{proposal_id}">Benches in the shade on Calle Mayor</a>' in page
