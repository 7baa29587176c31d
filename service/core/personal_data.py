"""A person's data held by the areas, read and erased by the accounts area without importing
them: accounts sits below the areas (see the layers in pyproject.toml), so each area that
holds something of a person says so itself.

An area names in its manifest (`Area.personal_data`) a module with three functions:

- `export_sections() -> list[Section]`: the lists of a person's rows that go into the copy of
  their data (`GET /api/v1/me/export`), in the order they are written;
- `async deletion_blockers(organization) -> list[str]`: what the organization still owes or is
  owed in this area, one translated phrase each ("money held in escrow for its challenges");
  an account whose person is the organization's last owner cannot be deleted while any is left;
- `async erase(user) -> None`: what the area removes or anonymises when the person deletes the
  account (it runs in the deletion's transaction; contributions stay, shown as a former
  member's).

An area with nothing for one of them returns an empty list or does nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from tortoise.queryset import QuerySet

from service.core import manifest


@dataclass(frozen=True)
class Section:
    """One list of the export: the rows of a query on the person, each as a JSON object with
    its id and these fields."""

    name: str
    query: Callable[[Any], QuerySet[Any]]
    fields: tuple[str, ...]


class PersonalData(Protocol):
    """What a module named in `Area.personal_data` holds (the module itself is the object)."""

    def export_sections(self) -> list[Section]: ...

    async def deletion_blockers(self, organization: Any) -> list[str]: ...

    async def erase(self, user: Any) -> None: ...


FUNCTIONS = ("export_sections", "deletion_blockers", "erase")


def load(name: str) -> PersonalData:
    module = importlib.import_module(name)
    missing = [function for function in FUNCTIONS if not callable(getattr(module, function, None))]
    if missing:
        raise TypeError(f"{name} does not define {', '.join(missing)}")
    return cast(PersonalData, module)


def modules() -> list[PersonalData]:
    """The registered areas' modules, in the order of the areas."""
    return [load(name) for name in manifest.personal_data_modules()]
