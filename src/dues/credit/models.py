"""Credit groups (a limit shared by the customers of one segment) and credit holds."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dues import clock


class CreditGroup(models.Model):
    """The customers whose ``segment`` is ``segment`` share this limit and these allowed overdue days."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="credit_groups")
    segment = models.CharField(max_length=100, help_text="the customers' segment field names the group")
    credit_limit = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True,
                                       help_text="limit on the group's exposure (sum over its members)")
    overdue_days_allowed = models.PositiveIntegerField(null=True, blank=True,
                                                       help_text="days past due a member's invoice may be")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "segment"], name="credit_group_segment_unique"),
            models.CheckConstraint(condition=Q(credit_limit__isnull=True) | Q(credit_limit__gte=0),
                                   name="credit_group_limit_nonneg"),
        ]

    def __str__(self) -> str:
        return f"credit group {self.segment}"

    def audit_state(self) -> dict:
        return {"segment": self.segment,
                "credit_limit": None if self.credit_limit is None else f"{self.credit_limit:.2f}",
                "overdue_days_allowed": self.overdue_days_allowed}


class CreditHold(models.Model):
    """A customer on credit hold until released. A release lasts until ``release_until``; after that the
    automatic rule may hold the customer again. At most one unreleased hold per customer."""

    AUTO, MANUAL = "auto", "manual"
    KINDS = [(AUTO, "automatic"), (MANUAL, "manual")]

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="credit_holds")
    kind = models.CharField(max_length=6, choices=KINDS)
    reason = models.CharField(max_length=500)
    placed_at = models.DateTimeField(default=clock.now)
    placed_by = models.CharField(max_length=150)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.CharField(max_length=150, blank=True)
    release_reason = models.CharField(max_length=500, blank=True)
    release_until = models.DateField(null=True, blank=True, help_text="the release lapses after this day")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer"], condition=Q(released_at__isnull=True),
                                               name="credit_hold_one_open")]
        indexes = [models.Index(fields=["customer", "placed_at"])]

    def __str__(self) -> str:
        return f"credit hold {self.pk} on {self.customer_id}"

    def audit_state(self) -> dict:
        return {"customer": self.customer_id, "kind": self.kind, "reason": self.reason, "placed_by": self.placed_by,
                "released_by": self.released_by, "release_reason": self.release_reason,
                "release_until": self.release_until.isoformat() if self.release_until else None}
