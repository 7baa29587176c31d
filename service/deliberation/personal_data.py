"""What the deliberation area keeps of a person (see service.core.personal_data): the
statements they wrote. They stay when the account is deleted, shown as a former member's."""

from __future__ import annotations

from service.accounts.models import Organization, User
from service.core.personal_data import Section
from service.deliberation.models import Statement


def export_sections() -> list[Section]:
    return [
        Section(
            "statements",
            lambda u: Statement.filter(author_id=u.id),
            ("conversation_id", "text", "status", "created_at"),
        ),
    ]


async def deletion_blockers(organization: Organization) -> list[str]:
    return []


async def erase(user: User) -> None:
    return None
