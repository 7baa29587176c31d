"""Challenges API."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_CEILING

from spectree import Response as Doc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts.permissions import guard
from service.challenges import permissions as perms
from service.challenges import presenters, repository, schemas
from service.challenges import questions as questions_service
from service.challenges import service as challenges
from service.challenges.models import Question
from service.core.api import ErrorOut, api, json
from service.core.money import minor_units
from service.core.web import context, transaction

TAG = "challenges"
V1 = "/api/v1"
SECURED: dict[str, list[str]] = {"bearer": []}


def filters_of(query: schemas.ChallengeQuery, *, platform: str) -> repository.ChallengeFilters:
    """The query as repository filters; `min_reward` is typed in the platform currency's
    major units and compared in its minor units (rounded up: a minimum stays a minimum)."""
    min_reward = None
    if query.min_reward is not None:
        scaled = query.min_reward.scaleb(minor_units(platform))
        min_reward = int(scaled.to_integral_value(rounding=ROUND_CEILING))
    return repository.ChallengeFilters(
        q=query.q,
        statuses=query.status,
        area=query.area.value if query.area else "",
        sdg=query.sdg,
        region=query.region,
        eligible_kind=query.eligible_kind.value if query.eligible_kind else "",
        min_reward=min_reward,
        closing_before=query.closing_before.astimezone(UTC) if query.closing_before else None,
        sort=query.sort,
    )


async def _detail(challenge_id: int) -> schemas.ChallengeOut:
    challenge = await repository.get(challenge_id)
    assert challenge is not None
    return presenters.detail_out(challenge, await repository.detail_parts(challenge))


@guard("challenge.draft", load=perms.load_organization_in_body)
@api.validate(
    json=schemas.ChallengeIn,
    resp=Doc(
        HTTP_201=schemas.ChallengeOut, HTTP_422=ErrorOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut
    ),
    tags=[TAG],
    security=SECURED,
)
async def create_challenge(request: Request, json: schemas.ChallengeIn) -> Response:
    """Draft a challenge for a government organization (editors and managers)."""
    async with transaction(request):
        challenge = await challenges.create(context(request), request.state.obj, json)
    return _json(await _detail(challenge.id), 201)


@guard("public")
@api.validate(
    query=schemas.ChallengeQuery,
    resp=Doc(HTTP_200=schemas.ChallengeList, HTTP_422=ErrorOut),
    tags=[TAG],
)
async def list_challenges(request: Request, query: schemas.ChallengeQuery) -> Response:
    """Published challenges: full-text search, filters, sorting and cursor pagination."""
    filters = filters_of(query, platform=request.app.state.settings.platform_currency)
    page = await repository.list_public(filters, cursor=query.cursor, limit=query.limit)
    now = datetime.now(UTC)
    return _json(
        schemas.ChallengeList(
            items=[presenters.summary_out(row, now) for row in page.items],
            next_cursor=page.next_cursor,
        )
    )


@guard("challenge.view", load=perms.load_challenge)
@api.validate(resp=Doc(HTTP_200=schemas.ChallengeOut, HTTP_404=ErrorOut), tags=[TAG])
async def get_challenge(request: Request) -> Response:
    """A challenge with its criteria, timeline, amendments and attachments."""
    return _json(await _detail(request.state.obj.id))


@guard("challenge.draft", load=perms.load_challenge)
@api.validate(
    json=schemas.ChallengePatch,
    resp=Doc(
        HTTP_200=schemas.ChallengeOut, HTTP_409=ErrorOut, HTTP_422=ErrorOut, HTTP_404=ErrorOut
    ),
    tags=[TAG],
    security=SECURED,
)
async def update_challenge(request: Request, json: schemas.ChallengePatch) -> Response:
    """Replace the terms. After publication, changes to reward, criteria or dates need
    `amendment_reason` and are published as an amendment."""
    async with transaction(request):
        await challenges.update(context(request), request.state.obj, json)
    return _json(await _detail(request.state.obj.id))


@guard("challenge.publish", load=perms.load_challenge)
@api.validate(
    resp=Doc(
        HTTP_200=schemas.ChallengeOut,
        HTTP_403=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_422=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
)
async def publish_challenge(request: Request) -> Response:
    """Publish a draft (managers of a verified government)."""
    async with transaction(request):
        await challenges.publish(context(request), request.state.obj)
    return _json(await _detail(request.state.obj.id))


@guard("challenge.cancel", load=perms.load_challenge)
@api.validate(
    json=schemas.CancelIn,
    resp=Doc(
        HTTP_200=schemas.ChallengeOut, HTTP_409=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut
    ),
    tags=[TAG],
    security=SECURED,
)
async def cancel_challenge(request: Request, json: schemas.CancelIn) -> Response:
    """Cancel a challenge before it is completed, with a public reason (managers)."""
    async with transaction(request):
        await challenges.cancel(context(request), request.state.obj, reason=json.reason)
    return _json(await _detail(request.state.obj.id))


@guard("challenge.view", load=perms.load_challenge)
@api.validate(resp=Doc(HTTP_200=schemas.QuestionList, HTTP_404=ErrorOut), tags=[TAG])
async def list_questions(request: Request) -> Response:
    """Public questions and their answers, oldest first."""
    questions = await Question.filter(challenge_id=request.state.obj.id).order_by("id")
    names = await questions_service.signers(questions)
    return _json(schemas.QuestionList(items=[presenters.question_out(q, names) for q in questions]))


@guard("challenge.participate", load=perms.load_challenge)
@api.validate(
    json=schemas.QuestionIn,
    resp=Doc(HTTP_201=schemas.QuestionOut, HTTP_409=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def ask_question(request: Request, json: schemas.QuestionIn) -> Response:
    """Ask a public question (the asker follows the challenge from then on)."""
    async with transaction(request):
        question = await questions_service.ask(
            context(request), request.state.obj, text=json.text, signed=json.signed
        )
    names = await questions_service.signers([question])
    return _json(presenters.question_out(question, names), 201)


@guard("question.answer", load=perms.load_question)
@api.validate(
    json=schemas.AnswerIn,
    resp=Doc(HTTP_200=schemas.QuestionOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def answer_question(request: Request, json: schemas.AnswerIn) -> Response:
    """Answer (or correct the answer to) a question, in public; followers are notified."""
    async with transaction(request):
        question = await challenges.answer(context(request), request.state.obj, text=json.text)
    return _json(presenters.question_out(question, await questions_service.signers([question])))


@guard("challenge.participate", load=perms.load_challenge)
@api.validate(resp=Doc(HTTP_204=None, HTTP_404=ErrorOut), tags=[TAG], security=SECURED)
async def follow_challenge(request: Request) -> Response:
    """Follow a challenge: notices when it opens, closes, is amended or answers questions."""
    async with transaction(request):
        await challenges.follow(context(request), request.state.obj)
    return Response(status_code=204)


@guard("challenge.participate", load=perms.load_challenge)
@api.validate(resp=Doc(HTTP_204=None, HTTP_404=ErrorOut), tags=[TAG], security=SECURED)
async def unfollow_challenge(request: Request) -> Response:
    """Stop following a challenge."""
    async with transaction(request):
        await challenges.unfollow(context(request), request.state.obj)
    return Response(status_code=204)


def _json(model: schemas.BaseModel, status: int = 200) -> Response:
    return json(model, status)


routes = [
    Route(f"{V1}/challenges", create_challenge, methods=["POST"]),
    Route(f"{V1}/challenges", list_challenges, methods=["GET"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}", get_challenge, methods=["GET"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}", update_challenge, methods=["PATCH"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}/publish", publish_challenge, methods=["POST"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}/cancel", cancel_challenge, methods=["POST"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}/questions", list_questions, methods=["GET"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}/questions", ask_question, methods=["POST"]),
    Route(f"{V1}/questions/{{question_id:int}}/answer", answer_question, methods=["POST"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}/follow", follow_challenge, methods=["POST"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}/follow", unfollow_challenge, methods=["DELETE"]),
]
