"""The e-mail outbox and in-app notifications, written in the same transaction as the event."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from service.notifications.kinds import EmailMode


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class OutboxEmail(Model):
    id = fields.IntField(primary_key=True)
    to = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=255)
    body = fields.TextField()
    status = fields.CharEnumField(OutboxStatus, max_length=10, default=OutboxStatus.pending)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    # A notice's e-mail names the signed link that stops such e-mails (RFC 8058 headers).
    unsubscribe_url = fields.CharField(max_length=500, default="")

    class Meta:
        table = "outbox_emails"


# One notice to one person: its kind and the event's parameters, written out in the reader's
# language when read (see kinds.py). Rows from before kinds carry only their English `title`
# and `body`, shown as they are; newer rows keep the English text too.
class Notification(Model):
    id = fields.IntField(primary_key=True)
    user_id = fields.IntField(db_index=True)
    title = fields.CharField(max_length=255)
    body = fields.TextField(default="")
    link = fields.CharField(max_length=500, default="")
    kind = fields.CharField(max_length=60, default="")
    params: dict[str, Any] | None = fields.JSONField(null=True)
    # What the notice is about, named and linked on every notice.
    challenge_id = fields.IntField(null=True)
    proposal_id = fields.IntField(null=True)
    # Its e-mail: "" none, "queued" (one of its own, being written), "daily" (waiting for the
    # day's digest), "sent".
    email_state = fields.CharField(max_length=10, default="", db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notifications"
        ordering = ["-id"]


class NotificationSetting(Model):
    """How one person hears of one group of notice kinds by e-mail (none: the group's default)."""

    id = fields.IntField(primary_key=True)
    user_id = fields.IntField(db_index=True)
    group = fields.CharField(max_length=30)
    email = fields.CharEnumField(EmailMode, max_length=10)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "notification_settings"
        unique_together = (("user_id", "group"),)


class NotificationDigest(Model):
    """The day of a person's last digest e-mail: one a day, however often the job runs."""

    user_id = fields.IntField(primary_key=True)
    sent_on = fields.DateField()

    class Meta:
        table = "notification_digests"
