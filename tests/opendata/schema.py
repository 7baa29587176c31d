"""Validation of OCDS release packages against the local copies of the 1.1.5 schemas.

The package schema references the release schema by its URL; a `referencing` registry
serves that URL from the copy in `ocds/`, so nothing is fetched. The schemas' `date-time`
and `uri` formats are checked too (jsonschema skips them without optional packages), and
so are the rules of OCDS that a JSON schema cannot state: unique release ids, unique ids in
every list of objects, party references that resolve, roles from the partyRole codelist.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

HERE = Path(__file__).resolve().parent / "ocds"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "ocds"
COPIED = ("release-schema.json", "release-package-schema.json", "partyRole.csv", "LICENSE")

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
formats = FormatChecker(formats=())


@formats.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@formats.checks("uri")
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc) and " " not in value


def _load(name: str) -> Any:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


@cache
def validator() -> Draft4Validator:
    release = _load("release-schema.json")
    registry: Registry[Any] = Registry().with_resource(
        release["id"], Resource.from_contents(release, default_specification=DRAFT4)
    )
    package = _load("release-package-schema.json")
    Draft4Validator.check_schema(package)
    Draft4Validator.check_schema(release)
    return Draft4Validator(package, registry=registry, format_checker=formats)


@cache
def party_roles() -> frozenset[str]:
    with (HERE / "partyRole.csv").open(encoding="utf-8") as handle:
        return frozenset(row["Code"] for row in csv.DictReader(handle))


def _lists_of_objects(value: Any, path: str = "") -> Iterator[tuple[str, list[Any]]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _lists_of_objects(item, f"{path}/{key}")
    elif isinstance(value, list):
        if value and all(isinstance(item, dict) and "id" in item for item in value):
            yield path, value
        for n, item in enumerate(value):
            yield from _lists_of_objects(item, f"{path}/{n}")


def _references(release: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    if "buyer" in release:
        yield "buyer", release["buyer"]
    tender = release.get("tender", {})
    if "procuringEntity" in tender:
        yield "tender/procuringEntity", tender["procuringEntity"]
    for ref in tender.get("tenderers", []):
        yield "tender/tenderers", ref
    for award in release.get("awards", []):
        for ref in award.get("suppliers", []):
            yield "awards/suppliers", ref
    for contract in release.get("contracts", []):
        for transaction in contract.get("implementation", {}).get("transactions", []):
            yield "transactions/payer", transaction["payer"]
            yield "transactions/payee", transaction["payee"]


def problems(package: dict[str, Any]) -> list[str]:
    """Everything wrong with the package; empty when it is valid."""
    found = [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validator().iter_errors(package)
    ]
    seen: set[tuple[str, str]] = set()
    for release in package.get("releases", []):
        key = (release.get("ocid", ""), release.get("id", ""))
        if key in seen:
            found.append(f"release {key} appears twice")
        seen.add(key)
        for path, items in _lists_of_objects(release):
            ids = [str(item["id"]) for item in items]
            if len(ids) != len(set(ids)):
                found.append(f"{release['id']}{path}: ids repeat: {ids}")
        parties = {p["id"]: p for p in release.get("parties", [])}
        for where, ref in _references(release):
            party = parties.get(ref.get("id"))
            if party is None:
                found.append(f"{release['id']} {where}: no party {ref.get('id')}")
            elif party.get("name") != ref.get("name"):
                found.append(f"{release['id']} {where}: name differs from party {ref['id']}")
        for party in parties.values():
            unknown = set(party.get("roles", [])) - party_roles()
            if unknown:
                found.append(f"{release['id']}: party {party['id']} has roles {unknown}")
    return found


def assert_valid(package: dict[str, Any]) -> None:
    errors = problems(package)
    assert errors == [], "\n".join(errors[:20])
