"""Amounts typed in the page forms the way the viewer's country writes them: read in their
locale into minor units, refused by the field when the currency has no such decimals, and
suggested with an example in the right form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from service.accounts.models import OrganizationKind, Role
from service.applications.models import Application, Award
from service.challenges.models import Challenge
from service.matching.models import InvestorThesis
from service.rewards.models import Funding, Milestone
from tests import factories
from tests.challenges.helpers import make_city, treasurer
from tests.challenges.test_applications import open_challenge
from tests.challenges.test_judging_awards import closed_with_applications, judge, scores_for
from tests.investors.helpers import deal
from tests.rewards.test_pages import browser, error_of, field_of, text_of, value_of


def challenge_form(org_id: int, **changes: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    form: dict[str, Any] = {
        "organization_id": str(org_id),
        "title": "Alerta temprana de incendios",
        "summary": "Detectar incendios pequeños en los cerros antes de que lleguen a las casas.",
        "problem_statement": "Cada verano los incendios de pastizales amenazan las casas de los "
        "cerros y los avisos llegan tarde.",
        "language": "es",
        "area": "public_safety",
        "sdgs": "11",
        "region": "Valparaíso",
        "eligible_kinds": "startup",
        "reward_amount": "20.000.000",
        "currency": "CLP",
        "criterion_name_0": "Impacto",
        "criterion_weight_0": "100",
        "timezone": "UTC",
        "opens_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
    }
    form.update(changes)
    return form


class TestChallengeReward:
    async def test_a_reward_typed_with_spanish_grouping_is_stored_in_minor_units(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        city = await make_city(client)
        async with browser(app, city.editor.user) as b:
            b.http.cookies.set("lang", "es")
            saved = await b.post("/challenges/new", **challenge_form(city.org.id))
            assert saved.status_code == 303, text_of(saved)[:2000]
            challenge = await Challenge.get(organization_id=city.org.id)
            assert (challenge.reward_amount_minor, challenge.currency) == (20_000_000, "CLP")
            edit = await b.get(f"/challenges/{challenge.id}/edit")
            assert value_of(edit, "f-reward_amount") == "20.000.000"
            assert 'inputmode="numeric"' in field_of(edit, "f-reward_amount")

    async def test_a_fraction_of_a_peso_is_refused_by_the_field_and_kept(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        city = await make_city(client)
        async with browser(app, city.editor.user) as b:
            b.http.cookies.set("lang", "es")
            form = challenge_form(city.org.id, reward_amount="20.000.000,50")
            refused = await b.post("/challenges/new", **form)
            assert refused.status_code == 422
            assert error_of(refused, "f-reward_amount").startswith("CLP")
            assert value_of(refused, "f-reward_amount") == "20.000.000,50"
            assert await Challenge.all().count() == 0

    async def test_english_grouping_and_cents_where_the_currency_has_them(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        city = await make_city(client)
        async with browser(app, city.editor.user) as b:
            form = challenge_form(city.org.id, reward_amount="€120,000.50", currency="EUR")
            saved = await b.post("/challenges/new", **form)
            assert saved.status_code == 303, text_of(saved)[:2000]
            challenge = await Challenge.get(organization_id=city.org.id)
            assert challenge.reward_amount_minor == 12_000_050


class TestApplicationBudget:
    async def test_the_apply_form_suggests_whole_pesos_in_the_viewers_language(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        _, challenge_id = await open_challenge(
            client, reward={"amount_minor": 45_000_000, "currency": "CLP"}
        )
        person = await factories.person(client)
        await factories.make_org(kind=OrganizationKind.startup, members={person.user: Role.owner})
        async with browser(app, person.user) as b:
            b.http.cookies.set("lang", "es")
            page = await b.get(f"/challenges/{challenge_id}/apply")
            assert "40000.50" not in page.text
            assert "20.000.000" in text_of(page)
            assert 'inputmode="numeric"' in field_of(page, "f-budget")

    async def test_a_budget_typed_in_spanish_is_read_and_a_cent_too_many_refused(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        _, challenge_id = await open_challenge(client)
        person = await factories.person(client)
        org = await factories.make_org(
            kind=OrganizationKind.startup, members={person.user: Role.owner}
        )
        form = {
            "organization_id": str(org.id),
            "title": "Planificador de rutas",
            "summary": "Planificamos las rutas de los autobuses con datos en vivo del tráfico.",
            "proposal": "Tres fases: datos, piloto y despliegue.",
            "team": "Cinco ingenieras.",
        }
        async with browser(app, person.user) as b:
            b.http.cookies.set("lang", "es")
            refused = await b.post(f"/challenges/{challenge_id}/apply", **form, budget="40,505")
            assert refused.status_code == 422
            assert "EUR" in error_of(refused, "f-budget")
            assert value_of(refused, "f-budget") == "40,505"
            saved = await b.post(f"/challenges/{challenge_id}/apply", **form, budget="40.000,50")
            assert saved.status_code == 303, text_of(saved)[:2000]
        assert (await Application.get(organization_id=org.id)).budget_minor == 4_000_050


class TestFunding:
    async def test_finance_records_a_transfer_typed_in_spanish(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        city, challenge_id = await open_challenge(client)
        async with browser(app, (await treasurer(client, city)).user) as b:
            b.http.cookies.set("lang", "es")
            page = await b.get(f"/challenges/{challenge_id}")
            # The reward still to fund (EUR 50,000) is offered as Spanish people write it.
            assert value_of(page, "f-amount") == "50.000,00"
            recorded = await b.post(
                f"/challenges/{challenge_id}/funding", amount="40.000,50", reference="TR-1"
            )
            assert recorded.status_code == 303, text_of(recorded)[:2000]
        assert [f.amount_minor for f in await Funding.all()] == [4_000_050]


class TestInvestorTickets:
    async def test_ticket_sizes_typed_in_portuguese(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        world = await deal(client, startups=1)
        person, org = world.partner, world.investor
        async with browser(app, person.user) as b:
            b.http.cookies.set("lang", "pt")
            saved = await b.post(
                f"/investors/{org.id}/thesis",
                sectors="mobility",
                stages="seed",
                ticket_min="250.000",
                ticket_max="1.500.000,00",
                regions="",
                text="",
            )
            assert saved.status_code == 303, text_of(saved)[:2000]
            thesis = await InvestorThesis.get(organization_id=org.id)
            assert (thesis.ticket_min_minor, thesis.ticket_max_minor) == (25_000_000, 150_000_000)
            page = await b.get(f"/investors/{org.id}/thesis")
            assert value_of(page, "f-ticket_max") == "1.500.000,00"


class TestAwardMilestones:
    async def test_award_and_milestones_typed_in_spanish_pesos(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        city, challenge_id, apps = await closed_with_applications(
            client, count=1, reward={"amount_minor": 45_000_000, "currency": "CLP"}
        )
        ((_, _, application_id),) = apps
        # One judge's scores start judging, when awards can be made.
        scorer = await judge(client, city, challenge_id)
        scored = await client.post(
            f"/api/v1/applications/{application_id}/reviews",
            json={"scores": await scores_for(challenge_id, [8, 6]), "comment": "Sólido."},
            headers=scorer.headers,
        )
        assert scored.status_code == 200, scored.text
        due = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
        form = {
            "application_id": str(application_id),
            "amount": "45.000.000",
            "rationale": "El mejor plan para los cerros, con metas medibles.",
            "milestone_title_0": "Piloto",
            "milestone_amount_0": "20.000.000",
            "milestone_due_0": due,
            "milestone_title_1": "Informe final",
            "milestone_amount_1": "25.000.000,5",
            "milestone_due_1": due,
        }
        url = f"/challenges/{challenge_id}/awards"
        async with browser(app, city.manager.user) as b:
            b.http.cookies.set("lang", "es")
            refused = await b.post(url, **form)
            assert refused.status_code == 422
            assert error_of(refused, "f-milestone_amount_1").startswith("CLP")
            assert value_of(refused, "f-milestone_amount_1") == "25.000.000,5"
            assert await Award.all().count() == 0
            saved = await b.post(url, **{**form, "milestone_amount_1": "25.000.000"})
            assert saved.status_code == 303, text_of(saved)[:2000]
        award = await Award.get(challenge_id=challenge_id)
        milestones = await Milestone.filter(award_id=award.id).order_by("position")
        assert award.amount_minor == 45_000_000
        assert [m.amount_minor for m in milestones] == [20_000_000, 25_000_000]
