"""Rewards: escrow funding, the double-entry ledger, milestones and payouts."""

# The ledger's running sums are kept by a listener on its transactions: registered on import.
from service.rewards import aggregates as aggregates
