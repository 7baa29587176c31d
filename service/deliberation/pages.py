"""Web pages of the deliberation area: vote on statements one at a time, add one, read the
map, moderate, open a conversation, and carry consensus into a challenge. Every form works
without JavaScript; the challenge page's section links to the map and what residents agreed."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from service.accounts.permissions import actor_of, guard
from service.challenges import permissions as challenge_perms
from service.challenges.models import Challenge, ChallengeStatus
from service.challenges.permissions import is_public
from service.challenges.sections import Section
from service.core.errors import ServiceError
from service.core.forms import errors_of, form_values, parse, redirect, render, translate_error
from service.core.i18n import gettext
from service.core.web import context, transaction
from service.deliberation import permissions as perms
from service.deliberation import presenters, repository, schemas
from service.deliberation import service as deliberation
from service.deliberation.models import Conversation, ConversationStatus, StatementStatus
from service.deliberation.routes import conversation_for, throttle
from service.translation import service as translation


def _errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        key, message = translate_error(dict(error))
        errors.setdefault(key.split(".")[0], message)
    return errors


def _may_moderate(request: Request, conversation: Conversation) -> bool:
    actor = actor_of(request)
    return actor.signed_in and perms.may_moderate(actor, conversation)


async def _subject(conversation: Conversation) -> dict[str, Any]:
    subject = getattr(conversation, "subject", None)
    if conversation.challenge_id is not None and subject is not None:
        return {"url": f"/challenges/{subject.id}", "title": subject.title}
    if subject is not None:
        return {"url": f"/proposals/{subject.id}", "title": subject.title}
    return {"url": "", "title": ""}


# --- taking part ---------------------------------------------------------------------------


async def _render_conversation(request: Request, status_code: int = 200, **extra: Any) -> Response:
    conversation: Conversation = request.state.obj
    user = actor_of(request).user
    picked, remaining = await deliberation.next_statement(conversation, user)
    participant = (
        await repository.participant_of(conversation.id, user.id) if user is not None else None
    )
    voted = len(await repository.voted_ids(participant.id)) if participant else 0
    statements = await repository.published(conversation.id)
    return render(
        request,
        "deliberation/conversation.html",
        status_code=status_code,
        conversation=conversation,
        subject=await _subject(conversation),
        statement=picked,
        remaining=remaining,
        voted=voted,
        statement_count=len(statements),
        vote_total=sum(s.vote_count for s in statements),
        is_open=conversation.status is ConversationStatus.open,
        may_moderate=_may_moderate(request, conversation),
        tr=await translation.shown(
            [conversation.topic, conversation.description, picked.text if picked else None]
        ),
        **extra,
    )


@guard("conversation.view", load=perms.load_conversation)
async def conversation_page(request: Request) -> Response:
    return await _render_conversation(request)


@guard("conversation.take_part", load=perms.load_conversation)
async def vote_page(request: Request) -> Response:
    form = await request.form()
    values = form_values(form)
    try:
        data = schemas.VoteIn.model_validate(values)
    except ValidationError as exc:
        return await _render_conversation(request, 422, vote_errors=_errors(exc))
    try:
        await throttle(request, "vote")
        async with transaction(request):
            await deliberation.vote(
                context(request),
                request.state.obj,
                statement_id=data.statement_id,
                choice=data.choice,
            )
    except ServiceError as exc:
        return await _render_conversation(request, exc.status_code, vote_errors=errors_of(exc))
    return redirect(
        request,
        f"/conversations/{request.state.obj.id}#vote",
        notice=gettext("Your vote is counted. Here is the next statement."),
    )


@guard("conversation.take_part", load=perms.load_conversation)
async def statement_page(request: Request) -> Response:
    data, values, errors = await parse(request, schemas.StatementIn)
    if data is None:
        return await _render_conversation(
            request, 422, statement_errors=errors, statement_values=values
        )
    try:
        await throttle(request, "statement")
        async with transaction(request):
            statement = await deliberation.add_statement(
                context(request), request.state.obj, text=data.text
            )
    except ServiceError as exc:
        return await _render_conversation(
            request, exc.status_code, statement_errors=errors_of(exc), statement_values=values
        )
    notice = (
        gettext("Thank you: your statement will be shown once a moderator has read it.")
        if statement.status is StatementStatus.pending
        else gettext("Your statement is published: others can now vote on it.")
    )
    return redirect(request, f"/conversations/{request.state.obj.id}", notice=notice)


# --- the map -------------------------------------------------------------------------------


@guard("conversation.view", load=perms.load_conversation)
async def map_page(request: Request) -> Response:
    conversation: Conversation = request.state.obj
    statements = await repository.published(conversation.id)
    view = presenters.map_view(conversation, await repository.last_map(conversation.id), statements)
    return render(
        request,
        "deliberation/map.html",
        conversation=conversation,
        subject=await _subject(conversation),
        view=view,
        svg=presenters.map_svg(view) if view.groups else None,
        statement_count=len(statements),
        styles=presenters.GROUP_STYLES,
        tr=await translation.shown(
            [
                conversation.topic,
                *(c.text for c in view.consensus),
                *(r.text for g in view.groups for r in g.statements),
            ]
        ),
    )


# --- moderation ----------------------------------------------------------------------------


@guard("conversation.moderate", load=perms.load_conversation)
async def moderation_page(request: Request) -> Response:
    conversation: Conversation = request.state.obj
    return render(
        request,
        "deliberation/moderation.html",
        conversation=conversation,
        pending=await repository.pending(conversation.id),
        published=await repository.published(conversation.id),
    )


@guard("conversation.moderate", load=perms.load_statement)
async def moderate_page(request: Request) -> Response:
    form = await request.form()
    values = form_values(form)
    statement = request.state.obj
    publish = values.get("decision") == "publish"
    if values.get("decision") not in ("publish", "reject"):
        return redirect(
            request,
            f"/conversations/{statement.conversation_id}/moderation",
            notice=gettext("Choose to publish or to reject the statement."),
        )
    async with transaction(request):
        await deliberation.moderate(
            context(request), statement, publish=publish, reason=str(values.get("reason", ""))
        )
    return redirect(
        request,
        f"/conversations/{statement.conversation_id}/moderation",
        notice=gettext("The statement is published.")
        if publish
        else gettext("The statement is rejected."),
    )


@guard("conversation.moderate", load=perms.load_conversation)
async def close_page(request: Request) -> Response:
    async with transaction(request):
        await deliberation.close(context(request), request.state.obj)
    return redirect(
        request,
        f"/conversations/{request.state.obj.id}",
        notice=gettext("The conversation is closed; its map stays."),
    )


# --- opening -------------------------------------------------------------------------------


def _conversation_data(values: dict[str, Any]) -> dict[str, Any]:
    seeds = str(values.get("seeds", "")).replace("\r\n", "\n").split("\n")
    return {
        "topic": values.get("topic", ""),
        "description": values.get("description", ""),
        "seeds": [s for s in seeds if s.strip()],
    }


async def _open(request: Request, subject: dict[str, Any], **where: Any) -> Response:
    if request.method == "GET":
        return render(request, "deliberation/open.html", subject=subject)
    form = await request.form()
    values = form_values(form)
    try:
        data = schemas.ConversationIn.model_validate(_conversation_data(values))
    except ValidationError as exc:
        return render(
            request,
            "deliberation/open.html",
            422,
            subject=subject,
            values=values,
            errors=_errors(exc),
        )
    try:
        await throttle(request, "open")
        async with transaction(request):
            conversation = await deliberation.open_conversation(
                context(request),
                topic=data.topic,
                description=data.description,
                seeds=data.seeds,
                **where,
            )
    except ServiceError as exc:
        return render(
            request,
            "deliberation/open.html",
            exc.status_code,
            subject=subject,
            values=values,
            errors=errors_of(exc),
        )
    return redirect(
        request,
        f"/conversations/{conversation.id}",
        notice=gettext("The conversation is open: residents can now vote."),
    )


@guard("conversation.open_on_proposal", load=perms.load_proposal)
async def open_on_proposal_page(request: Request) -> Response:
    proposal = request.state.obj
    subject = {"url": f"/proposals/{proposal.id}", "title": proposal.title}
    return await _open(request, subject, proposal_id=proposal.id)


@guard("conversation.open_on_challenge", load=challenge_perms.load_challenge)
async def open_on_challenge_page(request: Request) -> Response:
    challenge: Challenge = request.state.obj
    subject = {"url": f"/challenges/{challenge.id}", "title": challenge.title}
    return await _open(
        request,
        subject,
        challenge_id=challenge.id,
        organization_id=challenge.organization_id,
    )


@guard("public", load=perms.load_proposal)
async def proposal_conversations_page(request: Request) -> Response:
    """The conversations on a proposal (the proposal page links here)."""
    proposal = request.state.obj
    conversations = await repository.conversations_of(proposal_id=proposal.id)
    actor = actor_of(request)
    may_open = actor.signed_in and perms.may_open_on_proposal(actor, proposal)
    return render(
        request,
        "deliberation/list.html",
        subject={"url": f"/proposals/{proposal.id}", "title": proposal.title},
        conversations=conversations if proposal.hidden_at is None else [],
        open_url=f"/proposals/{proposal.id}/conversations/new" if may_open else "",
    )


# --- consensus into a challenge ------------------------------------------------------------


async def _consensus_choices(challenge: Challenge) -> list[dict[str, Any]]:
    conversations = await repository.conversations_of(challenge_id=challenge.id)
    if challenge.proposal_id is not None:
        conversations += await repository.conversations_of(proposal_id=challenge.proposal_id)
    adopted = {a.statement_id for a in await repository.adoptions_for(challenge.id)}
    found = []
    for conversation in conversations:
        statements = await repository.published(conversation.id)
        view = presenters.map_view(
            conversation, await repository.last_map(conversation.id), statements
        )
        agreed = [c for c in view.consensus if c.direction == "agree"]
        found.append({"conversation": conversation, "consensus": agreed, "adopted": adopted})
    return found


async def _consensus_readings(choices: list[dict[str, Any]]) -> translation.Readings:
    return await translation.shown(
        [
            *(c["conversation"].topic for c in choices),
            *(s.text for c in choices for s in c["consensus"]),
        ]
    )


@guard("conversation.adopt_consensus", load=challenge_perms.load_challenge)
async def consensus_page(request: Request) -> Response:
    challenge: Challenge = request.state.obj
    show: dict[str, Any] = {
        "challenge": challenge,
        "is_draft": challenge.status is ChallengeStatus.draft,
    }
    if request.method == "GET":
        choices = await _consensus_choices(challenge)
        tr = await _consensus_readings(choices)
        return render(request, "deliberation/consensus.html", choices=choices, tr=tr, **show)
    form = await request.form()
    values = {
        "conversation_id": form.get("conversation_id"),
        "statement_ids": form.getlist("statement_ids"),
        "use": form.get("use"),
    }
    try:
        data = schemas.ConsensusIn.model_validate(values)
        conversation = await conversation_for(challenge, data.conversation_id)
        async with transaction(request):
            await deliberation.adopt_consensus(
                context(request),
                challenge,
                conversation,
                statement_ids=data.statement_ids,
                use=data.use,
            )
    except ValidationError as exc:
        errors = _errors(exc)
    except ServiceError as exc:
        errors = errors_of(exc)
    else:
        return redirect(
            request,
            f"/challenges/{challenge.id}",
            notice=gettext("The residents' consensus is now part of the challenge draft."),
        )
    choices = await _consensus_choices(challenge)
    tr = await _consensus_readings(choices)
    return render(
        request, "deliberation/consensus.html", 422, choices=choices, errors=errors, tr=tr, **show
    )


# --- the challenge page's section ----------------------------------------------------------


async def challenge_section(request: Request, challenge: Challenge) -> Section | None:
    """The opinion maps on the challenge (or on its proposal), and what residents agreed."""
    conversations = await repository.conversations_of(challenge_id=challenge.id)
    if challenge.proposal_id is not None:
        conversations += await repository.conversations_of(proposal_id=challenge.proposal_id)
    actor = actor_of(request)
    manager = actor.signed_in and actor.has_role(challenge.organization_id, *perms.MANAGERS)
    if not is_public(challenge) and not manager:
        conversations = [c for c in conversations if c.challenge_id is None]
    adopted = await repository.adoptions_for(challenge.id)
    if not conversations and not adopted and not manager:
        return None
    return Section(
        template="deliberation/_challenge_section.html",
        slot="top",
        values={
            "challenge_id": challenge.id,
            "conversations": conversations,
            "adopted": adopted,
            "manager": manager,
            "is_draft": challenge.status is ChallengeStatus.draft,
            "tr": await translation.shown(
                [*(a.text for a in adopted), *(c.topic for c in conversations)]
            ),
        },
    )


PAGE = "/conversations/{conversation_id:int}"
routes: list[BaseRoute] = [
    Route(PAGE, conversation_page, methods=["GET"]),
    Route(f"{PAGE}/vote", vote_page, methods=["POST"]),
    Route(f"{PAGE}/statements", statement_page, methods=["POST"]),
    Route(f"{PAGE}/map", map_page, methods=["GET"]),
    Route(f"{PAGE}/moderation", moderation_page, methods=["GET"]),
    Route(f"{PAGE}/close", close_page, methods=["POST"]),
    Route("/statements/{statement_id:int}/moderate", moderate_page, methods=["POST"]),
    Route(
        "/proposals/{proposal_id:int}/conversations", proposal_conversations_page, methods=["GET"]
    ),
    Route(
        "/proposals/{proposal_id:int}/conversations/new",
        open_on_proposal_page,
        methods=["GET", "POST"],
    ),
    Route(
        "/challenges/{challenge_id:int}/conversations/new",
        open_on_challenge_page,
        methods=["GET", "POST"],
    ),
    Route("/challenges/{challenge_id:int}/consensus", consensus_page, methods=["GET", "POST"]),
]
