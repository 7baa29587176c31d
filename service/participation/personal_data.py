"""What the participation area keeps of a person (see service.core.personal_data): their
proposals, supports and comments. All stay when the account is deleted, shown as a former
member's."""

from __future__ import annotations

from service.accounts.models import Organization, User
from service.core.personal_data import Section
from service.participation.models import Comment, Proposal, Support


def export_sections() -> list[Section]:
    return [
        Section(
            "proposals",
            lambda u: Proposal.filter(author_id=u.id),
            ("title", "description", "affected", "region", "status", "created_at"),
        ),
        Section("supports", lambda u: Support.filter(user_id=u.id), ("proposal_id", "created_at")),
        Section(
            "comments",
            lambda u: Comment.filter(author_id=u.id),
            ("proposal_id", "parent_id", "stance", "text", "created_at"),
        ),
    ]


async def deletion_blockers(organization: Organization) -> list[str]:
    return []


async def erase(user: User) -> None:
    return None
