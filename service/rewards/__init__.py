"""Rewards: escrow funding, the double-entry ledger, milestones and payouts."""
