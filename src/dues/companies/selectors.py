"""Reading the company and its accounts."""

from __future__ import annotations

from dues.core.errors import DuesError

from .models import Account, Company


def company_get() -> Company:
    """The company of this database (dues keeps one company per database)."""
    company = Company.objects.order_by("id").first()
    if company is None:
        raise DuesError("no company yet: run `dues init --company NAME` first")
    return company


def accounts_by_role(company: Company) -> dict[str, Account]:
    return {a.role: a for a in Account.objects.filter(company=company).exclude(role="")}
