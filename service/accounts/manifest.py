"""What this area brings to the app (see service.core.manifest).

Accounts: people, organizations, memberships, sessions, tokens and sign-in.
"""

from service.core.manifest import Area

AREA = Area(
    name="accounts",
    models=("service.accounts.models",),
    routes=(
        "service.accounts.routes",
        # One's own account: a new e-mail address, a copy of one's data, deletion.
        "service.accounts.account_routes",
        "service.accounts.account_pages",
        "service.accounts.pages",
        "service.accounts.oidc",
    ),
)
