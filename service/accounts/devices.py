"""How a session or a token is described to its owner: browser and system, a coarse place.

Only what the request itself says is used (no location service): the user agent for the
browser and system, the region of the browser's preferred language, and the network part of
the address. A user agent can lie; the list helps an owner spot a session they do not know.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from babel import Locale

_REGION = re.compile(r"^[a-zA-Z]{2,3}[-_]([a-zA-Z]{2})\b")


@lru_cache(maxsize=512)
def describe(user_agent: str) -> str:
    """ "Firefox 128 on Windows", "Mobile Safari 17 on iOS (iPhone)", or the raw start."""
    from ua_parser import parse  # its rules load on first use, not at import of the app

    if not user_agent:
        return ""
    result = parse(user_agent[:512])
    if result.user_agent is None and result.os is None:
        # An API client names itself: "python-httpx/0.28.1", "curl/8.5.0".
        return user_agent.split(" ")[0][:120]
    parts: list[str] = []
    if result.user_agent is not None:
        parts.append(" ".join(p for p in (result.user_agent.family, result.user_agent.major) if p))
    if result.os is not None:
        parts.append(result.os.family)
    label = " on ".join(parts)
    device = result.device
    if device is not None and device.family not in ("Other", "Mac") and device.family not in label:
        label += f" ({device.family})"
    return label[:120]


def region_of(accept_language: str) -> str:
    """The country of the browser's first language with one ("es-AR,es;q=0.9" -> "AR")."""
    for part in accept_language.split(",")[:5]:
        found = _REGION.match(part.strip())
        if found:
            return found.group(1).upper()
    return ""


def region_name(code: str, language: str) -> str:
    if not code:
        return ""
    try:
        return str(Locale.parse(language).territories.get(code, code))
    except (ValueError, TypeError):
        return code


def network_of(ip: str) -> str:
    """The address's network (/24 or /48): enough to recognise a place, not a person."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
