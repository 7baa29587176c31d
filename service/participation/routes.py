"""API of the participation area: proposals, supports, comments, answers, adoption, updates."""

from __future__ import annotations

from datetime import UTC, datetime

from spectree import Response as Doc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from service.accounts.models import Organization, Role
from service.accounts.permissions import actor_of, guard, load_organization
from service.challenges import attachments
from service.challenges import permissions as challenge_perms
from service.core.api import ErrorOut, api, json
from service.core.bodylimit import accepts_upload
from service.core.errors import NotFound, PermissionDenied
from service.core.i18n import gettext
from service.core.web import context, limit, transaction
from service.participation import permissions as perms
from service.participation import presenters, repository, schemas
from service.participation import service as participation
from service.participation.models import Proposal, ProposalPhoto

TAG = "participation"
V1 = "/api/v1"
SECURED: dict[str, list[str]] = {"bearer": []}
PROPOSAL = f"{V1}/proposals/{{proposal_id:int}}"
# Per user: (attempts, window in seconds).
LIMITS = {
    "proposal": (5, 3600),
    "support": (30, 60),
    "comment": (10, 600),
}


async def throttle(request: Request, kind: str) -> None:
    attempts, window = LIMITS[kind]
    user = actor_of(request).user
    assert user is not None
    await limit(request, f"participation.{kind}", attempts, window, f"user:{user.id}")


def filters_of(query: schemas.ProposalQuery) -> repository.ProposalFilters:
    return repository.ProposalFilters(
        q=query.q,
        region=query.region,
        area=query.area.value if query.area else "",
        sdg=query.sdg,
        status=query.status.value if query.status else "",
        sort=query.sort,
    )


async def detail(request: Request, proposal: Proposal) -> schemas.ProposalOut:
    await proposal.fetch_related("author")
    user = actor_of(request).user
    return presenters.detail_out(
        proposal,
        author=proposal.author.name,
        threshold=await participation.threshold_of(proposal.region),
        supported_by_me=bool(user and await repository.has_supported(proposal.id, user.id)),
    )


@guard("public")
@api.validate(
    query=schemas.ProposalQuery,
    resp=Doc(HTTP_200=schemas.ProposalList, HTTP_422=ErrorOut),
    tags=[TAG],
)
async def list_proposals(request: Request, query: schemas.ProposalQuery) -> Response:
    """Proposals: search, filters (region, area, SDG, status), sorting, cursor pagination."""
    page = await repository.list_public(filters_of(query), cursor=query.cursor, limit=query.limit)
    now = datetime.now(UTC)
    return json(
        schemas.ProposalList(
            items=[presenters.summary_out(row, now) for row in page.items],
            next_cursor=page.next_cursor,
        )
    )


@guard("signed_in")
@api.validate(
    json=schemas.ProposalIn,
    resp=Doc(HTTP_201=schemas.ProposalOut, HTTP_403=ErrorOut, HTTP_422=ErrorOut, HTTP_429=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def create_proposal(request: Request, json: schemas.ProposalIn) -> Response:
    """Propose a local problem (signed in, e-mail confirmed). Similar titles in the region are
    refused with a 422 naming them unless `confirm_distinct` is true."""
    await throttle(request, "proposal")
    async with transaction(request):
        proposal = await participation.create(context(request), json)
    return _json(await detail(request, proposal), 201)


@guard("public")
@api.validate(
    query=schemas.SimilarQuery,
    resp=Doc(HTTP_200=schemas.SimilarList, HTTP_422=ErrorOut),
    tags=[TAG],
)
async def similar_proposals(request: Request, query: schemas.SimilarQuery) -> Response:
    """Proposals of the region with titles like the one being typed (the form's hint)."""
    found = await participation.similar(query.region, query.title, exclude_id=query.exclude)
    return _json(
        schemas.SimilarList(
            items=[
                schemas.SimilarItem(
                    id=p.id, title=p.title, supporters=p.support_count, url=f"/proposals/{p.id}"
                )
                for p in found
            ]
        )
    )


@guard("public", load=perms.load_proposal)
@api.validate(resp=Doc(HTTP_200=schemas.ProposalOut, HTTP_404=ErrorOut), tags=[TAG])
async def get_proposal(request: Request) -> Response:
    """A proposal with its supporters, threshold and the city's answer."""
    return _json(await detail(request, request.state.obj))


@guard("proposal.edit", load=perms.load_proposal)
@api.validate(
    json=schemas.ProposalPatch,
    resp=Doc(
        HTTP_200=schemas.ProposalOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
)
async def edit_proposal(request: Request, json: schemas.ProposalPatch) -> Response:
    """Edit (the author, until the first support)."""
    async with transaction(request):
        proposal = await participation.edit(context(request), request.state.obj, json)
    return _json(await detail(request, proposal))


@guard("signed_in", load=perms.load_proposal)
@api.validate(
    resp=Doc(
        HTTP_200=schemas.SupportOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_429=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
)
async def support(request: Request) -> Response:
    """Support a proposal (once per person: repeating it changes nothing)."""
    await throttle(request, "support")
    async with transaction(request):
        proposal, _ = await participation.support(context(request), request.state.obj)
    return _json(
        schemas.SupportOut(
            proposal_id=proposal.id, supporters=proposal.support_count, supported=True
        )
    )


@guard("signed_in", load=perms.load_proposal)
@api.validate(
    resp=Doc(HTTP_200=schemas.SupportOut, HTTP_404=ErrorOut, HTTP_429=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def withdraw_support(request: Request) -> Response:
    """Withdraw one's support."""
    await throttle(request, "support")
    async with transaction(request):
        proposal = await participation.withdraw_support(context(request), request.state.obj)
    return _json(
        schemas.SupportOut(
            proposal_id=proposal.id, supporters=proposal.support_count, supported=False
        )
    )


@guard("public", load=perms.load_proposal)
@api.validate(resp=Doc(HTTP_200=schemas.CommentList, HTTP_404=ErrorOut), tags=[TAG])
async def list_comments(request: Request) -> Response:
    """The deliberation: comments and replies, oldest first (hidden ones keep their reason)."""
    comments = await repository.comments_of(request.state.obj.id)
    return _json(schemas.CommentList(items=[presenters.comment_out(c) for c in comments]))


@guard("signed_in", load=perms.load_proposal)
@api.validate(
    json=schemas.CommentIn,
    resp=Doc(
        HTTP_201=schemas.CommentOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
        HTTP_429=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
)
async def add_comment(request: Request, json: schemas.CommentIn) -> Response:
    """Comment, for or against, or reply to a comment (`parent_id`)."""
    await throttle(request, "comment")
    async with transaction(request):
        comment = await participation.comment(
            context(request),
            request.state.obj,
            text=json.text,
            stance=json.stance,
            parent_id=json.parent_id,
        )
    await comment.fetch_related("author")
    return _json(presenters.comment_out(comment), 201)


@guard("signed_in", load=perms.load_comment)
@api.validate(
    json=schemas.ReportIn,
    resp=Doc(HTTP_204=None, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def report_comment(request: Request, json: schemas.ReportIn) -> Response:
    """Report a comment to the moderators (once per person)."""
    async with transaction(request):
        await participation.report(context(request), request.state.obj, reason=json.reason)
    return Response(status_code=204)


@guard("proposal.moderate", load=perms.load_comment)
@api.validate(
    json=schemas.ReasonIn,
    resp=Doc(HTTP_200=schemas.CommentOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def hide_comment(request: Request, json: schemas.ReasonIn) -> Response:
    """Hide a comment with a public reason (operators, the region's city managers)."""
    async with transaction(request):
        comment = await participation.hide_comment(
            context(request), request.state.obj, reason=json.reason
        )
    await comment.fetch_related("author")
    return _json(presenters.comment_out(comment))


@guard("proposal.moderate", load=perms.load_proposal)
@api.validate(
    json=schemas.ReasonIn,
    resp=Doc(HTTP_200=schemas.ProposalOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def hide_proposal(request: Request, json: schemas.ReasonIn) -> Response:
    """Hide a proposal with a public reason (operators, the region's city managers)."""
    async with transaction(request):
        proposal = await participation.hide_proposal(
            context(request), request.state.obj, reason=json.reason
        )
    return _json(await detail(request, proposal))


@guard("proposal.answer", load=perms.load_proposal)
@api.validate(
    json=schemas.ResponseIn,
    resp=Doc(
        HTTP_200=schemas.ProposalOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
)
async def respond(request: Request, json: schemas.ResponseIn) -> Response:
    """The city's formal answer: accepted for study, or declined with a reason (the region's
    city managers). Adopting is `POST .../adopt`."""
    async with transaction(request):
        proposal = await participation.respond(context(request), request.state.obj, json)
    return _json(await detail(request, proposal))


async def managed_city(request: Request, organization_id: int) -> Organization:
    """The organization named in the body, which the actor must manage."""
    if not actor_of(request).has_role(organization_id, Role.manager):
        raise PermissionDenied("Adopt it as a manager of the city's organization.")
    org = await Organization.get_or_none(id=organization_id)
    if org is None:
        raise NotFound("No such organization.")
    return org


@guard("proposal.answer", load=perms.load_proposal)
@api.validate(
    json=schemas.AdoptIn,
    resp=Doc(
        HTTP_201=schemas.AdoptOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_422=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
)
async def adopt(request: Request, json: schemas.AdoptIn) -> Response:
    """Adopt the proposal into a challenge draft prefilled from it (a manager of the region's
    city); supporters and commenters are told, and again when it is published, awarded, paid."""
    org = await managed_city(request, json.organization_id)
    async with transaction(request):
        proposal, challenge = await participation.adopt(
            context(request), request.state.obj, org, json
        )
    return _json(
        schemas.AdoptOut(
            proposal_id=proposal.id,
            challenge_id=challenge.id,
            challenge_url=f"/challenges/{challenge.id}",
        ),
        201,
    )


@guard("public", load=perms.load_proposal)
@api.validate(resp=Doc(HTTP_200=schemas.UpdateList, HTTP_404=ErrorOut), tags=[TAG])
async def proposal_updates(request: Request) -> Response:
    """The proposal's public timeline (with its challenge's, once adopted), newest first."""
    updates = await repository.updates_of_proposal(request.state.obj)
    return _json(schemas.UpdateList(items=[presenters.update_out(u) for u in updates]))


@guard("proposal.answer", load=perms.load_proposal)
@api.validate(
    json=schemas.UpdateIn,
    resp=Doc(HTTP_201=schemas.UpdateOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def post_proposal_update(request: Request, json: schemas.UpdateIn) -> Response:
    """Post an update to the proposal's timeline (the region's city managers)."""
    async with transaction(request):
        update = await participation.post_staff_update(
            context(request), title=json.title, body=json.body, proposal=request.state.obj
        )
    return _json(presenters.update_out(update), 201)


@guard("challenge.view", load=challenge_perms.load_challenge)
@api.validate(resp=Doc(HTTP_200=schemas.UpdateList, HTTP_404=ErrorOut), tags=[TAG])
async def challenge_updates(request: Request) -> Response:
    """The challenge's public timeline, newest first."""
    updates = await repository.updates_of_challenge(request.state.obj.id)
    return _json(schemas.UpdateList(items=[presenters.update_out(u) for u in updates]))


@guard("challenge.draft", load=challenge_perms.load_challenge)
@api.validate(
    json=schemas.UpdateIn,
    resp=Doc(HTTP_201=schemas.UpdateOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def post_challenge_update(request: Request, json: schemas.UpdateIn) -> Response:
    """Post an update to the challenge's timeline (the city's editors and managers)."""
    async with transaction(request):
        update = await participation.post_staff_update(
            context(request), title=json.title, body=json.body, challenge=request.state.obj
        )
    return _json(presenters.update_out(update), 201)


@guard("public", load=load_organization)
@api.validate(resp=Doc(HTTP_200=schemas.UpdateList, HTTP_404=ErrorOut), tags=[TAG])
async def city_updates(request: Request) -> Response:
    """An organization's public timeline: its challenges' events and its staff's updates."""
    updates = await repository.updates_of_city(request.state.obj.id)
    return _json(schemas.UpdateList(items=[presenters.update_out(u) for u in updates]))


@guard("challenge.draft", load=load_organization)
@api.validate(
    json=schemas.UpdateIn,
    resp=Doc(HTTP_201=schemas.UpdateOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def post_city_update(request: Request, json: schemas.UpdateIn) -> Response:
    """Post an update to the city's timeline (its editors and managers)."""
    async with transaction(request):
        update = await participation.post_staff_update(
            context(request), title=json.title, body=json.body, organization=request.state.obj
        )
    return _json(presenters.update_out(update), 201)


@guard("challenge.publish", load=load_organization)
@api.validate(
    json=schemas.ThresholdIn,
    resp=Doc(
        HTTP_200=schemas.ThresholdOut, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_422=ErrorOut
    ),
    tags=[TAG],
    security=SECURED,
)
async def set_threshold(request: Request, json: schemas.ThresholdIn) -> Response:
    """Set how many supports oblige the city to answer a proposal of its region (managers)."""
    async with transaction(request):
        row = await participation.set_threshold(
            context(request), request.state.obj, supports=json.supports
        )
    return _json(schemas.ThresholdOut(region=row.region, supports=row.supports))


@guard("proposal.edit", load=perms.load_proposal)
@api.validate(
    form=schemas.PhotoIn,
    resp=Doc(
        HTTP_200=schemas.PhotoOut,
        HTTP_403=ErrorOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_413=ErrorOut,
        HTTP_415=ErrorOut,
        HTTP_422=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
    # The image is streamed to storage within its size limit, not parsed whole beforehand.
    skip_validation=True,
)
@accepts_upload(participation.PHOTO_MAX_BYTES)
async def put_photo(request: Request) -> Response:
    """Add or replace the proposal's photo (the author, until the first support)."""
    photo = await store_photo(request)
    return _json(photo_out(photo))


async def store_photo(request: Request) -> ProposalPhoto:
    """Receive the upload and keep it as the proposal's photo; the replaced file goes once
    the change is committed."""
    storage = request.app.state.deps.storage
    limit = participation.PHOTO_MAX_BYTES
    async with (
        attachments.received_file(request, max_bytes=limit) as received,
        transaction(request),
    ):
        alt = (await request.form()).get("alt")
        photo, replaced = await participation.set_photo(
            context(request),
            request.state.obj,
            stored=received.stored,
            alt=alt if isinstance(alt, str) else "",
        )
    if replaced:
        await storage.delete(replaced)
    return photo


def photo_out(photo: ProposalPhoto) -> schemas.PhotoOut:
    return schemas.PhotoOut(
        url=f"/proposals/{photo.proposal_id}/photo",
        alt=photo.alt,
        content_type=photo.content_type,
        size=photo.size,
    )


@guard("proposal.edit", load=perms.load_proposal)
@api.validate(
    resp=Doc(HTTP_204=None, HTTP_403=ErrorOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def delete_photo(request: Request) -> Response:
    """Remove the proposal's photo (the author, until the first support)."""
    async with transaction(request):
        removed = await participation.remove_photo(context(request), request.state.obj)
    if removed is None:
        raise NotFound(gettext("This proposal has no photo."))
    await request.app.state.deps.storage.delete(removed)
    return Response(status_code=204)


def _json(model: schemas.BaseModel, status: int = 200) -> Response:
    return json(model, status)


routes: list[BaseRoute] = [
    Route(f"{V1}/proposals", list_proposals, methods=["GET"]),
    Route(f"{V1}/proposals", create_proposal, methods=["POST"]),
    Route(f"{V1}/proposals/similar", similar_proposals, methods=["GET"]),
    Route(PROPOSAL, get_proposal, methods=["GET"]),
    Route(PROPOSAL, edit_proposal, methods=["PATCH"]),
    Route(f"{PROPOSAL}/photo", put_photo, methods=["PUT"]),
    Route(f"{PROPOSAL}/photo", delete_photo, methods=["DELETE"]),
    Route(f"{PROPOSAL}/supports", support, methods=["POST"]),
    Route(f"{PROPOSAL}/supports", withdraw_support, methods=["DELETE"]),
    Route(f"{PROPOSAL}/comments", list_comments, methods=["GET"]),
    Route(f"{PROPOSAL}/comments", add_comment, methods=["POST"]),
    Route(f"{V1}/comments/{{comment_id:int}}/report", report_comment, methods=["POST"]),
    Route(f"{V1}/comments/{{comment_id:int}}/hide", hide_comment, methods=["POST"]),
    Route(f"{PROPOSAL}/hide", hide_proposal, methods=["POST"]),
    Route(f"{PROPOSAL}/response", respond, methods=["POST"]),
    Route(f"{PROPOSAL}/adopt", adopt, methods=["POST"]),
    Route(f"{PROPOSAL}/updates", proposal_updates, methods=["GET"]),
    Route(f"{PROPOSAL}/updates", post_proposal_update, methods=["POST"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}/updates", challenge_updates, methods=["GET"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}/updates", post_challenge_update, methods=["POST"]),
    Route(f"{V1}/organizations/{{organization_id:int}}/updates", city_updates, methods=["GET"]),
    Route(
        f"{V1}/organizations/{{organization_id:int}}/updates", post_city_update, methods=["POST"]
    ),
    Route(
        f"{V1}/organizations/{{organization_id:int}}/proposal-threshold",
        set_threshold,
        methods=["PUT"],
    ),
]
