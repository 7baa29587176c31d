"""Password hashing with argon2id (argon2-cffi's tuned defaults)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def use_parameters(parameters: Parameters) -> None:
    """Hash new passwords with other argon2 parameters; existing hashes carry their own.

    Production never calls this: the defaults above are RFC 9106's low-memory profile. The
    test suite uses argon2-cffi's cheapest profile (the same algorithm and code, in
    microseconds instead of about 0.1 s of CPU per sign-in), see tests/conftest.py.
    """
    global _hasher
    _hasher = PasswordHasher.from_parameters(parameters)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check, so timing does not reveal unknown accounts.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    """`hash_password` on a worker thread: argon2 takes tens of milliseconds of CPU (and
    releases the GIL), which would otherwise stall every other request of the process."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """`verify_password` on a worker thread (see `hash_password_async`)."""
    return await asyncio.to_thread(verify_password, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


MIN_LENGTH = 10
MAX_LENGTH = 256
# zxcvbn refuses longer input (its matching is quadratic); what follows the first 72
# characters only makes a password harder to guess, so the score of the start is a floor.
SCORED_LENGTH = 72
# Words anyone would try first against this site's accounts.
PRODUCT_WORDS = ("Civic Challenges", "civic", "challenges", "civicchallenges")


def password_problem(
    password: str, *, email: str = "", name: str = "", words: Iterable[str] = ()
) -> str | None:
    """Why a new password is refused, or None when it is acceptable.

    zxcvbn carries the 30,000 most common passwords plus dictionaries of names and words,
    and scores how guessable a password is; anything it scores below 2 is refused. The
    user's own e-mail and name, the product's name and `words` (the names of the user's
    organizations) count as known words.
    """
    from zxcvbn import zxcvbn
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.lower() in _common_passwords(FREQUENCY_LISTS):
        return "This password is one of the most common ones; choose another."
    context = _context_words(email, name, words)
    # A context word adds nothing an attacker of this site would not try first: score
    # what is left once they are taken out ("CivicChallenges2024!" is scored as "2024!").
    rest = _without(password, context)
    if not rest or zxcvbn(rest[:SCORED_LENGTH], user_inputs=context)["score"] < 2:
        return "This password is too easy to guess; add words or characters."
    return None


def _context_words(email: str, name: str, words: Iterable[str]) -> list[str]:
    """The user's own and the site's words: each whole, without spaces, and word by word."""
    out: list[str] = []
    for word in (email, email.split("@")[0], name, *PRODUCT_WORDS, *words):
        word = word.strip().lower()
        if word:
            out += [word, word.replace(" ", ""), *(w for w in word.split() if len(w) >= 4)]
    return list(dict.fromkeys(out))


def _without(password: str, words: list[str]) -> str:
    rest = password
    for word in sorted(words, key=len, reverse=True):
        if len(word) >= 4:
            rest = re.sub(re.escape(word), "", rest, flags=re.IGNORECASE)
    return rest


_COMMON: frozenset[str] | None = None


def _common_passwords(lists: dict[str, list[str]]) -> frozenset[str]:
    global _COMMON
    if _COMMON is None:
        _COMMON = frozenset(lists["passwords"])
    return _COMMON
