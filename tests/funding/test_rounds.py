"""Funding rounds through the API: drafting, voting (eligibility, one ballot per voter that
can change until the close), the count by the worker, the secret ballot and its receipts,
a voter's share, the city's overrides, the challenge page and the open data."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pabutools.election import Cost_Sat
from pabutools.election.pabulib import parse_pabulib_from_string
from pabutools.rules import method_of_equal_shares

from service import db
from service.accounts.models import OidcIdentity
from service.audit.models import AuditEvent
from service.challenges.models import Challenge, ChallengeStatus
from service.config import Settings
from service.funding import service as funding
from service.funding.models import Ballot, FundingRound, RoundStatus
from tests import factories
from tests.challenges.factories import make_draft_challenge
from tests.funding.helpers import close, open_round, round_body, vote, web_session
from tests.funding.helpers import person as make_person


def _receipt(round_id: int, code: str) -> str:
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(f"civic-funding-round:{round_id}:{normal}".encode()).hexdigest()


async def test_a_round_from_the_vote_to_the_published_outcome(
    client: httpx.AsyncClient, settings: Settings, worker_burst: Any
) -> None:
    # Three candidates of 50 € in a 100 € round; six residents approve 1 and 2, four approve 3
    # (the instance of tests/funding/test_mes.py, in euros): equal shares fund 1 and 3,
    # greedy would fund 1 and 2.
    r = await open_round(client, settings)
    voters = [await make_person(settings) for _ in range(10)]
    receipts: dict[int, dict[str, Any]] = {}
    for k, person in enumerate(voters):
        receipts[k] = await vote(client, r, person, [0, 1] if k < 6 else [2])
    # A voter changes their mind before the close: one ballot, a new receipt.
    first = await vote(client, r, voters[9], [0])
    receipts[9] = await vote(client, r, voters[9], [2])
    assert receipts[9]["receipt"] != first["receipt"]
    mine = await client.get(
        f"/api/v1/funding-rounds/{r.round_id}/ballot", headers=voters[9].headers
    )
    assert mine.json()["candidate_ids"] == [r.candidates[2]]
    assert await Ballot.filter(round_id=r.round_id).count() == 10
    # The receipt is the hash of the round and the code given to the voter.
    for body in receipts.values():
        assert body["receipt"] == _receipt(r.round_id, body["receipt_code"])

    await close(r)
    await worker_burst()
    got = await client.get(f"/api/v1/funding-rounds/{r.round_id}")
    out = got.json()
    assert out["state"] == "counted"
    assert out["voters"] == 10
    funded = [c["funded"] for c in out["candidates"]]
    assert funded == ["shares", "", "shares"]
    assert [c["greedy"] for c in out["candidates"]] == [True, True, False]
    assert [c["equal_shares"] for c in out["candidates"]] == [True, False, False]
    assert out["base_share"] == "1000" and out["share"] == "1300"
    assert out["candidates"][0]["price"] == "2500/3"
    assert out["candidates"][2]["price"] == "1250"
    assert out["reserved_minor"] == 100_00
    # Running the count again changes nothing.
    await worker_burst()
    again = await client.get(f"/api/v1/funding-rounds/{r.round_id}")
    assert again.json() == out

    # Secret ballot: no account, no time, rows rewritten in receipt order.
    sealed = await Ballot.filter(round_id=r.round_id).order_by("id")
    assert len(sealed) == 10
    assert all(b.voter_id is None and b.cast_at is None for b in sealed)
    assert [b.receipt for b in sealed] == sorted(b.receipt for b in sealed)
    gone = await client.get(
        f"/api/v1/funding-rounds/{r.round_id}/ballot", headers=voters[9].headers
    )
    assert gone.status_code == 404
    # Each receipt verifies against the published ballots.
    page = await client.get(f"/funding/rounds/{r.round_id}/ballots.csv")
    published = {
        row["receipt"]: row["candidate_ids"] for row in csv.DictReader(io.StringIO(page.text))
    }
    for k, body in receipts.items():
        picks = [r.candidates[j] for j in ([0, 1] if k < 6 else [2])]
        assert published[_receipt(r.round_id, body["receipt_code"])] == " ".join(map(str, picks))
    assert first["receipt"] not in published

    # A voter's share, found by their code (dashes and case do not matter).
    code = receipts[0]["receipt_code"].lower().replace("-", " ")
    share = await client.post(
        f"/api/v1/funding-rounds/{r.round_id}/share", json={"receipt_code": code}
    )
    assert share.status_code == 200, share.text
    assert share.json()["share"] == "1300"
    assert share.json()["payments"] == [
        {"candidate_id": r.candidates[0], "title": "Challenge 1", "amount": "2500/3"}
    ]
    minority = await client.post(
        f"/api/v1/funding-rounds/{r.round_id}/share",
        json={"receipt_code": receipts[7]["receipt_code"]},
    )
    assert minority.json()["payments"][0]["amount"] == "1250"
    unknown = await client.post(
        f"/api/v1/funding-rounds/{r.round_id}/share", json={"receipt_code": "AAAA-BBBB-CCCC"}
    )
    assert unknown.status_code == 404

    # Funded challenges stay drafts with their money reserved; their page says why.
    challenge = await Challenge.get(id=r.challenges[0])
    assert challenge.status is ChallengeStatus.draft
    page = await client.get(f"/challenges/{r.challenges[0]}", headers=r.city.manager.headers)
    # Open data: the .pb file runs again in pabutools to the same funded set.
    pb = await client.get(f"/funding/rounds/{r.round_id}/round.pb")
    assert pb.status_code == 200
    instance, profile = parse_pabulib_from_string(pb.text)
    assert instance.budget_limit == 100
    again_funded = method_of_equal_shares(instance, profile, sat_class=Cost_Sat)
    assert sorted(int(p.name) for p in again_funded) == [r.candidates[0]]
    outcome = await client.get(f"/funding/rounds/{r.round_id}/outcome.csv")
    rows = list(csv.DictReader(io.StringIO(outcome.text)))
    assert [row["funded"] for row in rows] == ["shares", "no", "shares"]
    await web_session(client, r.city.manager.user)
    page = await client.get(f"/challenges/{r.challenges[0]}")
    assert page.status_code == 200
    assert "Funded by the shares of 6 supporters, each paying €8.33." in page.text
    unfunded = await client.get(f"/challenges/{r.challenges[1]}")
    assert "Funded by the shares" not in unfunded.text


async def test_who_may_vote_and_what_a_ballot_may_hold(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    r = await open_round(client, settings, max_approvals=2, require_oidc=True)
    url = f"/api/v1/funding-rounds/{r.round_id}/ballot"
    unverified = await make_person(settings, verified=False)
    resident = await make_person(settings)
    cases: list[tuple[factories.Person, dict[str, Any], int, str]] = [
        (
            unverified,
            {"candidate_ids": [r.candidates[0]], "resident": True},
            403,
            "EmailNotVerified",
        ),
        (
            resident,
            {"candidate_ids": [r.candidates[0]], "resident": True},
            403,
            "CityIdentityRequired",
        ),
    ]
    for person, body, status, code in cases:
        got = await client.put(url, json=body, headers=person.headers)
        assert (got.status_code, got.json()["error"]) == (status, code), got.text
    async with db.transaction(None):
        await OidcIdentity.create(
            user=resident.user, issuer="https://id.city.example", subject="42"
        )
    wrong: list[tuple[dict[str, Any], str]] = [
        ({"candidate_ids": [r.candidates[0]], "resident": False}, "resident"),
        ({"candidate_ids": r.candidates, "resident": True}, "candidate_ids"),
        ({"candidate_ids": [r.candidates[0], r.candidates[0]], "resident": True}, "candidate_ids"),
        ({"candidate_ids": [999_999], "resident": True}, "candidate_ids"),
    ]
    for body, field in wrong:
        got = await client.put(url, json=body, headers=resident.headers)
        assert got.status_code == 422, got.text
        assert field in got.json()["fields"], got.text
    assert await Ballot.filter(round_id=r.round_id).count() == 0
    ok = await client.put(
        url, json={"candidate_ids": r.candidates[:2], "resident": True}, headers=resident.headers
    )
    assert ok.status_code == 200, ok.text
    # After the close, nobody votes.
    await close(r)
    late = await client.put(
        url, json={"candidate_ids": r.candidates[:1], "resident": True}, headers=resident.headers
    )
    assert late.status_code == 409
    assert (await Ballot.get(round_id=r.round_id)).choices == sorted(r.candidates[:2])


async def test_drafting_refuses_what_is_not_a_draft_of_the_city(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    r = await open_round(client, settings)
    other = await factories.make_org(kind=factories.OrganizationKind.government, name="Other")
    async with db.transaction(None):
        foreign = await make_draft_challenge(other)
        published = await make_draft_challenge(r.city.org, status=ChallengeStatus.published)
        dollars = await make_draft_challenge(r.city.org, currency="USD")
    before = await FundingRound.all().count()
    for ids in ([foreign.id], [published.id], [dollars.id]):
        body = round_body(r.city, ids)
        got = await client.post("/api/v1/funding-rounds", json=body, headers=r.city.manager.headers)
        assert got.status_code == 422, got.text
        assert "challenge_ids" in got.json()["fields"]
    late = round_body(
        r.city,
        r.challenges,
        closes_at=datetime.now(UTC).isoformat(),
        opens_at=(datetime.now(UTC) - timedelta(days=1)).isoformat(),
    )
    got = await client.post("/api/v1/funding-rounds", json=late, headers=r.city.manager.headers)
    assert got.status_code == 201
    refused = await client.post(
        f"/api/v1/funding-rounds/{got.json()['id']}/publish", headers=r.city.manager.headers
    )
    assert refused.status_code == 422
    assert await FundingRound.all().count() == before + 1
    assert (await FundingRound.get(id=got.json()["id"])).status is RoundStatus.draft


async def test_the_city_overrides_only_with_a_public_reason(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    r = await open_round(client, settings, costs=(60_00, 30_00, 20_00))
    people = [await make_person(settings) for _ in range(3)]
    for person in people:
        await vote(client, r, person, [0, 1])
    await close(r)
    async with db.transaction(None):
        assert await funding.count(r.round_id, now=datetime.now(UTC))
    out = (await client.get(f"/api/v1/funding-rounds/{r.round_id}")).json()
    assert [c["funded"] for c in out["candidates"]] == ["shares", "shares", ""]
    base = f"/api/v1/funding-rounds/{r.round_id}/candidates"
    headers = r.city.manager.headers
    short = await client.post(
        f"{base}/{r.candidates[2]}/override",
        json={"action": "fund", "reason": "ok"},
        headers=headers,
    )
    assert short.status_code == 422
    over = await client.post(
        f"{base}/{r.candidates[2]}/override",
        json={"action": "fund", "reason": "The school asked for it twice."},
        headers=headers,
    )
    assert over.status_code == 422 and over.json()["error"] == "OverBudget"
    dropped = await client.post(
        f"{base}/{r.candidates[1]}/override",
        json={"action": "drop", "reason": "The supplier market does not exist yet."},
        headers=headers,
    )
    assert dropped.status_code == 200, dropped.text
    funded = await client.post(
        f"{base}/{r.candidates[2]}/override",
        json={"action": "fund", "reason": "The school asked for it twice."},
        headers=headers,
    )
    assert funded.status_code == 200, funded.text
    assert funded.json()["funded"] == "override"
    twice = await client.post(
        f"{base}/{r.candidates[2]}/override",
        json={"action": "fund", "reason": "The school asked for it twice."},
        headers=headers,
    )
    assert twice.status_code == 409
    citizen = await client.post(
        f"{base}/{r.candidates[0]}/override",
        json={"action": "drop", "reason": "I do not like this one."},
        headers=people[0].headers,
    )
    assert citizen.status_code == 404
    events = await AuditEvent.filter(action__startswith="funding.override").order_by("id")
    assert [e.action for e in events] == ["funding.override.drop", "funding.override.fund"]
    assert events[0].details["reason"] == "The supplier market does not exist yet."
    page = await client.get(f"/funding/rounds/{r.round_id}")
    assert "The supplier market does not exist yet." in page.text
    final = (await client.get(f"/api/v1/funding-rounds/{r.round_id}")).json()
    assert final["reserved_minor"] == 80_00
