"""Shared vocabularies: values are kept, labels are translated."""

from __future__ import annotations

from enum import StrEnum

from service.core.i18n import gettext, per_language


class Area(StrEnum):
    """Areas of a challenge and sectors of a startup or a thesis: one list."""

    mobility = "mobility"
    energy = "energy"
    environment = "environment"
    water = "water"
    waste = "waste"
    health = "health"
    education = "education"
    housing = "housing"
    public_safety = "public_safety"
    digital_government = "digital_government"
    economy = "economy"
    culture = "culture"
    tourism = "tourism"
    agriculture = "agriculture"
    social_inclusion = "social_inclusion"


class Stage(StrEnum):
    idea = "idea"
    pre_seed = "pre_seed"
    seed = "seed"
    series_a = "series_a"
    series_b = "series_b"
    growth = "growth"


SDGS = range(1, 18)


@per_language
def _area_labels() -> dict[str, str]:
    return {
        Area.mobility: gettext("Mobility"),
        Area.energy: gettext("Energy"),
        Area.environment: gettext("Environment"),
        Area.water: gettext("Water"),
        Area.waste: gettext("Waste"),
        Area.health: gettext("Health"),
        Area.education: gettext("Education"),
        Area.housing: gettext("Housing"),
        Area.public_safety: gettext("Public safety"),
        Area.digital_government: gettext("Digital government"),
        Area.economy: gettext("Economy"),
        Area.culture: gettext("Culture"),
        Area.tourism: gettext("Tourism"),
        Area.agriculture: gettext("Agriculture"),
        Area.social_inclusion: gettext("Social inclusion"),
    }


def area_label(area: str) -> str:
    # Area members are strings: a member and its value find the same label.
    return _area_labels().get(area, area)


@per_language
def _sdg_labels() -> dict[int, str]:
    return {
        1: gettext("No poverty"),
        2: gettext("Zero hunger"),
        3: gettext("Good health and well-being"),
        4: gettext("Quality education"),
        5: gettext("Gender equality"),
        6: gettext("Clean water and sanitation"),
        7: gettext("Affordable and clean energy"),
        8: gettext("Decent work and economic growth"),
        9: gettext("Industry, innovation and infrastructure"),
        10: gettext("Reduced inequalities"),
        11: gettext("Sustainable cities and communities"),
        12: gettext("Responsible consumption and production"),
        13: gettext("Climate action"),
        14: gettext("Life below water"),
        15: gettext("Life on land"),
        16: gettext("Peace, justice and strong institutions"),
        17: gettext("Partnerships for the goals"),
    }


def sdg_label(goal: int) -> str:
    return f"{goal}. {_sdg_labels().get(goal, '')}"


@per_language
def _kind_labels() -> dict[str, str]:
    return {
        "government": gettext("City or government"),
        "startup": gettext("Startup"),
        "university": gettext("University"),
        "research_center": gettext("Research centre"),
        "investor": gettext("Investor"),
    }


def kind_label(kind: str) -> str:
    return _kind_labels().get(kind, kind)


@per_language
def _role_labels() -> dict[str, str]:
    return {
        "owner": gettext("Owner"),
        "manager": gettext("Manager"),
        "editor": gettext("Editor"),
        "finance": gettext("Finance"),
        "member": gettext("Member"),
    }


def role_label(role: str) -> str:
    return _role_labels().get(role, role)


@per_language
def _status_labels() -> dict[str, str]:
    return {
        "draft": gettext("Draft"),
        "published": gettext("Upcoming"),
        "upcoming": gettext("Upcoming"),
        "open": gettext("Open"),
        "closed": gettext("Closed"),
        "judging": gettext("Judging"),
        "awarded": gettext("Awarded"),
        "in_delivery": gettext("In delivery"),
        "completed": gettext("Completed"),
        "cancelled": gettext("Cancelled"),
    }


def status_label(status: str) -> str:
    return _status_labels().get(status, status)
