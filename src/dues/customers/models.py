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


CONTACT_ROLES = [("accounts_payable", "accounts payable"), ("owner", "owner"), ("purchase", "purchase"),
                 ("other", "other")]
CONTACT_ROLE_WORDS = {"accounts_payable": "accounts_payable", "accounts payable": "accounts_payable",
                      "accounts": "accounts_payable", "ap": "accounts_payable", "payables": "accounts_payable",
                      "finance": "accounts_payable", "owner": "owner", "proprietor": "owner", "director": "owner",
                      "partner": "owner", "purchase": "purchase", "purchases": "purchase", "buyer": "purchase",
                      "procurement": "purchase", "other": "other"}


def contact_role(text: str) -> str:
    """A contact's role as stored (one of CONTACT_ROLES) from what a person or a file calls it."""
    key = " ".join((text or "").strip().lower().replace("-", " ").split())
    return CONTACT_ROLE_WORDS.get(key, CONTACT_ROLE_WORDS.get(key.replace(" ", "_"), "other"))


class Contact(models.Model):
    """A person at the customer: several per customer, each with a role; one may be the primary contact.

    The customer's own e-mail and phone stay the fallback when no contact has them.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=100, blank=True, choices=CONTACT_ROLES, default="accounts_payable")
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    whatsapp = models.CharField(max_length=40, blank=True, help_text="WhatsApp number, when not the phone")
    is_primary = models.BooleanField(default=False, help_text="the first person to contact")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer"], condition=Q(is_primary=True),
                                               name="contact_one_primary")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})" if self.role else self.name

    def audit_state(self) -> dict:
        return {"name": self.name, "role": self.role, "email": self.email, "phone": self.phone,
                "whatsapp": self.whatsapp, "primary": self.is_primary}


class CustomerNote(models.Model):
    """A note on a customer's page; a pinned one stays on top (at most one is pinned)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField()
    pinned = models.BooleanField(default=False)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer"], condition=Q(pinned=True),
                                               name="customer_note_one_pinned")]
        indexes = [models.Index(fields=["customer", "created_at"])]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.customer_id}"
