"""What this area brings to the app (see service.core.manifest).

Accounts: people, organizations, memberships, sessions, tokens and sign-in.
"""

from service.core.manifest import Area

AREA = Area(
    name="accounts",
    models=("service.accounts.models",),
    routes=(
        "service.accounts.routes",
        "service.accounts.pages",
        "service.accounts.oidc",
    ),
)
