"""The demo's billing queue: drafts awaiting approval, one of them held on credit (dues.demo.billing)."""

from __future__ import annotations

from datetime import date


def test_demo_billing_leaves_drafts_and_one_credit_hold(company, make_customer):
    from dues.billing.models import Bill
    from dues.demo.billing import build_demo_billing

    for i in range(12):
        make_customer(f"C{i:03d}", name=f"Customer {i}", state="27", credit_limit="1000000")
    make_customer("TIGHT", name="Near The Limit", state="27", credit_limit="50000")
    counts = build_demo_billing(company, date(2026, 12, 6))
    drafts = Bill.objects.filter(company=company, status=Bill.DRAFT)
    assert counts["drafts"] == drafts.count() >= 2 and counts["held"] == 1
    held = drafts.exclude(held_reason="")
    assert [b.customer.code for b in held] == ["TIGHT"] and "credit limit" in held[0].held_reason
    assert drafts.filter(held_reason="").exists()  # others simply await approval
    assert not Bill.objects.filter(status=Bill.APPROVED).exists()
