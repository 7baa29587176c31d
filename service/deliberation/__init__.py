"""Deliberation: opinion maps of what residents agree on and where they split."""
