"""Who may do what with conversations; registered into the one permissions table.

A conversation is as public as what it is about: a published challenge, or a proposal not
hidden by a moderator. Otherwise only the members of the organization that opened it see it.
"""

from __future__ import annotations

from typing import Any, cast

from starlette.requests import Request

from service.accounts.actor import Actor
from service.accounts.models import Organization, OrganizationKind, Role
from service.accounts.permissions import Rule, actor_of, path_int, register
from service.challenges.models import Challenge
from service.challenges.permissions import is_public
from service.core.errors import NotFound
from service.deliberation.models import Conversation, Statement
from service.participation.models import Proposal

MANAGERS = (Role.manager,)


def _visible(obj: Any) -> bool:
    return bool(getattr(obj, "visible", False))


def _is_city_manager(actor: Actor, obj: Any) -> bool:
    """A manager (or owner) of the organization that opened it, or of a city of the region."""
    orgs = [getattr(obj, "organization_id", None), *getattr(obj, "city_ids", [])]
    return any(actor.has_role(org_id, Role.manager) for org_id in orgs if org_id is not None)


def may_moderate(actor: Actor, obj: Any) -> bool:
    return (actor.is_operator and actor.mfa) or _is_city_manager(actor, obj)


def may_open_on_proposal(actor: Actor, proposal: Any) -> bool:
    author = actor.user is not None and actor.user.id == getattr(proposal, "author_id", None)
    return author or _is_city_manager(actor, proposal)


register("conversation.view", Rule(signed_in=False, public_when=_visible, member=True))
register("conversation.take_part", Rule(public_when=_visible, member=True))
register("conversation.moderate", Rule(custom=may_moderate, hide=False))
register("conversation.open_on_proposal", Rule(custom=may_open_on_proposal, hide=False))
register("conversation.open_on_challenge", Rule(roles=frozenset({Role.manager})))
register("conversation.adopt_consensus", Rule(roles=frozenset({Role.manager})))


async def cities_of(region: str) -> list[int]:
    return cast(
        list[int],
        await Organization.filter(
            kind=OrganizationKind.government, region__iexact=region.strip()
        ).values_list("id", flat=True),
    )


async def _describe(request: Request, conversation: Conversation) -> Conversation:
    """Attach what the rules read: whether it is public, and the region's cities."""
    signed_in = actor_of(request).signed_in
    conversation.city_ids = []
    if conversation.challenge_id is not None:
        challenge = await Challenge.get_or_none(id=conversation.challenge_id)
        conversation.visible = challenge is not None and is_public(challenge)
        conversation.subject = challenge
    else:
        proposal = await Proposal.get_or_none(id=conversation.proposal_id)
        conversation.visible = proposal is not None and proposal.hidden_at is None
        conversation.subject = proposal
        if proposal is not None and signed_in:
            conversation.city_ids = await cities_of(proposal.region)
    return conversation


async def load_conversation(request: Request) -> Conversation:
    conversation = await Conversation.get_or_none(id=path_int(request, "conversation_id"))
    if conversation is None:
        raise NotFound("No such conversation.")
    return await _describe(request, conversation)


async def load_statement(request: Request) -> Statement:
    statement = await Statement.get_or_none(id=path_int(request, "statement_id"))
    if statement is None:
        raise NotFound("No such statement.")
    conversation = await _describe(request, await Conversation.get(id=statement.conversation_id))
    statement.organization_id = conversation.organization_id
    statement.city_ids = getattr(conversation, "city_ids", [])
    statement.conversation_obj = conversation
    return statement


async def load_proposal(request: Request) -> Proposal:
    proposal = await Proposal.get_or_none(id=path_int(request, "proposal_id"))
    if proposal is None:
        raise NotFound("No such proposal.")
    proposal.city_ids = await cities_of(proposal.region) if actor_of(request).signed_in else []
    return proposal
