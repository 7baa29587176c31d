"""Every kind of notice and timeline entry, in one place: what it says, in the reader's language.

A notice (and a public timeline entry) is stored as its kind and the parameters of the event,
never as finished English sentences: the title and body are written when someone reads them,
in that reader's language. Nothing can be stored under a kind missing here (`check` refuses
it), and each kind belongs to a group, the unit people choose their e-mail settings by.

Parameters are plain JSON values. A few names are formatted at reading time: `role` (an
organization role, as a label), and `amount_minor` with `currency` (as the reader's language
writes an amount, given to the templates as `amount`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from service.core import i18n
from service.core.i18n import N_


class EmailMode(StrEnum):
    off = "off"
    immediate = "immediate"
    daily = "daily"


@dataclass(frozen=True)
class Group:
    name: str
    label: str
    # How a person who never chose is e-mailed: the kinds that sent mail before stay on.
    default: EmailMode


@dataclass(frozen=True)
class Kind:
    name: str
    group: str
    title: str
    body: str = ""

    @property
    def params(self) -> frozenset[str]:
        """The parameters its templates name."""
        return frozenset(_PARAM.findall(self.title + self.body))


_PARAM = re.compile(r"%\((\w+)\)s")

GROUPS: dict[str, Group] = {
    g.name: g
    for g in (
        Group("questions", N_("Questions on your city's challenges"), EmailMode.immediate),
        Group("challenges", N_("Challenges you follow"), EmailMode.off),
        Group("judging", N_("Judging"), EmailMode.immediate),
        Group("applications", N_("Your applications and awards"), EmailMode.off),
        Group("money", N_("Funding, milestones and payouts"), EmailMode.off),
        Group(
            "proposals",
            N_("News of proposals and challenges you took part in"),
            EmailMode.immediate,
        ),
        Group("organizations", N_("Your organizations and invitations"), EmailMode.immediate),
        Group("incubation", N_("Incubation cohorts"), EmailMode.off),
        Group("investors", N_("Investors and introductions"), EmailMode.off),
        Group("operations", N_("Alerts about the platform's books"), EmailMode.off),
    )
}


def _kinds(*kinds: Kind) -> dict[str, Kind]:
    found: dict[str, Kind] = {}
    for kind in kinds:
        assert kind.name not in found, kind.name
        assert kind.group in GROUPS, kind.group
        found[kind.name] = kind
    return found


KINDS: dict[str, Kind] = _kinds(
    # --- challenges ---
    Kind("challenge_amended", "challenges", N_("A challenge you follow was amended")),
    Kind("challenge_cancelled", "challenges", N_("A challenge you follow was cancelled")),
    Kind("challenge_opened", "challenges", N_("A challenge you follow is open")),
    Kind("challenge_closed", "challenges", N_("A challenge you follow has closed")),
    Kind("question_answered", "challenges", N_("A question was answered")),
    Kind(
        "question_asked",
        "questions",
        N_("A new question on a challenge of your city"),
        N_("“%(question)s” Answer it in public on the challenge's page."),
    ),
    # --- judging ---
    Kind(
        "judge_assigned",
        "judging",
        N_("You are a judge of a challenge"),
        N_(
            'You were asked to judge the challenge "%(title)s". First declare, for each '
            "application, whether you have a conflict of interest; then score each one on the "
            "published criteria."
        ),
    ),
    Kind("judge_invitation_accepted", "judging", N_("%(email)s accepted your invitation to judge")),
    Kind("judge_invitation_declined", "judging", N_("%(email)s declined your invitation to judge")),
    # --- applications ---
    Kind(
        "partner_invited",
        "applications",
        N_("Your organization is invited to join an application"),
        N_("Organization: %(organization)s"),
    ),
    Kind(
        "application_received",
        "applications",
        N_("Your application was received"),
        N_("Organization: %(organization)s"),
    ),
    Kind(
        "partner_answered",
        "applications",
        N_("A partner answered your invitation"),
        N_("Organization: %(organization)s"),
    ),
    Kind(
        "application_awarded",
        "applications",
        N_("Your application won an award"),
        N_("Organization: %(organization)s"),
    ),
    Kind(
        "application_not_awarded",
        "applications",
        N_("Your application was not awarded; the judges' feedback is ready"),
        N_("Organization: %(organization)s"),
    ),
    # --- money ---
    Kind("funding_succeeded", "money", N_("A payment into a challenge's escrow succeeded")),
    Kind("funding_failed", "money", N_("A payment into a challenge's escrow failed")),
    Kind("escrow_refunded", "money", N_("Escrow is being returned to the city")),
    Kind(
        "bank_payout_failed",
        "money",
        N_("Stripe could not pay out to your bank account"),
        N_("Check the bank details of your Stripe account."),
    ),
    Kind(
        "milestone_submitted",
        "money",
        N_("Milestone evidence to review"),
        N_("Milestone: %(milestone)s"),
    ),
    Kind(
        "milestone_approved",
        "money",
        N_("A milestone was approved"),
        N_("Milestone: %(milestone)s"),
    ),
    Kind(
        "milestone_to_release",
        "money",
        N_("A milestone is ready to release"),
        N_("Milestone: %(milestone)s"),
    ),
    Kind(
        "milestone_sent_back",
        "money",
        N_("A milestone was sent back"),
        N_("Milestone: %(milestone)s. Reason: %(reason)s"),
    ),
    Kind(
        "bank_transfers_to_send",
        "money",
        N_("Bank transfers to send"),
        N_("Milestone: %(milestone)s"),
    ),
    Kind("payout_sent", "money", N_("A payout was sent to you"), N_("Milestone: %(milestone)s")),
    Kind("payout_failed", "money", N_("A payout failed"), N_("Reason: %(reason)s")),
    Kind("payout_reversed", "money", N_("A payout was reversed"), N_("Transfer: %(transfer)s")),
    # --- operations ---
    Kind(
        "payouts_in_flight",
        "operations",
        N_("Payouts have been in flight for more than a day"),
        N_("Payouts: %(payouts)s"),
    ),
    Kind("ledger_problem", "operations", N_("The ledger check found a problem"), "%(detail)s"),
    # --- organizations ---
    Kind(
        "organization_verified",
        "organizations",
        N_("Your organization was verified"),
        N_("Organization: %(organization)s"),
    ),
    Kind(
        "organization_invitation",
        "organizations",
        N_("You are invited to join an organization"),
        N_("You are invited to join %(name)s on Civic Challenges with the role %(role)s."),
    ),
    # --- incubation ---
    Kind(
        "place_offered",
        "incubation",
        N_("You are offered a place in an incubation cohort"),
        N_("Cohort: %(cohort)s"),
    ),
    Kind(
        "place_applied",
        "incubation",
        N_("%(name)s applied to the cohort"),
        N_("Cohort: %(cohort)s"),
    ),
    Kind(
        "place_admitted",
        "incubation",
        N_("Your startup was admitted to the cohort"),
        N_("Cohort: %(cohort)s"),
    ),
    Kind(
        "place_declined",
        "incubation",
        N_("Your application to the cohort was declined"),
        N_("Cohort: %(cohort)s. Reason: %(reason)s"),
    ),
    Kind(
        "mentor_invited",
        "incubation",
        N_("You are invited to mentor a cohort"),
        N_("Cohort: %(cohort)s"),
    ),
    Kind(
        "mentor_paired",
        "incubation",
        N_("A startup was paired with you"),
        N_("Startup: %(organization)s"),
    ),
    Kind(
        "check_in_filed",
        "incubation",
        N_("A paired startup filed its check-in"),
        N_("Startup: %(organization)s"),
    ),
    Kind("check_in_late", "incubation", N_("Your check-in is late"), N_("Cohort: %(cohort)s")),
    Kind(
        "check_in_flagged",
        "incubation",
        N_("%(name)s was red or late twice in a row"),
        N_("Cohort: %(cohort)s"),
    ),
    Kind(
        "project_step",
        "incubation",
        N_("Your project moved to a new step"),
        N_("Project: %(project)s"),
    ),
    # --- investors ---
    Kind(
        "watched_startup_won",
        "investors",
        N_("News from a startup you watch"),
        N_("%(name)s won the challenge “%(title)s”."),
    ),
    Kind(
        "watched_startup_delivered",
        "investors",
        N_("News from a startup you watch"),
        N_("%(name)s delivered the milestone “%(title)s”."),
    ),
    Kind(
        "intro_requested", "investors", N_("%(investor)s asks for an introduction"), "%(message)s"
    ),
    Kind("intro_sent", "investors", N_("Intro request sent to %(startup)s")),
    Kind(
        "intro_accepted", "investors", N_("%(startup)s accepted your intro request"), "%(message)s"
    ),
    Kind(
        "intro_declined", "investors", N_("%(startup)s declined your intro request"), "%(message)s"
    ),
    Kind("intro_answered", "investors", N_("You answered an intro request")),
    Kind("intro_expired_investor", "investors", N_("Your intro request to %(startup)s expired")),
    Kind("intro_expired_startup", "investors", N_("The intro request of %(investor)s expired")),
    # --- proposals ---
    Kind(
        "proposal_needs_answer",
        "proposals",
        N_("A proposal of your region needs a formal answer"),
    ),
    # --- public timelines (an `Update`'s kind, prefixed): their followers are told too ---
    Kind("timeline.proposed", "proposals", N_("Proposed by a resident")),
    Kind("timeline.threshold", "proposals", N_("Enough supports: the city owes a formal answer")),
    Kind(
        "timeline.answer_under_study",
        "proposals",
        N_("The city accepted the proposal for study"),
        "%(text)s",
    ),
    Kind("timeline.answer_adopted", "proposals", N_("The city adopted the proposal"), "%(text)s"),
    Kind("timeline.answer_declined", "proposals", N_("The city declined the proposal"), "%(text)s"),
    Kind(
        "timeline.adopted",
        "proposals",
        N_("%(city)s adopted the proposal: a challenge is being drafted"),
    ),
    # Written by city staff: their own words, shown as written.
    Kind("timeline.staff", "proposals", "%(title)s", "%(text)s"),
    Kind("timeline.published", "proposals", N_("The challenge was published: %(challenge)s")),
    Kind("timeline.open", "proposals", N_("The challenge opened for applications: %(challenge)s")),
    Kind(
        "timeline.closed", "proposals", N_("The challenge closed for applications: %(challenge)s")
    ),
    Kind("timeline.awarded", "proposals", N_("The challenge was awarded: %(challenge)s")),
    Kind("timeline.completed", "proposals", N_("The challenge was completed: %(challenge)s")),
    Kind("timeline.cancelled", "proposals", N_("The challenge was cancelled: %(challenge)s")),
    Kind(
        "timeline.funded", "proposals", N_("The prize pool was funded: %(challenge)s"), "%(amount)s"
    ),
    Kind(
        "timeline.payout",
        "proposals",
        N_("A payment was made to a winner: %(challenge)s"),
        "%(amount)s",
    ),
    Kind(
        "timeline.question_answered",
        "proposals",
        N_("A public question was answered: %(challenge)s"),
        "%(question)s",
    ),
    Kind(
        "timeline.milestone_approved",
        "proposals",
        N_("A milestone was approved: %(challenge)s"),
        "%(milestone)s",
    ),
)


class UnknownKind(LookupError):
    pass


def check(kind: str, params: Mapping[str, Any]) -> Kind:
    """The kind, if it exists and `params` give every value its templates name."""
    found = KINDS.get(kind)
    if found is None:
        raise UnknownKind(f"no notice kind {kind!r}")
    missing = found.params - set(params) - _DERIVED
    if missing or ("amount" in found.params and "amount_minor" not in params):
        raise ValueError(f"notice {kind!r} lacks {sorted(missing or {'amount_minor'})}")
    return found


_DERIVED = frozenset({"amount"})


@contextmanager
def language(code: str | None) -> Iterator[str]:
    """Run in `code` (or the current language): the labels and amounts follow it."""
    chosen = code if code in i18n.LANGUAGES else i18n.current_locale.get()
    token = i18n.current_locale.set(chosen)
    try:
        yield chosen
    finally:
        i18n.current_locale.reset(token)


def _values(params: Mapping[str, Any]) -> dict[str, Any]:
    from service.core.vocab import role_label

    values = {k: ("" if v is None else v) for k, v in params.items()}
    if "role" in values:
        values["role"] = role_label(str(values["role"]))
    if "amount_minor" in values and "currency" in values:
        values["amount"] = i18n.money(int(values["amount_minor"]), str(values["currency"]))
    return values


def _fill(template: str, values: Mapping[str, Any]) -> str:
    if not template:
        return ""
    text = i18n.gettext(template)
    try:
        return text % values
    except (KeyError, ValueError, TypeError):
        # A translation that names a parameter wrongly: the English text, not an error page.
        return template % values


def render(kind: str, params: Mapping[str, Any], lang: str | None = None) -> tuple[str, str]:
    """The title and body of a notice of `kind` in `lang` (default: the current language)."""
    found = KINDS[kind]
    with language(lang):
        values = _values(params)
        return _fill(found.title, values), _fill(found.body, values)


def group_of(kind: str) -> Group:
    return GROUPS[KINDS[kind].group]


__all__ = ["GROUPS", "KINDS", "EmailMode", "Group", "Kind", "UnknownKind", "check", "render"]
