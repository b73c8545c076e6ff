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


# ---------------------------------------------------------------------------- the cash-application workbench

WORKBENCH_STATUSES = {
    "unapplied": "to do (unapplied credits)",
    "suggested": "to do, with a proposal",
    "unmatched": "to do, no proposal",
    "applied": "applied",
    "ignored": "ignored",
    "returned": "returned by the bank",
    "all": "every line",
}


def workbench_lines(*, company: Company, bank_account: BankAccount | None = None, status: str = "unapplied",
                    date_from=None, date_to=None, only_ids=None) -> QuerySet[BankLine]:
    """Bank lines for the workbench, oldest first. ``unapplied`` (and ``suggested`` / ``unmatched``, which the
    caller narrows with ``only_ids`` from the engine's preview) are the credits still to apply; ``returned``
    shows both sides of a bounce; ``all`` every line, debits included."""
    qs = BankLine.objects.filter(company=company, booked=True)
    if bank_account is not None:
        qs = qs.filter(bank_account=bank_account)
    if date_from is not None:
        qs = qs.filter(booking_date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(booking_date__lte=date_to)
    if status in ("unapplied", "suggested", "unmatched"):
        qs = qs.filter(direction=BankLine.CREDIT, status=BankLine.UNAPPLIED)
    elif status == "applied":
        qs = qs.filter(direction=BankLine.CREDIT, status__in=[BankLine.APPLIED, BankLine.PARTLY])
    elif status == "ignored":
        qs = qs.filter(status=BankLine.IGNORED)
    elif status == "returned":
        qs = qs.filter(status__in=[BankLine.RETURNED, BankLine.REVERSAL])
    if only_ids is not None:
        qs = qs.filter(pk__in=only_ids)
    return qs.select_related("bank_account", "receipt__customer").order_by("booking_date", "id")


def workbench_counts(*, company: Company, bank_account: BankAccount | None = None) -> dict[str, int]:
    """Credits by workbench status (one aggregate query)."""
    qs = BankLine.objects.filter(company=company, booked=True, direction=BankLine.CREDIT)
    if bank_account is not None:
        qs = qs.filter(bank_account=bank_account)
    return qs.aggregate(
        unapplied=Count("id", filter=Q(status=BankLine.UNAPPLIED)),
        applied=Count("id", filter=Q(status__in=[BankLine.APPLIED, BankLine.PARTLY])),
        ignored=Count("id", filter=Q(status=BankLine.IGNORED)),
        returned=Count("id", filter=Q(status=BankLine.RETURNED)),
    )
