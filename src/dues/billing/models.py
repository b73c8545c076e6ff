"""Billing: items, rate contracts, delivery challans, and draft tax invoices until they are posted.

- An ``Item`` is what is sold (HSN/SAC, unit, GST rate); a ``RateContract`` gives a customer's rate
  and discount for an item between two dates.
- A ``Delivery`` (challan) with its ``DeliveryLine`` rows is unbilled until a ``BillLine`` points at
  each line: the one-to-one link is the database's guarantee that a bill run never bills a line twice.
- A ``Bill`` is a DRAFT tax invoice: not a receivable (it is in no ageing, outstanding, statement or
  dunning run) until approval posts it through the ledger as an invoice. Only then does it take the
  next number of its fiscal year's ``NumberSeries`` (row-locked inside the approval transaction), so
  the series has no gaps: a draft rejected or refused on credit never consumed a number.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dues import clock

MONEY = {"max_digits": 20, "decimal_places": 4}
QTY = {"max_digits": 20, "decimal_places": 4}
RATE = {"max_digits": 6, "decimal_places": 3}


class BillingSettings(models.Model):
    """The company's billing settings (one row per company, created with defaults on first use)."""

    company = models.OneToOneField("companies.Company", on_delete=models.PROTECT, related_name="billing_settings")
    prefix = models.CharField(max_length=16, default="INV/{fy}/",
                              help_text="invoice number prefix; {fy} becomes 2627 for FY 2026-27")
    four_eyes = models.BooleanField(default=False, help_text="the user who made a draft may not approve it")
    overdue_days_allowed = models.PositiveIntegerField(
        default=30, help_text="approval is held when an invoice of the customer is overdue by more days")
    gst_slabs = models.CharField(max_length=100, blank=True, help_text="GST rates allowed, e.g. 0,5,12,18,28 "
                                                                       "(empty: the legal slabs)")
    upi_vpa = models.CharField(max_length=100, blank=True, help_text="UPI address printed as a QR on invoices")
    address = models.CharField(max_length=300, blank=True)
    bank_details = models.CharField(max_length=300, blank=True, help_text="bank, account number, IFSC")
    pin = models.CharField(max_length=6, blank=True)
    city = models.CharField(max_length=100, blank=True)
    credit_note_prefix = models.CharField(max_length=16, default="CN/{fy}/", help_text="credit note number prefix")
    debit_note_prefix = models.CharField(max_length=16, default="DN/{fy}/", help_text="debit note number prefix")
    turnover = models.DecimalField(**MONEY, null=True, blank=True,
                                   help_text="the company's aggregate annual turnover (empty: not given)")
    einvoice_window_threshold = models.DecimalField(
        **MONEY, default=100_000_000, help_text="turnover from which an invoice must be reported to the e-invoice "
                                                "portal within the window (India: 10 crore, from 1 April 2025)")
    einvoice_window_days = models.PositiveIntegerField(
        default=30, help_text="days after the invoice date the reporting window stays open (0: no window)")
    einvoice_warn_days = models.PositiveIntegerField(
        default=5, help_text="warn when an invoice's window ends within this many days")

    FIELDS = ("prefix", "four_eyes", "overdue_days_allowed", "gst_slabs", "upi_vpa", "address", "bank_details", "pin",
              "city", "credit_note_prefix", "debit_note_prefix", "turnover", "einvoice_window_threshold",
              "einvoice_window_days", "einvoice_warn_days")

    @property
    def einvoice_window_applies(self) -> bool:
        """The reporting window applies unless it is switched off (0 days) or the turnover given is
        below the threshold (an unknown turnover is warned about rather than missed)."""
        return self.einvoice_window_days > 0 and (self.turnover is None
                                                  or self.turnover >= self.einvoice_window_threshold)

    def audit_state(self) -> dict:
        state = {f: getattr(self, f) for f in self.FIELDS}
        for f in ("turnover", "einvoice_window_threshold"):
            state[f] = None if state[f] is None else f"{state[f]:.2f}"
        return state


class Item(models.Model):
    GOODS, SERVICE = "goods", "service"

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="items")
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    hsn = models.CharField(max_length=8)
    unit = models.CharField(max_length=10, default="NOS")
    gst_rate = models.DecimalField(**RATE)
    kind = models.CharField(max_length=7, default=GOODS, choices=[(GOODS, "goods"), (SERVICE, "service")])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="item_code_unique"),
                       models.CheckConstraint(condition=Q(gst_rate__gte=0), name="item_gst_rate_nonneg")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def audit_state(self) -> dict:
        return {"code": self.code, "name": self.name, "hsn": self.hsn, "unit": self.unit,
                "gst_rate": f"{self.gst_rate.normalize():f}", "kind": self.kind}


class RateContract(models.Model):
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="rate_contracts")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="rate_contracts")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="contracts")
    rate = models.DecimalField(**MONEY)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    discount_pct = models.DecimalField(max_digits=6, decimal_places=3, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "item", "valid_from"], name="rate_contract_unique"),
            models.CheckConstraint(condition=Q(rate__gte=0, discount_pct__gte=0, discount_pct__lte=100),
                                   name="rate_contract_amounts"),
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                                   name="rate_contract_dates"),
        ]


class Delivery(models.Model):
    """A delivery challan: goods or services delivered to a customer, unbilled until its lines are."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="deliveries")
    number = models.CharField(max_length=40)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="deliveries")
    date = models.DateField()
    po = models.CharField(max_length=60, blank=True, help_text="the customer's purchase order")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.CharField(max_length=150)
    recurring_charge = models.ForeignKey("RecurringCharge", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="deliveries", help_text="the charge this period came from")
    period = models.DateField(null=True, blank=True, help_text="a recurring charge's billing date of this period")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="delivery_number_unique"),
                       models.UniqueConstraint(fields=["recurring_charge", "period"],
                                               condition=Q(recurring_charge__isnull=False),
                                               name="delivery_recurring_period_unique")]
        indexes = [models.Index(fields=["company", "date"])]

    def __str__(self) -> str:
        return f"delivery {self.number}"


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="delivery_lines")
    hsn = models.CharField(max_length=8)
    quantity = models.DecimalField(**QTY)
    uom = models.CharField(max_length=10)
    rate = models.DecimalField(**MONEY)
    gst_rate = models.DecimalField(**RATE)
    discount_pct = models.DecimalField(max_digits=6, decimal_places=3, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "position"], name="delivery_line_position"),
            models.CheckConstraint(condition=Q(quantity__gt=0, rate__gte=0, gst_rate__gte=0, discount_pct__gte=0,
                                               discount_pct__lte=100), name="delivery_line_amounts"),
        ]


class NumberSeries(models.Model):
    """The next invoice number of a fiscal year; read FOR UPDATE by the approval that takes one."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="number_series")
    fy_start = models.DateField()
    prefix = models.CharField(max_length=16)
    next_number = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "fy_start", "prefix"], name="number_series_unique")]


class Bill(models.Model):
    DRAFT, APPROVED, REJECTED = "draft", "approved", "rejected"
    STATUSES = [(DRAFT, "draft"), (APPROVED, "approved"), (REJECTED, "rejected")]

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="bills")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="bills")
    date = models.DateField()
    po = models.CharField(max_length=60, blank=True)
    place_of_supply = models.CharField(max_length=2, blank=True)
    currency = models.CharField(max_length=3)
    taxable = models.DecimalField(**MONEY)
    cgst = models.DecimalField(**MONEY, default=0)
    sgst = models.DecimalField(**MONEY, default=0)
    igst = models.DecimalField(**MONEY, default=0)
    round_off = models.DecimalField(**MONEY, default=0)
    total = models.DecimalField(**MONEY)
    status = models.CharField(max_length=8, default=DRAFT, choices=STATUSES)
    number = models.CharField(max_length=16, null=True, blank=True, help_text="assigned on approval")
    document = models.OneToOneField("ledger.Document", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="bill", help_text="the posted ledger invoice")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.CharField(max_length=150)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=500, blank=True, help_text="why rejected, or why a credit hold was overridden")
    held_reason = models.CharField(max_length=500, blank=True, help_text="the last credit refusal")
    irn = models.CharField(max_length=64, blank=True)
    ack_no = models.CharField(max_length=20, blank=True)
    ack_date = models.DateTimeField(null=True, blank=True)
    signed_qr = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], condition=Q(number__isnull=False),
                                    name="bill_number_unique"),
            models.CheckConstraint(condition=Q(status="approved", number__isnull=False, document__isnull=False)
                                   | ~Q(status="approved"), name="bill_approved_numbered"),
            models.CheckConstraint(condition=Q(taxable__gte=0, total__gte=0), name="bill_amounts_nonneg"),
        ]
        indexes = [models.Index(fields=["company", "status", "date"])]

    @property
    def reference(self) -> str:
        """How a draft is named before it has a number: ``D-42``."""
        return f"D-{self.pk}"

    @property
    def label(self) -> str:
        return self.number or self.reference

    def audit_state(self) -> dict:
        return {"ref": self.reference, "number": self.number, "customer": self.customer.code,
                "date": self.date.isoformat(), "taxable": f"{self.taxable:.2f}", "cgst": f"{self.cgst:.2f}",
                "sgst": f"{self.sgst:.2f}", "igst": f"{self.igst:.2f}", "round_off": f"{self.round_off:.2f}",
                "total": f"{self.total:.2f}", "status": self.status}


class BillLine(models.Model):
    """One line of a bill, priced; ``delivery_line`` is unique (a line is billed once) and is cleared
    when the bill is rejected, so the delivery is unbilled again."""

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
    delivery_line = models.OneToOneField(DeliveryLine, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="bill_line")
    delivery_number = models.CharField(max_length=40)
    position = models.PositiveIntegerField()
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="bill_lines")
    description = models.CharField(max_length=300)
    hsn = models.CharField(max_length=8)
    is_service = models.BooleanField(default=False)
    quantity = models.DecimalField(**QTY)
    uom = models.CharField(max_length=10)
    rate = models.DecimalField(**MONEY)
    discount_pct = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    gross = models.DecimalField(**MONEY)
    discount = models.DecimalField(**MONEY, default=0)
    taxable = models.DecimalField(**MONEY)
    gst_rate = models.DecimalField(**RATE)
    cgst = models.DecimalField(**MONEY, default=0)
    sgst = models.DecimalField(**MONEY, default=0)
    igst = models.DecimalField(**MONEY, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bill", "position"], name="bill_line_position")]


class Note(models.Model):
    """A credit note or debit note raised in dues against an approved tax invoice (``bill``).

    Like a bill it is a DRAFT until approved: only then does it take the next number of its kind's
    series (``credit_note_prefix`` / ``debit_note_prefix``) and post through the ledger — a credit note
    allocated to the invoice's residual, a debit note as a new receivable. The customer and the place
    of supply (so the tax split) are the invoice's.
    """

    CREDIT, DEBIT = "credit", "debit"
    KINDS = [(CREDIT, "credit note"), (DEBIT, "debit note")]
    RETURN, RATE, SHORTAGE, OTHER = "return", "rate", "shortage", "other"
    REASONS = [(RETURN, "goods returned"), (RATE, "rate difference"), (SHORTAGE, "shortage"), (OTHER, "other")]
    DRAFT, APPROVED, REJECTED = Bill.DRAFT, Bill.APPROVED, Bill.REJECTED

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="billing_notes")
    kind = models.CharField(max_length=6, choices=KINDS)
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="notes", help_text="the original invoice")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="billing_notes")
    date = models.DateField()
    reason = models.CharField(max_length=8, choices=REASONS)
    text = models.CharField(max_length=300, blank=True, help_text="the reason in words (required for 'other')")
    place_of_supply = models.CharField(max_length=2, blank=True)
    currency = models.CharField(max_length=3)
    taxable = models.DecimalField(**MONEY)
    cgst = models.DecimalField(**MONEY, default=0)
    sgst = models.DecimalField(**MONEY, default=0)
    igst = models.DecimalField(**MONEY, default=0)
    round_off = models.DecimalField(**MONEY, default=0)
    total = models.DecimalField(**MONEY)
    status = models.CharField(max_length=8, default=DRAFT, choices=Bill.STATUSES)
    number = models.CharField(max_length=16, null=True, blank=True, help_text="assigned on approval")
    document = models.OneToOneField("ledger.Document", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="note", help_text="the posted ledger credit or debit note")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.CharField(max_length=150)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True,
                                       help_text="why rejected, or why a credit hold was overridden")
    held_reason = models.CharField(max_length=500, blank=True, help_text="the last credit refusal (debit notes)")
    irn = models.CharField(max_length=64, blank=True)
    ack_no = models.CharField(max_length=20, blank=True)
    ack_date = models.DateTimeField(null=True, blank=True)
    signed_qr = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "kind", "number"], condition=Q(number__isnull=False),
                                    name="note_number_unique"),
            models.CheckConstraint(condition=Q(status="approved", number__isnull=False, document__isnull=False)
                                   | ~Q(status="approved"), name="note_approved_numbered"),
            models.CheckConstraint(condition=Q(taxable__gt=0, total__gte=0), name="note_amounts_positive"),
        ]
        indexes = [models.Index(fields=["company", "status", "date"])]

    @property
    def reference(self) -> str:
        """How a draft note is named before it has a number: ``N-7``."""
        return f"N-{self.pk}"

    @property
    def label(self) -> str:
        return self.number or self.reference

    @property
    def title(self) -> str:
        return "Credit note" if self.kind == self.CREDIT else "Debit note"

    @property
    def reason_text(self) -> str:
        return self.text if self.reason == self.OTHER else dict(self.REASONS)[self.reason] + (
            f": {self.text}" if self.text else "")

    def audit_state(self) -> dict:
        return {"ref": self.reference, "kind": self.kind, "number": self.number, "invoice": self.bill.number,
                "customer": self.customer.code, "date": self.date.isoformat(), "reason": self.reason,
                "text": self.text, "taxable": f"{self.taxable:.2f}", "cgst": f"{self.cgst:.2f}",
                "sgst": f"{self.sgst:.2f}", "igst": f"{self.igst:.2f}", "round_off": f"{self.round_off:.2f}",
                "total": f"{self.total:.2f}", "status": self.status}


class NoteLine(models.Model):
    """A line of a note, priced like an invoice line; ``bill_line`` is the invoice line it adjusts
    (HSN/SAC, unit and GST rate come from it)."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="lines")
    bill_line = models.ForeignKey(BillLine, on_delete=models.PROTECT, related_name="note_lines")
    position = models.PositiveIntegerField()
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="note_lines")
    description = models.CharField(max_length=300)
    hsn = models.CharField(max_length=8)
    is_service = models.BooleanField(default=False)
    quantity = models.DecimalField(**QTY)
    uom = models.CharField(max_length=10)
    rate = models.DecimalField(**MONEY)
    discount_pct = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    gross = models.DecimalField(**MONEY)
    discount = models.DecimalField(**MONEY, default=0)
    taxable = models.DecimalField(**MONEY)
    gst_rate = models.DecimalField(**RATE)
    cgst = models.DecimalField(**MONEY, default=0)
    sgst = models.DecimalField(**MONEY, default=0)
    igst = models.DecimalField(**MONEY, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["note", "position"], name="note_line_position"),
                       models.CheckConstraint(condition=Q(quantity__gt=0, rate__gt=0), name="note_line_amounts")]


class RecurringCharge(models.Model):
    """A fee billed on a schedule (a monthly AMC, a yearly licence): each period makes one unbilled
    delivery (``Delivery.recurring_charge`` + ``period``, unique together), so the bill run drafts it
    like any challan and a period is never generated twice."""

    MONTHLY, QUARTERLY, YEARLY = "monthly", "quarterly", "yearly"
    FREQUENCIES = [(MONTHLY, "monthly"), (QUARTERLY, "quarterly"), (YEARLY, "yearly")]
    MONTHS = {MONTHLY: 1, QUARTERLY: 3, YEARLY: 12}

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="recurring_charges")
    code = models.CharField(max_length=20, help_text="the charge's reference, e.g. AMC-C001")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="recurring_charges")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="recurring_charges")
    rate = models.DecimalField(**MONEY)
    quantity = models.DecimalField(**QTY, default=1)
    discount_pct = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    frequency = models.CharField(max_length=9, choices=FREQUENCIES, default=MONTHLY)
    billing_day = models.PositiveSmallIntegerField(default=1, help_text="day of the month (31: the month's last day)")
    start = models.DateField()
    end = models.DateField(null=True, blank=True)
    po = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="recurring_charge_code_unique"),
            models.CheckConstraint(condition=Q(rate__gte=0, quantity__gt=0, discount_pct__gte=0,
                                               discount_pct__lte=100, billing_day__gte=1, billing_day__lte=31),
                                   name="recurring_charge_amounts"),
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                                   name="recurring_charge_dates"),
        ]

    def __str__(self) -> str:
        return f"recurring charge {self.code}"

    def audit_state(self) -> dict:
        return {"code": self.code, "customer": self.customer.code, "item": self.item.code,
                "rate": f"{self.rate:.2f}", "quantity": f"{self.quantity.normalize():f}",
                "discount_pct": f"{self.discount_pct.normalize():f}", "frequency": self.frequency,
                "billing_day": self.billing_day, "start": self.start.isoformat(),
                "end": self.end.isoformat() if self.end else None, "po": self.po}
