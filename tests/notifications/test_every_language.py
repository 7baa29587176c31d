"""Every kind of notice and timeline entry reads in Spanish and Portuguese, not in English.

Each kind is written out in en, es and pt with the same parameters; a Spanish or Portuguese
text equal to the English one is English left in the reader's page or e-mail. The failure
names the messages the catalogs still lack (frontend/translations/<lang>/.../messages.po),
together with those of the notice e-mails and the settings and unsubscribe pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from service.config import ROOT
from service.core import i18n
from service.notifications import kinds

LANGUAGES = ("es", "pt")
# Parameter values that read the same in every language, so only the kind's own words differ.
VALUE = "Q-17"
# The files that write the words around the notices (the e-mails, the pages, the labels).
FILES = [
    "service/notifications/kinds.py",
    "service/notifications/service.py",
    "service/notifications/pages.py",
    "frontend/templates/email/notification.txt",
    "frontend/templates/email/digest.txt",
    "frontend/templates/notifications/settings.html",
    "frontend/templates/notifications/unsubscribe.html",
    "frontend/templates/accounts/notifications.html",
]
# From the account page, the one line that leads to the settings.
LINES = ["Notices", "Choose which notices reach you by e-mail, at once or in one daily summary"]


def _params(kind: kinds.Kind) -> dict[str, object]:
    params: dict[str, object] = dict.fromkeys(kind.params, VALUE)
    if "amount" in kind.params:
        params.update(amount_minor=1234500, currency="EUR")
    if "role" in kind.params:
        params["role"] = "manager"
    return params


def _words(template: str) -> bool:
    """Whether a template has words of its own (not only parameters and punctuation)."""
    return bool(re.search(r"[A-Za-z]{2,}", re.sub(r"%\(\w+\)s", "", template)))


def _translated(language: str, message: str) -> bool:
    return i18n.translations(language).gettext(message) != message


def _messages_of(path: str) -> list[str]:
    method = "python" if path.endswith(".py") else "jinja2"
    options = {} if method == "python" else {"extensions": "jinja2.ext.i18n"}
    found = []
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    for _, message, _, _ in extract_from_file(
        method, str(Path(ROOT) / path), keywords=keywords, options=options
    ):
        found.append(message if isinstance(message, str) else message[0])
    return found


def test_every_kind_has_its_words_and_parameters() -> None:
    """A kind names only parameters its callers can give, and every group has a label."""
    for kind in kinds.KINDS.values():
        assert kind.group in kinds.GROUPS
        kinds.check(kind.name, _params(kind))
        title, _ = kinds.render(kind.name, _params(kind), "en")
        assert title.strip(), kind.name
    with pytest.raises(kinds.UnknownKind):
        kinds.check("no_such_kind", {})
    with pytest.raises(ValueError, match="lacks"):
        kinds.check("question_asked", {"challenge": VALUE})


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_notice_and_timeline_kind_reads_in(language: str) -> None:
    english_left: list[str] = []
    missing: set[str] = set()
    for kind in kinds.KINDS.values():
        params = _params(kind)
        en = kinds.render(kind.name, params, "en")
        there = kinds.render(kind.name, params, language)
        for template, en_text, text in zip((kind.title, kind.body), en, there, strict=True):
            if not _words(template):
                continue  # a person's own words (a staff post, a message), shown as written
            if text == en_text:
                english_left.append(f"{kind.name}: {en_text!r}")
            if not _translated(language, template):
                missing.add(template)
    for message in LINES:
        if not _translated(language, message):
            missing.add(message)
    for path in FILES:
        for message in _messages_of(path):
            if _words(message) and not _translated(language, message):
                missing.add(message)
    assert not english_left and not missing, (
        f"{len(english_left)} notices still read in English in '{language}':\n  "
        + "\n  ".join(english_left)
        + f"\n{len(missing)} messages missing from the '{language}' catalog:\n  "
        + "\n  ".join(sorted(missing))
    )
