"""Bank accounts, the statements imported into them, and their lines (what cash application works on).

A ``BankLine`` is unique per bank account by (booking date, direction, amount, reference): importing
an overlapping statement finds the lines already there and adds only the new ones. ``reference`` is
the bank reference / UTR / FITID from the file, or a generated stable id (``GEN-...``) from date,
amount, narration and the line's ordinal among identical lines in the statement. ``status`` and
``applied_amount`` belong to the matching engine: every imported credit starts ``unapplied``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dues import clock

MONEY = {"max_digits": 20, "decimal_places": 4}


class BankAccount(models.Model):
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="bank_accounts")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    number = models.CharField(max_length=40, blank=True, help_text="account number / IBAN as the bank prints it")
    ifsc = models.CharField(max_length=11, blank=True, help_text="IFSC (or BIC) of the branch")
    currency = models.CharField(max_length=3, default="INR")
    gl_account = models.ForeignKey("companies.Account", on_delete=models.PROTECT, related_name="+",
                                   help_text="where receipts into this account are posted (the Bank account)")
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="bankaccount_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class BankStatement(models.Model):
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="+")
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="statements")
    source = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=10)
    statement_id = models.CharField(max_length=100, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    opening_balance = models.DecimalField(**MONEY, null=True, blank=True)
    closing_balance = models.DecimalField(**MONEY, null=True, blank=True)
    lines = models.PositiveIntegerField(default=0)
    new_lines = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(default=clock.now, editable=False)
    imported_by = models.CharField(max_length=150)

    class Meta:
        indexes = [models.Index(fields=["bank_account", "period_end"])]


class BankLine(models.Model):
    CREDIT, DEBIT = "C", "D"
    UNAPPLIED, PARTLY, APPLIED, IGNORED = "unapplied", "partly_applied", "applied", "ignored"
    # a credit the bank took back (cheque bounce), and the debit that took it back
    RETURNED, REVERSAL = "returned", "reversal"
    STATUSES = [(s, s.replace("_", " ")) for s in (UNAPPLIED, PARTLY, APPLIED, IGNORED, RETURNED, REVERSAL)]

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="+")
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="lines")
    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="bank_lines")
    booking_date = models.DateField()
    value_date = models.DateField(null=True, blank=True)
    direction = models.CharField(max_length=1, choices=[(CREDIT, "credit (money in)"), (DEBIT, "debit (money out)")])
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=100)
    reference_generated = models.BooleanField(default=False)
    narration = models.TextField(blank=True)
    counterparty_name = models.CharField(max_length=200, blank=True)
    counterparty_account = models.CharField(max_length=60, blank=True)
    counterparty_ifsc = models.CharField(max_length=20, blank=True)
    counterparty_upi = models.CharField(max_length=120, blank=True)
    end_to_end_id = models.CharField(max_length=100, blank=True)
    bank_code = models.CharField(max_length=40, blank=True)
    cheque_number = models.CharField(max_length=20, blank=True)
    reversal = models.BooleanField(default=False)
    booked = models.BooleanField(default=True)
    row = models.PositiveIntegerField(null=True, blank=True, help_text="line / row / entry number in the file")
    status = models.CharField(max_length=16, choices=STATUSES, default=UNAPPLIED)
    applied_amount = models.DecimalField(**MONEY, default=0)
    receipt = models.ForeignKey("ledger.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=300, blank=True, help_text="why a person ignored it, or which line returned it")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bank_account", "booking_date", "direction", "amount", "reference"],
                                    name="bankline_dedup"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="bankline_amount_nonnegative"),
        ]
        indexes = [
            models.Index(fields=["company", "direction", "status"]),
            models.Index(fields=["bank_account", "booking_date"]),
            # global search: a UTR, a cheque number, an amount
            models.Index(fields=["company", "reference"], name="bankline_search_reference"),
            models.Index(fields=["company", "cheque_number"], name="bankline_search_cheque"),
            models.Index(fields=["company", "amount"], name="bankline_search_amount"),
        ]


class CustomerBankIdentity(models.Model):
    """Something a customer pays from, learned when a person confirms a match: the next credit from it matches."""

    ACCOUNT, UPI, IFSC_ACCOUNT, ALIAS = "account", "upi", "ifsc_account", "alias"
    KINDS = [(ACCOUNT, "bank account"), (UPI, "UPI id"), (IFSC_ACCOUNT, "IFSC and account"), (ALIAS, "narration alias")]

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="bank_identities")
    kind = models.CharField(max_length=12, choices=KINDS)
    value = models.CharField(max_length=200, help_text="as compared: account digits, UPI id lower-case, normalised name")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "customer", "kind", "value"],
                                               name="customerbankidentity_unique")]
        indexes = [models.Index(fields=["company", "kind", "value"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.value}"


class RemittanceAdvice(models.Model):
    """A customer telling us about a payment they made (UTR, amount, date): what cash application looks for.

    It posts nothing: money is posted only from bank evidence (a bank line) or a payment gateway's
    confirmation. ``source`` says where it came from (the portal, a payment gateway); ``status`` is
    ``new`` until cash application matches it to a bank line (``matched``) or sets it aside (``dismissed``).
    """

    NEW, MATCHED, DISMISSED = "new", "matched", "dismissed"
    STATUSES = [(s, s) for s in (NEW, MATCHED, DISMISSED)]
    PORTAL, GATEWAY = "portal", "gateway"
    SOURCES = [(PORTAL, "customer portal"), (GATEWAY, "payment gateway")]

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="remittance_advices")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="remittance_advices")
    utr = models.CharField(max_length=100, help_text="the UTR / bank reference / gateway payment id")
    amount = models.DecimalField(**MONEY)
    paid_on = models.DateField()
    invoices = models.JSONField(default=list, blank=True, help_text="the invoice numbers it pays, as told")
    source = models.CharField(max_length=8, choices=SOURCES, default=PORTAL)
    confirmed = models.BooleanField(default=False, help_text="a payment gateway confirmed the money was taken")
    notes = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=NEW)
    bank_line = models.ForeignKey(BankLine, null=True, blank=True, on_delete=models.PROTECT, related_name="advices")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.CharField(max_length=150)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="remittance_advice_amount_pos")]
        indexes = [models.Index(fields=["company", "status", "utr"])]

    def __str__(self) -> str:
        return f"remittance advice {self.pk} {self.utr} {self.amount}"
