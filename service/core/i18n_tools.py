"""Catalog maintenance: `python -m service i18n extract|update|check`."""

from __future__ import annotations

import sys

from babel.messages.pofile import read_po, write_po

from service.core import i18n

POT = i18n.TRANSLATIONS_DIR / "messages.pot"


def extract() -> None:
    catalog = i18n.extract_catalog()
    POT.parent.mkdir(parents=True, exist_ok=True)
    with POT.open("wb") as handle:
        write_po(handle, catalog, omit_header=False, sort_output=True, width=100)


def update() -> None:
    """Merge the template into each language, keeping existing translations."""
    extract()
    with POT.open("rb") as handle:
        template = read_po(handle)
    for language in i18n.LANGUAGES:
        if language == i18n.DEFAULT_LANGUAGE:
            continue
        path = i18n.po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            catalog.update(template, update_header_comment=False)
        else:
            catalog = read_po(POT.open("rb"), locale=language)
        with path.open("wb") as handle:
            write_po(handle, catalog, sort_output=True, width=100, ignore_obsolete=True)


def check() -> int:
    failed = 0
    for language in i18n.LANGUAGES:
        if language == i18n.DEFAULT_LANGUAGE:
            continue
        missing = i18n.untranslated(language)
        for message in missing:
            print(f"{language}: untranslated: {message!r}", file=sys.stderr)
        failed += len(missing)
    if failed:
        print(f"{failed} untranslated message(s)", file=sys.stderr)
        return 1
    print("every message is translated")
    return 0


def main(action: str) -> int:
    if action == "extract":
        extract()
        return 0
    if action == "update":
        update()
        return 0
    return check()
