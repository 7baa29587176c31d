"""Shared vocabularies: values are kept, labels are translated."""

from __future__ import annotations

from enum import StrEnum

from service.core.i18n import gettext


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


def area_label(area: str) -> str:
    labels = {
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
    return labels.get(Area(area), area) if area in Area.__members__ else area


def sdg_label(goal: int) -> str:
    labels = {
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
    return f"{goal}. {labels.get(goal, '')}"


def kind_label(kind: str) -> str:
    labels = {
        "government": gettext("City or government"),
        "startup": gettext("Startup"),
        "university": gettext("University"),
        "research_center": gettext("Research centre"),
        "investor": gettext("Investor"),
    }
    return labels.get(kind, kind)


def role_label(role: str) -> str:
    labels = {
        "owner": gettext("Owner"),
        "manager": gettext("Manager"),
        "editor": gettext("Editor"),
        "finance": gettext("Finance"),
        "member": gettext("Member"),
    }
    return labels.get(role, role)


def status_label(status: str) -> str:
    labels = {
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
    return labels.get(status, status)
