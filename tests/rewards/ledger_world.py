"""A challenge's money driven through the rewards services, step by step, next to a model.

`LedgerWorld` is a Hypothesis state machine: every rule is one operation of the product (fund,
award, approve, release, pay, fail, reverse, cancel and refund, or one that must be refused),
run in its own `db.transaction()` on the session's event loop, the loop the database
connections belong to. The machine keeps its own account of where the money should be and,
after every step, compares it with the ledger.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar, cast

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from tortoise.functions import Sum

from service import db
from service.accounts.actor import Actor
from service.accounts.models import Membership, Organization, OrganizationKind, Role, User
from service.applications import service as applications
from service.applications.models import (
    Application,
    ApplicationPartner,
    ApplicationStatus,
    Award,
    PartnerStatus,
)
from service.challenges import service as challenges_service
from service.challenges.models import Challenge, ChallengeStatus
from service.config import Settings
from service.core.context import Context
from service.core.errors import Conflict, ServiceError, ValidationFailed
from service.rewards import ledger
from service.rewards import service as rewards
from service.rewards.gateway import ManualGateway, PaymentGateway, Transfer
from service.rewards.models import (
    AccountKind,
    Funding,
    LedgerEntry,
    LedgerTransaction,
    Milestone,
    MilestoneStatus,
    Payout,
    PayoutAccount,
    PayoutStatus,
    Rail,
    Refund,
    RefundStatus,
)

T = TypeVar("T")
K = AccountKind
M = MilestoneStatus
P = PayoutStatus
S = ChallengeStatus
CURRENCY = "EUR"
IBAN = "ES91 2100 0418 4502 0005 1332"
_serial = itertools.count(1)

# Draws an index into whatever list a rule picks from; it shrinks towards the first item.
index = st.integers(min_value=0, max_value=2**16)
percent = st.integers(min_value=1, max_value=100)
partner_share = st.integers(min_value=1, max_value=99)
# Small amounts make the rounding of splits visible; large ones are the usual case.
rewards_minor = st.one_of(
    st.integers(min_value=1, max_value=300), st.integers(min_value=300, max_value=50_000_000)
)


def pick(items: list[T], i: int) -> T:
    return items[i % len(items)]


def cut(amount: int, weights: list[int]) -> list[int]:
    """`amount` in as many positive parts as there are weights (fewer when it is too small)."""
    weights = weights[: max(1, min(len(weights), amount))]
    rest = amount - len(weights)
    parts = [1 + rest * w // sum(weights) for w in weights]
    parts[0] += amount - sum(parts)
    return parts


class TransferDesk:
    """Stripe's side of transfers, as far as `sync_transfer` asks: what was reversed of each."""

    rail = Rail.stripe

    def __init__(self) -> None:
        self.reversed: dict[str, int] = {}
        self.amounts: dict[str, int] = {}

    async def retrieve_transfer(self, transfer_id: str) -> Transfer:
        return Transfer(
            id=transfer_id,
            amount_minor=self.amounts[transfer_id],
            currency=CURRENCY.lower(),
            destination="acct_recipient",
            amount_reversed_minor=self.reversed.get(transfer_id, 0),
            transfer_group="",
        )


# --- the model -----------------------------------------------------------------------------


@dataclass
class PayoutModel:
    id: int
    milestone_id: int
    award_id: int
    organization_id: int
    amount: int
    status: PayoutStatus = P.awaiting_transfer
    reversed: int = 0
    transfer_id: str | None = None

    @property
    def live(self) -> bool:
        """Owed or paid: the recipient's share of the milestone is taken by this payout."""
        return self.status in (P.queued, P.in_flight, P.awaiting_transfer, P.paid)


@dataclass
class MilestoneModel:
    id: int
    award_id: int
    amount: int
    status: MilestoneStatus = M.planned


@dataclass
class AwardModel:
    id: int
    application_id: int
    amount: int
    # (organization id, percent), the lead first: the order the service splits in.
    shares: list[tuple[int, int]]


@dataclass
class ApplicationModel:
    id: int
    shares: list[tuple[int, int]]
    status: ApplicationStatus = ApplicationStatus.submitted


@dataclass
class Books:
    """Where the challenge's money should be, by the test's own reckoning."""

    reward: int
    status: ChallengeStatus = S.judging
    fundings: list[tuple[int, int]] = field(default_factory=list)
    refunds: dict[int, tuple[int, RefundStatus]] = field(default_factory=dict)
    awards: dict[int, AwardModel] = field(default_factory=dict)
    milestones: dict[int, MilestoneModel] = field(default_factory=dict)
    payouts: dict[int, PayoutModel] = field(default_factory=dict)

    @property
    def funded(self) -> int:
        return sum(amount for _, amount in self.fundings)

    @property
    def refunded(self) -> int:
        return sum(a for a, s in self.refunds.values() if s is RefundStatus.paid)

    @property
    def allocated(self) -> int:
        return sum(a.amount for a in self.awards.values())

    @property
    def escrow(self) -> int:
        return self.funded - self.refunded - self.allocated

    @property
    def paid(self) -> int:
        return sum(
            p.amount - p.reversed for p in self.payouts.values() if p.status in (P.paid, P.reversed)
        )

    def payable(self, award_id: int) -> int:
        return sum(
            p.amount
            for p in self.payouts.values()
            if p.award_id == award_id and p.status is P.awaiting_transfer
        )

    def paid_out(self, award_id: int) -> int:
        return sum(
            p.amount - p.reversed
            for p in self.payouts.values()
            if p.award_id == award_id and p.status in (P.paid, P.reversed)
        )

    def payouts_of(self, milestone_id: int) -> list[PayoutModel]:
        return [p for p in self.payouts.values() if p.milestone_id == milestone_id]

    def reopen(self, milestone_id: int) -> None:
        milestone = self.milestones[milestone_id]
        if milestone.status in (M.released, M.paid):
            milestone.status = M.approved

    def settle(self, milestone_id: int) -> None:
        """After a payment: a released milestone whose payouts are all paid is paid, and a
        challenge in delivery whose milestones are all paid is complete."""
        milestone = self.milestones[milestone_id]
        live = [p for p in self.payouts_of(milestone_id) if p.live]
        if milestone.status is M.released and all(p.status is P.paid for p in live):
            milestone.status = M.paid
            if self.status is S.in_delivery and all(
                m.status is M.paid for m in self.milestones.values()
            ):
                self.status = S.completed


# --- what the database holds ---------------------------------------------------------------


@dataclass
class Snapshot:
    """Everything a refused operation must leave as it was."""

    entries: int
    transactions: int
    balances: dict[int, int]
    rows: tuple[Any, ...]


async def balances_by_account() -> dict[int, int]:
    rows = (
        await LedgerEntry.all()
        .annotate(total=Sum("amount_minor"))
        .group_by("account_id")
        .values("account_id", "total")
    )
    return {int(r["account_id"]): int(r["total"] or 0) for r in rows}


async def snapshot(challenge_id: int, recipients: list[int]) -> Snapshot:
    # Outside a transaction, the reads can share the pool's connections.
    of_challenge = await asyncio.gather(
        LedgerEntry.all().count(),
        LedgerTransaction.all().count(),
        balances_by_account(),
        Challenge.filter(id=challenge_id).values_list("status", flat=True),
        Funding.filter(challenge_id=challenge_id).values_list("id", "status"),
        Refund.filter(funding__challenge_id=challenge_id).values_list("id", "status"),
        Award.filter(challenge_id=challenge_id).values_list("id", flat=True),
        Application.filter(challenge_id=challenge_id).values_list("id", "status"),
        Milestone.filter(award__challenge_id=challenge_id)
        .order_by("id")
        .values_list("id", "status", "approved_by_id", "released_at"),
        Payout.filter(milestone__award__challenge_id=challenge_id)
        .order_by("id")
        .values_list(
            "id", "status", "amount_reversed_minor", "stripe_transfer_id", "bank_reference"
        ),
        PayoutAccount.filter(organization_id__in=recipients)
        .order_by("id")
        .values_list("organization_id", "payouts_enabled"),
    )
    entries, transactions, balances, *rows = of_challenge
    return Snapshot(entries, transactions, balances, tuple(rows))


@dataclass
class Observed:
    breaches: list[ledger.Breach]
    sum_of_all_entries: int
    escrow: int
    totals: ledger.Totals
    # (kind, award id, organization id) -> balance, of the challenge's transactions.
    balances: dict[tuple[str, int | None, int | None], int]
    challenge_status: ChallengeStatus
    milestones: dict[int, MilestoneStatus]
    payouts: list[dict[str, Any]]
    refunds: dict[int, tuple[int, RefundStatus]]


async def observe(challenge_id: int, reward: int) -> Observed:
    (
        breaches,
        total,
        escrow,
        totals,
        balances,
        challenge,
        milestones,
        payouts,
        refunds,
    ) = await asyncio.gather(
        ledger.check_invariants(),
        LedgerEntry.all().annotate(total=Sum("amount_minor")).first().values("total"),
        ledger.escrow_balance(challenge_id, CURRENCY),
        ledger.totals(challenge_id, reward, CURRENCY),
        LedgerEntry.filter(transaction__challenge_id=challenge_id)
        .annotate(total=Sum("amount_minor"))
        .group_by("account__kind", "account__award_id", "account__organization_id")
        .values("account__kind", "account__award_id", "account__organization_id", "total"),
        Challenge.get(id=challenge_id),
        Milestone.filter(award__challenge_id=challenge_id).values_list("id", "status"),
        Payout.filter(milestone__award__challenge_id=challenge_id).values(
            "id",
            "milestone_id",
            "organization_id",
            "amount_minor",
            "status",
            "amount_reversed_minor",
            "stripe_transfer_id",
        ),
        Refund.filter(funding__challenge_id=challenge_id).values_list(
            "id", "amount_minor", "status"
        ),
    )
    return Observed(
        breaches=breaches,
        sum_of_all_entries=int((total or {}).get("total") or 0),
        escrow=escrow,
        totals=totals,
        balances={
            (
                str(r["account__kind"]),
                r["account__award_id"],
                r["account__organization_id"],
            ): int(r["total"] or 0)
            for r in balances
        },
        challenge_status=challenge.status,
        milestones={int(i): M(s) for i, s in milestones},
        payouts=list(payouts),
        refunds={int(i): (int(a), RefundStatus(s)) for i, a, s in refunds},
    )


# --- the machine ---------------------------------------------------------------------------


class LedgerWorld(RuleBasedStateMachine):
    """One fresh challenge per run: a verified city with a manager and a finance member, three
    startups with submitted applications (some with an accepted university partner)."""

    # Set by `bind`: the session's loop and settings, and what all runs reached, by operation.
    loop: ClassVar[asyncio.AbstractEventLoop]
    settings: ClassVar[Settings]
    reached: ClassVar[Counter[str]]

    def __init__(self) -> None:
        super().__init__()
        self.books: Books | None = None
        self.desk = TransferDesk()
        self.gateway = ManualGateway()
        self.accounts: set[int] = set()
        self.applications: dict[int, ApplicationModel] = {}
        self.ops: Counter[str] = Counter()
        self.refusals = 0
        # Set when the last step was shown to leave the database exactly as it was: the
        # invariants, checked before it, need no second look.
        self.unchanged = False

    @classmethod
    def bind(cls, loop: asyncio.AbstractEventLoop, settings: Settings) -> type[LedgerWorld]:
        return cast(
            "type[LedgerWorld]",
            type(
                cls.__name__,
                (cls,),
                {"loop": loop, "settings": settings, "reached": Counter()},
            ),
        )

    # --- running steps ---------------------------------------------------------------------

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def step(self, work: Callable[[], Awaitable[T]]) -> T:
        """One operation, in its own transaction, as a request or a job runs it."""

        async def go() -> T:
            async with db.transaction(None):
                return await work()

        self.unchanged = False
        return self.run(go())

    def changes_nothing(self, work: Callable[[], T]) -> T:
        """Run `work` (steps), and check that the database is as it was before."""
        before = self.run(snapshot(self.challenge_id, self.recipients))
        result = work()
        assert self.run(snapshot(self.challenge_id, self.recipients)) == before
        self.unchanged = True
        return result

    def refused(self, error: type[ServiceError], work: Callable[[], Awaitable[Any]]) -> None:
        """The operation raises exactly `error`, and the database is as it was."""

        def attempt() -> None:
            with pytest.raises(ServiceError) as raised:
                self.step(work)
            assert type(raised.value) is error, (type(raised.value), raised.value)

        self.changes_nothing(attempt)

    def did(self, op: str) -> None:
        self.ops[op] += 1
        self.reached[op] += 1

    @property
    def b(self) -> Books:
        assert self.books is not None
        return self.books

    def ctx(self, user: User, roles: dict[int, Role]) -> Context:
        return Context(actor=Actor(user=user, roles=roles, mfa=True), settings=self.settings)

    @property
    def manager(self) -> Context:
        return self.ctx(self.manager_user, {self.city.id: Role.manager})

    @property
    def finance(self) -> Context:
        return self.ctx(self.finance_user, {self.city.id: Role.finance})

    @property
    def applicant(self) -> Context:
        return self.ctx(self.applicant_user, dict.fromkeys(self.recipients, Role.owner))

    # --- the world -------------------------------------------------------------------------

    @initialize(
        reward=rewards_minor,
        # Two applications in three, on average, are a consortium.
        partner_pcts=st.lists(
            st.one_of(st.none(), partner_share, partner_share), min_size=3, max_size=3
        ),
        # Most recipients have bank details from the start; the rest may add them later.
        with_account=st.lists(st.integers(0, 3).map(lambda n: n < 3), min_size=6, max_size=6),
    )
    def build(self, reward: int, partner_pcts: list[int | None], with_account: list[bool]) -> None:
        self.books = Books(reward=reward)
        self.earlier_breaches = self.run(ledger.check_invariants())
        self.step(lambda: self._build(reward, partner_pcts, with_account))

    async def _build(
        self, reward: int, partner_pcts: list[int | None], with_account: list[bool]
    ) -> None:
        n = next(_serial)
        now = datetime.now(UTC)

        async def user(name: str) -> User:
            return await User.create(
                email=f"{name}-{n}-{now.timestamp()}@ledger.example.org",
                name=f"{name.title()} {n}",
                email_verified_at=now,
                totp_enabled_at=now,
            )

        async def org(kind: OrganizationKind, name: str) -> Organization:
            return await Organization.create(
                name=f"{name} {n}", kind=kind, country="ES", region="Madrid", verified_at=now
            )

        self.city = await org(OrganizationKind.government, "City")
        self.manager_user = await user("manager")
        self.finance_user = await user("treasurer")
        self.applicant_user = await user("founder")
        await Membership.create(user=self.manager_user, organization=self.city, role=Role.manager)
        await Membership.create(user=self.finance_user, organization=self.city, role=Role.finance)
        challenge = await Challenge.create(
            organization=self.city,
            title="Cut school-bus delays",
            summary="Help school buses arrive on time.",
            problem_statement="Buses are late on two mornings out of five.",
            area="mobility",
            sdgs=[11],
            region="Madrid",
            eligible_kinds=["startup", "university"],
            reward_amount_minor=reward,
            currency=CURRENCY,
            opens_at=now - timedelta(days=60),
            closes_at=now - timedelta(days=1),
            judging_ends_at=now + timedelta(days=30),
            status=S.judging,
        )
        self.challenge_id = challenge.id
        self.recipients: list[int] = []
        for i, partner_pct in enumerate(partner_pcts):
            lead = await org(OrganizationKind.startup, f"Startup {i}")
            await Membership.create(user=self.applicant_user, organization=lead, role=Role.owner)
            application = await Application.create(
                challenge=challenge,
                organization=lead,
                title=f"Plan {i}",
                summary="A plan.",
                lead_share_pct=100 - (partner_pct or 0),
                status=ApplicationStatus.submitted,
                submitted_at=now,
            )
            shares = [(lead.id, 100 - (partner_pct or 0))]
            self.recipients.append(lead.id)
            if partner_pct is not None:
                university = await org(OrganizationKind.university, f"University {i}")
                await ApplicationPartner.create(
                    application=application,
                    organization=university,
                    role="research partner",
                    share_pct=partner_pct,
                    status=PartnerStatus.accepted,
                    answered_at=now,
                )
                shares.append((university.id, partner_pct))
                self.recipients.append(university.id)
            self.applications[application.id] = ApplicationModel(id=application.id, shares=shares)
        for org_id, has_account in zip(self.recipients, with_account, strict=False):
            if has_account:
                await self._bank_details(org_id)

    async def _bank_details(self, org_id: int) -> None:
        organization = await Organization.get(id=org_id)
        await rewards.set_bank_details(
            self.applicant, organization, holder=organization.name, iban=IBAN, bic="CAIXESBBXXX"
        )
        self.accounts.add(org_id)

    # --- funding ---------------------------------------------------------------------------

    @property
    def fundable(self) -> bool:
        return self.b.status not in (S.cancelled, S.completed)

    @property
    def left_to_fund(self) -> int:
        return self.b.reward - self.b.funded

    @precondition(lambda self: self.fundable and self.left_to_fund > 0)
    @rule(share=st.one_of(st.just(100), percent))
    def fund(self, share: int) -> None:
        """A bank transfer of `share` percent of what is left to fund (often all of it)."""
        amount = max(1, self.left_to_fund * share // 100)

        async def work() -> Funding:
            challenge = await Challenge.get(id=self.challenge_id)
            return await rewards.fund(
                self.finance,
                challenge,
                self.gateway,
                amount_minor=amount,
                method=Rail.bank_transfer,
                reference=f"TR-{next(_serial)}",
            )

        funding = self.step(work)
        assert funding.amount_minor == amount and funding.status.value == "succeeded"
        self.b.fundings.append((funding.id, amount))
        self.did("fund")

    def fund_beyond_the_reward(self, which: int = 0, extra: int = 1) -> None:
        async def work() -> None:
            challenge = await Challenge.get(id=self.challenge_id)
            await rewards.fund(
                self.finance,
                challenge,
                self.gateway,
                amount_minor=max(self.left_to_fund, 0) + extra,
                method=Rail.bank_transfer,
                reference="TR-over",
            )

        self.refused(ValidationFailed if self.fundable else Conflict, work)
        self.did("refused fund")

    # --- awards ----------------------------------------------------------------------------

    def submitted(self) -> list[ApplicationModel]:
        return [a for a in self.applications.values() if a.status is ApplicationStatus.submitted]

    @precondition(
        lambda self: (
            self.b.status in (S.judging, S.awarded) and self.b.escrow > 0 and self.submitted()
        )
    )
    @rule(which=index, share=percent, weights=st.lists(percent, min_size=1, max_size=3))
    def award(self, which: int, share: int, weights: list[int]) -> None:
        target = pick(self.submitted(), which)
        amount = max(1, self.b.escrow * share // 100)
        parts = cut(amount, weights)
        due = datetime.now(UTC) + timedelta(days=90)

        async def work() -> tuple[Award, list[Milestone]]:
            challenge = await Challenge.get(id=self.challenge_id)
            application = await Application.get(id=target.id)
            made = await applications.award(
                self.manager,
                challenge,
                application,
                amount_minor=amount,
                rationale="The best plan.",
                milestones=[
                    {"title": f"Milestone {i + 1}", "amount_minor": part, "due_at": due}
                    for i, part in enumerate(parts)
                ],
            )
            return made, list(await Milestone.filter(award_id=made.id).order_by("position"))

        made, milestones = self.step(work)
        assert [m.amount_minor for m in milestones] == parts
        self.b.awards[made.id] = AwardModel(made.id, target.id, amount, target.shares)
        for m in milestones:
            self.b.milestones[m.id] = MilestoneModel(m.id, made.id, m.amount_minor)
        target.status = ApplicationStatus.awarded
        if self.b.status is S.judging:
            self.b.status = S.awarded
        self.did("award")

    def award_beyond_the_escrow(self, which: int = 0, extra: int = 1) -> None:
        target = pick(list(self.applications.values()), which)
        amount = max(self.b.escrow, 0) + extra

        async def work() -> None:
            await applications.award(
                self.manager,
                await Challenge.get(id=self.challenge_id),
                await Application.get(id=target.id),
                amount_minor=amount,
                rationale="More than there is.",
                milestones=[{"title": "All", "amount_minor": amount, "due_at": datetime.now(UTC)}],
            )

        if self.b.status not in (S.judging, S.awarded):
            error: type[ServiceError] = Conflict
        elif target.status is not ApplicationStatus.submitted:
            error = Conflict
        else:
            error = applications.ExceedsFunds
        self.refused(error, work)
        self.did("refused award")

    @precondition(lambda self: self.b.status is S.awarded)
    @rule()
    def close_awarding(self) -> None:
        async def work() -> int:
            challenge = await Challenge.get(id=self.challenge_id)
            return await applications.close_awarding(self.manager, challenge)

        assert self.step(work) == len(self.submitted())
        for application in self.submitted():
            application.status = ApplicationStatus.not_awarded
        self.b.status = S.in_delivery
        self.did("close awarding")

    # --- milestones ------------------------------------------------------------------------

    def milestones_in(self, *statuses: MilestoneStatus) -> list[MilestoneModel]:
        return [m for m in self.b.milestones.values() if m.status in statuses]

    @precondition(lambda self: self.milestones_in(M.planned))
    @rule(which=index)
    def approve(self, which: int) -> None:
        target = pick(self.milestones_in(M.planned), which)

        async def submit() -> Milestone:
            return await rewards.submit_evidence(
                self.applicant, await Milestone.get(id=target.id), evidence="Report published."
            )

        async def approve() -> Milestone:
            return await rewards.approve(self.manager, await Milestone.get(id=target.id))

        assert self.step(submit).status is M.submitted
        assert self.step(approve).status is M.approved
        target.status = M.approved
        self.did("approve")

    @precondition(lambda self: self.milestones_in(M.approved))
    @rule(which=index)
    def release(self, which: int) -> None:
        target = pick(self.milestones_in(M.approved), which)
        award = self.b.awards[target.award_id]
        # A recipient whose share of the milestone is already owed or paid is not paid again.
        taken = {p.organization_id for p in self.b.payouts_of(target.id) if p.live}
        if any(o not in self.accounts and o not in taken for o, _ in award.shares):
            self.refused(rewards.NoPayoutAccount, self._release(target.id))
            self.did("refused release without payout account")
            return
        again = any(not p.live for p in self.b.payouts_of(target.id))
        payouts = self.step(self._release(target.id))
        amounts = rewards.split(target.amount, [pct for _, pct in award.shares])
        expected = [
            (org_id, amount)
            for (org_id, _), amount in zip(award.shares, amounts, strict=True)
            if amount > 0 and org_id not in taken
        ]
        assert [(p.organization_id, p.amount_minor) for p in payouts] == expected
        for p in payouts:
            assert p.status is P.awaiting_transfer
            self.b.payouts[p.id] = PayoutModel(
                p.id, target.id, award.id, p.organization_id, p.amount_minor
            )
        target.status = M.released
        self.did("release again" if again else "release")

    def _release(self, milestone_id: int) -> Callable[[], Awaitable[list[Payout]]]:
        async def work() -> list[Payout]:
            return await rewards.release(self.finance, await Milestone.get(id=milestone_id))

        return work

    def release_out_of_turn(self, which: int = 0, extra: int = 1) -> None:
        """Releasing a milestone that is not approved (twice, or before approval) is refused."""
        target = pick(self.milestones_in(M.planned, M.released, M.paid), which)
        self.refused(Conflict, self._release(target.id))
        self.did(f"refused release of {target.status.value}")

    def release_by_the_approver(self, which: int = 0, extra: int = 1) -> None:
        target = pick(self.milestones_in(M.approved), which)

        async def work() -> None:
            await rewards.release(self.manager, await Milestone.get(id=target.id))

        self.refused(rewards.SameApprover, work)
        self.did("refused release by the approver")

    @precondition(lambda self: len(self.accounts) < len(self.recipients))
    @rule(which=index)
    def add_bank_details(self, which: int) -> None:
        org_id = pick([o for o in self.recipients if o not in self.accounts], which)
        self.step(lambda: self._bank_details(org_id))
        self.did("bank details")

    # --- payouts ---------------------------------------------------------------------------

    def payouts_in(self, *statuses: PayoutStatus) -> list[PayoutModel]:
        return [p for p in self.b.payouts.values() if p.status in statuses]

    async def _locked(self, payout_id: int) -> tuple[Payout, Award]:
        payout = await Payout.select_for_update().get(id=payout_id)
        milestone = await Milestone.get(id=payout.milestone_id)
        award = await Award.get(id=milestone.award_id).select_related("challenge", "application")
        return payout, award

    @precondition(lambda self: self.payouts_in(P.awaiting_transfer))
    @rule(which=index, by_stripe=st.booleans())
    def pay(self, which: int, by_stripe: bool) -> None:
        (self.pay_by_stripe_transfer if by_stripe else self.pay_by_bank_transfer)(which)

    def pay_by_bank_transfer(self, which: int) -> None:
        target = pick(self.payouts_in(P.awaiting_transfer), which)

        async def work() -> Payout:
            return await rewards.record_bank_transfer(
                self.finance, await Payout.get(id=target.id), reference=f"SEPA-{target.id}"
            )

        assert self.step(work).status is P.paid
        target.status = P.paid
        self.b.settle(target.milestone_id)
        self.did("pay by bank transfer")

    def pay_by_stripe_transfer(self, which: int) -> None:
        """As the payout job does once Stripe made the transfer."""
        target = pick(self.payouts_in(P.awaiting_transfer), which)
        transfer_id = f"tr_{target.id}"

        async def work() -> None:
            payout, award = await self._locked(target.id)
            await rewards.mark_paid(payout, award, transfer_id=transfer_id, reference="")

        self.step(work)
        self.desk.amounts[transfer_id] = target.amount
        target.status = P.paid
        target.transfer_id = transfer_id
        self.b.settle(target.milestone_id)
        self.did("pay by stripe transfer")

    def pay_again(self, which: int = 0, extra: int = 1) -> None:
        """Recording a transfer for a payout paid, failed or reversed is refused."""
        target = pick(self.payouts_in(P.paid, P.failed, P.reversed), which)

        async def work() -> None:
            await rewards.record_bank_transfer(
                self.finance, await Payout.get(id=target.id), reference="SEPA-again"
            )

        self.refused(Conflict, work)
        self.did(f"refused payment of {target.status.value}")

    # Each failure lets the milestone be released again, which can fail again: a few per run
    # leave room for payments.
    @precondition(lambda self: self.ops["fail"] < 3 and self.payouts_in(P.awaiting_transfer))
    @rule(which=index)
    def fail(self, which: int) -> None:
        target = pick(self.payouts_in(P.awaiting_transfer), which)

        async def work() -> None:
            payout, award = await self._locked(target.id)
            await rewards.mark_failed(payout, award, reason="The bank refused the account.")

        self.step(work)
        target.status = P.failed
        self.b.reopen(target.milestone_id)
        self.did("fail")

    def reversible(self) -> list[PayoutModel]:
        return [p for p in self.payouts_in(P.paid) if p.transfer_id and p.reversed < p.amount]

    @precondition(lambda self: self.reversible())
    @rule(which=index, full=st.booleans(), part=st.integers(min_value=0, max_value=2**32))
    def reverse(self, which: int, full: bool, part: int) -> None:
        target = pick(self.reversible(), which)
        assert target.transfer_id is not None
        room = target.amount - target.reversed
        now_reversed = (
            target.amount if full or room == 1 else target.reversed + 1 + part % (room - 1)
        )
        self.desk.reversed[target.transfer_id] = now_reversed
        self.sync(target.transfer_id)
        target.reversed = now_reversed
        if now_reversed == target.amount:
            target.status = P.reversed
            self.b.reopen(target.milestone_id)
            self.did("reverse in full")
        else:
            self.did("reverse in part")

    def sync(self, transfer_id: str) -> None:
        async def work() -> None:
            await rewards.sync_transfer(self.settings, cast(PaymentGateway, self.desk), transfer_id)

        self.step(work)

    @precondition(
        lambda self: (
            self.ops["sync again"] < 2 and any(p.transfer_id for p in self.b.payouts.values())
        )
    )
    @rule(which=index)
    def sync_again(self, which: int) -> None:
        """Stripe tells of a transfer again with nothing new: the ledger does not move."""
        target = pick([p for p in self.b.payouts.values() if p.transfer_id], which)
        assert target.transfer_id is not None
        transfer_id = target.transfer_id
        self.changes_nothing(lambda: self.sync(transfer_id))
        self.did("sync again")

    # --- cancelling and refunds ------------------------------------------------------------

    # Cancelling ends most of what can happen next: it comes after a few other steps.
    @precondition(
        lambda self: (
            self.b.status in (S.judging, S.awarded, S.in_delivery) and self.ops.total() >= 12
        )
    )
    @rule()
    def cancel(self) -> None:
        async def work() -> None:
            challenge = await Challenge.get(id=self.challenge_id)
            await challenges_service.cancel(self.manager, challenge, reason="Budget moved.")

        left = self.b.escrow
        self.step(work)
        self.b.status = S.cancelled
        # Newest funding first, each refunded by its own rail, up to what is unallocated.
        expected: list[tuple[int, int]] = []
        for funding_id, amount in sorted(self.b.fundings, reverse=True):
            if left <= 0:
                break
            expected.append((funding_id, min(left, amount)))
            left -= min(left, amount)
        made = self.run(self._refunds())
        assert [(f, a) for _, f, a, _ in made] == expected
        for refund_id, _, amount, status in made:
            assert status is RefundStatus.awaiting_transfer
            self.b.refunds[refund_id] = (amount, status)
        self.did("cancel")

    async def _refunds(self) -> list[tuple[int, int, int, RefundStatus]]:
        rows = await Refund.filter(funding__challenge_id=self.challenge_id).order_by("id")
        return [(r.id, r.funding_id, r.amount_minor, r.status) for r in rows]

    @precondition(lambda self: self.b.status is S.cancelled and self.ops["refund again"] < 2)
    @rule()
    def refund_again(self) -> None:
        """Asking for the refunds again adds none while the first ones cover the escrow."""

        async def work() -> list[Refund]:
            challenge = await Challenge.get(id=self.challenge_id)
            return await rewards.refund_unallocated(self.manager, challenge)

        assert self.changes_nothing(lambda: self.step(work)) == []
        self.did("refund again")

    def refunds_in(self, status: RefundStatus) -> list[int]:
        return [i for i, (_, s) in self.b.refunds.items() if s is status]

    @precondition(lambda self: self.refunds_in(RefundStatus.awaiting_transfer))
    @rule(which=index)
    def record_refund(self, which: int) -> None:
        refund_id = pick(self.refunds_in(RefundStatus.awaiting_transfer), which)

        async def work() -> Refund:
            return await rewards.record_refund_transfer(
                self.finance, await Refund.get(id=refund_id), reference=f"BACK-{refund_id}"
            )

        assert self.step(work).status is RefundStatus.paid
        amount, _ = self.b.refunds[refund_id]
        self.b.refunds[refund_id] = (amount, RefundStatus.paid)
        self.did("record refund")

    def record_refund_again(self, which: int = 0, extra: int = 1) -> None:
        refund_id = pick(self.refunds_in(RefundStatus.paid), which)

        async def work() -> None:
            await rewards.record_refund_transfer(
                self.finance, await Refund.get(id=refund_id), reference="BACK-again"
            )

        self.refused(Conflict, work)
        self.did("refused refund again")

    # --- refusals --------------------------------------------------------------------------

    # A few per run: each costs two looks at the whole state.
    @precondition(lambda self: self.refusals < 4)
    @rule(
        data=st.data(),
        which=index,
        extra=st.integers(min_value=1, max_value=10**6),
    )
    def something_refused(self, data: st.DataObject, which: int, extra: int) -> None:
        """One of the refusals the state allows; each is checked to change nothing."""
        choices = [self.fund_beyond_the_reward, self.award_beyond_the_escrow]
        if self.milestones_in(M.planned, M.released, M.paid):
            choices.append(self.release_out_of_turn)
        if self.milestones_in(M.approved):
            choices.append(self.release_by_the_approver)
        if self.payouts_in(P.paid, P.failed, P.reversed):
            choices.append(self.pay_again)
        if self.refunds_in(RefundStatus.paid):
            choices.append(self.record_refund_again)
        refusal = data.draw(st.sampled_from(choices), label="refusal")
        refusal(which, extra)
        self.refusals += 1

    @precondition(lambda self: self.b.status in (S.cancelled, S.completed))
    @rule()
    def nothing_happens(self) -> None:
        """Once the challenge is over there may be nothing left to do: a run can idle."""
        self.unchanged = True

    # --- what must hold after every step ---------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        if self.books is None or self.unchanged:
            return
        b = self.b
        seen = self.run(observe(self.challenge_id, b.reward))
        # The ledger's own checks, and money neither made nor lost. (The database outlives
        # one run: while Hypothesis shrinks a failure, earlier runs' breaches stay behind.)
        assert [breach for breach in seen.breaches if breach not in self.earlier_breaches] == []
        assert seen.sum_of_all_entries == 0
        # The escrow and the public totals agree with the model.
        assert seen.escrow == b.escrow == b.funded - b.refunded - b.allocated
        assert seen.totals == ledger.Totals(
            committed=b.reward,
            escrowed=b.funded - b.refunded,
            allocated=b.allocated,
            paid=b.paid,
            refunded=b.refunded,
            remaining=b.escrow,
            currency=CURRENCY,
        )
        of_kind: Counter[str] = Counter()
        for (kind, _, _), amount in seen.balances.items():
            of_kind[kind] += amount
        assert of_kind[K.funding_source.value] == -b.funded
        assert of_kind[K.refunded.value] == b.refunded
        assert of_kind[K.escrow.value] == b.escrow
        # Each award's money is all in its allocation, owed, or paid out: never more or less.
        for award in b.awards.values():
            by_kind: Counter[str] = Counter()
            for (kind, award_id, _), amount in seen.balances.items():
                if award_id == award.id:
                    by_kind[kind] += amount
            assert (
                by_kind[K.allocation.value] + by_kind[K.payable.value] + by_kind[K.paid_out.value]
                == award.amount
            )
            assert by_kind[K.payable.value] == b.payable(award.id)
            assert by_kind[K.paid_out.value] == b.paid_out(award.id)
        # And each recipient's part of it.
        for (kind, award_id, org_id), amount in seen.balances.items():
            if kind in (K.payable.value, K.paid_out.value):
                mine = [
                    p
                    for p in b.payouts.values()
                    if p.award_id == award_id and p.organization_id == org_id
                ]
                owed = sum(p.amount for p in mine if p.status is P.awaiting_transfer)
                paid = sum(p.amount - p.reversed for p in mine if p.status in (P.paid, P.reversed))
                assert amount == (owed if kind == K.payable.value else paid), (kind, org_id)
        # Rows agree with the model.
        assert seen.challenge_status is b.status
        assert seen.milestones == {m.id: m.status for m in b.milestones.values()}
        assert seen.refunds == b.refunds
        assert {
            r["id"]: (P(r["status"]), int(r["amount_reversed_minor"]), r["stripe_transfer_id"])
            for r in seen.payouts
        } == {p.id: (p.status, p.reversed, p.transfer_id) for p in b.payouts.values()}
        # One recipient's share of one milestone is owed or paid by one payout at most.
        live = Counter(
            (r["milestone_id"], r["organization_id"])
            for r in seen.payouts
            if r["status"] in (P.awaiting_transfer, P.paid, P.queued, P.in_flight)
        )
        assert all(n == 1 for n in live.values()), live
