"""Challenges: authoring, lifecycle, questions, applications, judging and awards."""
