"""Who may use the notice settings and the unsubscribe link (merged into the matrix).

Everyone signed in has their own settings. The unsubscribe link is open to anyone: its token
is signed and names the person (a mail program POSTs to it with no session), so a made-up
token is refused as a bad link (400), not hidden.
"""

from __future__ import annotations

from collections.abc import Callable

Who = Callable[[str], bool]

ANYONE: Who = lambda actor: True  # noqa: E731
SIGNED_IN: Who = lambda actor: actor != "anonymous"  # noqa: E731

EXPECTED: dict[str, Who] = {
    "GET /account/notifications": SIGNED_IN,
    "POST /account/notifications": SIGNED_IN,
    "GET /unsubscribe/{token}": ANYONE,
    "POST /unsubscribe/{token}": ANYONE,
}
