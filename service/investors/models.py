"""Models of the investors area."""

from __future__ import annotations
