"""Applications, judging and awards API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from spectree import Response as Doc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts.models import User
from service.accounts.permissions import guard, loaded
from service.applications import judge_invitations, schemas
from service.applications import permissions as perms
from service.applications import service as applications
from service.applications.escrow import escrow
from service.applications.models import (
    Application,
    ApplicationAttachment,
    ApplicationPartner,
    Award,
    JudgeAssignment,
    JudgeInvitation,
    Review,
    review_window,
)
from service.challenges import attachments
from service.challenges import permissions as challenge_perms
from service.challenges.models import Challenge, Criterion
from service.core.api import ErrorOut, api, json
from service.core.bodylimit import accepts_upload
from service.core.errors import NotFound, ValidationFailed
from service.core.i18n import gettext
from service.core.web import context, transaction

TAG = "applications"
V1 = "/api/v1"
SECURED: dict[str, list[str]] = {"bearer": []}


def is_blind(view: perms.ApplicationView) -> bool:
    """Whether the viewer is kept from knowing who applied (a judge, in blind mode)."""
    access = view.access
    return bool(
        view.application.challenge.blind_judging and not access.applicant and not access.city_staff
    )


def file_out(
    application: Application, file: ApplicationAttachment, *, number: int, blind: bool
) -> schemas.ApplicationFileOut:
    """In blind mode a file is named by its place in the list: its name may say who made it."""
    kind = attachments.kind_of(file.content_type)
    name = (
        gettext("File %(num)d (%(kind)s, %(size)s)")
        % {"num": number, "kind": kind, "size": attachments.size_label(file.size)}
        if blind
        else file.original_name
    )
    return schemas.ApplicationFileOut(
        id=file.id,
        name=name,
        kind=kind,
        content_type=file.content_type,
        size=file.size,
        created_at=file.created_at,
        url=f"{V1}/applications/{application.id}/attachments/{file.id}",
    )


async def files_out(view: perms.ApplicationView) -> list[schemas.ApplicationFileOut]:
    blind = is_blind(view)
    return [
        file_out(view.application, file, number=n, blind=blind)
        for n, file in enumerate(await applications.files_of(view.application), start=1)
    ]


def download_name(view: perms.ApplicationView, file: ApplicationAttachment) -> str:
    return (
        attachments.neutral_name(file.id, file.content_type)
        if is_blind(view)
        else file.original_name
    )


async def application_out(view: perms.ApplicationView) -> schemas.ApplicationOut:
    """As the viewer may see it: in blind mode a judge sees no names of organizations."""
    application = view.application
    challenge: Challenge = application.challenge
    blind = is_blind(view)
    partners = (
        await ApplicationPartner.filter(application_id=application.id)
        .select_related("organization")
        .order_by("id")
    )
    return schemas.ApplicationOut(
        id=application.id,
        challenge_id=challenge.id,
        challenge_title=challenge.title,
        status=application.status.value,
        title=application.title,
        summary=application.summary,
        proposal=application.proposal,
        team=None if blind else application.team,
        budget_minor=application.budget_minor,
        currency=challenge.currency,
        organization_id=None if blind else application.organization_id,
        organization_name=None if blind else application.organization.name,
        lead_share_pct=application.lead_share_pct,
        partners=[
            schemas.PartnerOut(
                organization_id=None if blind else p.organization_id,
                organization_name=None if blind else p.organization.name,
                role=p.role,
                share_pct=p.share_pct,
                status=p.status.value,
            )
            for p in partners
        ],
        submitted_at=application.submitted_at,
        blind=blind,
        attachments=await files_out(view),
    )


async def _reload(application_id: int, request: Request) -> perms.ApplicationView:
    view = (
        await perms.load_application(request) if "application_id" in request.path_params else None
    )
    if view is None or view.application.id != application_id:
        application = await Application.get(id=application_id).select_related(
            "challenge", "organization"
        )
        view = perms.ApplicationView(application, applications.Access(lead_member=True))
    return view


@guard("application.create", load=challenge_perms.load_organization_in_body)
@api.validate(
    json=schemas.ApplicationIn,
    resp=Doc(
        HTTP_201=schemas.ApplicationOut, HTTP_409=ErrorOut, HTTP_422=ErrorOut, HTTP_404=ErrorOut
    ),
    tags=[TAG],
    security=SECURED,
)
async def create_application(request: Request, json: schemas.ApplicationIn) -> Response:
    """Draft an application for your organization, optionally with partners (a consortium)."""
    challenge = await challenge_perms.load_challenge(request)
    if not challenge_perms.is_public(challenge):
        raise NotFound("No such challenge.")
    async with transaction(request):
        application = await applications.create(
            context(request),
            challenge,
            request.state.obj,
            title=json.title,
            summary=json.summary,
            proposal=json.proposal,
            team=json.team,
            budget_minor=json.budget_minor,
            partners=[p.model_dump() for p in json.partners],
        )
    return _json(await application_out(await _reload(application.id, request)), 201)


@guard("application.view", load=perms.load_application)
@api.validate(
    resp=Doc(HTTP_200=schemas.ApplicationOut, HTTP_404=ErrorOut), tags=[TAG], security=SECURED
)
async def get_application(request: Request) -> Response:
    """An application, for its members, the city, and judges who are not recused."""
    return _json(await application_out(loaded(request, perms.ApplicationView)))


@guard("application.edit", load=perms.load_application)
@api.validate(
    json=schemas.ApplicationPatch,
    resp=Doc(
        HTTP_200=schemas.ApplicationOut, HTTP_409=ErrorOut, HTTP_422=ErrorOut, HTTP_404=ErrorOut
    ),
    tags=[TAG],
    security=SECURED,
)
async def update_application(request: Request, json: schemas.ApplicationPatch) -> Response:
    """Change a draft or submitted application until the deadline."""
    application = loaded(request, perms.ApplicationView).application
    values = json.model_dump(exclude_none=True, exclude={"partners"})
    partners = [p.model_dump() for p in json.partners] if json.partners is not None else None
    async with transaction(request):
        await applications.update(
            context(request), application, application.challenge, values=values, partners=partners
        )
    return _json(await application_out(await perms.load_application(request)))


@guard("application.edit", load=perms.load_application)
@api.validate(
    resp=Doc(
        HTTP_200=schemas.ApplicationOut, HTTP_409=ErrorOut, HTTP_422=ErrorOut, HTTP_404=ErrorOut
    ),
    tags=[TAG],
    security=SECURED,
)
async def submit_application(request: Request) -> Response:
    """Submit before the deadline; eligibility problems are named one by one in `fields`."""
    application = loaded(request, perms.ApplicationView).application
    async with transaction(request):
        await applications.submit(context(request), application, application.challenge)
    return _json(await application_out(await perms.load_application(request)))


@guard("application.edit", load=perms.load_application)
@api.validate(
    resp=Doc(HTTP_200=schemas.ApplicationOut, HTTP_409=ErrorOut, HTTP_404=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def withdraw_application(request: Request) -> Response:
    """Withdraw at any time before the award."""
    async with transaction(request):
        await applications.withdraw(
            context(request), loaded(request, perms.ApplicationView).application
        )
    return _json(await application_out(await perms.load_application(request)))


async def _answer(request: Request, *, accept: bool) -> Response:
    async with transaction(request):
        await applications.answer_partnership(context(request), request.state.obj, accept=accept)
    return _json(await application_out(await perms.load_application(request)))


@guard("application.partner", load=perms.load_partner)
@api.validate(
    resp=Doc(HTTP_200=schemas.ApplicationOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def accept_partnership(request: Request) -> Response:
    """A partner organization accepts its role and share in a consortium."""
    return await _answer(request, accept=True)


@guard("application.partner", load=perms.load_partner)
@api.validate(
    resp=Doc(HTTP_200=schemas.ApplicationOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def decline_partnership(request: Request) -> Response:
    """A partner organization declines."""
    return await _answer(request, accept=False)


# --- files ---------------------------------------------------------------------------------


@guard("application.attach", load=perms.load_application)
@api.validate(
    form=schemas.FileIn,
    resp=Doc(
        HTTP_201=schemas.ApplicationFileOut,
        HTTP_404=ErrorOut,
        HTTP_409=ErrorOut,
        HTTP_413=ErrorOut,
        HTTP_415=ErrorOut,
        HTTP_422=ErrorOut,
    ),
    tags=[TAG],
    security=SECURED,
    # The body is streamed to storage within the size limit (by `attachments`), not parsed
    # whole beforehand.
    skip_validation=True,
)
@accepts_upload()
async def upload_file(request: Request) -> Response:
    """Attach a file (multipart/form-data, part `file`): members of the lead and partner
    organizations, while the application can still change (until the deadline)."""
    view = loaded(request, perms.ApplicationView)
    application = view.application
    challenge = application.challenge
    # Checked before the body is read, and again under the row lock.
    applications.check_files_open(application, challenge)
    async with attachments.received_file(request) as received, transaction(request):
        file = await applications.add_file(
            context(request), application, challenge, stored=received.stored, name=received.name
        )
    out = next(f for f in await files_out(view) if f.id == file.id)
    return _json(out, 201)


@guard("application.download", load=perms.load_application_file)
@api.validate(
    resp=Doc(HTTP_200=(None, "The file, as a download"), HTTP_404=ErrorOut),
    tags=[TAG],
    security=SECURED,
    # A file, not a JSON body: nothing for the validator to read.
    skip_validation=True,
)
async def download_file(request: Request) -> Response:
    """Download a file: for the application's organizations, the city and judges not recused
    (in blind mode under a neutral name)."""
    return await serve_file(request, loaded(request, perms.ApplicationFileView))


async def serve_file(request: Request, view: perms.ApplicationFileView) -> Response:
    file = view.file
    return await attachments.file_response(
        request,
        stored_name=file.stored_name,
        content_type=file.content_type,
        filename=download_name(view, file),
    )


async def delete_application_file(request: Request, view: perms.ApplicationFileView) -> None:
    """Delete the row; the stored file goes once that is committed."""
    application, file = view.application, view.file
    async with transaction(request):
        await applications.remove_file(context(request), application, application.challenge, file)
    await request.app.state.deps.storage.delete(file.stored_name)


@guard("application.attach", load=perms.load_application_file)
@api.validate(
    resp=Doc(HTTP_204=None, HTTP_404=ErrorOut, HTTP_409=ErrorOut),
    tags=[TAG],
    security=SECURED,
)
async def delete_file(request: Request) -> Response:
    """Delete a file while the application can still change."""
    await delete_application_file(request, loaded(request, perms.ApplicationFileView))
    return Response(status_code=204)


# --- judging -------------------------------------------------------------------------------


@guard("challenge.manage_judging", load=challenge_perms.load_challenge)
@api.validate(
    json=schemas.JudgeIn,
    resp=Doc(
        HTTP_201=schemas.JudgeOut,
        HTTP_202=schemas.JudgeInvitedOut,
        HTTP_404=ErrorOut,
        HTTP_422=ErrorOut,
    ),
    tags=["judging"],
    security=SECURED,
)
async def assign_judge(request: Request, json: schemas.JudgeIn) -> Response:
    """Assign a judge by user id or by e-mail. An address without an account is invited by
    e-mail instead (202): the person becomes a judge once they sign up and accept."""
    challenge = request.state.obj
    if json.user_id is not None:
        user = await User.get_or_none(id=json.user_id)
        if user is None:
            raise ValidationFailed(fields={"user_id": gettext("No account has this id.")})
        async with transaction(request):
            assignment = await applications.assign_judge(
                context(request), challenge, user=user, recuse_from_all=json.recuse_from_all
            )
        return _json(await judge_out(challenge, assignment, user), 201)
    async with transaction(request):
        result = await judge_invitations.assign_or_invite(
            context(request),
            challenge,
            email=json.email or "",
            recuse_from_all=json.recuse_from_all,
        )
    if isinstance(result, JudgeInvitation):
        return _json(
            schemas.JudgeInvitedOut(
                invitation_id=result.id,
                challenge_id=challenge.id,
                email=result.email,
                status="pending",
            ),
            202,
        )
    judge = await User.get(id=result.user_id)
    return _json(await judge_out(challenge, result, judge), 201)


async def judge_out(
    challenge: Challenge, assignment: JudgeAssignment, user: User
) -> schemas.JudgeOut:
    conflicts = await applications.recusals_of(challenge.id, assignment)
    return schemas.JudgeOut(
        challenge_id=challenge.id,
        user_id=user.id,
        name=user.name,
        recuse_from_all=assignment.recuse_from_all,
        recused_from=sorted(conflicts),
    )


def judge_invitation_out(invitation: JudgeInvitation) -> schemas.JudgeInvitationOut:
    challenge: Challenge = invitation.challenge
    return schemas.JudgeInvitationOut(
        id=invitation.id,
        challenge_id=challenge.id,
        challenge_title=challenge.title,
        email=invitation.email,
        status=invitation.status.value,
        created_at=invitation.created_at,
        answered_at=invitation.answered_at,
    )


@guard("signed_in")
@api.validate(resp=Doc(HTTP_200=schemas.JudgeInvitationList), tags=["judging"], security=SECURED)
async def my_judge_invitations(request: Request) -> Response:
    """Pending invitations to judge, addressed to the current user's confirmed e-mail."""
    user = context(request).actor.user
    assert user is not None
    items = [judge_invitation_out(i) for i in await judge_invitations.pending_for(user)]
    return _json(schemas.JudgeInvitationList(items=items))


async def _answer_judging(request: Request, *, accept: bool) -> Response:
    async with transaction(request):
        invitation = await judge_invitations.answer(
            context(request), request.state.obj, accept=accept
        )
    return _json(judge_invitation_out(invitation))


@guard("judge_invitation.answer", load=perms.load_judge_invitation)
@api.validate(
    resp=Doc(HTTP_200=schemas.JudgeInvitationOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut),
    tags=["judging"],
    security=SECURED,
)
async def accept_judge_invitation(request: Request) -> Response:
    """Accept an invitation to judge: the current user becomes a judge of the challenge."""
    return await _answer_judging(request, accept=True)


@guard("judge_invitation.answer", load=perms.load_judge_invitation)
@api.validate(
    resp=Doc(HTTP_200=schemas.JudgeInvitationOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut),
    tags=["judging"],
    security=SECURED,
)
async def decline_judge_invitation(request: Request) -> Response:
    """Decline an invitation to judge."""
    return await _answer_judging(request, accept=False)


@guard("challenge.manage_judging", load=perms.load_judge_invitation)
@api.validate(
    resp=Doc(HTTP_200=schemas.JudgeInvitationOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut),
    tags=["judging"],
    security=SECURED,
)
async def revoke_judge_invitation(request: Request) -> Response:
    """Withdraw a pending invitation to judge (managers of the challenge's city)."""
    async with transaction(request):
        invitation = await judge_invitations.revoke(context(request), request.state.obj)
    return _json(judge_invitation_out(invitation))


@guard("challenge.judge", load=perms.load_challenge_for_judge)
@api.validate(
    resp=Doc(HTTP_200=schemas.JudgingOut, HTTP_404=ErrorOut), tags=["judging"], security=SECURED
)
async def judging(request: Request) -> Response:
    """A judge's list of applications and progress ("7 of 12 scored")."""
    return _json(await judging_out(loaded(request, perms.JudgeView)))


async def judging_out(view: perms.JudgeView) -> schemas.JudgingOut:
    challenge, judge = view.challenge, view.judge
    progress = await applications.judge_progress(challenge, judge)
    reviews = {r.application_id: r for r in await Review.filter(judge_id=judge.id)}
    items = []
    for application in (
        await Application.filter(
            challenge_id=challenge.id, status__in=["submitted", "awarded", "not_awarded"]
        )
        .select_related("organization")
        .order_by("id")
    ):
        review = reviews.get(application.id)
        recused = bool(review and review.conflict_of_interest) or application.id in (
            progress.conflicts
        )
        items.append(
            schemas.JudgeItem(
                application_id=application.id,
                # Recused: the judge sees that it exists, nothing of what it says.
                title="" if recused else application.title,
                organization_name=None
                if challenge.blind_judging or recused
                else application.organization.name,
                declared=review is not None,
                recused=recused,
                scored=bool(review and review.scores) and not recused,
            )
        )
    return schemas.JudgingOut(
        challenge_id=challenge.id,
        blind=challenge.blind_judging,
        window=review_window(challenge, datetime.now(UTC)).value,
        total=progress.total,
        scored=progress.scored,
        recused=progress.recused,
        items=items,
    )


@guard("application.review", load=perms.load_application)
@api.validate(
    json=schemas.ReviewIn,
    resp=Doc(HTTP_200=schemas.ReviewOut, HTTP_404=ErrorOut, HTTP_409=ErrorOut, HTTP_422=ErrorOut),
    tags=["judging"],
    security=SECURED,
)
async def review_application(request: Request, json: schemas.ReviewIn) -> Response:
    """Declare a conflict of interest (then you are recused), or score every criterion 0-10."""
    view = loaded(request, perms.ApplicationView)
    application = view.application
    judge = view.access.judge
    assert judge is not None  # the rule `application.review` admits judges only
    async with transaction(request):
        review = await applications.review(
            context(request),
            application,
            application.challenge,
            judge,
            conflict=json.conflict_of_interest,
            scores=json.scores,
            comment=json.comment,
        )
    return _json(
        schemas.ReviewOut(
            application_id=application.id,
            conflict_of_interest=review.conflict_of_interest,
            scores={int(k): v for k, v in review.scores.items()},
            comment=review.comment,
            updated_at=review.updated_at,
        )
    )


@guard("challenge.rank", load=challenge_perms.load_challenge)
@api.validate(
    query=schemas.RankingQuery,
    resp=Doc(HTTP_200=schemas.RankingOut, HTTP_404=ErrorOut),
    tags=["judging"],
    security=SECURED,
)
async def ranking(request: Request, query: schemas.RankingQuery) -> Response:
    """The ranking: weighted mean over judges, optionally normalised per judge (z-scores)."""
    challenge = request.state.obj
    result = await applications.judged(challenge, normalise=query.normalise)
    names = {
        a.id: (a.title, a.organization.name)
        for a in await Application.filter(challenge_id=challenge.id).select_related("organization")
    }
    return _json(
        schemas.RankingOut(
            challenge_id=challenge.id,
            normalised=query.normalise,
            items=[
                schemas.RankedOut(
                    rank=r.rank,
                    application_id=r.application_id,
                    title=names[r.application_id][0],
                    organization_name=names[r.application_id][1],
                    score=r.score,
                    raw_mean=r.raw_mean,
                    reviews=r.reviews,
                    spread=r.spread,
                    disagreement=r.disagreement,
                    per_criterion=r.per_criterion,
                    set_aside=result.count(r.application_id),
                    set_aside_note=result.note(r.application_id),
                )
                for r in result.rows
            ],
        )
    )


# --- awards --------------------------------------------------------------------------------


async def award_out(award: Award) -> schemas.AwardOut:
    application = await Application.get(id=award.application_id).select_related("organization")
    milestones = await escrow().milestones(award)
    return schemas.AwardOut(
        id=award.id,
        challenge_id=award.challenge_id,
        application_id=award.application_id,
        organization_name=application.organization.name,
        amount_minor=award.amount_minor,
        currency=award.currency,
        rationale=award.rationale,
        milestones=[
            schemas.MilestoneOut(
                id=m.id,
                title=m.title,
                amount_minor=m.amount_minor,
                currency=m.currency,
                due_at=m.due_at,
                status=m.status,
            )
            for m in milestones
        ],
    )


@guard("challenge.award", load=challenge_perms.load_challenge)
@api.validate(
    json=schemas.AwardIn,
    resp=Doc(HTTP_201=schemas.AwardOut, HTTP_409=ErrorOut, HTTP_422=ErrorOut, HTTP_404=ErrorOut),
    tags=["awards"],
    security=SECURED,
)
async def create_award(request: Request, json: schemas.AwardIn) -> Response:
    """Award an application an amount with a milestone plan; never beyond the available funds."""
    application = await Application.get_or_none(
        id=json.application_id, challenge_id=request.state.obj.id
    )
    if application is None:
        raise ValidationFailed(fields={"application_id": "No such application in this challenge."})
    async with transaction(request):
        award = await applications.award(
            context(request),
            request.state.obj,
            application,
            amount_minor=json.amount_minor,
            rationale=json.rationale,
            milestones=[m.model_dump() for m in json.milestones],
        )
    return _json(await award_out(award), 201)


@guard("challenge.award", load=challenge_perms.load_challenge)
@api.validate(
    resp=Doc(HTTP_200=schemas.CloseAwardingOut, HTTP_409=ErrorOut, HTTP_404=ErrorOut),
    tags=["awards"],
    security=SECURED,
)
async def close_awarding(request: Request) -> Response:
    """Make the awards final: the other applicants are notified and delivery begins."""
    async with transaction(request):
        count = await applications.close_awarding(context(request), request.state.obj)
    return _json(schemas.CloseAwardingOut(challenge_id=request.state.obj.id, not_awarded=count))


@guard("application.feedback", load=perms.load_application)
@api.validate(
    resp=Doc(HTTP_200=schemas.FeedbackOut, HTTP_404=ErrorOut), tags=["awards"], security=SECURED
)
async def feedback(request: Request) -> Response:
    """After the decision: average score per criterion and the judges' comments, unsigned."""
    return _json(await feedback_out(loaded(request, perms.ApplicationView).application))


async def feedback_out(application: Application) -> schemas.FeedbackOut:
    criteria = await Criterion.filter(challenge_id=application.challenge_id).order_by("position")
    # Scores set aside (the judge is now a member of an applicant) are left out here too.
    scored = await applications.counted_reviews(application)
    items = []
    for criterion in criteria:
        values = [r.scores[str(criterion.id)] for r in scored if str(criterion.id) in r.scores]
        items.append(
            schemas.CriterionFeedback(
                criterion_id=criterion.id,
                name=criterion.name,
                weight=criterion.weight,
                average=round(sum(values) / len(values), 2) if values else None,
            )
        )
    return schemas.FeedbackOut(
        application_id=application.id,
        status=application.status.value,
        criteria=items,
        comments=[r.comment for r in scored if r.comment.strip()],
    )


def _json(model: Any, status: int = 200) -> Response:
    return json(model, status)


routes = [
    Route(
        f"{V1}/challenges/{{challenge_id:int}}/applications", create_application, methods=["POST"]
    ),
    Route(f"{V1}/applications/{{application_id:int}}", get_application, methods=["GET"]),
    Route(f"{V1}/applications/{{application_id:int}}", update_application, methods=["PATCH"]),
    Route(f"{V1}/applications/{{application_id:int}}/submit", submit_application, methods=["POST"]),
    Route(
        f"{V1}/applications/{{application_id:int}}/withdraw", withdraw_application, methods=["POST"]
    ),
    Route(
        f"{V1}/applications/{{application_id:int}}/partners/{{organization_id:int}}/accept",
        accept_partnership,
        methods=["POST"],
    ),
    Route(
        f"{V1}/applications/{{application_id:int}}/partners/{{organization_id:int}}/decline",
        decline_partnership,
        methods=["POST"],
    ),
    Route(f"{V1}/applications/{{application_id:int}}/attachments", upload_file, methods=["POST"]),
    Route(
        f"{V1}/applications/{{application_id:int}}/attachments/{{file_id:int}}",
        download_file,
        methods=["GET"],
    ),
    Route(
        f"{V1}/applications/{{application_id:int}}/attachments/{{file_id:int}}",
        delete_file,
        methods=["DELETE"],
    ),
    Route(f"{V1}/challenges/{{challenge_id:int}}/judges", assign_judge, methods=["POST"]),
    Route(f"{V1}/me/judge-invitations", my_judge_invitations, methods=["GET"]),
    Route(
        f"{V1}/judge-invitations/{{judge_invitation_id:int}}/accept",
        accept_judge_invitation,
        methods=["POST"],
    ),
    Route(
        f"{V1}/judge-invitations/{{judge_invitation_id:int}}/decline",
        decline_judge_invitation,
        methods=["POST"],
    ),
    Route(
        f"{V1}/judge-invitations/{{judge_invitation_id:int}}/revoke",
        revoke_judge_invitation,
        methods=["POST"],
    ),
    Route(f"{V1}/challenges/{{challenge_id:int}}/judging", judging, methods=["GET"]),
    Route(
        f"{V1}/applications/{{application_id:int}}/reviews", review_application, methods=["POST"]
    ),
    Route(f"{V1}/challenges/{{challenge_id:int}}/ranking", ranking, methods=["GET"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}/awards", create_award, methods=["POST"]),
    Route(f"{V1}/challenges/{{challenge_id:int}}/awards/close", close_awarding, methods=["POST"]),
    Route(f"{V1}/applications/{{application_id:int}}/feedback", feedback, methods=["GET"]),
]
