"""Forms for entering a receipt and for allocating a credit to open invoices.

The header fields are ordinary Django form fields; the per-invoice amounts are read by
``AllocationRows`` from inputs named ``alloc-<open item id>``, so the rows follow whatever open
invoices the customer has.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django import forms

from dues import clock
from dues.companies.models import Company
from dues.core.allocation import oldest_first
from dues.core.money import ZERO, quantize
from dues.formats import format_money
from dues.ledger.models import Document, OpenItem
from dues.web.fields import AmountField, DayField, read_amount

MODE_CHOICES = [(m, m.upper() if len(m) <= 4 and m not in ("bank", "cash", "card") else m.capitalize())
                for m in Document.MODES]


def _money(required: bool = False, **extra) -> AmountField:
    return AmountField(required=required, **extra)


class ReceiptForm(forms.Form):
    customer = forms.CharField(max_length=40, widget=forms.TextInput(attrs={
        "autocomplete": "off", "list": "customer-options", "spellcheck": "false",
        "placeholder": "Code or name"}))
    date = DayField()
    amount = _money(required=True, label="Amount received")
    mode = forms.ChoiceField(choices=MODE_CHOICES, initial="neft")
    reference = forms.CharField(max_length=100, required=False, label="Reference / UTR",
                                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    tds = _money(label="TDS deducted")
    charges = _money(label="Bank charges")
    discount = _money(label="Discount")
    number = forms.CharField(max_length=40, label="Receipt number",
                             widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))

    def __init__(self, *args, company: Company, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.company, self.customer_obj = company, customer

    def clean_customer(self):
        if self.customer_obj is None:
            raise forms.ValidationError("No customer you can see has this code; pick one from the suggestions.")
        return self.customer_obj

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        if Document.objects.filter(company=self.company, kind=Document.RECEIPT, number=number).exists():
            raise forms.ValidationError(f"Receipt {number} already exists; give another number.")
        return number

    def clean(self):
        data = super().clean()
        if all(k in data for k in ("amount", "tds", "charges", "discount")) and self.total(data) <= 0:
            self.add_error("amount", "A receipt must settle something: enter the amount received.")
        return data

    @staticmethod
    def total(data) -> Decimal:
        return sum((data.get(k) or ZERO for k in ("amount", "tds", "charges", "discount")), ZERO)


def lenient_total(data, names=("amount", "tds", "charges", "discount")) -> Decimal:
    """What a half-typed receipt can settle, for the running figure: unreadable amounts count as nothing."""
    total = ZERO
    for name in names:
        value = _decimal(data.get(name, ""))
        if value is not None and value > 0:
            total += value
    return total


class AllocateForm(forms.Form):
    on = DayField(label="Allocate on")
    reason = forms.CharField(max_length=300, required=False, label="Note (optional)",
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))


def _decimal(text) -> Decimal | None:
    """A lenient read for running figures: what parses (any decimals), else None."""
    value, _ = read_amount(text, required=False, allow_negative=True)
    return value


@dataclass
class Row:
    item: OpenItem
    value: str = ""
    amount: Decimal | None = None
    error: str = ""
    overdue: int = 0  # days past due today

    @property
    def name(self) -> str:
        return f"alloc-{self.item.pk}"


class AllocationRows:
    """The amounts typed against each open invoice, checked against what is left on it and on the credit."""

    def __init__(self, items: list[OpenItem], available: Decimal, currency: str, data=None, fill: str = ""):
        self.available, self.currency = quantize(available, currency), currency
        today = clock.today()
        self.rows = [Row(i, overdue=max((today - i.due_date).days, 0)) for i in items]
        self.summary_error = ""
        if fill == "oldest":
            plan = dict(oldest_first(self.available, [(r.item.pk, r.item.residual) for r in self.rows]))
            for r in self.rows:
                if r.item.pk in plan:
                    r.amount = quantize(plan[r.item.pk], currency)
                    r.value = f"{r.amount:.2f}"
        elif fill != "clear" and data is not None:
            for r in self.rows:
                r.value = str(data.get(r.name, "")).strip()
                self._read(r)
        if self.allocated > self.available:
            self.summary_error = (f"{format_money(self.allocated)} allocated is more than the "
                                  f"{format_money(self.available)} available; lower an amount.")

    def _read(self, r: Row) -> None:
        if not r.value:
            return
        value, error = read_amount(r.value, currency=self.currency)
        if error:
            r.error = error
        elif value > r.item.residual:  # counted in the running figure, refused on posting
            r.amount = value
            r.error = f"More than the {format_money(r.item.residual)} outstanding on {r.item.document.number}."
        elif value > 0:
            r.amount = value

    @property
    def allocated(self) -> Decimal:
        return sum((r.amount for r in self.rows if r.amount), ZERO)

    @property
    def left(self) -> Decimal:
        return self.available - self.allocated

    @property
    def valid(self) -> bool:
        return not self.summary_error and not any(r.error for r in self.rows)

    @property
    def chosen(self) -> list[Row]:
        return [r for r in self.rows if r.amount and not r.error]

    def error_for(self, pk: int, message: str) -> None:
        for r in self.rows:
            if r.item.pk == pk:
                r.error = message
