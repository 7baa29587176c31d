"""Open data: OCDS release packages and CSV datasets of everything already public."""
