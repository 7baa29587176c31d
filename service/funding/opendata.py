"""Open data of a counted funding round: the pabulib `.pb` file (so anyone can run the rule
again, e.g. with pabutools) and CSV files of the candidates with their outcome and of the
anonymised ballots.

In the `.pb` file, projects are the candidates (their ids), costs and the budget are in the
currency's major units when every amount is whole in them (the add1 completion then steps by 1
as on equalshares.net), otherwise in minor units (META `unit` says which), and each voter is
the ballot's published receipt.
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction

from service.core import csv_export
from service.core.money import minor_units
from service.funding import service as funding
from service.funding.models import Ballot, Candidate, FundingRound


def _in_major(rnd: FundingRound, candidates: list[Candidate]) -> bool:
    scale = 10 ** minor_units(rnd.currency)
    amounts = [rnd.budget_minor, *(c.cost_minor for c in candidates)]
    return all(a % scale == 0 for a in amounts)


async def ballots_of(rnd: FundingRound) -> list[tuple[str, list[int]]]:
    rows = (
        await Ballot.filter(round_id=rnd.id).order_by("receipt").values_list("receipt", "choices")
    )
    return [(str(r), list(c)) for r, c in rows]


def _pb_cell(text: str) -> str:
    # The pabulib reader splits on ";" with csv quoting; line breaks would end a record.
    return " ".join(text.split())


async def pabulib(rnd: FundingRound) -> str:
    candidates = await funding.candidates_of(rnd)
    ballots = await ballots_of(rnd)
    major = _in_major(rnd, candidates)
    scale = 10 ** minor_units(rnd.currency) if major else 1
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    lengths = [len(c) for _, c in ballots] or [0]
    meta = [
        ("description", _pb_cell(rnd.title)),
        ("country", ""),
        ("unit", rnd.currency if major else f"{rnd.currency} minor units"),
        ("instance", f"funding-round-{rnd.id}"),
        ("district", _pb_cell(rnd.region)),
        ("num_projects", str(len(candidates))),
        ("num_votes", str(len(ballots))),
        ("budget", str(rnd.budget_minor // scale)),
        ("vote_type", "approval"),
        ("rule", "equalshares/add1"),
        ("date_begin", rnd.opens_at.date().isoformat()),
        ("date_end", rnd.closes_at.date().isoformat()),
        ("min_length", "1"),
        ("max_length", str(rnd.max_approvals or max(lengths))),
        ("currency", rnd.currency),
    ]
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    writer.writerows(meta)
    writer.writerow(["PROJECTS"])
    writer.writerow(["project_id", "cost", "votes", "name", "selected"])
    for c in candidates:
        selected = 1 if c.reserved_minor else 0
        writer.writerow([c.id, c.cost_minor // scale, c.votes, _pb_cell(c.title), selected])
    writer.writerow(["VOTES"])
    writer.writerow(["voter_id", "vote"])
    for receipt, choices in ballots:
        writer.writerow([receipt, ",".join(str(i) for i in choices)])
    return out.getvalue()


def _display(text: str) -> str:
    """An exact "p/q" amount of minor units, as a decimal with 6 places for spreadsheets."""
    if not text:
        return ""
    return f"{float(Fraction(text)):.6f}"


async def outcome_csv(rnd: FundingRound) -> str:
    candidates = await funding.candidates_of(rnd)
    header = [
        "candidate_id",
        "position",
        "challenge_id",
        "title",
        "cost_minor",
        "currency",
        "votes",
        "funded",
        "equal_shares_alone",
        "greedy",
        "purchase_order",
        "price_minor_exact",
        "price_minor",
        "full_payers",
        "partial_payers",
        "partial_total_minor_exact",
        "reserved_minor",
        "override",
        "override_reason",
    ]
    rows = [
        [
            c.id,
            c.position,
            c.challenge_id,
            c.title,
            c.cost_minor,
            rnd.currency,
            c.votes,
            c.funded.value or "no",
            int(c.plain_funded),
            int(c.greedy_funded),
            c.purchase_order,
            c.price,
            _display(c.price),
            c.full_payers,
            c.partial_payers,
            c.partial_total,
            c.reserved_minor,
            c.override.value,
            c.override_reason,
        ]
        for c in candidates
    ]
    return csv_export.write(header, rows)


async def ballots_csv(rnd: FundingRound) -> str:
    ballots = await ballots_of(rnd)
    return csv_export.write(
        ["receipt", "candidate_ids"],
        ([receipt, " ".join(str(i) for i in choices)] for receipt, choices in ballots),
    )
