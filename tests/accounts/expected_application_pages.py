"""Who may use each page of applications, judging and awards (merged into the matrix).

The world of the matrix: a draft challenge C of city A; X, a submitted application to C by
startup S (whose owner is "applicant"), with A invited as a partner; "judge" is assigned to C
and has not declared yet; X has one file; "invitee" has a pending invitation by e-mail to judge
C. Written from PRODUCT.md's rules.
"""

from __future__ import annotations

from collections.abc import Callable

Who = Callable[[str], bool]

# The same predicates as the matrix's (defined here too: the matrix imports this module).
GOV_ROLES = ("owner", "manager", "editor", "finance")
SIGNED_IN: Who = lambda actor: actor != "anonymous"  # noqa: E731
MEMBERS_OF_A: Who = lambda actor: actor in GOV_ROLES  # noqa: E731
EDITORS_OF_A: Who = lambda actor: actor in ("owner", "manager", "editor")  # noqa: E731
MANAGERS_OF_A: Who = lambda actor: actor in ("owner", "manager")  # noqa: E731
APPLICANT: Who = lambda actor: actor == "applicant"  # noqa: E731
JUDGE: Who = lambda actor: actor == "judge"  # noqa: E731
# X is seen by its lead, its partners (A's members), the city (A) and judges not recused.
SEES_APPLICATION: Who = lambda actor: actor in ("applicant", "judge") or actor in GOV_ROLES  # noqa: E731
# X's files are added and deleted by its lead's members and its partners' (A's).
APPLICANTS_OF_X: Who = lambda actor: actor == "applicant" or actor in GOV_ROLES  # noqa: E731
# "invitee" is invited by e-mail to judge C (and to join A).
INVITEE: Who = lambda actor: actor == "invitee"  # noqa: E731

APPLICATION = "/applications/{application_id:int}"
PARTNER = APPLICATION + "/partners/{organization_id:int}"
FILE = APPLICATION + "/attachments/{file_id:int}"
JUDGE_INVITATION = "/judge-invitations/{judge_invitation_id:int}"

APPLICATION_PAGES: dict[str, Who] = {
    # A draft challenge is seen by its city only; its apply page too (it then says why not).
    "GET /challenges/{challenge_id:int}/apply": MEMBERS_OF_A,
    "POST /challenges/{challenge_id:int}/apply": MEMBERS_OF_A,
    "GET /applications": SIGNED_IN,
    f"GET {APPLICATION}": SEES_APPLICATION,
    # Only the lead's members change, submit or withdraw.
    f"POST {APPLICATION}/edit": APPLICANT,
    f"POST {APPLICATION}/submit": APPLICANT,
    f"POST {APPLICATION}/withdraw": APPLICANT,
    # The invited partner's members answer (A here).
    f"POST {PARTNER}/accept": MEMBERS_OF_A,
    f"POST {PARTNER}/decline": MEMBERS_OF_A,
    # Files: added and deleted by the applicant organizations (C is a draft, so they are told
    # that the deadline passed); downloaded by whoever sees X.
    f"POST {APPLICATION}/attachments": APPLICANTS_OF_X,
    f"GET {FILE}": SEES_APPLICATION,
    f"POST {FILE}/delete": APPLICANTS_OF_X,
    # Managers assign judges; a judge reviews only the challenges they judge.
    "GET /challenges/{challenge_id:int}/judges": MANAGERS_OF_A,
    "POST /challenges/{challenge_id:int}/judges": MANAGERS_OF_A,
    # The invitee (by confirmed address) answers; managers of C's city withdraw.
    f"POST {JUDGE_INVITATION}/accept": INVITEE,
    f"POST {JUDGE_INVITATION}/decline": INVITEE,
    f"POST {JUDGE_INVITATION}/revoke": MANAGERS_OF_A,
    "GET /judging/{challenge_id:int}": JUDGE,
    f"GET {APPLICATION}/review": JUDGE,
    f"POST {APPLICATION}/review": JUDGE,
    # City editors and managers read the ranking; managers award.
    "GET /challenges/{challenge_id:int}/ranking": EDITORS_OF_A,
    "POST /challenges/{challenge_id:int}/awards": MANAGERS_OF_A,
    "POST /challenges/{challenge_id:int}/awards/close": MANAGERS_OF_A,
}
