"""A citizens' panel through the API and pages: opened with quotas, volunteers kept private,
drawn by the real job (quotas met, the draw published and checkable), refused when a quota
cannot be met, scoring the finalists with a published share (hand-computed), a member's seat
re-drawn, a stipend paid once from escrow through the ledger, sessions and a recommendation.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from babel.support import NullTranslations
from starlette.applications import Starlette

from service import db
from service.accounts.models import Organization
from service.challenges import service as challenges_service
from service.challenges.models import Challenge
from service.core import i18n
from service.panels import draw, tasks
from service.panels import service as panels_service
from service.panels.models import Panel, PanelSession, Volunteer
from service.rewards.models import LedgerTransaction
from tests import factories
from tests.challenges.test_applications import applicant, draft, open_challenge
from tests.challenges.test_judging_awards import judge, scores_for
from tests.rewards.helpers import fund

FEATURES = [
    {
        "name": "age",
        "values": [{"value": "16-39", "min": 2, "max": 3}, {"value": "40+", "min": 1, "max": 2}],
    },
    {
        "name": "gender",
        "values": [{"value": "woman", "min": 2, "max": 2}, {"value": "man", "min": 2, "max": 2}],
    },
]


def panel_body(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "size": 4,
        "features": FEATURES,
        "recruitment_opens_at": (now - timedelta(hours=1)).isoformat(),
        "recruitment_closes_at": (now + timedelta(hours=1)).isoformat(),
        "stipend_minor": 5_000,
        "score_share_pct": 30,
    }
    body.update(changes)
    return body


async def submitted(client: httpx.AsyncClient, challenge_id: int) -> int:
    person, org = await applicant(client)
    app_id = (await draft(client, challenge_id, person, org)).json()["id"]
    response = await client.post(f"/api/v1/applications/{app_id}/submit", headers=person.headers)
    assert response.status_code == 200, response.text
    return int(app_id)


async def close_recruitment(panel_id: int) -> None:
    async with db.transaction(None):
        await Panel.filter(id=panel_id).update(
            recruitment_closes_at=datetime.now(UTC) - timedelta(seconds=1)
        )


class TestPanel:
    async def test_open_volunteer_draw_score_replace_and_pay(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        app_a = await submitted(client, challenge_id)
        app_b = await submitted(client, challenge_id)
        await fund(client, city, challenge_id, 12_000)
        url = f"/api/v1/challenges/{challenge_id}/panel"

        # Bad input is refused with the field named, and an editor may not open a panel.
        bad = panel_body(features=[{"name": "age", "values": [{"value": "a", "min": 3, "max": 1}]}])
        assert (await client.post(url, json=bad, headers=city.manager.headers)).status_code == 422
        short = panel_body(
            features=[
                {
                    "name": "age",
                    "values": [
                        {"value": "a", "min": 0, "max": 1},
                        {"value": "b", "min": 0, "max": 1},
                    ],
                }
            ]
        )
        refused = await client.post(url, json=short, headers=city.manager.headers)
        assert refused.status_code == 422 and "features" in refused.json()["fields"]
        editor = await client.post(url, json=panel_body(), headers=city.editor.headers)
        assert editor.status_code == 403
        opened = await client.post(url, json=panel_body(), headers=city.manager.headers)
        assert opened.status_code == 201, opened.text
        panel_id = opened.json()["id"]
        again = await client.post(url, json=panel_body(), headers=city.manager.headers)
        assert again.status_code == 409
        base = f"/api/v1/panels/{panel_id}"

        # Ten volunteers; what they declare stays private.
        rng = random.Random(3)
        people = []
        for n in range(10):
            person = await factories.person(client)
            declared = {
                "age": "16-39" if n % 3 else "40+",
                "gender": "woman" if n % 2 else "man",
            }
            response = await client.post(
                f"{base}/volunteers",
                json={
                    "features": declared,
                    "first_name": f"Ana{n}",
                    "show_name": rng.random() < 0.5,
                },
                headers=person.headers,
            )
            assert response.status_code == 201, response.text
            people.append(person)
        twice = await client.post(
            f"{base}/volunteers",
            json={"features": {"age": "40+", "gender": "man"}},
            headers=people[0].headers,
        )
        assert twice.status_code == 409
        stranger = await factories.person(client)
        wrong = await client.post(
            f"{base}/volunteers",
            json={"features": {"age": "99", "gender": "man"}},
            headers=stranger.headers,
        )
        assert wrong.status_code == 422 and "features.age" in wrong.json()["fields"]
        public = await client.get(base)
        assert public.status_code == 200
        assert public.json()["pool_counts"] == {
            "age": {"16-39": 6, "40+": 4},
            "gender": {"woman": 5, "man": 5},
        }
        assert "Ana1" not in public.text and "features" not in public.json()["members"]
        assert (
            await client.get(f"{base}/volunteers", headers=people[0].headers)
        ).status_code == 404
        pool = await client.get(f"{base}/volunteers", headers=city.editor.headers)
        assert len(pool.json()["items"]) == 10 and pool.json()["items"][0]["features"]

        # The draw waits for the end of recruitment; then quotas no panel meets are refused
        # with the value that is short, and nothing changes.
        early = await client.post(f"{base}/draw", headers=city.editor.headers)
        assert early.status_code == 409
        await close_recruitment(panel_id)
        async with db.transaction(None):
            impossible = [dict(f) for f in FEATURES]
            impossible[0] = {
                "name": "age",
                "values": [
                    {"value": "16-39", "min": 0, "max": 4},
                    {"value": "40+", "min": 5, "max": 6},
                ],
            }
            await Panel.filter(id=panel_id).update(features=impossible)
        refused = await client.post(f"{base}/draw", headers=city.editor.headers)
        assert refused.status_code == 422, refused.text
        assert "40+" in refused.json()["detail"] and "5" in refused.json()["detail"]
        assert (await Panel.get(id=panel_id)).status.value == "recruiting"
        async with db.transaction(None):
            await Panel.filter(id=panel_id).update(features=FEATURES)

        started = await client.post(f"{base}/draw", headers=city.editor.headers)
        assert started.status_code == 202, started.text
        assert started.json()["status"] == "drawing"
        assert await tasks.draw_panel(app.state.deps, panel_id=panel_id) == "drawn"
        assert await tasks.draw_panel(app.state.deps, panel_id=panel_id) == "skipped"
        body = (await client.get(base)).json()
        assert body["status"] == "drawn" and len(body["members"]) == 4
        published = body["draw"]
        probabilities = published["probabilities"]
        assert len(probabilities) == 10 and len(published["drawn"]) == 4
        assert abs(min(probabilities.values()) - published["maximin"]) < 1e-6
        assert abs(sum(probabilities.values()) - 4) < 1e-6
        # Anyone can redo the lottery from what is published.
        redo = draw.Distribution(
            portfolio=[(tuple(p["members"]), p["probability"]) for p in published["portfolio"]],
            maximin=published["maximin"],
        )
        assert draw.draw(redo, int(published["seed"])) == published["drawn"]
        rows = await Volunteer.filter(panel_id=panel_id, status="member")
        declared_by_id = {v.id: v.features for v in await Volunteer.filter(panel_id=panel_id)}
        quotas = (await Panel.get(id=panel_id)).quotas()
        assert draw.meets(quotas, declared_by_id, [v.id for v in rows]) == []
        member_ids = {v.user_id for v in rows}
        members = [p for p in people if p.user.id in member_ids]
        outsider = next(p for p in people if p.user.id not in member_ids)

        # The panel on the jury: a judge and two members score; hand-computed combination.
        async with db.transaction(None):
            await Challenge.filter(id=challenge_id).update(
                closes_at=datetime.now(UTC) - timedelta(seconds=1)
            )
            await challenges_service.advance_all(now=datetime.now(UTC))
        expert = await judge(client, city, challenge_id)
        for app_id, values in ((app_a, [8, 6]), (app_b, [5, 10])):
            review = await client.post(
                f"/api/v1/applications/{app_id}/reviews",
                json={"scores": await scores_for(challenge_id, values), "comment": "ok"},
                headers=expert.headers,
            )
            assert review.status_code in (200, 201), review.text
        criteria = list((await scores_for(challenge_id, [0, 0])).keys())

        async def member_scores(
            person: factories.Person, app_id: int, values: list[int] | None
        ) -> httpx.Response:
            payload: dict[str, Any] = {"application_id": app_id}
            if values is None:
                payload["conflict_of_interest"] = True
            else:
                payload["scores"] = dict(zip(criteria, values, strict=True))
            return await client.post(f"{base}/scores", json=payload, headers=person.headers)

        assert (await member_scores(outsider, app_a, [1, 1])).status_code == 404
        assert (await member_scores(members[0], app_a, [4, 11])).status_code == 422
        for person, app_id, values in (
            (members[0], app_a, [4, 6]),
            (members[0], app_b, [9, 9]),
            (members[1], app_a, [6, 4]),
            (members[1], app_b, None),
        ):
            response = await member_scores(person, app_id, values)
            assert response.status_code == 200, response.text
        assert (await member_scores(members[1], app_b, [9, 9])).status_code == 409
        # Experts: A 0.6*8+0.4*6 = 7.2, B 0.6*5+0.4*10 = 7.0. Panel: A (4.8+5.2)/2 = 5.0,
        # B 9.0 (the other member declared a conflict). 30 %: A 0.7*7.2+0.3*5 = 6.54,
        # B 0.7*7+0.3*9 = 7.6: the panel turns the order round.
        ranking = await client.get(f"{base}/ranking", headers=city.manager.headers)
        assert ranking.status_code == 200, ranking.text
        items = ranking.json()["items"]
        assert [(i["application_id"], i["experts"], i["panel"], i["combined"]) for i in items] == [
            (app_b, 7.0, 9.0, 7.6),
            (app_a, 7.2, 5.0, 6.54),
        ]
        await factories.web_signin(client, city.manager.user)
        page = await client.get(f"/panels/{panel_id}/ranking")
        assert page.status_code == 200
        for text in ("7.60", "6.54", "9.00", "5.00", "7.20", "7.00", "70% of the experts"):
            assert text in page.text, text

        # A member withdraws: the seat is re-drawn the same way, quotas still met.
        leaving = next(v for v in rows if v.user_id == members[2].user.id)
        out = await client.post(
            f"{base}/volunteers/{leaving.id}/withdraw", headers=city.editor.headers
        )
        assert out.status_code == 200, out.text
        seed = (await Panel.get(id=panel_id)).draw["replacements"]
        assert seed == []
        event = [e for e in (await client.get(base)).json()["audit"] if e["kind"] == "withdrawn"]
        replacement_seed = event[0]["detail"]["replacement_seed"]
        assert (
            await tasks.replace_member(
                app.state.deps, panel_id=panel_id, seat=leaving.seat or 0, seed=replacement_seed
            )
            == "replaced"
        )
        assert (
            await tasks.replace_member(
                app.state.deps, panel_id=panel_id, seat=leaving.seat or 0, seed=replacement_seed
            )
            == "skipped"
        )
        seated = await Volunteer.filter(panel_id=panel_id, status="member")
        assert len(seated) == 4 and leaving.id not in {v.id for v in seated}
        assert draw.meets(quotas, declared_by_id, [v.id for v in seated]) == []
        assert len((await Panel.get(id=panel_id)).draw["replacements"]) == 1

        # Stipends: once each, from escrow, through the ledger; escrow short is refused.
        first = seated[0]
        for _ in range(2):
            paid = await client.post(
                f"{base}/volunteers/{first.id}/stipend",
                json={"reference": "TR-PANEL-1"},
                headers=city.editor.headers,
            )
            assert paid.status_code == 201, paid.text
        assert await LedgerTransaction.filter(key=f"panel-stipend:{first.id}").count() == 1
        async with db.transaction(None):
            await Panel.filter(id=panel_id).update(stipend_minor=50_000)
        broke = await client.post(
            f"{base}/volunteers/{seated[1].id}/stipend",
            json={"reference": "TR-PANEL-2"},
            headers=city.editor.headers,
        )
        assert broke.status_code == 409
        assert await LedgerTransaction.filter(key=f"panel-stipend:{seated[1].id}").count() == 0
        ledger = await client.get(f"/api/v1/challenges/{challenge_id}/ledger")
        lines = [i for i in ledger.json()["items"] if i["kind"] == "payout"]
        assert [(i["amount_minor"], i["counterpart_organization_id"]) for i in lines] == [
            (5_000, None)
        ]
        assert ledger.json()["totals"][0]["paid_minor"] == 5_000

        # Sessions and the recommendation, on the public page.
        session = await client.post(
            f"{base}/sessions",
            json={
                "starts_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
                "place": "Town hall",
            },
            headers=city.editor.headers,
        )
        assert session.status_code == 201
        rec = await client.post(
            f"{base}/recommendation",
            json={"text": "Pilot the quieter buses in the north first."},
            headers=city.editor.headers,
        )
        assert rec.status_code == 200
        anonymous = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        async with anonymous:
            page = await anonymous.get(f"/panels/{panel_id}")
        assert page.status_code == 200
        for text in ("Town hall", "Pilot the quieter buses", published["seed"], "Stipends paid"):
            assert text in page.text, text
        names = [v for v in seated if not v.show_name]
        if names:
            assert f"Member {names[0].seat}" in page.text
        assert "16-39" in page.text  # the quotas and counts, never who declared what


class SpanishMarked(NullTranslations):
    """Stands in for the Spanish catalog: every message marked, so a test sees which
    language a message was built in (the catalogs are translated separately)."""

    def gettext(self, message: str) -> str:
        return f"«es» {message}"


class TestRefusedByTheSolver:
    async def test_refusals_are_kept_as_facts_and_told_in_the_readers_language(
        self, app: Starlette, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        original = i18n.translations
        monkeypatch.setattr(
            i18n, "translations", lambda lang: SpanishMarked() if lang == "es" else original(lang)
        )
        city, challenge_id = await open_challenge(client)
        # Each feature can be met alone; together they cannot: both women are young, so two
        # women and one person over 40 never sit on the same panel of two.
        joint = [
            {
                "name": "age",
                "values": [
                    {"value": "16-39", "min": 1, "max": 1},
                    {"value": "40+", "min": 1, "max": 1},
                ],
            },
            {
                "name": "gender",
                "values": [
                    {"value": "woman", "min": 2, "max": 2},
                    {"value": "man", "min": 0, "max": 0},
                ],
            },
        ]
        opened = await client.post(
            f"/api/v1/challenges/{challenge_id}/panel",
            json=panel_body(size=2, features=joint),
            headers=city.manager.headers,
        )
        assert opened.status_code == 201, opened.text
        panel_id = opened.json()["id"]
        base = f"/api/v1/panels/{panel_id}"
        ids = []
        for age, gender in (("16-39", "woman"),) * 2 + (("40+", "man"),) * 2:
            person = await factories.person(client)
            response = await client.post(
                f"{base}/volunteers",
                json={"features": {"age": age, "gender": gender}},
                headers=person.headers,
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        await close_recruitment(panel_id)

        started = await client.post(f"{base}/draw", headers=city.editor.headers)
        assert started.status_code == 202, started.text
        assert await tasks.draw_panel(app.state.deps, panel_id=panel_id) == "refused"
        panel = await Panel.get(id=panel_id)
        assert panel.status.value == "recruiting"
        assert await Volunteer.filter(panel_id=panel_id, status="member").count() == 0
        # Kept as what falls short, so each reader gets it in their own language.
        kept = json.loads(panel.draw_error)
        assert kept["kind"] in {"joint_min", "joint_max"} and kept["feature"]
        english = (await client.get(base)).json()
        spanish = (await client.get(base, headers={"Accept-Language": "es"})).json()
        assert english["draw_error"].startswith(kept["feature"])
        assert kept["value"] in english["draw_error"]
        assert spanish["draw_error"].startswith("«es» ") and kept["value"] in spanish["draw_error"]
        reasons = [e["detail"]["reason"] for e in spanish["audit"] if e["kind"] == "draw_refused"]
        assert reasons == [spanish["draw_error"]]

        # With quotas a panel can meet, the panel is drawn; a seat nobody left can fill within
        # the quotas is refused the same way and shown to the staff.
        async with db.transaction(None):
            await Panel.filter(id=panel_id).update(
                features=[
                    {**joint[0]},
                    {
                        "name": "gender",
                        "values": [
                            {"value": "woman", "min": 1, "max": 1},
                            {"value": "man", "min": 1, "max": 1},
                        ],
                    },
                ]
            )
        assert (await client.post(f"{base}/draw", headers=city.editor.headers)).status_code == 202
        assert await tasks.draw_panel(app.state.deps, panel_id=panel_id) == "drawn"
        assert (await Panel.get(id=panel_id)).draw_error == ""
        men = [v for v in await Volunteer.filter(id__in=ids) if v.features["gender"] == "man"]
        seated = next(v for v in men if v.status.value == "member")
        waiting = next(v for v in men if v.status.value == "pool")
        for v in (waiting, seated):
            out = await client.post(
                f"{base}/volunteers/{v.id}/withdraw", headers=city.editor.headers
            )
            assert out.status_code == 200, out.text
        audit = (await client.get(base)).json()["audit"]
        seed = next(e for e in audit if e["kind"] == "withdrawn")["detail"]["replacement_seed"]
        assert (
            await tasks.replace_member(
                app.state.deps, panel_id=panel_id, seat=seated.seat or 0, seed=seed
            )
            == "refused"
        )
        assert await Volunteer.filter(panel_id=panel_id, status="member").count() == 1
        body = (await client.get(base)).json()
        assert "40+" in body["draw_error"]
        assert [
            e["detail"]["seat"] for e in body["audit"] if e["kind"] == "replacement_refused"
        ] == [seated.seat]
        await factories.web_signin(client, city.editor.user)
        page = await client.get(f"/panels/{panel_id}")
        assert body["draw_error"] in page.text.replace("&#43;", "+")
        assert "Seat not re-drawn" in page.text


class TestCensusQuotas:
    async def test_quotas_come_from_the_census_shares_the_city_enters(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        url = f"/api/v1/challenges/{challenge_id}/panel"

        def census(*values: dict[str, Any]) -> dict[str, Any]:
            return panel_body(size=10, features=[{"name": "age", "values": list(values)}])

        # A value with neither a minimum and maximum nor a census share, shares that do not add
        # up to 100 % and shares given for only some values are refused; nothing is opened.
        for body in (
            census({"value": "16-39", "census_pct": 45}, {"value": "40+"}),
            census({"value": "16-39", "census_pct": 45}, {"value": "40+", "census_pct": 45}),
            census({"value": "16-39", "census_pct": 45}, {"value": "40+", "min": 5, "max": 6}),
        ):
            refused = await client.post(url, json=body, headers=city.manager.headers)
            assert refused.status_code == 422, refused.text
            assert "age" in refused.json()["fields"]["features"]
        assert not await Panel.exists(challenge_id=challenge_id)

        # 45 % of 10 seats is 4.5: at least 4, at most 5; a minimum the city gives is kept.
        opened = await client.post(
            url,
            json=census(
                {"value": "16-39", "census_pct": 45},
                {"value": "40+", "census_pct": 55, "min": 6},
            ),
            headers=city.manager.headers,
        )
        assert opened.status_code == 201, opened.text
        assert opened.json()["quotas"] == [
            {
                "name": "age",
                "values": [
                    {"value": "16-39", "census_pct": 45, "min": 4, "max": 5},
                    {"value": "40+", "census_pct": 55, "min": 6, "max": 6},
                ],
            }
        ]
        page = await client.get(f"/panels/{opened.json()['id']}")
        assert "Census share" in page.text and "55 %" in page.text


def test_a_whole_number_of_seats_is_the_quota_both_ways() -> None:
    assert panels_service.census_seats(25, 40) == (10, 10)
    assert panels_service.census_seats(12.5, 12) == (1, 2)
    assert panels_service.census_seats(0, 12) == (0, 0)


class TestStaffForms:
    async def test_staff_add_sessions_and_publish_the_recommendation_on_the_page(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        opened = await client.post(
            f"/api/v1/challenges/{challenge_id}/panel",
            json=panel_body(),
            headers=city.manager.headers,
        )
        panel_id = opened.json()["id"]
        async with db.transaction(None):
            await Panel.filter(id=panel_id).update(status="drawn")
            await Organization.filter(id=city.org.id).update(time_zone="America/Santiago")
        url = f"/panels/{panel_id}"
        csrf = await factories.web_signin(client, city.editor.user)
        page = await client.get(url)
        assert "Add a session" in page.text and "Publish the recommendation" in page.text

        # Bad input: the page again with the field's error and what was typed; nothing saved.
        for form, field_error in (
            ({"starts_at": "next tuesday", "place": "Library"}, "Enter a date and time."),
            ({"starts_at": "2027-01-15T18:30", "place": "  "}, "Say where the session"),
        ):
            refused = await client.post(f"{url}/sessions", data={"csrf_token": csrf, **form})
            assert refused.status_code == 422, refused.text
            assert field_error in refused.text and 'aria-invalid="true"' in refused.text
            assert form["starts_at"] in refused.text
        assert await PanelSession.filter(panel_id=panel_id).count() == 0
        short = await client.post(
            f"{url}/recommendation", data={"csrf_token": csrf, "text": "Too short"}
        )
        assert short.status_code == 422 and "at least 10 characters" in short.text
        assert (await Panel.get(id=panel_id)).recommendation == ""

        # In the city's time: 18:30 in Santiago's summer (UTC-3) is 21:30 UTC.
        added = await client.post(
            f"{url}/sessions",
            data={"csrf_token": csrf, "starts_at": "2027-01-15T18:30", "place": "Library"},
        )
        assert added.status_code == 303, added.text
        (session,) = await PanelSession.filter(panel_id=panel_id)
        assert session.starts_at == datetime(2027, 1, 15, 21, 30, tzinfo=UTC)
        assert session.place == "Library"
        text = "Pilot the quieter buses on the night lines first."
        published = await client.post(
            f"{url}/recommendation", data={"csrf_token": csrf, "text": text}
        )
        assert published.status_code == 303, published.text
        page = await client.get(url)
        assert text in page.text and "Library" in page.text

    async def test_staff_record_stipends_and_withdrawals_on_the_page(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        await fund(client, city, challenge_id, 12_000)
        opened = await client.post(
            f"/api/v1/challenges/{challenge_id}/panel",
            json=panel_body(),
            headers=city.manager.headers,
        )
        panel_id = opened.json()["id"]
        seated = []
        async with db.transaction(None):
            await Panel.filter(id=panel_id).update(status="drawn")
            for seat in (1, 2):
                person = await factories.person(client)
                seated.append(
                    await Volunteer.create(
                        panel_id=panel_id,
                        user_id=person.user.id,
                        features={"age": "40+", "gender": "man"},
                        status="member",
                        seat=seat,
                    )
                )
        url = f"/panels/{panel_id}"
        csrf = await factories.web_signin(client, city.editor.user)
        first, second = seated
        stipend = f"{url}/volunteers/{first.id}/stipend"

        blank = await client.post(stipend, data={"csrf_token": csrf, "reference": " "})
        assert blank.status_code == 422 and "bank transfer&#39;s reference" in blank.text
        assert await LedgerTransaction.filter(key=f"panel-stipend:{first.id}").count() == 0
        for _ in range(2):
            paid = await client.post(stipend, data={"csrf_token": csrf, "reference": "TR-7"})
            assert paid.status_code == 303, paid.text
        assert await LedgerTransaction.filter(key=f"panel-stipend:{first.id}").count() == 1
        page = await client.get(url)
        assert page.text.count("Record the stipend paid") == 1  # the second member only

        left = await client.post(
            f"{url}/volunteers/{second.id}/withdraw", data={"csrf_token": csrf}
        )
        assert left.status_code == 303, left.text
        assert (await Volunteer.get(id=second.id)).status.value == "withdrawn"
        again = await client.post(
            f"{url}/volunteers/{second.id}/withdraw", data={"csrf_token": csrf}
        )
        assert again.status_code == 409 and "Already withdrawn" in again.text
        page = await client.get(url)
        assert "A member withdrew" in page.text
        assert page.text.count('Withdraw<span class="visually-hidden">') == 1
