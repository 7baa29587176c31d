"""The CSV datasets: their columns, documented once (the open data page shows these words),
and their rows, built from the same rows as the OCDS packages.

Only public data: published challenges, organizations' names, awards, milestones, and money
paid as the ledger posted it. No e-mail address, bank detail, bank reference, application
text, evidence or judge's score is in any dataset.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.challenges.models import shown_status
from service.core import csv_export
from service.core.i18n import N_
from service.opendata.ocds import AFTER_CLOSING, History, ocid_of
from service.rewards.models import TransactionKind


@dataclass(frozen=True)
class Column:
    name: str
    description: str


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: str
    description: str
    columns: tuple[Column, ...]

    @property
    def filename(self) -> str:
        return f"{self.slug}.csv"

    @property
    def url(self) -> str:
        return f"/api/v1/opendata/{self.filename}"

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


C = Column
CHALLENGES = Dataset(
    "challenges",
    N_("Challenges"),
    N_("Every published challenge, with its terms, its state and its money."),
    (
        C("id", N_("Number of the challenge on this site.")),
        C("ocid", N_("Identifier of the challenge in the OCDS packages.")),
        C("url", N_("Address of the challenge's page.")),
        C("title", N_("Title.")),
        C("summary", N_("One-sentence summary.")),
        C("language", N_("Language the challenge is written in (ISO 639-1).")),
        C("city_id", N_("Number of the city or government that posted it.")),
        C("city_name", N_("Name of the city or government that posted it.")),
        C("area", N_("Government area (a code of the shared list).")),
        C("sdgs", N_("UN Sustainable Development Goals, 1 to 17, separated by semicolons.")),
        C("region", N_("Region of the challenge.")),
        C("eligible_kinds", N_("Kinds of organization that may apply, separated by semicolons.")),
        C(
            "eligible_regions",
            N_("Regions applicants must be from, separated by semicolons; empty for any."),
        ),
        C(
            "status",
            N_("upcoming, open, closed, judging, awarded, in_delivery, completed or cancelled."),
        ),
        C("reward_amount_minor", N_("The reward, in minor units of the currency (cents).")),
        C("currency", N_("ISO 4217 code of the currency of every amount of the row.")),
        C("opens_at", N_("When applications open.")),
        C("closes_at", N_("When applications close.")),
        C("judging_ends_at", N_("When judging is planned to end.")),
        C("published_at", N_("When the challenge was published.")),
        C("cancelled_at", N_("When the challenge was cancelled; empty otherwise.")),
        C(
            "applications",
            N_(
                "Number of applications submitted and not withdrawn; empty until the "
                "challenge closes."
            ),
        ),
        C("awards", N_("Number of awards.")),
        C("escrowed_minor", N_("Money the city put in escrow, less what was returned to it.")),
        C("awarded_minor", N_("Money awarded to winners.")),
        C("paid_minor", N_("Money paid to winners, less reversals.")),
        C("refunded_minor", N_("Escrow returned to the city (after a cancellation).")),
    ),
)
AWARDS = Dataset(
    "awards",
    N_("Awards"),
    N_("Every award of a published challenge: who won, how much, and how much was paid."),
    (
        C("id", N_("Number of the award.")),
        C("challenge_id", N_("Number of the challenge.")),
        C("ocid", N_("Identifier of the challenge in the OCDS packages.")),
        C("city_id", N_("Number of the city that awarded it.")),
        C("city_name", N_("Name of the city that awarded it.")),
        C("lead_organization_id", N_("Number of the winning organization (the lead).")),
        C("lead_organization_name", N_("Name of the winning organization.")),
        C("lead_share_pct", N_("The lead's share of every payment, in percent.")),
        C(
            "partner_organization_ids",
            N_("Numbers of the consortium partners, separated by semicolons."),
        ),
        C(
            "partner_organization_names",
            N_("Names of the consortium partners, in the same order."),
        ),
        C("partner_share_pcts", N_("The partners' shares, in percent, in the same order.")),
        C("amount_minor", N_("Amount awarded, in minor units.")),
        C("currency", N_("ISO 4217 code of the currency.")),
        C("awarded_at", N_("When the award was made.")),
        C("rationale", N_("Why the city chose this winner.")),
        C("milestones", N_("Number of milestones the award is paid in.")),
        C("paid_minor", N_("Amount paid so far, less reversals, in minor units.")),
    ),
)
MILESTONES = Dataset(
    "milestones",
    N_("Milestones"),
    N_("The milestones every award is paid in, with their due dates and progress."),
    (
        C("id", N_("Number of the milestone.")),
        C("award_id", N_("Number of the award.")),
        C("challenge_id", N_("Number of the challenge.")),
        C("position", N_("Order of the milestone in the award, from 1.")),
        C("title", N_("What is to be delivered.")),
        C("amount_minor", N_("Amount paid for it, in minor units.")),
        C("currency", N_("ISO 4217 code of the currency.")),
        C("due_at", N_("When it is due.")),
        C(
            "status",
            N_("planned, submitted, returned, approved, released (being paid) or paid."),
        ),
        C("approved_at", N_("When the city approved the delivery; empty before.")),
        C("paid_at", N_("When it was paid in full; empty before.")),
    ),
)
PAYOUTS = Dataset(
    "payouts",
    N_("Payouts"),
    N_(
        "Every payment made to a winner: one row per recipient and milestone, as the "
        "ledger recorded it."
    ),
    (
        C("id", N_("Number of the payout.")),
        C("ledger_id", N_("Number of its transaction in the ledger (id in ledger.csv).")),
        C("milestone_id", N_("Number of the milestone paid.")),
        C("award_id", N_("Number of the award.")),
        C("challenge_id", N_("Number of the challenge.")),
        C("organization_id", N_("Number of the organization paid.")),
        C("organization_name", N_("Name of the organization paid.")),
        C("amount_minor", N_("Amount paid, in minor units.")),
        C("currency", N_("ISO 4217 code of the currency.")),
        C("paid_at", N_("When the payment was recorded.")),
        C("reversed_minor", N_("Amount taken back since (a reversal), in minor units.")),
    ),
)
# The columns of the ledger CSVs, which the rewards area writes (service/rewards/routes.py).
LEDGER = Dataset(
    "ledger",
    N_("Ledger"),
    N_(
        "Every movement of money of every published challenge, oldest first: escrow funded, "
        "awarded, released, paid, reversed, refunded. No row is ever changed or deleted."
    ),
    (
        C("id", N_("Number of the transaction.")),
        C("date", N_("When it was recorded.")),
        C("challenge_id", N_("Number of the challenge.")),
        C(
            "kind",
            N_("fund, allocate, release, payout, payout_failed, reversal or refund."),
        ),
        C("amount_minor", N_("Amount, in minor units (always positive).")),
        C("currency", N_("ISO 4217 code of the currency.")),
        C(
            "counterpart_organization_id",
            N_("The organization on the other side of the city: a recipient, or the city."),
        ),
        C("counterpart_name", N_("Its name.")),
    ),
)
DATASETS = (CHALLENGES, AWARDS, MILESTONES, PAYOUTS, LEDGER)


# --- writing -------------------------------------------------------------------------------


def _joined(values: Iterable[Any]) -> str:
    return ";".join(str(v) for v in values)


def write(dataset: Dataset, rows: Iterable[dict[str, Any]]) -> str:
    """The dataset as CSV text; a row must have exactly the documented columns."""

    def values() -> Iterator[Iterable[Any]]:
        for row in rows:
            if list(row) != dataset.names:
                raise ValueError(f"{dataset.slug}: columns {list(row)} are not the documented ones")
            yield row.values()

    return csv_export.write(dataset.names, values())


# --- rows ----------------------------------------------------------------------------------


def challenge_rows(
    histories: list[History],
    sums: dict[int, dict[str, int]],
    *,
    prefix: str,
    base_url: str,
    now: datetime,
) -> Iterator[dict[str, Any]]:
    for h in histories:
        c = h.challenge
        city = h.organizations[c.organization_id]
        by_kind = sums.get(c.id, {})

        def of(kind: TransactionKind, by_kind: dict[str, int] = by_kind) -> int:
            return by_kind.get(kind.value, 0)

        closed = any(s.to_status in AFTER_CLOSING for s in h.changes)
        applied = [a for a in h.applications if a.withdrawn_at is None]
        yield {
            "id": c.id,
            "ocid": ocid_of(prefix, c.id),
            "url": f"{base_url}/challenges/{c.id}",
            "title": c.title,
            "summary": c.summary,
            "language": c.language,
            "city_id": city.id,
            "city_name": city.name,
            "area": c.area.value,
            "sdgs": _joined(c.sdgs),
            "region": c.region,
            "eligible_kinds": _joined(c.eligible_kinds),
            "eligible_regions": _joined(c.eligible_regions),
            "status": shown_status(c.status, c.opens_at, now),
            "reward_amount_minor": c.reward_amount_minor,
            "currency": c.currency,
            "opens_at": c.opens_at,
            "closes_at": c.closes_at,
            "judging_ends_at": c.judging_ends_at,
            "published_at": c.published_at,
            "cancelled_at": c.cancelled_at,
            "applications": len(applied) if closed else None,
            "awards": len(h.awards),
            # The same sums as the ledger's totals (service/rewards/ledger.py).
            "escrowed_minor": of(TransactionKind.fund) - of(TransactionKind.refund),
            "awarded_minor": of(TransactionKind.allocate),
            "paid_minor": of(TransactionKind.payout) - of(TransactionKind.reversal),
            "refunded_minor": of(TransactionKind.refund),
        }


def _paid(h: History, award_id: int) -> int:
    return sum(
        -m.amount_minor if m.reversal else m.amount_minor
        for m in h.movements
        if m.award_id == award_id
    )


def award_rows(histories: list[History], *, prefix: str) -> Iterator[dict[str, Any]]:
    for h in histories:
        city = h.organizations[h.challenge.organization_id]
        applications = {a.id: a for a in h.applications}
        for award in h.awards:
            application = applications[award.application_id]
            lead = h.organizations[application.organization_id]
            partners = h.partners.get(application.id, [])
            yield {
                "id": award.id,
                "challenge_id": h.challenge.id,
                "ocid": ocid_of(prefix, h.challenge.id),
                "city_id": city.id,
                "city_name": city.name,
                "lead_organization_id": lead.id,
                "lead_organization_name": lead.name,
                "lead_share_pct": application.lead_share_pct,
                "partner_organization_ids": _joined(p.organization_id for p in partners),
                "partner_organization_names": _joined(
                    h.organizations[p.organization_id].name for p in partners
                ),
                "partner_share_pcts": _joined(p.share_pct for p in partners),
                "amount_minor": award.amount_minor,
                "currency": award.currency,
                "awarded_at": award.created_at,
                "rationale": award.rationale,
                "milestones": len(h.milestones.get(award.id, [])),
                "paid_minor": _paid(h, award.id),
            }


def milestone_rows(histories: list[History]) -> Iterator[dict[str, Any]]:
    for h in histories:
        for award in h.awards:
            for position, m in enumerate(h.milestones.get(award.id, []), start=1):
                yield {
                    "id": m.id,
                    "award_id": award.id,
                    "challenge_id": h.challenge.id,
                    "position": position,
                    "title": m.title,
                    "amount_minor": m.amount_minor,
                    "currency": m.currency,
                    "due_at": m.due_at,
                    "status": m.status.value,
                    "approved_at": m.approved_at,
                    "paid_at": m.paid_at,
                }


def payout_rows(histories: list[History]) -> Iterator[dict[str, Any]]:
    for h in histories:
        reversed_of: dict[int, int] = {}
        for m in h.movements:
            if m.reversal:
                reversed_of[m.payout_id] = reversed_of.get(m.payout_id, 0) + m.amount_minor
        for m in h.movements:
            if m.reversal:
                continue
            yield {
                "id": m.payout_id,
                "ledger_id": m.ledger_id,
                "milestone_id": m.milestone_id,
                "award_id": m.award_id,
                "challenge_id": h.challenge.id,
                "organization_id": m.organization_id,
                "organization_name": h.organizations[m.organization_id].name,
                "amount_minor": m.amount_minor,
                "currency": m.currency,
                "paid_at": m.at,
                "reversed_minor": reversed_of.get(m.payout_id, 0),
            }
