"""What a service needs to know about the request or job it runs for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.accounts.actor import Actor
    from service.config import Settings


@dataclass
class Context:
    actor: Actor
    settings: Settings
    ip: str = ""
    language: str = "en"
    extra: dict[str, str] = field(default_factory=dict)
