"""What each area brings to the app, declared once per area and read by everything that
assembles the app: the database (models), the web app (routes), the worker (tasks and cron
jobs), the other areas (listeners of their events, parts of the challenge page), the demo
(seeders) and the tests.

An area lists its modules by name in its own `manifest.py`; the site's list of areas
(`service.areas`) registers them here. core names no area: it only reads what was registered,
so adding an area is one new package plus one line in `service.areas`.

Manifests hold names, not imports: reading them loads nothing of an area's code, so the
database can be configured without importing the web pages, and the worker without the
templates.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoStep:
    """One step of the demo seeder: `function(settings)`, run in its own transaction.

    Steps run by `order` across all areas (a step may need another area's data: the
    challenges need the exchange rates, the rewards the challenges).
    """

    order: int
    label: str
    function: str  # "module:function"


@dataclass(frozen=True)
class Area:
    name: str
    models: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    demo: tuple[DemoStep, ...] = ()
    # Modules holding `@listener` functions for other areas' events (see service.core.events).
    listeners: tuple[str, ...] = ()
    # Modules holding `challenge_section(request, challenge)`: the parts of the challenge page
    # this area adds (see service.challenges.sections), in the order of the areas.
    sections: tuple[str, ...] = ()
    # Modules holding what the area keeps of a person: their part of the copy of one's data,
    # what blocks deleting an account, what deleting it erases (see service.core.personal_data).
    personal_data: tuple[str, ...] = ()


_areas: list[Area] = []


def register(areas: list[Area]) -> None:
    """Register the site's areas, in the order their routes are tried. Registering the
    same list again (every app a test builds) changes nothing."""
    names = [area.name for area in areas]
    if len(set(names)) != len(names):
        raise ValueError(f"an area is listed twice: {names}")
    _areas[:] = areas


def areas() -> list[Area]:
    if not _areas:
        raise RuntimeError("no area is registered: import service.areas first")
    return list(_areas)


def model_modules() -> list[str]:
    return [module for area in areas() for module in area.models]


def route_modules() -> list[str]:
    return [module for area in areas() for module in area.routes]


def task_modules() -> list[str]:
    return [module for area in areas() for module in area.tasks]


def listener_modules() -> list[str]:
    return [module for area in areas() for module in area.listeners]


def section_modules() -> list[str]:
    return [module for area in areas() for module in area.sections]


def personal_data_modules() -> list[str]:
    return [module for area in areas() for module in area.personal_data]


def demo_steps() -> list[DemoStep]:
    return sorted((step for area in areas() for step in area.demo), key=lambda s: s.order)
