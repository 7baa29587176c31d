"""Who may use the routes of one's own account: name and language, a new e-mail address, a
copy of one's data, deletion (merged into the matrix).

Each acts on the signed-in person's own account, so any signed-in person may, and nobody
else's account can be named. The link confirming a new address is opened by whoever holds
it (signed in or not): the signed token in it names the account.
"""

from __future__ import annotations

from collections.abc import Callable

Who = Callable[[str], bool]

ANYONE: Who = lambda actor: True  # noqa: E731
SIGNED_IN: Who = lambda actor: actor != "anonymous"  # noqa: E731

EXPECTED: dict[str, Who] = {
    "POST /api/v1/me/email": SIGNED_IN,
    "POST /api/v1/me/email/confirm": ANYONE,
    "GET /api/v1/me/export": SIGNED_IN,
    "POST /api/v1/me/delete": SIGNED_IN,
    "POST /account/profile": SIGNED_IN,
    "GET /account/email": SIGNED_IN,
    "POST /account/email": SIGNED_IN,
    "GET /account/email/confirm/{token}": ANYONE,
    "POST /account/email/confirm/{token}": ANYONE,
    "GET /account/export": SIGNED_IN,
    "GET /account/delete": SIGNED_IN,
    "POST /account/delete": SIGNED_IN,
}
