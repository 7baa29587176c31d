"""Deliberation in the platform's words: open a conversation, add and moderate statements,
vote, choose the next statement, compute the opinion map, and carry consensus statements
into a challenge."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sklearn import config_context
from threadpoolctl import threadpool_limits
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from service.accounts.models import User
from service.audit import service as audit
from service.challenges import service as challenges
from service.challenges.models import Challenge, ChallengeStatus, Criterion
from service.challenges.schemas import ChallengePatch
from service.core import i18n
from service.core.context import Context
from service.core.errors import Conflict, PermissionDenied, ValidationFailed
from service.core.i18n import N_
from service.core.jobs import enqueue
from service.deliberation import opinion_map, repository
from service.deliberation.models import (
    STATEMENT_MAX,
    VALUE_OF,
    AdoptedConsensus,
    Choice,
    ConsensusUse,
    Conversation,
    ConversationStatus,
    OpinionMap,
    Participant,
    Statement,
    StatementStatus,
    Vote,
)
from service.translation import service as translation

# Accounts younger than this have their statements held for a moderator.
NEW_ACCOUNT_HOURS = 24
SEEDS_MAX = 30
# A burst of votes leads to one map, this long after the first of them.
MAP_DEBOUNCE_SECONDS = 20
# The weight a statement carried into a challenge's criteria gets (the others shrink to fit).
CONSENSUS_WEIGHT = 10
MAP_JOB = "deliberation.compute_map"


class EmailNotVerified(PermissionDenied):
    default_detail = N_("Confirm your e-mail address before taking part.")


class ConversationClosed(Conflict):
    default_detail = N_("This conversation is closed: it takes no more statements or votes.")


class AlreadyVoted(Conflict):
    default_detail = N_("You have already voted on this statement: one vote per person.")


class DuplicateStatement(Conflict):
    default_detail = N_("This statement is already in the conversation.")


class StatementNotOpen(ValidationFailed):
    default_detail = N_("Vote on a published statement of this conversation.")


class ChallengeNotDraft(Conflict):
    default_detail = N_("Consensus statements are carried into a challenge while it is a draft.")


class NotConsensus(ValidationFailed):
    default_detail = N_("Choose among the consensus statements of the last map.")


def _now() -> datetime:
    return datetime.now(UTC)


def _user(ctx: Context) -> User:
    user = ctx.actor.user
    assert user is not None
    return user


def _verified(ctx: Context) -> User:
    user = _user(ctx)
    if user.email_verified_at is None:
        raise EmailNotVerified()
    return user


def clean_text(text: str) -> str:
    return " ".join(text.split())


def check_statement(text: str, field: str = "text") -> str:
    cleaned = clean_text(text)
    if len(cleaned) < 3:
        raise ValidationFailed(
            fields={field: i18n.gettext("Write a statement (3 to 140 characters).")}
        )
    if len(cleaned) > STATEMENT_MAX:
        raise ValidationFailed(
            fields={field: i18n.gettext("A statement is at most 140 characters.")}
        )
    return cleaned


# --- opening and closing -----------------------------------------------------------------


async def open_conversation(
    ctx: Context,
    *,
    topic: str,
    description: str,
    seeds: list[str],
    proposal_id: int | None = None,
    challenge_id: int | None = None,
    organization_id: int | None = None,
) -> Conversation:
    user = _verified(ctx)
    assert (proposal_id is None) != (challenge_id is None)
    topic = clean_text(topic)
    if len(topic) < 5 or len(topic) > 200:
        raise ValidationFailed(
            fields={"topic": i18n.gettext("Ask the question in 5 to 200 characters.")}
        )
    cleaned: list[str] = []
    for text in seeds:
        if not text.strip():
            continue
        statement = check_statement(text, "seeds")
        if statement.lower() not in {s.lower() for s in cleaned}:
            cleaned.append(statement)
    if not 2 <= len(cleaned) <= SEEDS_MAX:
        raise ValidationFailed(
            fields={"seeds": i18n.gettext("Give 2 to 30 seed statements, one a line.")}
        )
    conversation = await Conversation.create(
        proposal_id=proposal_id,
        challenge_id=challenge_id,
        organization_id=organization_id,
        topic=topic,
        description=description.strip(),
        opened_by=user,
    )
    await translation.remember(
        "conversation",
        conversation.id,
        language=i18n.current_locale.get(),
        topic=conversation.topic,
        description=conversation.description,
    )
    await Statement.bulk_create(
        [
            Statement(conversation_id=conversation.id, author_id=user.id, text=text, seed=True)
            for text in cleaned
        ]
    )
    for seed in await Statement.filter(conversation_id=conversation.id).order_by("id"):
        await _remember_text(seed)
    await audit.record(
        ctx,
        "conversation.open",
        object_type="conversation",
        object_id=conversation.id,
        organization_id=organization_id,
        proposal=proposal_id,
        challenge=challenge_id,
    )
    return conversation


async def close(ctx: Context, conversation: Conversation) -> Conversation:
    conversation = await repository.lock_conversation(conversation.id)
    if conversation.status is ConversationStatus.open:
        conversation.status = ConversationStatus.closed
        conversation.closed_at = _now()
        await conversation.save(update_fields=["status", "closed_at"])
        await audit.record(
            ctx, "conversation.close", object_type="conversation", object_id=conversation.id
        )
    return conversation


def _require_open(conversation: Conversation) -> None:
    if conversation.status is not ConversationStatus.open:
        raise ConversationClosed()


# --- statements ----------------------------------------------------------------------------


def is_new_account(user: User, now: datetime) -> bool:
    return user.created_at is None or now - user.created_at < timedelta(hours=NEW_ACCOUNT_HOURS)


async def add_statement(ctx: Context, conversation: Conversation, *, text: str) -> Statement:
    """A participant's statement; a new account's waits for a moderator."""
    user = _verified(ctx)
    _require_open(conversation)
    cleaned = check_statement(text)
    existing = await Statement.filter(conversation_id=conversation.id).values_list(
        "text", flat=True
    )
    if cleaned.lower() in {str(t).lower() for t in existing}:
        raise DuplicateStatement()
    status = StatementStatus.pending if is_new_account(user, _now()) else StatementStatus.published
    statement = await Statement.create(
        conversation_id=conversation.id, author_id=user.id, text=cleaned, status=status
    )
    await _remember_text(statement)
    await audit.record(
        ctx, "conversation.statement", object_type="statement", object_id=statement.id
    )
    return statement


async def _remember_text(statement: Statement) -> None:
    """Offer the statement in the other languages (translated after the commit). A statement
    is short: the language its writer uses the site in decides when detection cannot."""
    await translation.remember(
        "statement", statement.id, language=i18n.current_locale.get(), text=statement.text
    )


async def moderate(ctx: Context, statement: Statement, *, publish: bool, reason: str) -> Statement:
    statement = await Statement.select_for_update().get(id=statement.id)
    statement.status = StatementStatus.published if publish else StatementStatus.rejected
    statement.moderated_by_id = _user(ctx).id
    statement.moderated_at = _now()
    statement.reason = reason.strip()
    await statement.save(update_fields=["status", "moderated_by_id", "moderated_at", "reason"])
    await audit.record(
        ctx,
        "conversation.statement.moderate",
        object_type="statement",
        object_id=statement.id,
        published=publish,
        reason=reason,
    )
    # A rejected statement leaves the map: draw it again.
    await _mark_stale(statement.conversation_id)
    return statement


# --- voting --------------------------------------------------------------------------------


async def participant_for(conversation: Conversation, user: User) -> Participant:
    """The person's numbered place in the conversation, made on their first vote.

    Numbers are handed out under the conversation's row lock, so two first votes at once
    get two numbers (or, for the same person, one place)."""
    found = await repository.participant_of(conversation.id, user.id)
    if found is not None:
        return found
    locked = await repository.lock_conversation(conversation.id)
    found = await repository.participant_of(conversation.id, user.id)
    if found is not None:
        return found
    number = locked.participant_count + 1
    participant = await Participant.create(
        conversation_id=conversation.id, user_id=user.id, number=number
    )
    await Conversation.filter(id=conversation.id).update(participant_count=number)
    return participant


async def vote(
    ctx: Context, conversation: Conversation, *, statement_id: int, choice: Choice
) -> Vote:
    user = _verified(ctx)
    _require_open(conversation)
    statement = await repository.statement_in(conversation.id, statement_id)
    if statement is None or statement.status is not StatementStatus.published:
        raise StatementNotOpen(
            fields={"statement_id": i18n.gettext(StatementNotOpen.default_detail)}
        )
    participant = await participant_for(conversation, user)
    value = VALUE_OF[choice]
    try:
        # The unique pair decides between two votes at once: the second waits for the
        # first to commit, then fails here, and its whole transaction rolls back.
        created = await Vote.create(
            conversation_id=conversation.id,
            statement_id=statement.id,
            participant_id=participant.id,
            value=value,
        )
    except IntegrityError:
        raise AlreadyVoted() from None
    counter = {1: "agree_count", -1: "disagree_count", 0: "pass_count"}[value]
    await Statement.filter(id=statement.id).update(**{counter: F(counter) + 1})
    await _mark_stale(conversation.id)
    return created


async def _mark_stale(conversation_id: int) -> None:
    """Ask for a new map after the first vote since the last one (debounced: the job waits
    a little, and its fixed id lets only one wait at a time)."""
    changed = await Conversation.filter(id=conversation_id, map_stale_since__isnull=True).update(
        map_stale_since=_now()
    )
    if changed:
        request_map(conversation_id)


def request_map(conversation_id: int, *, delay: float = MAP_DEBOUNCE_SECONDS) -> None:
    enqueue(
        MAP_JOB,
        job_id=f"deliberation.map:{conversation_id}",
        defer_seconds=delay,
        conversation_id=conversation_id,
    )


# --- which statement next ------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    statement: Statement
    weight: float


def weights_of(statements: list[Statement], stats: dict[str, dict[str, float]]) -> list[Candidate]:
    """Statements with few votes and statements that split the groups weigh more: Polis's
    priority from the last map (newness, and how far a vote on it moves a person), times
    one plus the gap between the groups' agreement; statements newer than the map get the
    priority of their counts alone."""
    out = []
    for s in statements:
        known = stats.get(str(s.id))
        if known is not None and known["agree"] + known["disagree"] + known["pass"] >= s.vote_count:
            weight = known["priority"] * (1 + known["split"])
        else:
            weight = opinion_map.unseen_priority(s.agree_count, s.disagree_count, s.pass_count)
        out.append(Candidate(s, max(weight, 1e-6)))
    return out


def choose(candidates: list[Candidate], rng: random.Random) -> Statement | None:
    if not candidates:
        return None
    picked = rng.choices(candidates, weights=[c.weight for c in candidates], k=1)[0]
    return picked.statement


async def next_statement(
    conversation: Conversation, user: User | None, *, rng: random.Random | None = None
) -> tuple[Statement | None, int]:
    """The statement to show this person next, and how many are left for them."""
    statements = await repository.published(conversation.id)
    if user is not None:
        participant = await repository.participant_of(conversation.id, user.id)
        if participant is not None:
            seen = await repository.voted_ids(participant.id)
            statements = [s for s in statements if s.id not in seen]
    last = await repository.last_map(conversation.id)
    stats = last.result.get("statements", {}) if last else {}
    picked = choose(weights_of(statements, stats), rng or random.Random())
    return picked, len(statements)


# --- the map -------------------------------------------------------------------------------


async def begin_map(conversation_id: int, *, force: bool = False) -> bool:
    """Whether the map needs computing; if so, clear the stale mark (commit it before the
    votes are read: a vote committed after that sets it again, and asks anew)."""
    conversation = await repository.get_conversation(conversation_id)
    if conversation is None:
        return False
    if conversation.map_stale_since is None and not force:
        if await repository.last_map(conversation_id) is not None:
            return False
    await Conversation.filter(id=conversation_id).update(map_stale_since=None)
    return True


async def compute_result(conversation_id: int) -> tuple[opinion_map.OpinionMapResult, float]:
    """Read the votes and compute the map in a thread (the event loop keeps serving)."""
    votes = await repository.load_votes(conversation_id)
    started = time.perf_counter()
    result = await asyncio.to_thread(_compute, votes)
    return result, time.perf_counter() - started


async def save_map(
    conversation_id: int, result: opinion_map.OpinionMapResult, seconds: float
) -> OpinionMap:
    """Replace the served map with the new one, in one write."""
    values: dict[str, Any] = {
        "computed_at": _now(),
        "seconds": round(seconds, 3),
        "participant_count": result.participant_count,
        "vote_count": result.vote_count,
        "result": result.as_json(),
    }
    saved, _ = await OpinionMap.update_or_create(defaults=values, conversation_id=conversation_id)
    return saved


def _compute(votes: opinion_map.Votes) -> opinion_map.OpinionMapResult:
    # scikit-learn's silhouette works in chunks of this many MiB: keep the worker small.
    # One thread for BLAS and OpenMP: the worker shares the machine with the web processes,
    # and threads that wait for a busy core made the 3,000-participant map twice as slow.
    with config_context(working_memory=128), threadpool_limits(limits=1):
        return opinion_map.compute(votes)


async def request_stale_maps(*, older_than: timedelta) -> int:
    """Queue the maps that a blocked debounce job left waiting."""
    ids = await repository.stale_since(_now() - older_than)
    for conversation_id in ids:
        request_map(conversation_id, delay=0)
    return len(ids)


def consensus_of(last: OpinionMap | None) -> list[dict[str, Any]]:
    if last is None:
        return []
    return [c for c in last.result.get("consensus", []) if c.get("direction") == "agree"]


# --- carrying consensus into a challenge ---------------------------------------------------


def rebalance(weights: list[int], added: int, new_weight: int = CONSENSUS_WEIGHT) -> list[int]:
    """The existing weights shrunk to leave `new_weight` for each added criterion, still
    adding up to 100 (largest remainders, at least 1 each)."""
    room = 100 - added * new_weight
    if room < len(weights):
        raise ValidationFailed(
            fields={"statement_ids": i18n.gettext("Too many criteria: choose fewer statements.")}
        )
    total = sum(weights) or 1
    exact = [w * room / total for w in weights]
    floors = [max(1, int(e)) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    i = 0
    while sum(floors) < room:
        floors[order[i % len(order)]] += 1
        i += 1
    while sum(floors) > room:
        j = max(range(len(floors)), key=lambda k: floors[k])
        floors[j] -= 1
    return floors


def problem_with(problem: str, texts: list[str]) -> str:
    lines = "\n".join(f"- {t}" for t in texts)
    return f"{problem.rstrip()}\n\n{i18n.gettext('Residents agreed:')}\n{lines}"


async def adopt_consensus(
    ctx: Context,
    challenge: Challenge,
    conversation: Conversation,
    *,
    statement_ids: list[int],
    use: ConsensusUse,
) -> list[AdoptedConsensus]:
    """Carry consensus statements of the conversation's last map into the draft challenge:
    as a "Residents agreed" paragraph of its problem statement, or as criteria."""
    if challenge.status is not ChallengeStatus.draft:
        raise ChallengeNotDraft()
    agreed = {int(c["statement"]) for c in consensus_of(await repository.last_map(conversation.id))}
    chosen = list(dict.fromkeys(statement_ids))
    if not chosen or not set(chosen) <= agreed:
        raise NotConsensus(fields={"statement_ids": i18n.gettext(NotConsensus.default_detail)})
    already = {a.statement_id for a in await repository.adoptions_for(challenge.id)}
    chosen = [s for s in chosen if s not in already]
    if not chosen:
        return []
    statements = {
        s.id: s for s in await Statement.filter(id__in=chosen, status=StatementStatus.published)
    }
    texts = [statements[s].text for s in chosen if s in statements]
    criteria = await Criterion.filter(challenge_id=challenge.id).order_by("position", "id")
    terms: dict[str, Any] = {
        "title": challenge.title,
        "summary": challenge.summary,
        "problem_statement": challenge.problem_statement,
        "language": challenge.language,
        "area": challenge.area,
        "sdgs": challenge.sdgs,
        "region": challenge.region,
        "eligible_kinds": challenge.eligible_kinds,
        "eligible_regions": challenge.eligible_regions,
        "reward": {"amount_minor": challenge.reward_amount_minor, "currency": challenge.currency},
        "criteria": [
            {"name": c.name, "description": c.description, "weight": c.weight} for c in criteria
        ],
        "opens_at": challenge.opens_at,
        "closes_at": challenge.closes_at,
        "judging_ends_at": challenge.judging_ends_at,
        "blind_judging": challenge.blind_judging,
    }
    if use is ConsensusUse.problem:
        terms["problem_statement"] = problem_with(challenge.problem_statement, texts)
    else:
        weights = rebalance([c.weight for c in criteria], len(texts))
        for row, weight in zip(terms["criteria"], weights, strict=True):
            row["weight"] = weight
        names = {c.name.lower() for c in criteria}
        for text in texts:
            name = text[:120] if text[:120].lower() not in names else text[:117] + "…"
            terms["criteria"].append(
                {
                    "name": name,
                    "description": i18n.gettext("Residents agreed: %(text)s") % {"text": text},
                    "weight": CONSENSUS_WEIGHT,
                }
            )
    try:
        patch = ChallengePatch.model_validate(terms)
    except ValueError as exc:
        raise ValidationFailed(
            fields={
                "statement_ids": i18n.gettext("The challenge cannot take these: %(why)s")
                % {"why": str(exc).splitlines()[-1][:200]}
            }
        ) from None
    await challenges.update(ctx, challenge, patch)
    made = [
        await AdoptedConsensus.create(
            challenge_id=challenge.id,
            conversation_id=conversation.id,
            statement_id=sid,
            text=statements[sid].text,
            use=use,
            adopted_by_id=_user(ctx).id,
        )
        for sid in chosen
        if sid in statements
    ]
    await audit.record(
        ctx,
        "conversation.consensus.adopt",
        object_type="challenge",
        object_id=challenge.id,
        organization_id=challenge.organization_id,
        conversation=conversation.id,
        statements=[a.statement_id for a in made],
        use=use.value,
    )
    return made
