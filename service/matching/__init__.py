"""Matching: scoring and ranking startups for investors and challenges for applicants."""
