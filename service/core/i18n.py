"""Translations: Babel message catalogs for English, Spanish and Portuguese.

The `.po` files under `frontend/translations/` are the source of truth; they are compiled in
memory at start-up, so no compiled `.mo` file has to be kept in step by hand. The current
locale lives in a context variable set per request by `LocaleMiddleware`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from decimal import Decimal
from functools import cache, lru_cache
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TypeVar

from babel import Locale, negotiate_locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberPattern
from babel.support import NullTranslations, Translations
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.config import ROOT

TRANSLATIONS_DIR = ROOT / "frontend" / "translations"
LANGUAGES = {"en": "English", "es": "Español", "pt": "Português"}
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"

T = TypeVar("T")

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LANGUAGE)


def po_path(language: str) -> Path:
    return TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"


@cache
def translations(language: str) -> NullTranslations:
    path = po_path(language)
    if language == DEFAULT_LANGUAGE or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def N_(message: str) -> str:
    """Marks a message for the catalogs; it is translated where it is shown."""
    return message


def gettext(message: str) -> str:
    return translations(current_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale.get()).ngettext(singular, plural, n)


def per_language(build: Callable[[], T]) -> Callable[[], T]:
    """`build` run once per language (the current one when called), its result kept: for the
    tables of labels a page looks up many times (a label each, translating the whole table
    on every call would cost a translation per entry)."""
    built: dict[str, T] = {}

    def get() -> T:
        language = current_locale.get()
        found = built.get(language)
        if found is None:
            found = built[language] = build()
        return found

    return get


def choose_language(query: str | None, cookie: str | None, accept_language: str) -> str:
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return _negotiated(accept_language)


@lru_cache(maxsize=1024)
def _negotiated(accept_language: str) -> str:
    """The language Accept-Language asks for: browsers send a handful of distinct headers,
    and Babel's negotiation parses every one of them on each call."""
    preferred = [
        part.split(";")[0].strip().replace("-", "_") for part in accept_language.split(",")
    ]
    chosen = negotiate_locale([p for p in preferred if p], list(LANGUAGES), sep="_")
    if chosen is None:
        # "pt-BR" or "es-MX" should still reach pt or es.
        chosen = negotiate_locale([p.split("_")[0] for p in preferred if p], list(LANGUAGES))
    return chosen or DEFAULT_LANGUAGE


@cache
def locale_of(language: str) -> Locale:
    return Locale.parse(language)


# --- formatters ----------------------------------------------------------------------------
# Babel parses the locale and the CLDR pattern on every call of format_currency and friends;
# a page shows dozens of amounts. The locale's patterns are parsed once, and the texts of the
# amounts themselves are kept (a list page shows the same rewards to every reader).


@cache
def _currency_pattern(language: str) -> NumberPattern:
    return locale_of(language).currency_formats["standard"]


@cache
def _decimal_pattern(language: str) -> NumberPattern:
    return locale_of(language).decimal_formats[None]


@lru_cache(maxsize=16384)
def _money(amount_minor: int, currency: str, language: str) -> str:
    from service.core.money import to_major

    return str(
        _currency_pattern(language).apply(
            to_major(amount_minor, currency),
            locale_of(language),
            currency=currency,
            currency_digits=True,
            decimal_quantization=True,
            group_separator=True,
            numbering_system="latn",
        )
    )


def money(amount_minor: int, currency: str, language: str | None = None) -> str:
    """An amount in minor units as the reader's language writes it ("€45,300.00")."""
    return _money(amount_minor, currency, language or current_locale.get())


@lru_cache(maxsize=16384, typed=True)
def _number(value: int | float | Decimal, language: str) -> str:
    return str(
        _decimal_pattern(language).apply(
            value, locale_of(language), group_separator=True, numbering_system="latn"
        )
    )


def number(value: int | float | Decimal, language: str | None = None) -> str:
    """A number with the language's separators ("12,345.6"), like Babel's format_decimal."""
    return _number(value, language or current_locale.get())


# Probes, metrics and files carry no text to translate.
_NO_TEXT = ("/healthz", "/readyz", "/metrics", "/static/")


class LocaleMiddleware:
    """Picks the language from ?lang=, then the `lang` cookie, then Accept-Language.

    A `?lang=` choice is remembered in the cookie, so the switch in the header works with
    plain links and no JavaScript.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_NO_TEXT):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        query = _query_lang(scope.get("query_string", b"").decode("latin-1"))
        cookie = _cookie_lang(headers.get(b"cookie", b""))
        language = choose_language(query, cookie, headers.get(b"accept-language", b"").decode())
        scope.setdefault("state", {})["language"] = language
        token = current_locale.set(language)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and query in LANGUAGES and query != cookie:
                value = f"{COOKIE}={query}; Path=/; Max-Age=31536000; SameSite=Lax"
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"set-cookie", value.encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            current_locale.reset(token)


def _cookie_lang(header: bytes) -> str | None:
    """The `lang` cookie's value (None without one); a header that does not name it at all
    is not parsed."""
    if COOKIE.encode() not in header:
        return None
    cookies = SimpleCookie(header.decode("latin-1"))
    return cookies[COOKIE].value if COOKIE in cookies else None


def _query_lang(query_string: str) -> str | None:
    for pair in query_string.split("&"):
        key, _, value = pair.partition("=")
        if key == "lang":
            return value
    return None


# --- catalog tooling (used by `python -m service i18n` and by the test suite) ---

MAPPING = [
    ("service/**.py", "python"),
    ("frontend/templates/**.html", "jinja2"),
    ("frontend/templates/**.txt", "jinja2"),
]


def extract_catalog() -> Catalog:
    catalog = Catalog(project="civic-challenges", charset="utf-8")
    extracted: Iterable[tuple[str, int, str | tuple[str, ...], list[str], str | None]] = (
        extract_from_dir(
            str(ROOT),
            method_map=MAPPING,
            options_map={"frontend/templates/**": {"extensions": "jinja2.ext.i18n"}},
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
        )
    )
    for filename, lineno, message, comments, context in extracted:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def untranslated(language: str) -> list[str]:
    """Messages in the code and templates that have no translation in `language`."""
    with po_path(language).open("rb") as handle:
        po = read_po(handle, locale=language)
    missing = []
    for message in extract_catalog():
        if not message.id:
            continue
        entry = po.get(message.id, context=message.context)
        strings = entry.string if entry is not None else None
        values = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or entry.fuzzy or not all(values):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing
