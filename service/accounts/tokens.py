"""Bearer tokens: short-lived JWTs signed with HS256 (joserfc), the algorithm pinned.

A token names its user and the user's `token_version`; bumping the version revokes every
token issued before it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

ALGORITHM = "HS256"
TOKEN_TTL_SECONDS = 15 * 60
ISSUER = "civic-challenges"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    version: int
    mfa: bool
    # Names the token's row (see ApiToken): tokens minted without one carry none.
    jti: str = ""


class InvalidToken(Exception):
    pass


def _key(secret: str) -> OctKey:
    return OctKey.import_key(secret.encode())


def new_jti() -> str:
    return uuid.uuid4().hex


def issue(secret: str, *, user_id: int, version: int, mfa: bool, jti: str = "") -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": str(user_id),
        "ver": version,
        "mfa": mfa,
        "iat": now,
        "exp": now + TOKEN_TTL_SECONDS,
        "jti": jti or new_jti(),
    }
    return jwt.encode({"alg": ALGORITHM}, claims, _key(secret), algorithms=[ALGORITHM])


def verify(secret: str, token: str) -> TokenClaims:
    try:
        decoded = jwt.decode(token, _key(secret), algorithms=[ALGORITHM])
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": ISSUER},
            sub={"essential": True},
            exp={"essential": True},
        )
        registry.validate(decoded.claims)
        return TokenClaims(
            user_id=int(decoded.claims["sub"]),
            version=int(decoded.claims.get("ver", -1)),
            mfa=bool(decoded.claims.get("mfa", False)),
            jti=str(decoded.claims.get("jti", "")),
        )
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
