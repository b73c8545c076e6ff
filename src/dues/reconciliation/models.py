"""Balance confirmation: a letter asking a customer to confirm our balance of their account, and their reply."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dues import clock

MONEY = {"max_digits": 20, "decimal_places": 4}


class ConfirmationRequest(models.Model):
    """One balance-confirmation letter (as of a date) and what the customer answered.

    requested -> confirmed (they agree) / disagreed (their balance differs; their ledger, when
    attached, is reconciled against ours and the summary kept) / no_reply (closed without an answer).
    """

    REQUESTED, CONFIRMED, DISAGREED, NO_REPLY = "requested", "confirmed", "disagreed", "no_reply"
    STATUSES = [(s, s.replace("_", " ")) for s in (REQUESTED, CONFIRMED, DISAGREED, NO_REPLY)]
    EMAIL, LETTER, PORTAL = "email", "letter", "portal"
    CHANNELS = [(EMAIL, "e-mail"), (LETTER, "letter"), (PORTAL, "customer portal")]

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="confirmations")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="confirmations")
    as_of = models.DateField()
    our_balance = models.DecimalField(**MONEY)
    channel = models.CharField(max_length=8, choices=CHANNELS)
    sent_to = models.CharField(max_length=500, blank=True)
    delivery = models.CharField(max_length=500, blank=True, help_text="where the transport put it")
    letter_path = models.CharField(max_length=500, blank=True, help_text="the PDF as sent")
    requested_at = models.DateTimeField(default=clock.now, editable=False)
    requested_by = models.CharField(max_length=150)
    status = models.CharField(max_length=10, choices=STATUSES, default=REQUESTED)
    their_balance = models.DecimalField(**MONEY, null=True, blank=True)
    reply_file_name = models.CharField(max_length=255, blank=True)
    reply_file = models.BinaryField(null=True, blank=True)
    reconciliation = models.JSONField(null=True, blank=True, help_text="the reconciliation of their file (as JSON)")
    replied_at = models.DateTimeField(null=True, blank=True)
    replied_by = models.CharField(max_length=150, blank=True)
    reminders = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(status="disagreed") | Q(their_balance__isnull=False),
                                   name="confirmation_disagreed_has_balance"),
        ]
        indexes = [models.Index(fields=["company", "status", "requested_at"]),
                   models.Index(fields=["company", "customer", "as_of"])]

    def __str__(self) -> str:
        return f"confirmation {self.pk} {self.customer_id} as of {self.as_of} ({self.status})"

    @property
    def difference(self):
        return None if self.their_balance is None else self.their_balance - self.our_balance
