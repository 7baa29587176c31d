"""Who may use each route of the exchange-rate area (merged into the permission matrix).

The rate table is kept by operators, with two-factor sign-in: an operator without it is
refused like everyone else. Written from PRODUCT.md's rules.
"""

from __future__ import annotations

from collections.abc import Callable

Who = Callable[[str], bool]

OPERATOR: Who = lambda actor: actor == "operator"  # noqa: E731

EXPECTED: dict[str, Who] = {
    "GET /admin/rates": OPERATOR,
    "POST /admin/rates": OPERATOR,
    "POST /admin/rates/import": OPERATOR,
}
