"""Citizen participation: proposals, supports, deliberation, adoption and public updates."""
