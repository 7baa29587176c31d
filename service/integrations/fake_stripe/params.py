"""Stripe's form encoding and the checks Stripe makes on parameters, with its error shape.

The SDK sends `metadata[k]=v`, `capabilities[transfers][requested]=true`, `x[0]=a&x[1]=b` and
booleans as `true`/`false`; an empty value unsets an optional field. `parse_form` turns the pairs
back into nested dicts and lists, `validate` checks them against a small declarative spec and
answers with Stripe's own messages (`Received unknown parameter: x`, `Missing required param: x.`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ErrorType = Literal[
    "api_error", "card_error", "idempotency_error", "invalid_request_error", "rate_limit_error"
]


class StripeError(Exception):
    """An answer in Stripe's error shape: `{"error": {"type", "code", "message", "param", ...}}`.

    `saved` tells the idempotency layer whether the result is stored under the request's key:
    Stripe stores every result of an endpoint that started executing, but not the refusals of
    parameter validation (https://docs.stripe.com/api/idempotent_requests).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: ErrorType = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = True,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.saved = saved
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeError:
    """A refusal by parameter validation: 400, never stored under an idempotency key."""
    return StripeError(400, message, param=param, code=code, saved=False)


def missing(kind: str, object_id: str, *, param: str = "id", status: int = 404) -> StripeError:
    return StripeError(
        status, f"No such {kind}: '{object_id}'", code="resource_missing", param=param, saved=False
    )


# --- form encoding ------------------------------------------------------------------------

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
# Under these keys every sub-key is data, never an array index.
_MAP_KEYS = frozenset({"metadata"})


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`[("metadata[a]", "1"), ("x[0]", "p")]` -> `{"metadata": {"a": "1"}, "x": ["p"]}`."""
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        match = _KEY.match(raw_key)
        if match is None:
            raise invalid(f"Invalid parameter name: {raw_key}", param=raw_key)
        parts = [match.group(1), *_PART.findall(match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if part == "":  # `x[]=a&x[]=b`, as curl users write arrays
                part = str(len(node))
            if last:
                node[part] = value
                break
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise invalid(f"Invalid parameter: {raw_key} mixes a value and a hash", param=part)
            node = child
    return _listify(root, None)


def _listify(node: dict[str, Any], key: str | None) -> Any:
    converted = {
        k: _listify(v, k) if isinstance(v, dict) and key not in _MAP_KEYS else v
        for k, v in node.items()
    }
    if key not in _MAP_KEYS and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


# --- validation -------------------------------------------------------------------------

Kind = Literal["str", "int", "bool", "currency", "enum", "metadata", "hash", "map", "list"]


@dataclass(frozen=True)
class Param:
    """One parameter of an endpoint. `hash` has `fields`; `map` and `list` have `item`."""

    kind: Kind = "str"
    required: bool = False
    choices: tuple[str, ...] = ()
    fields: Mapping[str, Param] = field(default_factory=dict)
    item: Param | None = None
    minimum: int | None = None
    maximum: int | None = None


Spec = Mapping[str, Param]

EXPAND = Param("list", item=Param("str"))
METADATA = Param("metadata")
LIST_SPEC: dict[str, Param] = {
    "limit": Param("int", minimum=1, maximum=100),
    "starting_after": Param("str"),
    "ending_before": Param("str"),
    "expand": EXPAND,
}


def validate(params: Mapping[str, Any], spec: Spec, prefix: str = "") -> dict[str, Any]:
    """Checked and converted values; an empty string stands for "unset" (None)."""
    out: dict[str, Any] = {}
    for name in params:
        if name not in spec:
            path = _path(prefix, name)
            raise invalid(
                f"Received unknown parameter: {path}", param=path, code="parameter_unknown"
            )
    for name, param in spec.items():
        path = _path(prefix, name)
        if name not in params or params[name] == "":
            if param.required:
                raise invalid(
                    f"Missing required param: {path}.", param=path, code="parameter_missing"
                )
            if name in params:
                out[name] = None
            continue
        out[name] = _convert(params[name], param, path)
    return out


def _path(prefix: str, name: str) -> str:
    return f"{prefix}[{name}]" if prefix else name


def _convert(value: Any, param: Param, path: str) -> Any:
    kind = param.kind
    if kind in ("hash", "map", "metadata", "list"):
        if kind == "list" and isinstance(value, list):
            assert param.item is not None
            return [_convert(v, param.item, f"{path}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            expected = "an array" if kind == "list" else "a hash"
            raise invalid(f"Invalid {path}: must be {expected}", param=path)
        if kind == "hash":
            return validate(value, param.fields, path)
        if kind == "metadata":
            return _metadata(value, path)
        if kind == "map":
            assert param.item is not None
            return {k: _convert(v, param.item, _path(path, k)) for k, v in value.items()}
        raise invalid(f"Invalid array: {path}", param=path)
    if not isinstance(value, str):
        raise invalid(f"Invalid {path}: must be a string, not a hash or an array", param=path)
    if kind == "str":
        return value
    if kind == "int":
        if not re.fullmatch(r"-?\d+", value):
            raise invalid(f"Invalid integer: {value}", param=path, code="parameter_invalid_integer")
        number = int(value)
        if param.minimum is not None and number < param.minimum:
            raise invalid(
                f"This value must be greater than or equal to {param.minimum}.",
                param=path,
                code="parameter_invalid_integer",
            )
        if param.maximum is not None and number > param.maximum:
            raise invalid(
                f"This value must be less than or equal to {param.maximum}.",
                param=path,
                code="parameter_invalid_integer",
            )
        return number
    if kind == "bool":
        if value not in ("true", "false"):
            raise invalid(f"Invalid boolean: {value}", param=path)
        return value == "true"
    if kind == "currency":
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise invalid(
                f"Invalid currency: {value}. Stripe currently supports these currencies: "
                "three-letter ISO codes, lowercase.",
                param=path,
            )
        return value.lower()
    if kind == "enum":
        if value not in param.choices:
            raise invalid(
                f"Invalid {path}: must be one of {', '.join(param.choices)}",
                param=path,
                code="parameter_invalid_string",
            )
        return value
    raise AssertionError(kind)


def _metadata(value: dict[str, Any], path: str) -> dict[str, str | None]:
    # Stripe's limits: 50 keys, keys up to 40 characters, values up to 500.
    if len(value) > 50:
        raise invalid("Invalid metadata: metadata can have up to 50 keys", param=path)
    out: dict[str, str | None] = {}
    for key, item in value.items():
        if not isinstance(item, str):
            raise invalid(f"Invalid {path}[{key}]: must be a string", param=f"{path}[{key}]")
        if len(key) > 40:
            raise invalid(
                f"Invalid metadata key: {key}: keys can be up to 40 characters", param=path
            )
        if len(item) > 500:
            raise invalid(
                f"Invalid {path}[{key}]: values can be up to 500 characters",
                param=f"{path}[{key}]",
            )
        out[key] = item or None  # an empty value removes the key
    return out


def merge_metadata(current: dict[str, str], update: dict[str, str | None] | None) -> dict[str, str]:
    """Stripe's metadata update: keys given replace, empty values delete, `metadata=` clears."""
    if update is None:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
