"""What the challenges area keeps of a person (see service.core.personal_data): their
questions and follows. Deleting the account ends the follows; the questions stay, shown as a
former member's."""

from __future__ import annotations

from service.accounts.models import Organization, User
from service.challenges.models import Follow, Question
from service.core.personal_data import Section


def export_sections() -> list[Section]:
    return [
        Section(
            "questions",
            lambda u: Question.filter(author_id=u.id),
            ("challenge_id", "text", "answer", "created_at"),
        ),
        Section("follows", lambda u: Follow.filter(user_id=u.id), ("challenge_id",)),
    ]


async def deletion_blockers(organization: Organization) -> list[str]:
    # What an organization owes for its challenges is money: the rewards area answers.
    return []


async def erase(user: User) -> None:
    await Follow.filter(user_id=user.id).delete()
