"""What the challenges area keeps of a person (see service.core.personal_data): their
questions, follows, applications and reviews. Deleting the account ends the follows; the
questions, applications and reviews stay, shown as a former member's."""

from __future__ import annotations

from service.accounts.models import Organization, User
from service.challenges.models import Application, Follow, Question, Review
from service.core.personal_data import Section


def export_sections() -> list[Section]:
    return [
        Section(
            "questions",
            lambda u: Question.filter(author_id=u.id),
            ("challenge_id", "text", "answer", "created_at"),
        ),
        Section("follows", lambda u: Follow.filter(user_id=u.id), ("challenge_id",)),
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
    # What an organization owes for its challenges is money: the rewards area answers.
    return []


async def erase(user: User) -> None:
    await Follow.filter(user_id=user.id).delete()
