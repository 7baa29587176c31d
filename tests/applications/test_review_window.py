"""Judges see the review forms only while reviews are taken, and a sentence saying when they
open, or that scoring is closed: nobody fills a whole review that saving would refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette

from service import db
from service.applications.models import Review
from service.challenges.models import Challenge, ChallengeStatus
from tests.challenges.test_applications import applicant, draft, open_challenge
from tests.challenges.test_judging_awards import closed_with_applications, judge, scores_for
from tests.rewards.test_pages import browser, text_of

SCORE_FORM = 'name="score_'


class TestWhileOpen:
    async def test_a_judge_may_declare_but_sees_no_score_form(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        person, org_id = await applicant(client)
        app_id = (await draft(client, challenge_id, person, org_id)).json()["id"]
        submitted = await client.post(
            f"/api/v1/applications/{app_id}/submit", headers=person.headers
        )
        assert submitted.status_code == 200, submitted.text
        j = await judge(client, city, challenge_id)
        async with browser(app, j.user) as web:
            judging = text_of(await web.get(f"/judging/{challenge_id}"))
            assert "Scoring opens on" in judging and "Until then you can declare" in judging
            assert "You can revise your scores" not in judging
            page = await web.get(f"/applications/{app_id}/review")
            assert "I have no conflict of interest" in page.text
            declared = await web.post(f"/applications/{app_id}/review", declaration="none")
            assert declared.status_code == 303, declared.text
            page = await web.get(f"/applications/{app_id}/review")
            assert page.status_code == 200
            # No score form to fill in vain: the sentence says when scoring opens instead.
            assert SCORE_FORM not in page.text
            assert "Save the scores" not in page.text
            assert "Scoring opens on" in text_of(page)
            # A conflict can still be declared while open.
            assert 'value="conflict"' in page.text
            # Forcing scores in is refused, as before, and changes nothing.
            forced = await web.post(
                f"/applications/{app_id}/review",
                **{f"score_{k}": "7" for k in await scores_for(challenge_id, [7, 7])},
            )
            assert forced.status_code == 409
        review = await Review.get(application_id=app_id)
        assert review.scores == {} and not review.conflict_of_interest


class TestAfterJudging:
    async def test_the_pages_say_scoring_is_closed_and_offer_no_form(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, apps = await closed_with_applications(client, count=1)
        j = await judge(client, city, challenge_id)
        app_id = apps[0][2]
        scored = await client.post(
            f"/api/v1/applications/{app_id}/reviews",
            json={"scores": await scores_for(challenge_id, [8, 6]), "comment": "Solid."},
            headers=j.headers,
        )
        assert scored.status_code == 200, scored.text
        async with browser(app, j.user) as web:
            judging = text_of(await web.get(f"/judging/{challenge_id}"))
            assert "You can revise your scores until then." in judging
            assert SCORE_FORM in (await web.get(f"/applications/{app_id}/review")).text
            async with db.transaction(None):
                await Challenge.filter(id=challenge_id).update(
                    judging_ends_at=datetime.now(UTC) - timedelta(minutes=1)
                )
            judging = text_of(await web.get(f"/judging/{challenge_id}"))
            assert "Judging ended on" in judging and "scoring is closed." in judging
            assert "You can revise your scores" not in judging
            page = await web.get(f"/applications/{app_id}/review")
            assert SCORE_FORM not in page.text and "Save the scores" not in page.text
            text = text_of(page)
            assert "Judging ended on" in text and "Revise your scores" not in text
            # The scores given stay readable.
            assert "Solid." in text
            # The award moves the challenge on: the sentence says so.
            async with db.transaction(None):
                await Challenge.filter(id=challenge_id).update(status=ChallengeStatus.awarded)
            judging = text_of(await web.get(f"/judging/{challenge_id}"))
            assert "Scoring is closed: the city has decided the awards." in judging
        api = await client.get(f"/api/v1/challenges/{challenge_id}/judging", headers=j.headers)
        assert api.json()["window"] == "ended"
