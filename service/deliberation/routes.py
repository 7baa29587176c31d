"""API of the deliberation area: conversations, statements, votes, the map, open data, and
consensus statements carried into a challenge."""

from __future__ import annotations

import csv
import io
import json as jsonlib
from collections.abc import AsyncIterator

from spectree import Response as Doc
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from service.accounts.permissions import actor_of, guard
from service.challenges import permissions as challenge_perms
from service.challenges.models import Challenge
from service.core.api import ErrorOut, api, json
from service.core.errors import NotFound
from service.core.web import context, limit, transaction
from service.deliberation import permissions as perms
from service.deliberation import presenters, repository, schemas
from service.deliberation import service as deliberation
from service.deliberation.models import Conversation, StatementStatus

TAG = "deliberation"
V1 = "/api/v1"
SECURED: dict[str, list[str]] = {"bearer": []}
CONVERSATION = f"{V1}/conversations/{{conversation_id:int}}"
# Per person: (attempts, window in seconds).
LIMITS = {
    "open": (10, 3600),
    "statement": (5, 600),
    "vote": (120, 60),
}


async def throttle(request: Request, kind: str) -> None:
    attempts, window = LIMITS[kind]
    user = actor_of(request).user
    assert user is not None
    await limit(request, f"deliberation.{kind}", attempts, window, f"user:{user.id}")


async def conversation_out(conversation: Conversation) -> schemas.ConversationOut:
    count = len(await repository.published(conversation.id))
    return schemas.ConversationOut(
        id=conversation.id,
        topic=conversation.topic,
        description=conversation.description,
        status=conversation.status.value,
        proposal_id=conversation.proposal_id,
        challenge_id=conversation.challenge_id,
        participants=conversation.participant_count,
        statements=count,
        created_at=conversation.created_at,
        map_url=f"/conversations/{conversation.id}/map",
    )


@guard("conversation.open_on_proposal", load=perms.load_proposal)
@api.validate(
    json=schemas.ConversationIn,
    resp=Doc(
        HTTP_201=schemas.ConversationOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_422=ErrorOut,
        HTTP_429=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
)
async def open_on_proposal(request: Request, json: schemas.ConversationIn) -> Response:
    """Open a conversation on a proposal (its author, or a manager of the region's city),
    with its seed statements."""
    await throttle(request, "open")
    proposal = request.state.obj
    async with transaction(request):
        conversation = await deliberation.open_conversation(
            context(request),
            topic=json.topic,
            description=json.description,
            seeds=json.seeds,
            proposal_id=proposal.id,
        )
    return _json(await conversation_out(conversation), 201)


@guard("conversation.open_on_challenge", load=challenge_perms.load_challenge)
@api.validate(
    json=schemas.ConversationIn,
    resp=Doc(
        HTTP_201=schemas.ConversationOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_422=ErrorOut,
        HTTP_429=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
)
async def open_on_challenge(request: Request, json: schemas.ConversationIn) -> Response:
    """Open a conversation on a challenge (a manager of its city), with seed statements."""
    await throttle(request, "open")
    challenge: Challenge = request.state.obj
    async with transaction(request):
        conversation = await deliberation.open_conversation(
            context(request),
            topic=json.topic,
            description=json.description,
            seeds=json.seeds,
            challenge_id=challenge.id,
            organization_id=challenge.organization_id,
        )
    return _json(await conversation_out(conversation), 201)


@guard("conversation.view", load=perms.load_conversation)
@api.validate(resp=Doc(HTTP_200=schemas.ConversationOut, HTTP_404=ErrorOut), tags=[TAG])
async def get_conversation(request: Request) -> Response:
    """A conversation: its question, status and counts."""
    return _json(await conversation_out(request.state.obj))


@guard("conversation.view", load=perms.load_conversation)
@api.validate(resp=Doc(HTTP_200=schemas.StatementList, HTTP_404=ErrorOut), tags=[TAG])
async def list_statements(request: Request) -> Response:
    """The published statements with their vote counts."""
    statements = await repository.published(request.state.obj.id)
    return _json(schemas.StatementList(items=[presenters.statement_out(s) for s in statements]))


@guard("conversation.take_part", load=perms.load_conversation)
@api.validate(
    json=schemas.StatementIn,
    resp=Doc(
        HTTP_201=schemas.StatementOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
        HTTP_429=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
)
async def add_statement(request: Request, json: schemas.StatementIn) -> Response:
    """Add a short statement (at most 140 characters); a new account's waits for a moderator."""
    await throttle(request, "statement")
    async with transaction(request):
        statement = await deliberation.add_statement(
            context(request), request.state.obj, text=json.text
        )
    return _json(presenters.statement_out(statement), 201)


@guard("conversation.view", load=perms.load_conversation)
@api.validate(resp=Doc(HTTP_200=schemas.NextOut, HTTP_404=ErrorOut), tags=[TAG])
async def next_statement(request: Request) -> Response:
    """The statement to vote on next: few votes and statements that split the groups first."""
    picked, remaining = await deliberation.next_statement(request.state.obj, actor_of(request).user)
    return _json(
        schemas.NextOut(
            statement=presenters.statement_out(picked) if picked else None, remaining=remaining
        )
    )


@guard("conversation.take_part", load=perms.load_conversation)
@api.validate(
    json=schemas.VoteIn,
    resp=Doc(
        HTTP_201=schemas.VoteOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
        HTTP_429=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
)
async def vote(request: Request, json: schemas.VoteIn) -> Response:
    """Agree, disagree or pass on a statement: one vote per person and statement."""
    await throttle(request, "vote")
    async with transaction(request):
        made = await deliberation.vote(
            context(request), request.state.obj, statement_id=json.statement_id, choice=json.choice
        )
        await made.fetch_related("participant")
    return _json(
        schemas.VoteOut(
            statement_id=made.statement_id, choice=json.choice, participant=made.participant.number
        ),
        201,
    )


@guard("conversation.view", load=perms.load_conversation)
@api.validate(resp=Doc(HTTP_200=schemas.MapOut, HTTP_404=ErrorOut), tags=[TAG])
async def get_map(request: Request) -> Response:
    """The last computed opinion map: groups, their statements, consensus statements."""
    conversation = request.state.obj
    view = presenters.map_view(
        conversation,
        await repository.last_map(conversation.id),
        await repository.published(conversation.id),
    )
    return _json(view.out())


@guard("conversation.moderate", load=perms.load_conversation)
@api.validate(
    resp=Doc(HTTP_200=schemas.StatementList, HTTP_403=ErrorOut, HTTP_404=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def pending_statements(request: Request) -> Response:
    """Statements waiting for a moderator."""
    statements = await repository.pending(request.state.obj.id)
    return _json(schemas.StatementList(items=[presenters.statement_out(s) for s in statements]))


@guard("conversation.moderate", load=perms.load_statement)
@api.validate(
    json=schemas.ModerateIn,
    resp=Doc(
        HTTP_200=schemas.StatementOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut
    ),
    tags=[TAG],
    security=SECURED,
)
async def moderate_statement(request: Request, json: schemas.ModerateIn) -> Response:
    """Publish a held statement, or reject one with a reason."""
    async with transaction(request):
        statement = await deliberation.moderate(
            context(request), request.state.obj, publish=json.publish, reason=json.reason
        )
    return _json(presenters.statement_out(statement))


@guard("conversation.moderate", load=perms.load_conversation)
@api.validate(
    resp=Doc(HTTP_200=schemas.ConversationOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def close_conversation(request: Request) -> Response:
    """Close the conversation: it keeps its map and takes no more votes."""
    async with transaction(request):
        conversation = await deliberation.close(context(request), request.state.obj)
    return _json(await conversation_out(conversation))


@guard("conversation.adopt_consensus", load=challenge_perms.load_challenge)
@api.validate(
    json=schemas.ConsensusIn,
    resp=Doc(
        HTTP_200=schemas.AdoptedList,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
)
async def adopt_consensus(request: Request, json: schemas.ConsensusIn) -> Response:
    """Carry consensus statements of a conversation on the challenge (or on the proposal it
    was born from) into the draft: its problem statement, or its criteria."""
    challenge: Challenge = request.state.obj
    conversation = await conversation_for(challenge, json.conversation_id)
    async with transaction(request):
        await deliberation.adopt_consensus(
            context(request),
            challenge,
            conversation,
            statement_ids=json.statement_ids,
            use=json.use,
        )
    made = await repository.adoptions_for(challenge.id)
    return _json(
        schemas.AdoptedList(
            items=[
                schemas.AdoptedOut(statement_id=a.statement_id, text=a.text, use=a.use)
                for a in made
            ]
        )
    )


async def conversation_for(challenge: Challenge, conversation_id: int) -> Conversation:
    conversation = await repository.get_conversation(conversation_id)
    if conversation is None or not (
        conversation.challenge_id == challenge.id
        or (challenge.proposal_id is not None and conversation.proposal_id == challenge.proposal_id)
    ):
        raise NotFound("No such conversation on this challenge.")
    return conversation


# --- open data -----------------------------------------------------------------------------

CSV_DOC = Doc(
    HTTP_200=(None, "The data set as CSV (text/csv), with a header row"), HTTP_404=ErrorOut
)


async def _applicants(conversation: Conversation) -> set[int]:
    """Participant numbers of members of an organization that applied to the challenge (the
    conversation's own, or the one its proposal became)."""
    challenge_id = conversation.challenge_id
    if challenge_id is None and conversation.proposal_id is not None:
        born = await Challenge.filter(proposal_id=conversation.proposal_id).first()
        challenge_id = born.id if born else None
    users = await repository.applicant_users(challenge_id)
    if not users:
        return set()
    return {n for n, u in await repository.participants(conversation.id) if u in users}


@guard("conversation.view", load=perms.load_conversation)
@api.validate(resp=Doc(HTTP_200=schemas.StatementsData, HTTP_404=ErrorOut), tags=[TAG])
async def statements_json(request: Request) -> Response:
    """The published statements as JSON (open data)."""
    statements = await repository.published(request.state.obj.id)
    return _json(
        schemas.StatementsData(
            conversation=request.state.obj.id,
            statements=[presenters.statement_out(s) for s in statements],
        )
    )


@guard("conversation.view", load=perms.load_conversation)
@api.validate(resp=CSV_DOC, tags=[TAG], skip_validation=True)
async def statements_csv(request: Request) -> Response:
    """The published statements as CSV (open data)."""
    statements = await repository.published(request.state.obj.id)
    return _csv(presenters.statements_csv(statements), f"statements-{request.state.obj.id}.csv")


@guard("conversation.view", load=perms.load_conversation)
# Streamed a page of votes at a time: the body is not read back to be validated.
@api.validate(
    resp=Doc(HTTP_200=schemas.VotesData, HTTP_404=ErrorOut), tags=[TAG], skip_validation=True
)
async def votes_json(request: Request) -> Response:
    """Every vote on a published statement, with a participant number and never an account;
    `applicant_member` marks members of an organization that applied to the challenge."""
    conversation = request.state.obj
    applicants = await _applicants(conversation)

    async def body() -> AsyncIterator[str]:
        columns = jsonlib.dumps(presenters.VOTE_COLUMNS)
        yield f'{{"conversation":{conversation.id},"columns":{columns},"votes":['

        first = True
        async for page in repository.vote_pages(conversation.id):
            rows = [
                jsonlib.dumps(presenters.vote_row(n, s, v, at, applicants)) for n, s, v, at in page
            ]
            if rows:
                yield ("" if first else ",") + ",".join(rows)
                first = False
        yield "]}"

    return StreamingResponse(body(), media_type="application/json")


@guard("conversation.view", load=perms.load_conversation)
@api.validate(resp=CSV_DOC, tags=[TAG], skip_validation=True)
async def votes_csv(request: Request) -> Response:
    """The votes as CSV, one row per vote (participant number, never an account)."""
    conversation = request.state.obj
    applicants = await _applicants(conversation)

    async def body() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(presenters.VOTE_COLUMNS)
        async for page in repository.vote_pages(conversation.id):
            for n, s, v, at in page:
                writer.writerow(presenters.vote_row(n, s, v, at, applicants))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="votes-{conversation.id}.csv"'},
    )


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _json(model: schemas.BaseModel, status: int = 200) -> Response:
    return json(model, status)


routes: list[BaseRoute] = [
    Route(f"{V1}/proposals/{{proposal_id:int}}/conversations", open_on_proposal, methods=["POST"]),
    Route(
        f"{V1}/challenges/{{challenge_id:int}}/conversations", open_on_challenge, methods=["POST"]
    ),
    Route(f"{V1}/challenges/{{challenge_id:int}}/consensus", adopt_consensus, methods=["POST"]),
    Route(CONVERSATION, get_conversation, methods=["GET"]),
    Route(f"{CONVERSATION}/statements", list_statements, methods=["GET"]),
    Route(f"{CONVERSATION}/statements", add_statement, methods=["POST"]),
    Route(f"{CONVERSATION}/pending", pending_statements, methods=["GET"]),
    Route(f"{CONVERSATION}/next", next_statement, methods=["GET"]),
    Route(f"{CONVERSATION}/votes", vote, methods=["POST"]),
    Route(f"{CONVERSATION}/map", get_map, methods=["GET"]),
    Route(f"{CONVERSATION}/close", close_conversation, methods=["POST"]),
    Route(f"{CONVERSATION}/statements.json", statements_json, methods=["GET"]),
    Route(f"{CONVERSATION}/statements.csv", statements_csv, methods=["GET"]),
    Route(f"{CONVERSATION}/votes.json", votes_json, methods=["GET"]),
    Route(f"{CONVERSATION}/votes.csv", votes_csv, methods=["GET"]),
    Route(f"{V1}/statements/{{statement_id:int}}/moderate", moderate_statement, methods=["POST"]),
]

__all__ = ["StatementStatus", "routes"]
