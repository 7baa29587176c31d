"""Pages of the site composed of several areas' parts, kept above the areas (accounts, a lower
layer, imports none of them): an organization's page, which shows its members (accounts), its
challenges (challenges) and, to its members, the challenges recommended to it (matching), with
the actions that render it again (inviting a member, setting the time zone); and one's
invitations, to join an organization (accounts) and to judge a challenge (applications).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts import schemas
from service.accounts import service as accounts
from service.accounts.models import Organization, OrganizationKind, Role, roles_for
from service.accounts.permissions import guard, load_organization
from service.applications import judge_invitations
from service.challenges.models import PUBLIC_STATUSES, Challenge
from service.core import zones
from service.core.errors import RateLimited, ServiceError
from service.core.forms import errors_of, parse, redirect, render
from service.core.i18n import gettext
from service.core.web import context, transaction
from service.matching.service import challenges_for_page as for_you

# --- an organization ---------------------------------------------------------------------


def _role_labels(org: Organization) -> list[tuple[str, str]]:
    labels = {
        Role.owner: gettext("Owner"),
        Role.manager: gettext("Manager"),
        Role.editor: gettext("Editor"),
        Role.finance: gettext("Finance"),
        Role.member: gettext("Member"),
    }
    return [(role.value, labels[role]) for role in Role if role in roles_for(org.kind)]


async def _org_page(
    request: Request, org: Organization, status: int = 200, **extra: object
) -> Response:
    actor = context(request).actor
    role = actor.role_in(org.id)
    members = await accounts.members(org) if role is not None else []
    # The organization's challenges: drafts too for its members, the public ones for others.
    challenges = Challenge.filter(organization_id=org.id)
    if role is None:
        challenges = challenges.filter(status__in=list(PUBLIC_STATUSES), published_at__isnull=False)
    challenge_list = await challenges.order_by("-id").limit(50)
    return render(
        request,
        "accounts/org_detail.html",
        status,
        org=org,
        role=role,
        members=members,
        can_manage=actor.has_role(org.id, Role.owner),
        roles=_role_labels(org),
        challenges=challenge_list,
        can_draft=actor.has_role(org.id, Role.editor, Role.manager)
        and org.kind is OrganizationKind.government,
        recommended=await for_you(org.id, settings=context(request).settings) if role else [],
        zone_choices=zones.choices() if actor.has_role(org.id, Role.owner) else [],
        zone_errors=extra.pop("zone_errors", {}),
        unconfirmed=actor.user is not None and actor.user.email_verified_at is None,
        invitations_per_day=accounts.INVITATIONS_PER_DAY_UNVERIFIED,
        **extra,
    )


@guard("public", load=load_organization)
async def organization_page(request: Request) -> Response:
    return await _org_page(request, request.state.obj)


@guard("organization.manage", load=load_organization)
async def invite_page(request: Request) -> Response:
    org = request.state.obj
    data, values, errors = await parse(request, schemas.InviteIn)
    if data is None:
        return await _org_page(request, org, 422, values=values, errors=errors)
    try:
        async with transaction(request):
            await accounts.invite(context(request), org, email=data.email, role=data.role)
    except ServiceError as exc:
        response = await _org_page(
            request, org, exc.status_code, values=values, errors=errors_of(exc)
        )
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return redirect(
        request,
        f"/organizations/{org.id}",
        notice=gettext("Invitation sent to %(email)s.") % {"email": data.email},
    )


@guard("organization.manage", load=load_organization)
async def organization_time_zone_page(request: Request) -> Response:
    """The city's zone: its deadlines are typed and shown in it (owner only)."""
    org = request.state.obj
    form = await request.form()
    try:
        async with transaction(request):
            await accounts.set_organization_time_zone(
                context(request), org, str(form.get("time_zone", ""))
            )
    except ValueError as exc:
        return await _org_page(request, org, 422, zone_errors={"time_zone": gettext(str(exc))})
    return redirect(
        request, f"/organizations/{org.id}#time-zone", notice=gettext("Time zone saved.")
    )


# --- one's invitations -------------------------------------------------------------------


@guard("signed_in")
async def invitations_page(request: Request) -> Response:
    user = context(request).actor.user
    assert user is not None
    verified = user.email_verified_at is not None
    return render(
        request,
        "accounts/invitations.html",
        invitations=await accounts.pending_invitations(user),
        # Invitations to judge name the challenge: shown once the address is confirmed.
        judge_invitations=await judge_invitations.pending_for(user),
        judge_invitations_waiting=(
            0 if verified else await judge_invitations.count_pending_for(user.email)
        ),
    )


routes = [
    Route("/organizations/{organization_id:int}", organization_page, methods=["GET"]),
    Route("/organizations/{organization_id:int}/invitations", invite_page, methods=["POST"]),
    Route(
        "/organizations/{organization_id:int}/time-zone",
        organization_time_zone_page,
        methods=["POST"],
    ),
    Route("/invitations", invitations_page, methods=["GET"]),
]
