"""Accounts: users, organizations, memberships, sign-in and permissions."""
