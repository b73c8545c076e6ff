"""API tokens, idempotency keys, webhook subscribers, the webhook outbox and its delivery log."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dues import clock


class ApiToken(models.Model):
    """A bearer token: ``dues_<prefix>_<secret>``; only the prefix (for lookup) and a SHA-256 of the whole are kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    expires_on = models.DateField(null=True, blank=True, help_text="the last day the token works")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="api_token_name_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.user.get_username()})"


class IdempotencyKey(models.Model):
    """A create request answered once: a retry with the same key gets the same answer, nothing posted twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    operation = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_key_unique")]


class WebhookSubscriber(models.Model):
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="event names; empty means every event")
    secret = models.CharField(max_length=100, help_text="the HMAC-SHA256 key of the X-Dues-Signature header")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        return self.active and (not self.events or event in self.events)


class WebhookOutbox(models.Model):
    """One event for one subscriber, written in the transaction of the change itself; sent by ``deliver_due``."""

    PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
    subscriber = models.ForeignKey(WebhookSubscriber, on_delete=models.CASCADE, related_name="outbox")
    event = models.CharField(max_length=40)
    body = models.TextField(help_text="the JSON body exactly as sent (and signed)")
    status = models.CharField(max_length=10, default=PENDING,
                              choices=[(PENDING, "pending"), (DELIVERED, "delivered"), (FAILED, "failed")])
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_outbox_due")]


class WebhookDelivery(models.Model):
    """The delivery log: every attempt, its answer or error."""

    outbox = models.ForeignKey(WebhookOutbox, on_delete=models.CASCADE, related_name="deliveries")
    attempted_at = models.DateTimeField(default=clock.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
