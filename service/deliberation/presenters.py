"""What the pages and the API show of a conversation and its map: the groups in words,
their statements with texts, the consensus, and the map drawn as SVG."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from service.core import csv_export
from service.core.i18n import gettext
from service.deliberation import schemas
from service.deliberation.models import CHOICE_OF, Conversation, OpinionMap, Statement

# One colour and one marker shape per group: nothing is told by colour alone.
GROUP_STYLES = (
    ("#0b5394", "circle"),
    ("#8a3b00", "square"),
    ("#1a6b32", "triangle"),
    ("#6a1b9a", "diamond"),
    ("#9a1b3b", "cross"),
)
UNGROUPED = "#6b7280"
# A map of tens of thousands of people is drawn from an even sample of them.
MAX_POINTS = 1500
SIZE, PAD = 360, 18
FONT = 'font-family="system-ui,sans-serif"'


def group_label(gid: int) -> str:
    return gettext("Group %(letter)s") % {"letter": chr(ord("A") + gid)}


def statement_out(s: Statement) -> schemas.StatementOut:
    return schemas.StatementOut(
        id=s.id,
        text=s.text,
        seed=s.seed,
        status=s.status.value,
        agree=s.agree_count,
        disagree=s.disagree_count,
        passed=s.pass_count,
        created_at=s.created_at,
    )


@dataclass
class MapView:
    computed_at: datetime | None
    participants: int
    votes: int
    groups: list[schemas.GroupOut]
    consensus: list[schemas.ConsensusOut]
    stale: bool
    raw: dict[str, Any]

    def out(self) -> schemas.MapOut:
        return schemas.MapOut(
            computed_at=self.computed_at,
            participants=self.participants,
            votes=self.votes,
            groups=self.groups,
            consensus=self.consensus,
            stale=self.stale,
        )


def map_view(
    conversation: Conversation, last: OpinionMap | None, statements: list[Statement]
) -> MapView:
    texts = {s.id: s.text for s in statements}
    raw = last.result if last else {}
    groups = [
        schemas.GroupOut(
            id=int(g["id"]),
            label=group_label(int(g["id"])),
            size=int(g["size"]),
            statements=[
                schemas.GroupStatementOut(
                    statement_id=int(r["statement"]),
                    text=texts[int(r["statement"])],
                    direction=str(r["direction"]),
                    share=float(r["share"]),
                    others_share=float(r["others_share"]),
                )
                for r in g.get("statements", [])
                if int(r["statement"]) in texts
            ],
        )
        for g in raw.get("groups", [])
    ]
    consensus = [
        schemas.ConsensusOut(
            statement_id=int(c["statement"]),
            text=texts[int(c["statement"])],
            direction=str(c["direction"]),
            shares=[float(x) for x in c["shares"]],
        )
        for c in raw.get("consensus", [])
        if int(c["statement"]) in texts
    ]
    return MapView(
        computed_at=last.computed_at if last else None,
        participants=last.participant_count if last else 0,
        votes=last.vote_count if last else 0,
        groups=groups,
        consensus=consensus,
        stale=conversation.map_stale_since is not None,
        raw=raw,
    )


def _marker(shape: str, x: float, y: float, fill: str, r: float = 3.2) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}"/>'
    if shape == "square":
        return (
            f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" '
            f'fill="{fill}"/>'
        )
    if shape == "triangle":
        return (
            f'<polygon points="{x:.1f},{y - r:.1f} {x - r:.1f},{y + r:.1f} '
            f'{x + r:.1f},{y + r:.1f}" fill="{fill}"/>'
        )
    if shape == "diamond":
        return (
            f'<polygon points="{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} '
            f'{x - r:.1f},{y:.1f}" fill="{fill}"/>'
        )
    return (
        f'<path d="M{x - r:.1f} {y - r:.1f}L{x + r:.1f} {y + r:.1f}M{x + r:.1f} {y - r:.1f}'
        f'L{x - r:.1f} {y + r:.1f}" stroke="{fill}" stroke-width="1.6"/>'
    )


def map_svg(view: MapView) -> Markup:
    """Participants as points (a sample when there are many), each group outlined and
    labelled; the page puts a table of the same groups beside it."""
    points: list[list[float]] = view.raw.get("points", [])
    groups = view.raw.get("groups", [])
    title = gettext("Opinion map")
    desc = gettext(
        "%(people)d participants placed by how they voted; people who voted alike are close. "
        "%(groups)d groups are outlined; the table beside the map lists them."
    ) % {"people": view.participants, "groups": len(groups)}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" id="opinion-map" '
        f'viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}" '
        f'aria-labelledby="opinion-map-title opinion-map-desc">',
        f'<title id="opinion-map-title">{escape(title)}</title>',
        f'<desc id="opinion-map-desc">{escape(desc)}</desc>',
        f'<rect width="{SIZE}" height="{SIZE}" fill="#ffffff" stroke="#d0d7de"/>',
    ]
    hull_points = [p for g in groups for p in g.get("hull", [])]
    every = [(p[1], p[2]) for p in points] + [(p[0], p[1]) for p in hull_points]
    if every:
        xs, ys = [x for x, _ in every], [y for _, y in every]
        span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
        cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

        def at(x: float, y: float) -> tuple[float, float]:
            scale = (SIZE - 2 * PAD) / span
            return SIZE / 2 + (x - cx) * scale, SIZE / 2 - (y - cy) * scale

        for g in groups:
            colour, _ = GROUP_STYLES[int(g["id"]) % len(GROUP_STYLES)]
            hull = [at(x, y) for x, y in g.get("hull", [])]
            if len(hull) >= 3:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in hull)
                out.append(
                    f'<polygon points="{path}" fill="{colour}" fill-opacity="0.08" '
                    f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="5 3"/>'
                )
        step = max(1, math.ceil(len(points) / MAX_POINTS))
        for p in points[::step]:
            gid = int(p[3])
            colour, shape = (
                GROUP_STYLES[gid % len(GROUP_STYLES)] if gid >= 0 else (UNGROUPED, "circle")
            )
            x, y = at(p[1], p[2])
            out.append(_marker(shape, x, y, colour))
        for g in groups:
            hull = [at(x, y) for x, y in g.get("hull", [])]
            if not hull:
                continue
            label = group_label(int(g["id"]))
            # Kept inside the frame: a group at the edge would otherwise lose half its name
            # (a bold 13 px letter is about 8 px wide).
            half = 4 * len(label) + 4
            lx = sum(x for x, _ in hull) / len(hull)
            lx = min(max(lx, half), SIZE - half)
            ly = min(y for _, y in hull) - 6
            ly = max(ly, 14)
            out.append(
                f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="13" font-weight="bold" '
                f'fill="#1b1f24" text-anchor="middle" {FONT}>'
                f"{escape(label)}</text>"
            )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text in it went through escape()


# --- open data -----------------------------------------------------------------------------


def statements_csv(statements: Iterable[Statement]) -> str:
    """Statements are written by residents: through the one CSV writer, so that a statement
    starting with `=` or `@` is text in a spreadsheet, never a formula."""
    return csv_export.write(
        ["statement_id", "text", "seed", "agree", "disagree", "pass", "created_at"],
        (
            [
                s.id,
                s.text,
                int(s.seed),
                s.agree_count,
                s.disagree_count,
                s.pass_count,
                s.created_at,
            ]
            for s in statements
        ),
    )


VOTE_COLUMNS = ["participant", "statement_id", "vote", "choice", "applicant_member", "voted_at"]


def vote_row(
    number: int, statement_id: int, value: int, at: datetime, applicants: set[int]
) -> list[Any]:
    # Minutes only: the exact second adds nothing to an analysis and helps re-identify.
    return [
        number,
        statement_id,
        value,
        CHOICE_OF[value].value,
        number in applicants,
        at.replace(second=0, microsecond=0).isoformat(),
    ]
