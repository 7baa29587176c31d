"""The signed-in home at `/`: one section per role, with counts and the links that do the work,
and a main menu with only what the person's roles can use."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette

from service import db
from service.accounts.models import Organization, OrganizationKind, Role
from service.applications.models import JudgeAssignment
from service.challenges.models import Challenge, Follow, Question
from service.investors.models import IntroRequest, IntroStatus, Watch, WatchNotice
from service.matching.models import Match, StartupProfile
from service.participation.models import Proposal, Support, Update
from service.rewards.models import (
    Funding,
    InvariantBreach,
    Payout,
    PayoutStatus,
    Rail,
    Refund,
    RefundStatus,
)
from tests import factories
from tests.challenges.factories import challenge_body
from tests.challenges.helpers import make_city
from tests.challenges.test_applications import applicant, draft, open_challenge
from tests.challenges.test_judging_awards import closed_with_applications, judge, scores_for
from tests.investors import helpers as investor_helpers
from tests.rewards.helpers import awarded


def section(html: str, name: str) -> str:
    """The text of one role's section of the home ('' when the page has none)."""
    found = re.search(rf'<section id="{name}".*?</section>', html, re.S)
    return found.group(0) if found else ""


def menu(html: str) -> str:
    found = re.search(r'<details class="menu">.*?</details>', html, re.S)
    assert found, "no main menu"
    return found.group(0)


def menu_labels(html: str) -> list[str]:
    return re.findall(r"<li><a href=\"[^\"]+\"[^>]*>([^<]+)</a></li>", menu(html))


async def home_of(client: httpx.AsyncClient, person: factories.Person) -> str:
    client.cookies.clear()
    await factories.web_signin(client, person.user)
    page = await client.get("/")
    assert page.status_code == 200, page.text
    return page.text


class TestCityStaff:
    async def test_manager_and_finance_see_their_own_work(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        city = a.city
        submitted = await client.post(
            f"/api/v1/milestones/{a.milestone_ids[0]}/submit",
            json={"evidence": "Baseline report published."},
            headers=a.winner.headers,
        )
        assert submitted.status_code == 200, submitted.text
        asker = await factories.make_user()
        now = datetime.now(UTC)
        async with db.transaction(None):
            await Question.create(
                challenge_id=a.challenge_id, author=asker, text="Is GPS data open?"
            )
            today = await Proposal.create(
                author=asker,
                title="Shade at the bus stops",
                description="Hot summers.",
                region=city.org.region,
                support_count=120,
                threshold_reached_at=now,
            )
            older = await Proposal.create(
                author=asker,
                title="Safer crossings near schools",
                description="Cars are fast.",
                region=city.org.region.upper(),
                support_count=140,
                threshold_reached_at=now - timedelta(days=3, hours=1),
            )
            # Answered already: not waiting.
            await Proposal.create(
                author=asker,
                title="More benches",
                description="Old people.",
                region=city.org.region,
                threshold_reached_at=now - timedelta(days=9),
                responded_at=now,
                response="We will.",
            )
            # In another region: not this city's to answer.
            await Proposal.create(
                author=asker,
                title="Elsewhere",
                description="Not here.",
                region="Sevilla",
                threshold_reached_at=now - timedelta(days=2),
            )

        html = await home_of(client, city.manager)
        own = section(html, "city")
        assert f'href="/challenges/{a.challenge_id}"' in own
        assert "Awarded: 1" in own
        assert f'href="/challenges/{a.challenge_id}/ranking"' in own
        assert 'Questions waiting for an answer <span class="count">(1)</span>' in own
        assert f'href="/challenges/{a.challenge_id}#question-' in own
        assert 'Proposals waiting for the city\'s answer <span class="count">(2)</span>' in own
        assert f'href="/proposals/{today.id}"' in own and f'href="/proposals/{older.id}"' in own
        assert "waiting since today" in own and "waiting 3 days" in own
        assert "0 days" not in html
        assert 'Milestones to approve <span class="count">(1)</span>' in own
        assert f'href="/awards/{a.award_id}#milestone-{a.milestone_ids[0]}"' in own
        # Money is finance's: the manager is not shown the transfers to make.
        assert "Bank transfers to make" not in own
        labels = menu_labels(html)
        assert "Your challenges" in labels
        assert "Applications" not in labels and "Judging" not in labels
        assert "Deal flow" not in labels and "Verify" not in labels
        assert section(html, "applicant") == "" and section(html, "investor") == ""

        # A transfer to make to the winner, a refund to send back, a payout that failed.
        winner = await Organization.get(id=a.winner_org)
        async with db.transaction(None):
            for n, (milestone_id, status) in enumerate(
                zip(
                    a.milestone_ids[1:],
                    (PayoutStatus.awaiting_transfer, PayoutStatus.failed),
                    strict=True,
                )
            ):
                await Payout.create(
                    milestone_id=milestone_id,
                    organization=winner,
                    amount_minor=1_000,
                    currency="EUR",
                    rail=Rail.bank_transfer,
                    status=status,
                    idempotency_key=f"home-test-{a.award_id}-{n}",
                )
            funding = await Funding.filter(challenge_id=a.challenge_id).first()
            assert funding is not None
            await Refund.create(
                funding=funding,
                amount_minor=500,
                currency="EUR",
                status=RefundStatus.awaiting_transfer,
            )
        finance = section(await home_of(client, city.finance), "city")
        assert 'Bank transfers to make <span class="count">(2)</span>' in finance
        assert f"Pay {winner.name}" in finance
        assert f'href="/challenges/{a.challenge_id}/ledger"' in finance
        assert "Approved milestones to release" in finance
        assert "Milestones to approve" not in finance
        assert "Proposals waiting" not in finance
        operator = await factories.person(client, operator=True)
        stuck = section(await home_of(client, operator), "operator")
        assert 'Stuck or failed payouts <span class="count">(1)</span>' in stuck
        assert f'href="/awards/{a.award_id}#milestone-{a.milestone_ids[2]}"' in stuck

    async def test_lists_are_bounded_with_a_count_and_a_link(
        self, client: httpx.AsyncClient
    ) -> None:
        city, first = await open_challenge(client)
        for n in range(7):
            response = await client.post(
                "/api/v1/challenges",
                json=challenge_body(city.org, title=f"Challenge number {n}"),
                headers=city.editor.headers,
            )
            assert response.status_code == 201, response.text
        async with db.transaction(None):
            now = datetime.now(UTC)
            await Challenge.filter(id=first).update(closes_at=now + timedelta(days=3, hours=2))
            await Challenge.filter(organization_id=city.org.id, title="Challenge number 0").update(
                updated_at=now - timedelta(days=40)
            )
        own = section(await home_of(client, city.owner), "city")
        assert 'Challenges about to close or stuck <span class="count">(2)</span>' in own
        assert "closes in 3 days" in own and "a draft untouched for 40 days" in own
        assert 'Your challenges and the applications received <span class="count">(8)</span>' in own
        assert own.count("no application received yet") == 6
        assert f'<a href="/organizations/{city.org.id}">2 more</a>' in own


class TestApplicants:
    async def test_drafts_invitations_milestones_and_intros(
        self, client: httpx.AsyncClient
    ) -> None:
        _, challenge_id = await open_challenge(client, title="Cleaner school buses")
        lead, lead_org = await applicant(client)
        partner, partner_org = await applicant(client, kind=OrganizationKind.university)
        created = await draft(
            client,
            challenge_id,
            lead,
            lead_org,
            title="Electric buses plan",
            partners=[{"organization_id": partner_org, "role": "data lab", "share_pct": 30}],
        )
        assert created.status_code == 201, created.text
        app_id = created.json()["id"]
        investor = await factories.make_user()
        fund = await factories.make_org(
            kind=OrganizationKind.investor, name="Seed Fund", members={investor: Role.owner}
        )
        async with db.transaction(None):
            await IntroRequest.create(
                investor=fund,
                startup_id=lead_org,
                requested_by=investor,
                message="Let us talk.",
                expires_at=datetime.now(UTC) + timedelta(days=10),
            )

        html = await home_of(client, lead)
        own = section(html, "applicant")
        assert 'Applications in draft <span class="count">(1)</span>' in own
        assert f'href="/applications/{app_id}"' in own and "deadline" in own
        assert "Seed Fund asks for an intro" in own
        assert f'href="/startups/{lead_org}/interest"' in own
        assert "No partner invitation is waiting" in own
        assert "Applications" in menu_labels(html)
        assert "Your challenges" not in menu_labels(html)
        assert section(html, "city") == ""

        own = section(await home_of(client, partner), "applicant")
        assert 'Invitations to join a consortium <span class="count">(1)</span>' in own
        assert f'href="/applications/{app_id}"' in own and "30% of the reward" in own

    async def test_the_winner_sees_its_milestones_due(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        own = section(await home_of(client, a.winner), "applicant")
        assert 'Milestones due <span class="count">(3)</span>' in own
        for milestone_id in a.milestone_ids:
            assert f'href="/awards/{a.award_id}#milestone-{milestone_id}"' in own
        assert 'Decisions and judges\' feedback <span class="count">(1)</span>' in own


def judging_part(html: str, heading_id: str) -> str:
    """One list of the judging section: its heading and what follows up to the next heading."""
    found = re.search(
        rf'<h3 id="{heading_id}">.*?(?=<h3 |</section>)', section(html, "judging"), re.S
    )
    return found.group(0) if found else ""


class TestJudges:
    async def test_reviews_to_do_with_progress_and_deadline(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, apps = await closed_with_applications(client)
        j = await judge(client, city, challenge_id)
        html = await home_of(client, j)
        own = section(html, "judging")
        assert f'href="/judging/{challenge_id}"' in own
        assert "0 of 2 reviewed" in own and "judging ends in" in own
        assert "Judging" in menu_labels(html)
        scored = await client.post(
            f"/api/v1/applications/{apps[0][2]}/reviews",
            json={"scores": await scores_for(challenge_id, [7, 8]), "comment": "Solid."},
            headers=j.headers,
        )
        assert scored.status_code == 200, scored.text
        assert "1 of 2 reviewed" in section(await home_of(client, j), "judging")
        # The applicants and the city's staff are not judges.
        html = await home_of(client, apps[0][0])
        assert section(html, "judging") == "" and "Judging" not in menu_labels(html)

    async def test_a_fully_reviewed_challenge_leaves_the_reviews_to_do(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, apps = await closed_with_applications(client)
        j = await judge(client, city, challenge_id)
        for (_, _, app_id), marks in zip(apps, ([7, 8], [5, 6]), strict=True):
            scored = await client.post(
                f"/api/v1/applications/{app_id}/reviews",
                json={"scores": await scores_for(challenge_id, marks), "comment": "Read."},
                headers=j.headers,
            )
            assert scored.status_code == 200, scored.text
        # A second challenge of the same judge still has its two applications to review.
        other_city, other_id, _ = await closed_with_applications(client)
        added = await client.post(
            f"/api/v1/challenges/{other_id}/judges",
            json={"user_id": j.user.id},
            headers=other_city.manager.headers,
        )
        assert added.status_code == 201, added.text
        html = await home_of(client, j)
        to_do, done = judging_part(html, "judging-reviews"), judging_part(html, "judging-done")
        assert 'Reviews to do <span class="count">(1)</span>' in to_do
        assert f'href="/judging/{other_id}"' in to_do and "0 of 2 reviewed" in to_do
        assert f'href="/judging/{challenge_id}"' not in to_do
        assert 'Reviewed <span class="count">(1)</span>' in done
        assert f'href="/judging/{challenge_id}"' in done and "2 of 2 reviewed" in done

        # Nothing left anywhere: the judge is told so, not shown an empty list of work.
        async with db.transaction(None):
            await JudgeAssignment.filter(challenge_id=other_id).delete()
        html = await home_of(client, j)
        to_do = judging_part(html, "judging-reviews")
        assert 'Reviews to do <span class="count">(0)</span>' in to_do
        assert "You have reviewed every application of the challenges you judge." in to_do
        assert f'href="/judging/{challenge_id}"' in judging_part(html, "judging-done")

    async def test_a_passed_judging_deadline_reads_as_days_ago(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, _ = await closed_with_applications(client)
        j = await judge(client, city, challenge_id)
        async with db.transaction(None):
            await Challenge.filter(id=challenge_id).update(
                judging_ends_at=datetime.now(UTC) - timedelta(days=3, hours=2)
            )
        own = section(await home_of(client, j), "judging")
        assert "judging was due to end 3 days ago" in own
        assert "past" not in own
        async with db.transaction(None):
            await Challenge.filter(id=challenge_id).update(
                judging_ends_at=datetime.now(UTC) - timedelta(hours=2)
            )
        own = section(await home_of(client, j), "judging")
        assert "judging was due to end today" in own and "past" not in own


class TestInvestors:
    async def test_new_matches_since_the_last_visit(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        person = await factories.person(client)
        fund = await factories.make_org(
            kind=OrganizationKind.investor, members={person.user: Role.member}
        )
        startups = [await factories.make_org(name=f"Mobility Startup {n}") for n in range(3)]
        async with db.transaction(None):
            for startup in startups:
                await StartupProfile.create(organization=startup, dealflow_opt_in=True)
        now = datetime.now(UTC)

        async def rank(position: int, startup: Organization) -> None:
            async with db.transaction(None):
                await Match.create(
                    investor=fund, startup=startup, rank=position, score=0.9, computed_at=now
                )

        await rank(1, startups[0])
        await rank(2, startups[1])
        html = await home_of(client, person)
        own = section(html, "investor")
        assert "2 startups are ranked for your thesis." in own
        assert f'href="/investors/{fund.id}/dealflow"' in own
        labels = menu_labels(html)
        assert "Deal flow" in labels and "Applications" not in labels
        assert f'<a href="/investors/{fund.id}/dealflow"' in menu(html)

        # An hour later the ranking has a newcomer.
        settings = app.state.settings
        redis = app.state.deps.redis
        keys = await redis.keys(f"{settings.redis_prefix}:home:visit:{person.user.id}:*")
        assert len(keys) == 1
        await redis.hset(keys[0], "last", (now - timedelta(hours=1)).isoformat())
        await rank(3, startups[2])
        async with db.transaction(None):
            watch = await Watch.create(investor=fund, startup=startups[0])
            await WatchNotice.create(watch=watch, kind="won", object_id=1)
            await IntroRequest.create(
                investor=fund,
                startup=startups[1],
                requested_by=person.user,
                message="Coffee?",
                status=IntroStatus.accepted,
                expires_at=now + timedelta(days=5),
                answered_at=now,
            )
        for _ in range(2):  # reloading the home keeps what was new when the visit began
            own = section(await home_of(client, person), "investor")
            assert 'New matches since your last visit <span class="count">(1)</span>' in own
            assert f'href="/investors/{fund.id}/startups/{startups[2].id}"' in own
            assert f'/startups/{startups[0].id}"' not in own
            assert "Mobility Startup 0</a> · won a challenge" in own
            assert "Mobility Startup 1</a> · accepted: contact details shared" in own

    async def test_the_home_counts_what_the_deal_flow_lists(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        """The deal flow lists the stored ranking from the thesis preview's floor, of startups
        that opted in: the home's count and its new matches are the same startups."""
        investor, partner = await investor_helpers.make_investor(client)
        floor = app.state.settings.matching_preview_floor
        scores = {"Above": 0.9, "At the floor": floor, "Just below": floor - 0.01, "Far below": 0.1}
        startups = {
            name: (await investor_helpers.make_startup(client, name=name, with_token=False)).org
            for name in scores
        }
        hidden = await investor_helpers.make_startup(
            client, name="Not opted in", opt_in=False, with_token=False
        )
        now = datetime.now(UTC)

        async def rank(position: int, startup: Organization, score: float) -> None:
            async with db.transaction(None):
                await Match.create(
                    investor=investor, startup=startup, rank=position, score=score, computed_at=now
                )

        for position, (name, score) in enumerate(scores.items(), start=1):
            await rank(position, startups[name], score)
        await rank(5, hidden.org, 0.95)

        async def listed() -> list[str]:
            response = await client.get(
                f"/api/v1/investors/{investor.id}/dealflow?limit=50", headers=partner.headers
            )
            assert response.status_code == 200, response.text
            return [item["name"] for item in response.json()["items"]]

        assert await listed() == ["Above", "At the floor"]
        own = section(await home_of(client, partner), "investor")
        assert "2 startups are ranked for your thesis." in own

        # An hour later the ranking has two newcomers, one of them under the cut-off.
        settings = app.state.settings
        redis = app.state.deps.redis
        keys = await redis.keys(f"{settings.redis_prefix}:home:visit:{partner.user.id}:*")
        assert len(keys) == 1
        await redis.hset(keys[0], "last", (now - timedelta(hours=1)).isoformat())
        newcomers = [
            (await investor_helpers.make_startup(client, name=name, with_token=False)).org
            for name in ("New and good", "New and weak")
        ]
        await rank(6, newcomers[0], 0.7)
        await rank(7, newcomers[1], floor - 0.05)
        assert await listed() == ["Above", "At the floor", "New and good"]
        own = section(await home_of(client, partner), "investor")
        assert 'New matches since your last visit <span class="count">(1)</span>' in own
        assert f'href="/investors/{investor.id}/startups/{newcomers[0].id}"' in own
        assert f'/startups/{newcomers[1].id}"' not in own


class TestCitizens:
    async def test_proposals_supports_and_followed_challenges(
        self, client: httpx.AsyncClient
    ) -> None:
        person = await factories.person(client)
        other = await factories.make_user()
        _, challenge_id = await open_challenge(client, title="Quieter night buses")
        now = datetime.now(UTC)
        async with db.transaction(None):
            mine = await Proposal.create(
                author=person.user,
                title="Fix the playground",
                description="Broken swings.",
                region="Madrid",
                status="under_study",
                responded_at=now,
                response="We are studying it with the parks department.",
                threshold_reached_at=now - timedelta(days=5),
            )
            theirs = await Proposal.create(
                author=other, title="More trees", description="Shade.", region="Madrid"
            )
            await Support.create(proposal=theirs, user=person.user)
            await Follow.create(challenge_id=challenge_id, user=person.user)
            await Update.create(
                kind="challenge_opened",
                title="Quieter night buses is open for applications",
                challenge_id=challenge_id,
                at=now,
            )
        html = await home_of(client, person)
        own = section(html, "citizen")
        assert f'href="/proposals/{mine.id}"' in own
        assert "We are studying it with the parks department." in own
        assert f'href="/proposals/{theirs.id}"' in own
        assert "Quieter night buses is open for applications" in own
        assert f'href="/challenges/{challenge_id}"' in own
        labels = menu_labels(html)
        for item in ("Applications", "Judging", "Deal flow", "Your challenges", "Verify"):
            assert item not in labels

    async def test_the_public_home_stays_reachable(self, client: httpx.AsyncClient) -> None:
        person = await factories.person(client)
        html = await home_of(client, person)
        assert 'href="/?view=public"' in html
        public = await client.get("/?view=public")
        assert "Local problems, open solutions" in public.text


class TestOperators:
    async def test_verification_breaches_and_only_for_operators(
        self, client: httpx.AsyncClient
    ) -> None:
        operator = await factories.person(client, operator=True)
        await factories.make_org(name="Waiting Startup", verified=False)
        city = await make_city(client)
        async with db.transaction(None):
            await InvariantBreach.create(
                check="unbalanced", detail="transaction 7 sums to 3", city_id=city.org.id
            )
        html = await home_of(client, operator)
        own = section(html, "operator")
        assert "Waiting Startup" in own and 'href="/admin/organizations"' in own
        assert "transaction 7 sums to 3" in own
        assert "No payout is stuck or failed." in own
        assert "Verify" in menu_labels(html) and "Audit log" in menu_labels(html)
        # A city's staff are not operators.
        html = await home_of(client, city.manager)
        assert section(html, "operator") == "" and "Verify" not in menu_labels(html)


async def test_visitors_get_the_public_home_and_menu(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert "Local problems, open solutions" in page.text
    labels = menu_labels(page.text)
    assert labels[:3] == ["Home", "Challenges", "Proposals"]
    assert "Account" not in labels and "Applications" not in labels


async def test_signing_in_lands_on_the_home_unless_a_next_page_was_given(
    client: httpx.AsyncClient,
) -> None:
    user = await factories.make_user()
    for query, landing in (("", "/"), ("?next=/proposals/new", "/proposals/new")):
        client.cookies.clear()
        csrf = factories.csrf_of((await client.get(f"/signin{query}")).text)
        done = await client.post(
            f"/signin{query}",
            data={"csrf_token": csrf, "email": user.email, "password": factories.PASSWORD},
        )
        assert done.status_code == 303, done.text
        assert done.headers["location"] == landing


class QueryCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends (it logs each one at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "connection pool" not in record.getMessage():
            self.statements += 1


async def statements_for_home(client: httpx.AsyncClient) -> int:
    counter = QueryCounter()
    logger = logging.getLogger("tortoise.db_client")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        page = await client.get("/")
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
    assert page.status_code == 200
    return counter.statements


async def test_the_home_queries_do_not_grow_with_its_rows(
    client: httpx.AsyncClient,
) -> None:
    city, first = await open_challenge(client)
    someone = await factories.make_user()

    async def more_work(challenge_id: int) -> None:
        person, org_id = await applicant(client)
        app_id = (await draft(client, challenge_id, person, org_id)).json()["id"]
        submitted = await client.post(
            f"/api/v1/applications/{app_id}/submit", headers=person.headers
        )
        assert submitted.status_code == 200, submitted.text
        async with db.transaction(None):
            await Question.create(challenge_id=challenge_id, author=someone, text="When?")

    await more_work(first)
    await factories.web_signin(client, city.owner.user)
    one = await statements_for_home(client)

    async def new_challenge(n: int) -> None:
        opens = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        response = await client.post(
            "/api/v1/challenges",
            json=challenge_body(city.org, title=f"Challenge number {n}", opens_at=opens),
            headers=city.editor.headers,
        )
        challenge_id = response.json()["id"]
        published = await client.post(
            f"/api/v1/challenges/{challenge_id}/publish", headers=city.manager.headers
        )
        assert published.status_code == 200, published.text
        await more_work(challenge_id)

    for n in range(5):
        await new_challenge(n)
    six = await statements_for_home(client)
    for n in range(5, 11):
        await new_challenge(n)
    twelve = await statements_for_home(client)
    # A list that fills its first rows asks for its count too: two lists here, two queries.
    assert six == one + 2, f"{one} statements for one row of each list, {six} for six"
    assert twelve == six, f"{six} statements for six rows of each list, {twelve} for twelve"
