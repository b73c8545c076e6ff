"""Input checks shared by the collections services."""

from __future__ import annotations

from decimal import Decimal


def raise_problems(found: list) -> None:
    from dues.core.errors import ValidationFailed

    if found:
        raise ValidationFailed(found)


def positive_amount(value, field: str, found: list, currency: str = "INR") -> Decimal | None:
    """An amount more than zero, as people type it ("1,50,000", "₹ 25,000.50"); no more decimals than the currency."""
    from dues.core.errors import Problem
    from dues.core.money import MoneyError, parse_amount_input

    if isinstance(value, Decimal):
        amount = value
    else:
        try:
            amount = parse_amount_input(str(value), currency)
        except MoneyError as exc:
            found.append(Problem(str(exc), field))
            return None
    if not amount.is_finite() or amount <= 0:
        found.append(Problem("must be more than zero", field))
        return None
    return amount


def customer_documents(customer, numbers, kinds, field: str, found: list) -> list:
    from dues.core.errors import Problem
    from dues.ledger.models import Document

    numbers = [n.strip() for n in numbers if n and n.strip()]
    docs = {d.number: d for d in Document.objects.filter(company_id=customer.company_id, customer=customer,
                                                          kind__in=kinds, number__in=numbers,
                                                          status=Document.POSTED)}
    for n in numbers:
        if n not in docs:
            found.append(Problem(f"{customer.code} has no posted invoice {n}", field))
    return [docs[n] for n in dict.fromkeys(numbers) if n in docs]
