"""What the citizens' panels keep of a person (see service.core.personal_data): their
volunteering for panels."""

from __future__ import annotations

from service.accounts.models import Organization, User
from service.core.personal_data import Section
from service.panels.models import Volunteer


def export_sections() -> list[Section]:
    return [
        Section(
            "panel_volunteering",
            lambda u: Volunteer.filter(user_id=u.id),
            ("panel_id", "first_name", "features", "status"),
        ),
    ]


async def deletion_blockers(organization: Organization) -> list[str]:
    return []


async def erase(user: User) -> None:
    return None
