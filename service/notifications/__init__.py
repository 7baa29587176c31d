"""Notifications: in-app notices and the e-mail outbox."""
