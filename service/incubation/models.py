"""Models of the incubation area."""

from __future__ import annotations
