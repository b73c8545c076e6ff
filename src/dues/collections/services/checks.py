"""Input checks shared by the collections services."""

from __future__ import annotations

from decimal import Decimal


def raise_problems(found: list) -> None:
    from dues.core.errors import ValidationFailed

    if found:
        raise ValidationFailed(found)


def positive_amount(value, field: str, found: list) -> Decimal | None:
    from decimal import InvalidOperation

    from dues.core.errors import Problem

    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        found.append(Problem(f"not an amount: {value!r}", field))
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
