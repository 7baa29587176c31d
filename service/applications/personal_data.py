"""What the applications area keeps of a person (see service.core.personal_data): the
applications they started and their reviews as a judge. Both stay when the account is
deleted, shown as a former member's."""

from __future__ import annotations

from service.accounts.models import Organization, User
from service.applications.models import Application, Review
from service.core.personal_data import Section


def export_sections() -> list[Section]:
    return [
        Section(
            "applications",
            lambda u: Application.filter(created_by_id=u.id),
            ("challenge_id", "organization_id", "title", "summary", "status", "created_at"),
        ),
        Section(
            "reviews",
            lambda u: Review.filter(judge__user_id=u.id),
            ("application_id", "conflict_of_interest", "scores", "comment", "created_at"),
        ),
    ]


async def deletion_blockers(organization: Organization) -> list[str]:
    # What an award owes an organization is money: the rewards area answers.
    return []


async def erase(user: User) -> None:
    # Applications belong to their organization and reviews to the challenge's record.
    return None
