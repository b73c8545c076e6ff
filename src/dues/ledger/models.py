"""Documents, their journal entries, bill-wise open items and allocations.

- A ``Document`` (invoice, debit note, credit note, receipt, write-off, opening balance) is posted
  once and never edited; cancelling it posts a reversal dated the day of cancellation.
- Each posted document has one balanced ``JournalEntry`` and one ``OpenItem``: a debit item (owed
  to us, with a due date) or a credit item (money or credit the customer has with us).
- An ``Allocation`` links a credit item to a debit item for an amount from an effective date on.
  Undoing one appends a reversing allocation (negative amount), so the state on any past date is
  the sum of allocations effective by then. ``OpenItem.residual`` is today's state, kept in step
  under row locks and bounded by check constraints.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from dues import clock

MONEY = {"max_digits": 20, "decimal_places": 4}


class Document(models.Model):
    INVOICE, DEBIT_NOTE, CREDIT_NOTE = "invoice", "debit_note", "credit_note"
    RECEIPT, WRITE_OFF, OPENING = "receipt", "write_off", "opening"
    KINDS = [(k, k.replace("_", " ")) for k in (INVOICE, DEBIT_NOTE, CREDIT_NOTE, RECEIPT, WRITE_OFF, OPENING)]
    DEBIT_KINDS = (INVOICE, DEBIT_NOTE)
    CREDIT_KINDS = (CREDIT_NOTE, RECEIPT, WRITE_OFF)
    POSTED, CANCELLED = "posted", "cancelled"
    MODES = ("bank", "neft", "rtgs", "imps", "upi", "cheque", "cash", "nach", "card", "other")

    # no index of its own: the indexes below (and the unique number) start with company
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="documents",
                                db_index=False)
    kind = models.CharField(max_length=12, choices=KINDS)
    side = models.CharField(max_length=1, choices=[("D", "debit"), ("C", "credit")])
    number = models.CharField(max_length=40)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="documents")
    date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY, help_text="grand total; for a receipt, what reached the bank")
    taxable_value = models.DecimalField(**MONEY, default=0)
    cgst = models.DecimalField(**MONEY, default=0)
    sgst = models.DecimalField(**MONEY, default=0)
    igst = models.DecimalField(**MONEY, default=0)
    place_of_supply = models.CharField(max_length=2, blank=True)
    description = models.CharField(max_length=500, blank=True)
    mode = models.CharField(max_length=10, blank=True)
    reference = models.CharField(max_length=100, blank=True, help_text="UTR, cheque number, the customer's ref")
    tds = models.DecimalField(**MONEY, default=0, help_text="tax deducted at source by the customer")
    bank_charges = models.DecimalField(**MONEY, default=0)
    discount = models.DecimalField(**MONEY, default=0)
    status = models.CharField(max_length=10, default=POSTED, choices=[(POSTED, "posted"), (CANCELLED, "cancelled")])
    cancelled_on = models.DateField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    import_batch = models.ForeignKey("integrations.ImportBatch", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="documents")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "kind", "number"], name="document_number_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="document_amount_nonneg"),
            models.CheckConstraint(condition=Q(tds__gte=0, bank_charges__gte=0, discount__gte=0),
                                   name="document_deductions_nonneg"),
            models.CheckConstraint(condition=Q(side__in=["D", "C"]), name="document_side"),
        ]
        indexes = [
            models.Index(fields=["company", "customer", "date"]), models.Index(fields=["company", "date"]),
            # global search: a UTR or cheque number, an amount
            models.Index(fields=["company", "reference"], name="document_search_reference"),
            models.Index(fields=["company", "amount"], name="document_search_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    @property
    def total_credit(self):
        """What a credit document can allocate: cash plus TDS, charges and discount."""
        return self.amount + self.tds + self.bank_charges + self.discount

    def audit_state(self) -> dict:
        state = {
            "kind": self.kind, "number": self.number, "customer": self.customer.code, "date": self.date.isoformat(),
            "due_date": self.due_date.isoformat() if self.due_date else None, "currency": self.currency,
            "amount": str(self.amount), "status": self.status,
        }
        for name in ("taxable_value", "cgst", "sgst", "igst", "tds", "bank_charges", "discount"):
            value = getattr(self, name)
            if value:
                state[name] = str(value)
        for name in ("mode", "reference", "description", "cancel_reason"):
            if getattr(self, name):
                state[name] = getattr(self, name)
        if self.cancelled_on:
            state["cancelled_on"] = self.cancelled_on.isoformat()
        return state


class DocumentLine(models.Model):
    """An invoice line: goods or services with HSN/SAC, quantity, rate and the GST on it."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=300)
    hsn = models.CharField(max_length=8, blank=True)
    quantity = models.DecimalField(max_digits=20, decimal_places=4, default=1)
    rate = models.DecimalField(**MONEY)
    taxable_value = models.DecimalField(**MONEY)
    gst_rate = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    cgst = models.DecimalField(**MONEY, default=0)
    sgst = models.DecimalField(**MONEY, default=0)
    igst = models.DecimalField(**MONEY, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "position"], name="document_line_position")]


class JournalEntry(models.Model):
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="journal_entries",
                                db_index=False)  # (company, date) below serves it
    document = models.ForeignKey(Document, null=True, on_delete=models.PROTECT, related_name="entries")
    date = models.DateField()
    narration = models.CharField(max_length=300)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        verbose_name_plural = "journal entries"
        indexes = [models.Index(fields=["company", "date"])]


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey("companies.Account", on_delete=models.PROTECT, related_name="lines")
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="journal_lines")
    debit = models.DecimalField(**MONEY, default=0)
    credit = models.DecimalField(**MONEY, default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(debit__gte=0, credit__gte=0), name="journal_line_nonneg"),
            models.CheckConstraint(condition=Q(debit=0) | Q(credit=0), name="journal_line_one_side"),
        ]


class OpenItem(models.Model):
    """A bill: what a document leaves owed (side D) or to be applied (side C), and what is left."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="open_items",
                                db_index=False)  # the indexes below start with company
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="open_items")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="open_items")
    side = models.CharField(max_length=1, choices=[("D", "debit"), ("C", "credit")])
    date = models.DateField()
    due_date = models.DateField()
    amount = models.DecimalField(**MONEY)
    residual = models.DecimalField(**MONEY)
    reversal_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="reversed_by", help_text="set on the counter-item of a cancellation")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="open_item_amount_pos"),
            models.CheckConstraint(condition=Q(residual__gte=0) & Q(residual__lte=F("amount")), name="open_item_residual_bounds"),
            models.CheckConstraint(condition=Q(side__in=["D", "C"]), name="open_item_side"),
        ]
        indexes = [
            models.Index(fields=["company", "customer", "side"]),
            models.Index(fields=["company", "customer", "date"], condition=Q(residual__gt=0), name="open_item_open"),
            models.Index(fields=["company", "residual"], name="open_item_search_residual"),  # global search
        ]

    def __str__(self) -> str:
        return f"{self.document} ({self.side} {self.residual}/{self.amount})"


class Allocation(models.Model):
    """Part of a credit item applied to a debit item, from ``effective_date`` on.

    A reversing allocation has the opposite (negative) amount and points at the one it undoes.
    """

    # no single-column indexes: the (…, effective_date) indexes below start with each of these, and every
    # index is paid for on each of the thousands of rows an import writes
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="allocations",
                                db_index=False)
    credit_item = models.ForeignKey(OpenItem, on_delete=models.PROTECT, related_name="credit_allocations",
                                    db_index=False)
    debit_item = models.ForeignKey(OpenItem, on_delete=models.PROTECT, related_name="debit_allocations",
                                   db_index=False)
    amount = models.DecimalField(**MONEY)
    effective_date = models.DateField()
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.CharField(max_length=150, default="system")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="allocation_nonzero"),
            models.CheckConstraint(condition=Q(reverses__isnull=True, amount__gt=0) | Q(reverses__isnull=False, amount__lt=0),
                                   name="allocation_sign"),
            models.CheckConstraint(condition=~Q(credit_item=F("debit_item")), name="allocation_not_self"),
        ]
        indexes = [
            models.Index(fields=["company", "effective_date"]),
            models.Index(fields=["debit_item", "effective_date"]),
            models.Index(fields=["credit_item", "effective_date"]),
        ]

    def audit_state(self) -> dict:
        return {
            "credit": self.credit_item.document.number, "debit": self.debit_item.document.number,
            "amount": str(self.amount), "effective_date": self.effective_date.isoformat(),
            "reverses": self.reverses_id, "reason": self.reason,
        }

