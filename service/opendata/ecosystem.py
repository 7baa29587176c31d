"""The ecosystem map: organizations that worked together, as a graph, from public facts only.

Each kind of tie comes from one small query function:
- award: the city that posted a published challenge and the organization it awarded;
- consortium: the lead of an application and each partner that accepted, when the
  application is public (it was submitted to a challenge that has closed, and not withdrawn,
  the rule the OCDS tenderers follow) or it won.
Drafts, unpublished challenges, invited or declined partners never appear.

The drawing is computed here: nodes on a circle, grouped by kind, in a fixed order, so the
same data always gives the same picture.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np
from markupsafe import Markup, escape
from tortoise.expressions import Q, Subquery

from service.accounts.models import Organization
from service.applications.models import Application, ApplicationPartner, Award, PartnerStatus
from service.challenges.models import StatusChange
from service.incubation.models import Place, PlaceStatus
from service.investors.models import IntroRequest, IntroStatus
from service.opendata import repository
from service.opendata.charts import FONT, INK
from service.opendata.ocds import AFTER_CLOSING

KIND_ORDER = ["government", "startup", "university", "research_center", "investor"]
# Shape and colour of each kind of organization (the legend names both).
KIND_STYLE = {
    "government": ("circle", "#0b5394"),
    "startup": ("square", "#8a3b00"),
    "university": ("triangle", "#1a6b32"),
    "research_center": ("diamond", "#6a1b9a"),
    "investor": ("hexagon", "#a4161a"),
}
# Line pattern of each kind of tie.
EDGE_STYLE = {"award": "", "consortium": "7 4", "incubation": "10 3 2 3", "intro": "2 4"}
EDGE_KINDS = ["award", "consortium", "incubation", "intro"]


@dataclass(frozen=True)
class Node:
    id: int
    name: str
    kind: str
    region: str
    country: str


@dataclass
class Edge:
    source: int
    target: int
    kind: str
    challenge_ids: list[int] = field(default_factory=list)


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    # Challenge id -> title, for the ties' challenges.
    challenges: dict[int, str] = field(default_factory=dict)

    def neighbours(self) -> dict[int, list[tuple[Edge, int]]]:
        found: dict[int, list[tuple[Edge, int]]] = defaultdict(list)
        for e in self.edges:
            found[e.source].append((e, e.target))
            found[e.target].append((e, e.source))
        return found


# --- one query function per kind of tie ----------------------------------------------------


Tie = tuple[int, int, int | None]


async def award_ties() -> list[Tie]:
    """(city, winner, challenge) of every award of a published challenge."""
    rows = (
        await Award.filter(challenge_id__in=Subquery(repository.public_challenges().values("id")))
        .order_by("id")
        .values_list("challenge__organization_id", "application__organization_id", "challenge_id")
    )
    return [(int(a), int(b), int(c)) for a, b, c in rows]


async def consortium_ties() -> list[Tie]:
    """(lead, accepted partner, challenge) of every public application with partners."""
    closed = Subquery(
        StatusChange.filter(
            to_status__in=list(AFTER_CLOSING),
            challenge_id__in=Subquery(repository.public_challenges().values("id")),
        ).values("challenge_id")
    )
    public_applications = Subquery(
        Application.filter(
            Q(challenge_id__in=closed, submitted_at__isnull=False, withdrawn_at__isnull=True)
            | Q(id__in=Subquery(Award.all().values("application_id")))
        ).values("id")
    )
    rows = (
        await ApplicationPartner.filter(
            status=PartnerStatus.accepted, application_id__in=public_applications
        )
        .order_by("id")
        .values_list("application__organization_id", "organization_id", "application__challenge_id")
    )
    return [(int(a), int(b), int(c)) for a, b, c in rows]


async def incubation_ties() -> list[Tie]:
    """(programme's city or partner, admitted startup, challenge it came from) of every place
    admitted to a cohort: the cohort's public page lists them. Mentors are people, not
    organizations, and the public pages do not name them: they are not on the map."""
    rows = (
        await Place.filter(status=PlaceStatus.admitted)
        .order_by("id")
        .values_list(
            "cohort__programme__organization_id",
            "cohort__programme__partner_id",
            "organization_id",
            "challenge_id",
        )
    )
    found = []
    for city, partner, startup, challenge in rows:
        for runner in (city, partner):
            if runner is not None:
                found.append((int(runner), int(startup), challenge))
    return found


async def intro_ties() -> list[Tie]:
    """(investor, startup) of every intro the startup accepted (never an open, declined or
    expired one, and nothing of its messages or contacts)."""
    rows = (
        await IntroRequest.filter(status=IntroStatus.accepted)
        .order_by("id")
        .values_list("investor_id", "startup_id")
    )
    return [(int(a), int(b), None) for a, b in rows]


TIES: dict[str, Callable[[], Awaitable[list[Tie]]]] = {
    "award": award_ties,
    "consortium": consortium_ties,
    "incubation": incubation_ties,
    "intro": intro_ties,
}


async def graph() -> Graph:
    """Every tie, merged per pair and kind, and the organizations they join: one query per
    kind of tie and one for the organizations."""
    merged: dict[tuple[int, int, str], Edge] = {}
    for kind in EDGE_KINDS:
        for a, b, challenge_id in await TIES[kind]():
            if a == b:
                continue
            key = (min(a, b), max(a, b), kind)
            edge = merged.setdefault(key, Edge(a, b, kind))
            if challenge_id is not None and challenge_id not in edge.challenge_ids:
                edge.challenge_ids.append(challenge_id)
    ids = {e.source for e in merged.values()} | {e.target for e in merged.values()}
    orgs = await Organization.filter(id__in=list(ids)).values_list(
        "id", "name", "kind", "region", "country"
    )
    nodes = [Node(i, n, str(k), r, c) for i, n, k, r, c in orgs]
    nodes.sort(key=lambda n: (_kind_rank(n.kind), n.name.lower(), n.id))
    edges = sorted(merged.values(), key=lambda e: (e.kind, e.source, e.target))
    challenge_ids = {c for e in edges for c in e.challenge_ids}
    titles = dict(
        await repository.public_challenges()
        .filter(id__in=list(challenge_ids))
        .values_list("id", "title")
    )
    for e in edges:
        e.challenge_ids = [c for c in e.challenge_ids if c in titles]
    return Graph(nodes, edges, titles)


def _kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def filtered(g: Graph, *, kind: str | None, region: str | None) -> Graph:
    """The organizations of that kind and region, the ties they have, and the organizations
    at the other end of those ties."""
    chosen = {
        n.id
        for n in g.nodes
        if (not kind or n.kind == kind) and (not region or n.region.lower() == region.lower())
    }
    if not kind and not region:
        return g
    edges = [e for e in g.edges if e.source in chosen or e.target in chosen]
    keep = chosen | {e.source for e in edges} | {e.target for e in edges}
    return Graph([n for n in g.nodes if n.id in keep], edges, g.challenges)


# Organizations drawn at most: past this, the most connected ones (the list has them all).
MAX_DRAWN = 120


def most_connected(g: Graph, limit: int = MAX_DRAWN) -> Graph:
    """The `limit` organizations with the most ties, and the ties among them."""
    if len(g.nodes) <= limit:
        return g
    degree: dict[int, int] = defaultdict(int)
    for e in g.edges:
        degree[e.source] += 1
        degree[e.target] += 1
    ranked = sorted(g.nodes, key=lambda n: (-degree[n.id], n.id))[:limit]
    keep = {n.id for n in ranked}
    return Graph(
        [n for n in g.nodes if n.id in keep],
        [e for e in g.edges if e.source in keep and e.target in keep],
        g.challenges,
    )


def regions(g: Graph) -> list[str]:
    return sorted({n.region for n in g.nodes if n.region}, key=str.lower)


# --- the drawing ---------------------------------------------------------------------------

SIZE = 720
RADIUS = 250


def layout(nodes: list[Node]) -> np.ndarray:
    """Positions on a circle in the nodes' order (grouped by kind), with a gap between kinds
    so that each kind reads as an arc of its own."""
    n = len(nodes)
    if n == 0:
        return np.zeros((0, 2))
    gaps = np.array([0] + [1 if nodes[i].kind != nodes[i - 1].kind else 0 for i in range(1, n)])
    steps = np.arange(n) + np.cumsum(gaps) * 1.5
    total = steps[-1] + 1 + (1.5 if gaps.sum() else 0)
    angles = -math.pi / 2 + 2 * math.pi * steps / total
    return np.column_stack([np.cos(angles), np.sin(angles)]) * RADIUS + SIZE / 2


def _shape(shape: str, x: float, y: float, colour: str, r: float = 7) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}"/>'
    if shape == "square":
        return (
            f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" '
            f'fill="{colour}"/>'
        )
    corners = {"triangle": 3, "diamond": 4, "hexagon": 6}[shape]
    points = " ".join(
        f"{x + r * 1.2 * math.cos(-math.pi / 2 + 2 * math.pi * k / corners):.1f},"
        f"{y + r * 1.2 * math.sin(-math.pi / 2 + 2 * math.pi * k / corners):.1f}"
        for k in range(corners)
    )
    return f'<polygon points="{points}" fill="{colour}"/>'


# Room left and right of the circle for the names of the organizations on its sides.
LABEL_ROOM = 160


def drawing(
    g: Graph, *, title: str, desc: str, kind_labels: dict[str, str], edge_labels: dict[str, str]
) -> Markup:
    """The graph as an SVG: one shape per kind of organization, one line pattern per kind of
    tie, names beside the nodes, and a legend of both."""
    node_kinds = [k for k in KIND_ORDER if any(n.kind == k for n in g.nodes)]
    edge_kinds = [k for k in EDGE_KINDS if any(e.kind == k for e in g.edges)]
    height = SIZE + 16 + 24 * max(len(node_kinds), len(edge_kinds), 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" id="ecosystem-map" '
        f'viewBox="{-LABEL_ROOM} 0 {SIZE + 2 * LABEL_ROOM} {height}" '
        f'width="{SIZE + 2 * LABEL_ROOM}" height="{height}" '
        f'aria-labelledby="ecosystem-map-title ecosystem-map-desc">',
        f'<title id="ecosystem-map-title">{escape(title)}</title>',
        f'<desc id="ecosystem-map-desc">{escape(desc)}</desc>',
        f'<rect x="{-LABEL_ROOM}" width="{SIZE + 2 * LABEL_ROOM}" height="{height}" '
        'fill="#ffffff"/>',
    ]
    where = {n.id: xy for n, xy in zip(g.nodes, layout(g.nodes), strict=True)}
    # Ties of several kinds between the same two organizations bend apart, so none hides
    # another.
    pairs: dict[tuple[int, int], list[Edge]] = defaultdict(list)
    for e in g.edges:
        pairs[(min(e.source, e.target), max(e.source, e.target))].append(e)
    for (a, b), ties in pairs.items():
        (x1, y1), (x2, y2) = where[a], where[b]
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        nx, ny = -(y2 - y1) / length, (x2 - x1) / length
        for k, e in enumerate(ties):
            bend = (k - (len(ties) - 1) / 2) * 28
            cx, cy = (x1 + x2) / 2 + nx * bend, (y1 + y2) / 2 + ny * bend
            dash = EDGE_STYLE.get(e.kind, "")
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            width = min(1.5 + len(e.challenge_ids) * 0.5, 4)
            out.append(
                f'<path d="M {x1:.1f} {y1:.1f} Q {cx:.1f} {cy:.1f} {x2:.1f} {y2:.1f}" '
                f'fill="none" stroke="#4a5460" stroke-width="{width}"{dash_attr}/>'
            )
    for n in g.nodes:
        x, y = where[n.id]
        shape, colour = KIND_STYLE.get(n.kind, ("circle", INK))
        out.append(_shape(shape, float(x), float(y), colour))
        angle = math.atan2(y - SIZE / 2, x - SIZE / 2)
        lx, ly = x + 14 * math.cos(angle), y + 14 * math.sin(angle) + 4
        anchor = "start" if math.cos(angle) >= 0 else "end"
        name = n.name if len(n.name) <= 22 else n.name[:21] + "…"
        out.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="13" fill="{INK}" text-anchor="{anchor}" '
            f"{FONT}>{escape(name)}</text>"
        )
    # The legend, under the drawing: kinds of organization on the left, kinds of tie on the
    # right, one a line.
    for row, kind in enumerate(node_kinds):
        y = SIZE + 20 + 24 * row
        shape, colour = KIND_STYLE[kind]
        out.append(_shape(shape, 18, y, colour, r=6))
        out.append(
            f'<text x="32" y="{y + 5}" font-size="13" fill="{INK}" '
            f"{FONT}>{escape(kind_labels.get(kind, kind))}</text>"
        )
    for row, kind in enumerate(edge_kinds):
        y = SIZE + 20 + 24 * row
        dash = EDGE_STYLE[kind]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="250" y1="{y}" x2="290" y2="{y}" stroke="#4a5460" '
            f'stroke-width="2.5"{dash_attr}/>'
        )
        out.append(
            f'<text x="300" y="{y + 5}" font-size="13" fill="{INK}" '
            f"{FONT}>{escape(edge_labels.get(kind, kind))}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text in it went through escape()
