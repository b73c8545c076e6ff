"""Customers (the debtors), their contacts and their terms."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dues import clock
from dues.core.terms import END_OF_MONTH, NET, PaymentTerms


class Customer(models.Model):
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="customers")
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    aliases = models.JSONField(default=list, blank=True, help_text="other names the customer goes by")
    gstin = models.CharField(max_length=15, blank=True)
    pan = models.CharField(max_length=10, blank=True)
    tan = models.CharField(max_length=10, blank=True, help_text="TAN as a deductor of TDS (matched with Form 26AS)")
    state_code = models.CharField(max_length=2, blank=True, help_text="place of supply (GST state code)")
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    terms_kind = models.CharField(max_length=3, default=NET, choices=[(NET, "net days"), (END_OF_MONTH, "end of month + days")])
    terms_days = models.PositiveIntegerField(default=30)
    credit_limit = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    credit_days = models.PositiveIntegerField(null=True, blank=True)
    salesperson = models.CharField(max_length=100, blank=True)
    collector = models.CharField(max_length=100, blank=True)
    segment = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=300, blank=True, help_text="billing address (printed on tax invoices)")
    city = models.CharField(max_length=100, blank=True)
    pin = models.CharField(max_length=6, blank=True, help_text="PIN code")
    bill_by_po = models.BooleanField(default=False, help_text="bill run: one invoice per purchase order, not per delivery")
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="customer_code_unique"),
            models.CheckConstraint(condition=Q(credit_limit__isnull=True) | Q(credit_limit__gte=0), name="customer_credit_limit_nonneg"),
        ]
        indexes = [models.Index(fields=["company", "name"]), models.Index(fields=["company", "tan"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def terms(self) -> PaymentTerms:
        return PaymentTerms(self.terms_kind, self.terms_days)

    def audit_state(self) -> dict:
        return {
            "code": self.code, "name": self.name, "aliases": list(self.aliases), "gstin": self.gstin, "pan": self.pan, "tan": self.tan,
            "state_code": self.state_code, "email": self.email, "phone": self.phone,
            "terms": f"{self.terms_kind} {self.terms_days}",
            "credit_limit": None if self.credit_limit is None else f"{self.credit_limit:.2f}",
            "credit_days": self.credit_days, "salesperson": self.salesperson, "collector": self.collector,
            "segment": self.segment, "region": self.region,
            **{k: getattr(self, k) for k in ("address", "city", "pin") if getattr(self, k)},
        }


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=100, blank=True, help_text="accounts, owner, purchase, ...")
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.role})" if self.role else self.name
