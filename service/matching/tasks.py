"""Jobs of the matching area."""

from __future__ import annotations
