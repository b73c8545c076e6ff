"""Reading bank accounts and lines: what the matching engine and the web desk ask for."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from dues.companies.models import Company

from .models import BankAccount, BankLine

MONEY = DecimalField(max_digits=20, decimal_places=4)


def bank_accounts(*, company: Company) -> QuerySet[BankAccount]:
    return BankAccount.objects.filter(company=company).order_by("code")


def unapplied_credits(*, company: Company, bank_account: BankAccount | None = None) -> QuerySet[BankLine]:
    """Booked money-in lines not yet (fully) applied, oldest first, with ``open_amount`` annotated."""
    qs = BankLine.objects.filter(company=company, direction=BankLine.CREDIT, booked=True,
                                 status__in=[BankLine.UNAPPLIED, BankLine.PARTLY])
    if bank_account is not None:
        qs = qs.filter(bank_account=bank_account)
    return (qs.annotate(open_amount=F("amount") - F("applied_amount"))
            .select_related("bank_account").order_by("booking_date", "id"))


def bank_line_summary(*, company: Company) -> dict[str, dict]:
    """Per bank account: lines, credits and debits (booked), and the unapplied credit total."""
    zero = Value(Decimal(0), output_field=MONEY)
    rows = (BankLine.objects.filter(company=company, booked=True).values("bank_account__code")
            .annotate(lines=Count("id"),
                      credits=Coalesce(Sum("amount", filter=Q(direction=BankLine.CREDIT)), zero),
                      debits=Coalesce(Sum("amount", filter=Q(direction=BankLine.DEBIT)), zero),
                      unapplied=Coalesce(Sum(F("amount") - F("applied_amount"),
                                             filter=Q(direction=BankLine.CREDIT,
                                                      status__in=[BankLine.UNAPPLIED, BankLine.PARTLY])), zero)))
    return {r.pop("bank_account__code"): r for r in rows}
