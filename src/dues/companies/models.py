"""The company whose receivables these are, and its small chart of accounts."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dues import clock


class Company(models.Model):
    GSTIN_STRICT = "error"
    GSTIN_WARN = "warn"

    name = models.CharField(max_length=200)
    gstin = models.CharField(max_length=15, blank=True)
    state_code = models.CharField(max_length=2, blank=True, help_text="GST state code, e.g. 27 Maharashtra")
    currency = models.CharField(max_length=3, default="INR")
    locale = models.CharField(max_length=16, default="en_IN")
    fy_start_month = models.PositiveSmallIntegerField(default=4)
    fy_start_day = models.PositiveSmallIntegerField(default=1)
    lock_date = models.DateField(null=True, blank=True, help_text="postings on or before this date are refused")
    gstin_checksum = models.CharField(
        max_length=5, default=GSTIN_STRICT,
        choices=[(GSTIN_STRICT, "a wrong check character is an error"), (GSTIN_WARN, "only a warning")],
    )
    interest_gst = models.BooleanField(
        default=False, help_text="charge GST on overdue interest (at the rate of the original supply)")
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        verbose_name_plural = "companies"
        constraints = [
            models.CheckConstraint(condition=Q(fy_start_month__gte=1, fy_start_month__lte=12), name="company_fy_month"),
            models.CheckConstraint(condition=Q(fy_start_day__gte=1, fy_start_day__lte=28), name="company_fy_day"),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_state(self) -> dict:
        return {
            "name": self.name, "gstin": self.gstin, "state_code": self.state_code, "currency": self.currency,
            "locale": self.locale, "fy_start": f"{self.fy_start_month:02d}-{self.fy_start_day:02d}",
            "lock_date": self.lock_date.isoformat() if self.lock_date else None,
            "gstin_checksum": self.gstin_checksum, "interest_gst": "on" if self.interest_gst else "off",
        }


class Account(models.Model):
    ASSET, LIABILITY, EQUITY, INCOME, EXPENSE = "asset", "liability", "equity", "income", "expense"
    KINDS = [(k, k) for k in (ASSET, LIABILITY, EQUITY, INCOME, EXPENSE)]

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="accounts")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=KINDS)
    role = models.CharField(max_length=30, blank=True, help_text="what dues posts here (ar_control, sales, ...)")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="account_code_unique"),
            models.UniqueConstraint(fields=["company", "role"], condition=~Q(role=""), name="account_role_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
