"""Investors: theses, deal flow, watchlists and intro requests."""
