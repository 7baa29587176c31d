"""Each area's manifest names what the app, the worker, the database and the demo assemble:
nothing an area holds is left out, and nothing named is missing."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from service import areas
from service.core import jobs, manifest, personal_data

SERVICE = Path(areas.__file__).parent


def _modules(pattern: str) -> list[str]:
    return sorted(
        "service." + ".".join(path.relative_to(SERVICE).with_suffix("").parts)
        for path in SERVICE.glob(pattern)
    )


def test_every_area_package_has_a_manifest_listed_once() -> None:
    listed = {area.name for area in areas.AREAS}
    # core/manifest.py defines what a manifest is; every other package's is an area's.
    packages = {path.parent.name for path in SERVICE.glob("*/manifest.py")} - {"core"}
    assert packages and packages == listed - {"site"}
    assert len(listed) == len(areas.AREAS)


@pytest.mark.parametrize(
    ("kind", "pattern"),
    [("routes", "*/routes.py"), ("routes", "*/pages.py"), ("tasks", "*/tasks.py")],
)
def test_every_routes_pages_and_tasks_module_is_in_a_manifest(kind: str, pattern: str) -> None:
    named = {module for area in areas.AREAS for module in getattr(area, kind)}
    missing = [module for module in _modules(pattern) if module not in named]
    assert not missing, f"not in any area's manifest: {missing}"


def test_every_named_module_exists_and_holds_what_it_is_named_for() -> None:
    for module in manifest.route_modules():
        assert isinstance(importlib.import_module(module).routes, list), module
    jobs.load_tasks()
    for module in manifest.task_modules():
        declared = [
            spec.fn
            for spec in (*jobs.TASKS.values(), *jobs.CRONS.values())
            if spec.fn.__module__ == module
        ]
        assert declared, f"{module} declares no task or cron job"


def test_demo_steps_resolve_and_run_in_their_order() -> None:
    from service import demo

    labels = [label for label, _ in demo.steps()]
    assert labels[:3] == ["organizations", "people", "exchange rates"]
    assert labels[-1] == "translations"
    assert labels.index("challenges") < labels.index("rewards") < labels.index("funding round")
    orders = [step.order for step in manifest.demo_steps()]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)


def test_registering_an_area_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        manifest.register([areas.SITE, areas.SITE])
    assert manifest.areas() == areas.AREAS


def test_every_part_of_the_challenge_page_is_in_a_manifest() -> None:
    provider = re.compile(r"^async def challenge_section\(", re.MULTILINE)
    declared = sorted(
        "service." + ".".join(path.relative_to(SERVICE).with_suffix("").parts)
        for path in SERVICE.glob("*/*.py")
        if provider.search(path.read_text())
    )
    assert declared and declared == sorted(manifest.section_modules())


def test_every_personal_data_module_is_named_and_implements_the_protocol() -> None:
    named = manifest.personal_data_modules()
    # core/personal_data.py defines the protocol; every other is an area's.
    assert sorted(named) == [
        m for m in _modules("*/personal_data.py") if not m.startswith("service.core.")
    ]
    names: list[str] = []
    for module in named:
        loaded = importlib.import_module(module)
        assert personal_data.load(module) is loaded
        assert not inspect.iscoroutinefunction(loaded.export_sections), module
        assert inspect.iscoroutinefunction(loaded.deletion_blockers), module
        assert inspect.iscoroutinefunction(loaded.erase), module
        for section in loaded.export_sections():
            assert isinstance(section, personal_data.Section), module
            assert section.name and section.fields and callable(section.query), module
            names.append(section.name)
    # Each list is one key of the copy of one's data: no two areas may use the same name.
    assert names and len(set(names)) == len(names)


def test_a_module_missing_part_of_the_personal_data_protocol_is_refused() -> None:
    with pytest.raises(TypeError, match="export_sections, deletion_blockers, erase"):
        personal_data.load("service.core.manifest")
