"""The demo company bills from deliveries: an item master, a few rate contracts, the last days' delivery
challans, and the bill run's drafts waiting in the billing queue — one of them held on credit."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

ITEMS = [  # code, name, HSN/SAC, unit, GST rate (after the September 2025 reform), goods/service
    ("BRG-6205", "Deep groove ball bearing 6205-2RS", "84821011", "NOS", "18", "goods"),
    ("VBELT-B52", "V-belt B52 classical", "40103190", "NOS", "5", "goods"),
    ("HOSE-25", "Hydraulic hose 1 inch, 2 wire", "40093100", "MTR", "18", "goods"),
    ("BOLT-M12", "Hex bolt M12 x 50, HT 8.8", "73181500", "NOS", "18", "goods"),
    ("GRS-EP2", "Lithium EP2 grease, 18 kg pail", "27101980", "NOS", "18", "goods"),
    ("SVC-AMC", "Annual maintenance visit", "998719", "NOS", "18", "service"),
]
ADDRESS, CITY, PIN = "Plot D-12, MIDC Bhosari", "Pune", "411026"
BANK = "HDFC Bank, Bhosari branch · A/c 50100123456789 · IFSC HDFC0000123"


def build_demo_billing(company, today: date, *, actor: str = "demo", seed: int = 7) -> dict:
    """Items, contracts, deliveries and drafts; returns counts for the summary."""
    from dues.billing.models import Delivery, DeliveryLine, Item, RateContract
    from dues.billing.services import bill_run, billing_settings_set, bills_approve
    from dues.credit.services import check
    from dues.customers.models import Customer

    rnd = random.Random(seed * 31 + 12)
    billing_settings_set(company=company, values={
        "address": ADDRESS, "city": CITY, "pin": PIN, "upi_vpa": "sahyadri@hdfcbank", "bank_details": BANK,
        "four_eyes": "on", "gst_slabs": "0,0.25,3,5,12,18,28,40"}, actor=actor)
    items = Item.objects.bulk_create(
        Item(company=company, code=c, name=n, hsn=h, unit=u, gst_rate=Decimal(r), kind=k) for c, n, h, u, r, k in ITEMS)
    customers = list(Customer.objects.filter(company=company).order_by("code"))
    # a few customers to bill: ones inside their credit, and one already close to its limit
    fits, close = [], None
    for c in customers:
        if c.credit_limit is None:
            continue
        decision = check(c, Decimal(0), today, overdue_days_allowed=10_000)
        room = c.credit_limit - decision.figures.outstanding
        if room > 150_000 and len(fits) < 5 and rnd.random() < 0.3:
            fits.append(c)
        elif 0 < room < 60_000 and close is None:
            close = c
    chosen = fits + ([close] if close else [])
    for c in chosen:
        c.address, c.city, c.pin = f"{rnd.randint(1, 250)}, Industrial Estate", c.region or "Pune", "411019"
        c.save(update_fields=["address", "city", "pin"])
    contracts = [RateContract(company=company, customer=c, item=items[0], rate=Decimal("182.50"),
                              valid_from=date(today.year - 1, 4, 1), discount_pct=Decimal("2.5")) for c in fits[:3]]
    RateContract.objects.bulk_create(contracts)
    n = 0
    for c in chosen:
        for k in range(2 if c in fits[:2] else 1):
            n += 1
            d = Delivery.objects.create(company=company, number=f"DC/{today:%y%m}/{n:03d}", customer=c,
                                        date=today - timedelta(days=rnd.randint(1, 6) + 3 * k),
                                        po=f"PO-{rnd.randint(1000, 9999)}", created_by="billing")
            picks = rnd.sample(items, 3)
            for pos, item in enumerate(picks, start=1):
                qty = Decimal(rnd.choice([4, 10, 12, 25, 40, 60]))
                rate = Decimal(rnd.randint(900, 12_000)) / 10
                if c is close and pos == 1:  # enough to go over the limit
                    room = c.credit_limit - check(c, Decimal(0), today, overdue_days_allowed=10_000).figures.outstanding
                    qty, rate = Decimal(10), (room / 10 + 2500).quantize(Decimal("0.01"))
                DeliveryLine.objects.create(delivery=d, position=pos, item=item, hsn=item.hsn, quantity=qty,
                                            uom=item.unit, rate=rate, gst_rate=item.gst_rate)
    run = bill_run(company=company, on=today - timedelta(days=1), actor="billing")
    held = 0
    if close is not None:
        mine = [b for b in run.bills if b.customer_id == close.pk]
        result = bills_approve(company=company, bills=mine, actor="manager")  # refused: the hold is recorded
        held = len(result.refused)
    return {"items": len(items), "deliveries": n, "drafts": len(run.bills), "held": held}
