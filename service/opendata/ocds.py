"""Open Contracting Data Standard (OCDS) 1.1 release packages, built from stored rows.

A published challenge is one contracting process. Its ocid is `<prefix>-challenge-<id>`.
OCDS asks every publisher to register an ocid prefix (`ocds-` and six characters) with the
Open Contracting Partnership, so that ocids are unique worldwide; a deployment sets its own
with the `OCDS_PREFIX` setting. The default, `ocds-civic`, has five characters after `ocds-`:
it cannot collide with a registered prefix, and it is not registered either, so data published
under it should not be mixed with other publishers' data.

Releases. Each release is one change, and its id names the stored row it comes from:

- `<ocid>-tender-<status>`: the challenge's move to that status (each is reached once);
  tagged tender (publication), tenderUpdate, tenderCancellation, or contractTermination
  (completed, or cancelled after an award);
- `<ocid>-tender-amendment-<amendment id>`: a public amendment of the terms (tenderAmendment);
- `<ocid>-award-<award id>` (award) and `<ocid>-contract-<award id>` (contract, with the
  milestone plan), both dated by the award;
- `<ocid>-implementation-<payout id>`: the ledger's posting of a payout paid (implementation);
- `<ocid>-implementation-reversal-<ledger id>`: the ledger's posting of a reversal
  (implementationUpdate).

A sequence number (`-tender-3`) would not be stable: the scheduler dates a move when it was
due, so a move it noticed late can sort before an amendment made in between. Each release
describes the process as it stood at its own date (the terms are taken back through the
amendments' recorded "before" values), so the same rows always give the same package, and
merging the releases in date order rebuilds the record. Every release repeats the parties
known at its date with all their roles, since OCDS merging replaces a party's role list.

Mapping decisions:

- tender: title; description = summary and problem statement; value = the reward;
  status: published (upcoming) -> planned; open, closed, judging -> active; awarded,
  in delivery, completed -> complete; cancelled -> cancelled (complete when awards were made
  before, the contracts being terminated instead); tenderPeriod = opens..closes; awardPeriod =
  closes..end of judging; procurementMethod open; mainProcurementCategory services;
  awardCriteria qualityOnly (the prize is fixed, applications are scored on weighted
  criteria) with the criteria and weights in awardCriteriaDetails; eligibilityCriteria from
  the eligible kinds and regions, in the challenge's language; documents = the challenge's
  page and its public files. Tenderers (and numberOfTenderers) appear from the closing on:
  who is competing is not published while the challenge is open.
- parties (`org-<organization id>`, the same id across challenges): the city is buyer and
  procuringEntity (and payer once it pays); every organization that submitted an
  application, lead or accepted consortium partner, is tenderer; the members of an awarded
  application are suppliers; recipients of payouts are payees.
- awards (`award-<id>`): status active, date, value, suppliers = the lead and its accepted
  partners (a consortium is awarded as one award), description = the public rationale.
  Application titles and texts are not public, and are not published.
- contracts (`contract-<award id>`, one per award): status active, then terminated when the
  challenge completes or is cancelled; the milestones (`milestone-<id>`) go in
  `implementation.milestones` (OCDS keeps `contracts[].milestones` for the steps towards
  signing the contract), type delivery, with their due dates, scheduled then met. OCDS 1.1
  has no milestone amount: each milestone carries its amount in an additional `value` field
  (the schema allows additional fields; the standard's issue #438 proposes `Milestone.value`).
- implementation.transactions: one per payout paid, id = the id of its row in the public
  ledger (and in the ledger CSV), source = the challenge's public ledger, payer = the city,
  payee = the recipient. A reversal is a transaction the other way (payee = the city).
  Refunds of escrow to a cancelled challenge's city are not spending on a contract: they are
  in the ledger, not in OCDS.
- package: version 1.1, publisher = the `OPENDATA_PUBLISHER` setting, license CC BY 4.0,
  publicationPolicy = the open data page, publishedDate = the date of the latest release.
  The bulk package is paged; the next page is named in `links.next`, as the OCDS pagination
  extension does (the extension itself is not declared: nothing else of it is used).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError

from service.accounts.models import Organization
from service.applications.models import Application, ApplicationPartner, Award
from service.challenges.models import Amendment, Attachment, Challenge, Criterion, StatusChange
from service.core.i18n import DEFAULT_LANGUAGE, LANGUAGES, current_locale, gettext
from service.core.money import minor_units
from service.core.vocab import kind_label
from service.rewards.models import Milestone

OCDS_VERSION = "1.1"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
LICENSE_NAME = "CC BY 4.0"
# The order of ../shared/ocds/partyRole.csv, so that role lists come out the same every time.
ROLE_ORDER = (
    "buyer",
    "procuringEntity",
    "supplier",
    "tenderer",
    "funder",
    "enquirer",
    "payer",
    "payee",
    "reviewBody",
    "interestedParty",
)
TENDER_STATUS = {
    "published": "planned",
    "open": "active",
    "closed": "active",
    "judging": "active",
    "awarded": "complete",
    "in_delivery": "complete",
    "completed": "complete",
    "cancelled": "cancelled",
}
# Statuses that mean the deadline has passed: from then on the tenderers are public.
AFTER_CLOSING = frozenset({"closed", "judging", "awarded", "in_delivery", "completed"})
TERM_DATES = ("opens_at", "closes_at", "judging_ends_at")
# Challenges per page of the bulk package.
PAGE_SIZE = 100
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Publication:
    prefix: str
    base_url: str
    publisher: str


@dataclass(frozen=True)
class Movement:
    """A payout paid, or a reversal of one, as the ledger posted it."""

    ledger_id: int
    reversal: bool
    payout_id: int
    award_id: int
    milestone_id: int
    organization_id: int
    amount_minor: int
    currency: str
    at: datetime


@dataclass
class History:
    """Every stored row of one challenge that its releases are built from."""

    challenge: Challenge
    criteria: list[Criterion]
    changes: list[StatusChange]
    amendments: list[Amendment]
    attachments: list[Attachment]
    # Every application that was ever submitted (drafts never are).
    applications: list[Application]
    # Application id -> its accepted partners.
    partners: dict[int, list[ApplicationPartner]]
    awards: list[Award]
    # Award id -> its milestones, in order.
    milestones: dict[int, list[Milestone]]
    movements: list[Movement]
    organizations: dict[int, Organization]


def ocid_of(prefix: str, challenge_id: int) -> str:
    return f"{prefix}-challenge-{challenge_id}"


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def value(amount_minor: int, currency: str) -> dict[str, Any]:
    """OCDS amounts are in major units: 123456 EUR cents are 1234.56."""
    amount = Decimal(amount_minor).scaleb(-minor_units(currency))
    number: int | float = int(amount) if amount == amount.to_integral_value() else float(amount)
    return {"amount": number, "currency": currency}


def party_id(organization_id: int) -> str:
    return f"org-{organization_id}"


@contextmanager
def _language(code: str) -> Iterator[None]:
    token = current_locale.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        current_locale.reset(token)


def releases(history: History, publication: Publication) -> list[dict[str, Any]]:
    """The challenge's releases, oldest first."""
    with _language(history.challenge.language):
        return _Builder(history, publication).releases()


def package(
    items: list[dict[str, Any]],
    *,
    uri: str,
    publication: Publication,
    now: datetime,
    next_uri: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        # Generated on demand: the date of the latest change it holds (the format sorts).
        "publishedDate": max((r["date"] for r in items), default=when(now)),
        "publisher": {"name": publication.publisher, "uri": publication.base_url},
        "license": LICENSE_URL,
        "publicationPolicy": f"{publication.base_url}/opendata",
        "releases": items,
    }
    if next_uri:
        body["links"] = {"next": next_uri}
    return body


class _Builder:
    def __init__(self, history: History, publication: Publication) -> None:
        self.h = history
        self.base = publication.base_url
        self.challenge = history.challenge
        self.ocid = ocid_of(publication.prefix, history.challenge.id)
        self.city = history.organizations[history.challenge.organization_id]
        self.applications = {a.id: a for a in history.applications}
        self.milestones = {m.id: m for ms in history.milestones.values() for m in ms}
        self.changes = sorted(history.changes, key=lambda c: (c.at, c.id))
        # The status the publication release shows, when the history does not tell.
        self.unrecorded_status: str | None = None
        published = history.challenge.published_at
        if published is not None and not any(c.to_status == "published" for c in self.changes):
            # A challenge stored without its history (imported, or seeded straight into the
            # database): its publication is still a release, showing its status if nothing
            # else will.
            if not self.changes:
                self.unrecorded_status = history.challenge.status.value
            self.changes.insert(
                0,
                StatusChange(
                    id=0,
                    challenge_id=history.challenge.id,
                    from_status="draft",
                    to_status="published",
                    at=published,
                ),
            )
        closings = [c for c in self.changes if c.to_status in AFTER_CLOSING]
        self.closing = closings[0] if closings else None
        self.amendment_links: dict[int, dict[str, str]] = {}
        try:
            self.locale: Locale | None = Locale.parse(history.challenge.language)
        except (ValueError, UnknownLocaleError):
            self.locale = None

    # --- the releases ----------------------------------------------------------------------

    def releases(self) -> list[dict[str, Any]]:
        # (date, stage, row id): the order of the package, and of the tender's own history.
        keyed: list[tuple[datetime, int, int, dict[str, Any]]] = []
        tender_events: list[tuple[datetime, int, StatusChange | Amendment]] = [
            (c.at, c.id, c) for c in self.changes if c.to_status in TENDER_STATUS
        ]
        tender_events += [(a.created_at, a.id, a) for a in self.h.amendments]
        tender_events.sort(key=lambda e: (e[0], isinstance(e[2], Amendment), e[1]))
        # Each amendment names the release that records it and the tender release it amends.
        previous: str | None = None
        for _, _, row in tender_events:
            if isinstance(row, Amendment):
                own = f"{self.ocid}-tender-amendment-{row.id}"
                self.amendment_links[row.id] = {"releaseID": own}
                if previous:
                    self.amendment_links[row.id]["amendsReleaseID"] = previous
                previous = own
            else:
                previous = f"{self.ocid}-tender-{row.to_status}"
        for at, row_id, row in tender_events:
            release = self._amendment(row) if isinstance(row, Amendment) else self._status(row)
            keyed.append((at, 0, row_id, release))
        for award in self.h.awards:
            keyed.append((award.created_at, 1, award.id, self._award(award)))
            keyed.append((award.created_at, 2, award.id, self._contract(award)))
        for movement in self.h.movements:
            keyed.append((movement.at, 3, movement.ledger_id, self._implementation(movement)))
        keyed.sort(key=lambda k: (k[0], k[1], k[2]))
        return [k[3] for k in keyed]

    def _closed(self, at: datetime, change: StatusChange | None) -> bool:
        """Whether the tender had closed at `at`; for a move, whether it had by that move
        (moves recorded at the same instant count in the order they were made)."""
        if self.closing is None:
            return False
        if change is not None:
            return (self.closing.at, self.closing.id) <= (change.at, change.id)
        return self.closing.at <= at

    def _release(
        self, suffix: str, at: datetime, tags: list[str], change: StatusChange | None = None
    ) -> dict[str, Any]:
        return {
            "ocid": self.ocid,
            "id": f"{self.ocid}-{suffix}",
            "date": when(at),
            "tag": tags,
            "initiationType": "tender",
            "language": self.challenge.language,
            "buyer": self._ref(self.city.id),
            "parties": self._parties(at, change),
        }

    def _status(self, change: StatusChange) -> dict[str, Any]:
        at = change.at
        # Completion comes after every award, whatever the clock said (a completion dated
        # by hand before the awards still ends their contracts).
        awarded = self.h.awards if change.to_status == "completed" else self._awards_by(at)
        status = TENDER_STATUS[self.unrecorded_status or change.to_status]
        if change.to_status == "published":
            tags = ["tender"]
        elif change.to_status in ("cancelled", "completed") and awarded:
            # The tender was complete: what ends now are the contracts.
            tags = ["tenderUpdate", "contractTermination"]
            status = "complete"
        elif change.to_status == "cancelled":
            tags = ["tenderCancellation"]
        else:
            tags = ["tenderUpdate"]
        release = self._release(f"tender-{change.to_status}", at, tags, change)
        release["tender"] = self._tender(at, status, change)
        if "contractTermination" in tags:
            release["contracts"] = [
                {
                    "id": f"contract-{award.id}",
                    "awardID": f"award-{award.id}",
                    "status": "terminated",
                    "period": self._contract_period(award, end=at),
                }
                for award in awarded
            ]
        return release

    def _amendment(self, amendment: Amendment) -> dict[str, Any]:
        at = amendment.created_at
        release = self._release(f"tender-amendment-{amendment.id}", at, ["tenderAmendment"])
        current = [c for c in self.changes if c.at <= at]
        status = TENDER_STATUS.get(current[-1].to_status, "planned") if current else "planned"
        release["tender"] = self._tender(at, status, None)
        return release

    def _award(self, award: Award) -> dict[str, Any]:
        release = self._release(f"award-{award.id}", award.created_at, ["award"])
        release["awards"] = [
            {
                "id": f"award-{award.id}",
                "description": award.rationale,
                "status": "active",
                "date": when(award.created_at),
                "value": value(award.amount_minor, award.currency),
                "suppliers": [self._ref(o) for o in self._members(award)],
            }
        ]
        return release

    def _contract(self, award: Award) -> dict[str, Any]:
        release = self._release(f"contract-{award.id}", award.created_at, ["contract"])
        release["contracts"] = [
            {
                "id": f"contract-{award.id}",
                "awardID": f"award-{award.id}",
                "status": "active",
                "value": value(award.amount_minor, award.currency),
                "period": self._contract_period(award),
                "implementation": {
                    "milestones": [
                        self._milestone(m, met=None) for m in self.h.milestones.get(award.id, [])
                    ]
                },
            }
        ]
        return release

    def _implementation(self, movement: Movement) -> dict[str, Any]:
        city, recipient = self._ref(self.city.id), self._ref(movement.organization_id)
        transaction = {
            "id": str(movement.ledger_id),
            "source": f"{self.base}/api/v1/challenges/{self.challenge.id}/ledger",
            "date": when(movement.at),
            "value": value(movement.amount_minor, movement.currency),
            # A reversal is money going back, from the recipient to the city.
            "payer": recipient if movement.reversal else city,
            "payee": city if movement.reversal else recipient,
        }
        implementation: dict[str, Any] = {"transactions": [transaction]}
        if movement.reversal:
            suffix, tags = f"implementation-reversal-{movement.ledger_id}", ["implementationUpdate"]
        else:
            suffix, tags = f"implementation-{movement.payout_id}", ["implementation"]
            milestone = self.milestones.get(movement.milestone_id)
            if milestone is not None:
                # Paid after its approval: the delivery was accepted then.
                met = min(milestone.approved_at or movement.at, movement.at)
                implementation["milestones"] = [self._milestone(milestone, met=met)]
        release = self._release(suffix, movement.at, tags)
        release["contracts"] = [
            {
                "id": f"contract-{movement.award_id}",
                "awardID": f"award-{movement.award_id}",
                "implementation": implementation,
            }
        ]
        return release

    # --- sections --------------------------------------------------------------------------

    def _tender(self, at: datetime, status: str, change: StatusChange | None) -> dict[str, Any]:
        c = self.challenge
        terms = self._terms_at(at)
        tender: dict[str, Any] = {
            "id": f"{self.ocid}-tender",
            "title": c.title,
            "description": f"{c.summary}\n\n{c.problem_statement}",
            "status": status,
            "procuringEntity": self._ref(self.city.id),
            "value": value(terms["reward"]["amount_minor"], terms["reward"]["currency"]),
            "procurementMethod": "open",
            "mainProcurementCategory": "services",
            "awardCriteria": "qualityOnly",
            "awardCriteriaDetails": "; ".join(
                f"{item['name']}: {item['weight']} %" for item in terms["criteria"]
            ),
            "eligibilityCriteria": self._eligibility(),
            "tenderPeriod": {
                "startDate": when(terms["opens_at"]),
                "endDate": when(terms["closes_at"]),
            },
            "awardPeriod": {
                "startDate": when(terms["closes_at"]),
                "endDate": when(terms["judging_ends_at"]),
            },
            "documents": self._documents(at),
        }
        if self._closed(at, change):
            tenderers = self._bidders(at)
            tender["tenderers"] = [self._ref(o) for o in tenderers]
            tender["numberOfTenderers"] = len(tenderers)
        amendments = [a for a in self.h.amendments if a.created_at <= at]
        if amendments:
            tender["amendments"] = [
                {
                    "id": f"amendment-{a.id}",
                    "date": when(a.created_at),
                    "rationale": a.reason,
                    **self.amendment_links.get(a.id, {}),
                }
                for a in amendments
            ]
        return tender

    def _terms_at(self, at: datetime) -> dict[str, Any]:
        """The reward, criteria and dates as they stood at `at`: today's, with every later
        amendment undone, newest first."""
        c = self.challenge
        terms: dict[str, Any] = {
            "reward": {"amount_minor": c.reward_amount_minor, "currency": c.currency},
            "criteria": [{"name": k.name, "weight": k.weight} for k in self.h.criteria],
            "opens_at": c.opens_at,
            "closes_at": c.closes_at,
            "judging_ends_at": c.judging_ends_at,
        }
        later = [a for a in self.h.amendments if a.created_at > at]
        for amendment in sorted(later, key=lambda a: (a.created_at, a.id), reverse=True):
            for key, change in amendment.changes.items():
                if key not in terms or not isinstance(change, dict) or "before" not in change:
                    continue
                before = change["before"]
                if key in TERM_DATES:
                    try:
                        terms[key] = datetime.fromisoformat(str(before))
                    except ValueError:
                        continue
                else:
                    terms[key] = before
        return terms

    def _eligibility(self) -> str:
        c = self.challenge
        # Said as the challenge's page says it, in the challenge's language.
        text = gettext("Open to") + ": " + ", ".join(kind_label(k) for k in c.eligible_kinds)
        if c.eligible_regions:
            text += " · " + gettext("from") + " " + ", ".join(c.eligible_regions)
        return text

    def _documents(self, at: datetime) -> list[dict[str, Any]]:
        c = self.challenge
        published = c.published_at or at
        documents: list[dict[str, Any]] = [
            {
                "id": "challenge-page",
                "documentType": "tenderNotice",
                "title": c.title,
                "url": f"{self.base}/challenges/{c.id}",
                "datePublished": when(published),
                "format": "text/html",
                "language": c.language,
            }
        ]
        for attachment in self.h.attachments:
            shown = max(attachment.created_at, published)
            if shown <= at:
                documents.append(
                    {
                        "id": f"attachment-{attachment.id}",
                        "documentType": "biddingDocuments",
                        "title": attachment.original_name,
                        "url": f"{self.base}/challenges/{c.id}/attachments/{attachment.id}",
                        "datePublished": when(shown),
                        "format": attachment.content_type,
                    }
                )
        return documents

    def _milestone(self, milestone: Milestone, *, met: datetime | None) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": f"milestone-{milestone.id}",
            "title": milestone.title,
            "type": "delivery",
            "status": "met" if met else "scheduled",
            "dueDate": when(milestone.due_at),
            # Not in OCDS 1.1's Milestone: an additional field (see the module's docstring).
            "value": value(milestone.amount_minor, milestone.currency),
        }
        if met:
            item["dateMet"] = when(met)
            item["dateModified"] = when(met)
        return item

    def _contract_period(self, award: Award, *, end: datetime | None = None) -> dict[str, str]:
        dues = [m.due_at for m in self.h.milestones.get(award.id, [])]
        last = end or (max(dues) if dues else None)
        period = {"startDate": when(award.created_at)}
        if last is not None:
            period["endDate"] = when(last)
        return period

    # --- parties ---------------------------------------------------------------------------

    def _awards_by(self, at: datetime) -> list[Award]:
        return [a for a in self.h.awards if a.created_at <= at]

    def _members(self, award: Award) -> list[int]:
        """The lead organization of the awarded application, then its accepted partners."""
        application = self.applications.get(award.application_id)
        lead = application.organization_id if application else None
        members = [lead] if lead is not None else []
        partners = self.h.partners.get(award.application_id, [])
        members += [p.organization_id for p in partners if p.organization_id != lead]
        return members

    def _bidders(self, at: datetime) -> list[int]:
        """Who had applied, once the tender closed (the only time they are asked for).

        Every submitted application was in by the closing, the deadline being checked on
        submission; a withdrawal after the closing counts from its date."""
        found: list[int] = []
        for application in self.h.applications:
            withdrawn = application.withdrawn_at
            if application.submitted_at is None or (withdrawn is not None and withdrawn <= at):
                continue
            partners = self.h.partners.get(application.id, [])
            for org in [application.organization_id, *(p.organization_id for p in partners)]:
                if org not in found:
                    found.append(org)
        return found

    def _parties(self, at: datetime, change: StatusChange | None) -> list[dict[str, Any]]:
        roles: dict[int, set[str]] = {self.city.id: {"buyer", "procuringEntity"}}
        if self._closed(at, change):
            for org in self._bidders(at):
                roles.setdefault(org, set()).add("tenderer")
        for award in self._awards_by(at):
            for org in self._members(award):
                roles.setdefault(org, set()).update({"supplier", "tenderer"})
        for movement in self.h.movements:
            if movement.at <= at:
                payer, payee = self.city.id, movement.organization_id
                if movement.reversal:
                    payer, payee = payee, payer
                roles.setdefault(payer, set()).add("payer")
                roles.setdefault(payee, set()).add("payee")
        order = [self.city.id, *sorted(o for o in roles if o != self.city.id)]
        return [self._party(org, roles[org]) for org in order]

    def _party(self, organization_id: int, roles: set[str]) -> dict[str, Any]:
        org = self.h.organizations[organization_id]
        country = self.locale.territories.get(org.country) if self.locale else None
        address: dict[str, str] = {"region": org.region, "countryName": country or org.country}
        return {
            "id": party_id(org.id),
            "name": org.name,
            "address": address,
            "roles": [r for r in ROLE_ORDER if r in roles],
            "details": {"kind": org.kind.value, "url": f"{self.base}/organizations/{org.id}"},
        }

    def _ref(self, organization_id: int) -> dict[str, str]:
        org = self.h.organizations[organization_id]
        return {"id": party_id(org.id), "name": org.name}
