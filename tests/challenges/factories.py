"""Challenge test data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from service.accounts.models import Organization
from service.challenges.models import Challenge, ChallengeStatus, Criterion

CRITERIA = [{"name": "Impact", "weight": 60}, {"name": "Cost", "weight": 40}]


def challenge_body(org: Organization, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "organization_id": org.id,
        "title": "Cut school-bus delays",
        "summary": "Help school buses arrive on time in the north district.",
        "problem_statement": "Buses are late on two mornings out of five because of traffic.",
        "language": "en",
        "area": "mobility",
        "sdgs": [11, 4],
        "region": "North",
        "eligible_kinds": ["startup", "university"],
        "eligible_regions": [],
        "reward": {"amount_minor": 5_000_000, "currency": "EUR"},
        "criteria": CRITERIA,
        "opens_at": (now + timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
    }
    body.update(overrides)
    return body


async def make_draft_challenge(org: Organization, **fields: Any) -> Challenge:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "title": "Cut school-bus delays",
        "summary": "Help school buses arrive on time.",
        "problem_statement": "Buses are late on two mornings out of five.",
        "area": "mobility",
        "sdgs": [11],
        "region": org.region,
        "eligible_kinds": ["startup"],
        "reward_amount_minor": 1_000_000,
        "currency": "EUR",
        "opens_at": now + timedelta(days=1),
        "closes_at": now + timedelta(days=30),
        "judging_ends_at": now + timedelta(days=60),
        "status": ChallengeStatus.draft,
        "search_text": "cut school-bus delays",
    }
    values.update(fields)
    if values["currency"] == "EUR":
        # The platform currency (the default setting): the reward is its own reference.
        values.setdefault("reward_reference_minor", values["reward_amount_minor"])
        values.setdefault("reward_reference_currency", "EUR")
    challenge = await Challenge.create(organization=org, **values)
    for position, criterion in enumerate(CRITERIA):
        await Criterion.create(challenge=challenge, position=position, **criterion)
    return challenge
