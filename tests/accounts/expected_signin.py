"""Who may use the second step of signing in with two-factor (merged into the matrix).

Anybody may reach the code step, as the password page: without a password typed first in the
same browser it sends them back to the password page (it answers no 401 or 403 either way).
"""

from __future__ import annotations

from collections.abc import Callable

Who = Callable[[str], bool]

ANYONE: Who = lambda actor: True  # noqa: E731

EXPECTED: dict[str, Who] = {
    "GET /signin/code": ANYONE,
    "POST /signin/code": ANYONE,
}
