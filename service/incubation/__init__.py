"""Incubation: programmes, cohorts, mentors, check-ins and the path from prize to pilot."""
