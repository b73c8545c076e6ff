"""A small book and one API token per role, shared by the API tests."""

from __future__ import annotations

from decimal import Decimal

import pytest

ROLES = ("admin", "ar_manager", "collector", "billing", "sales", "auditor")


@pytest.fixture
def api_book(company, make_customer, post):
    """C001 (Rahul's), C002 (Meera's), their invoices and a part payment; a token for each role."""
    from dues.api.tokens import token_add
    from dues.users.services import user_add

    c1 = make_customer("C001", name="Shree Ganesh Traders", salesperson="Rahul", collector="Pooja",
                       credit_limit="200000")
    c2 = make_customer("C002", name="Kaveri Distributors", salesperson="Meera", collector="Pooja")
    post("invoice", "INV-1", c1, "2026-09-01", "118000.00", taxable_value=Decimal("100000.00"))
    post("invoice", "INV-2", c1, "2026-11-01", "5900.00", taxable_value=Decimal("5000.00"))
    post("invoice", "INV-3", c2, "2026-10-01", "11800.00", taxable_value=Decimal("10000.00"))
    post("receipt", "RCT-1", c1, "2026-10-15", "18000.00", allocations=[("INV-1", Decimal("18000.00"))])
    tokens = {}
    for role in ROLES:
        user, _ = user_add(username=f"api-{role}", role=role, password="a-long-test-password-1",
                           person_name="Rahul" if role == "sales" else "", actor="test")
        tokens[role] = token_add(username=user.username, name="test", actor="test")[1]
    return {"customers": {"C001": c1, "C002": c2}, "tokens": tokens}


def auth(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
