"""Challenges: authoring, lifecycle, questions, attachments and feeds."""
