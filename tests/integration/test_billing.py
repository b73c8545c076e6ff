"""Billing: item/contract/delivery imports, the bill run, approval with the credit check, rejection."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dues.core.errors import DuesError, PermissionDenied, ValidationFailed

ITEMS = """code,name,hsn,unit,gst_rate,kind
BOLT,Hex bolt M12,73181500,NOS,18,goods
PIPE,GI pipe 2in,7306,MTR,12,goods
SVC,Installation,998719,HRS,18,service
"""
CONTRACTS = """customer,item,rate,valid_from,valid_to,discount_pct
C001,BOLT,12.50,2026-04-01,2027-03-31,2
C002,PIPE,410,2026-04-01,,
"""
TODAY = date(2026, 12, 6)  # the credit check's "today" (approval reads the clock otherwise)
DELIVERIES = """delivery,customer,date,item,hsn,qty,uom,rate,gst_rate,discount_pct,po
DC-1,C001,2026-11-20,BOLT,,1000,NOS,,,,PO-7
DC-1,C001,2026-11-20,SVC,,3,HRS,750,18,,PO-7
DC-2,C001,2026-11-25,PIPE,7306,10,MTR,399.99,12,5,PO-7
DC-3,C002,2026-11-26,PIPE,,7,MTR,,,,
DC-4,C002,2026-12-10,PIPE,,1,MTR,,,,
"""


@pytest.fixture
def book(company, make_customer, tmp_path):
    from dues.billing.imports import import_billing_file

    make_customer("C001", name="Patil Engineering", state="27", credit_limit="50000")
    make_customer("C002", name="Kaveri Pumps", state="29", gstin="")
    for kind, text in (("items", ITEMS), ("contracts", CONTRACTS), ("deliveries", DELIVERIES)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text)
        import_billing_file(kind=kind, path=path, company=company, actor="maker")
    return company


def test_imports_make_items_contracts_and_challans(book, tmp_path):
    from dues.billing.imports import import_billing_file
    from dues.billing.models import Delivery, DeliveryLine, Item, RateContract

    assert Item.objects.count() == 3 and RateContract.objects.count() == 2
    assert Delivery.objects.count() == 4 and DeliveryLine.objects.count() == 5
    bolt = DeliveryLine.objects.get(delivery__number="DC-1", item__code="BOLT")
    assert (bolt.rate, bolt.discount_pct, bolt.hsn, bolt.gst_rate) == (Decimal("12.50"), Decimal(2), "73181500",
                                                                       Decimal(18))  # from the contract and item
    path = tmp_path / "again.csv"
    path.write_text(DELIVERIES)
    result = import_billing_file(kind="deliveries", path=path, company=book, actor="maker")
    assert result.created == 0 and result.unchanged == 5 and DeliveryLine.objects.count() == 5


def test_bad_delivery_rows_are_all_named_and_nothing_written(book, tmp_path):
    from dues.billing.imports import import_billing_file
    from dues.billing.models import Delivery

    path = tmp_path / "bad.csv"
    path.write_text("delivery,customer,date,item,hsn,qty,uom,rate,gst_rate\n"
                    "DC-9,C001,2026-11-20,BOLT,7318,5,NOS,10,18\n"
                    "DC-10,NOPE,2026-11-20,BOLT,7318,5,NOS,10,18\n"
                    "DC-11,C001,2026-11-20,BOLT,7318,-5,NOS,10,18\n"
                    "DC-12,C001,2026-11-20,BOLT,7318,5,NOS,10,17\n"
                    "DC-13,C001,2026-11-20,BOLT,73A8,5,NOS,10,18\n"
                    "DC-14,C002,2026-11-20,BOLT,7318,5,NOS,,18\n")
    with pytest.raises(ValidationFailed) as exc:
        import_billing_file(kind="deliveries", path=path, company=book, actor="maker")
    text = [str(p) for p in exc.value.problems]
    assert text[0] == "bad.csv:3: customer: unknown customer 'NOPE' (import customers first)"
    assert text[1] == "bad.csv:4: qty: must be positive, got -5"
    assert text[2].startswith("bad.csv:5: gst_rate: 17 is not a GST rate slab (0, 0.25, 3, 5, 12, 18, 28)")
    assert text[3] == "bad.csv:6: hsn: '73A8' is not an HSN/SAC code (4, 6 or 8 digits)"
    assert text[4].startswith("bad.csv:7: rate: is empty and no rate contract of C002 for BOLT")
    assert len(text) == 5
    assert not Delivery.objects.filter(number="DC-9").exists()


def test_configured_slabs(book, tmp_path):
    from dues.billing.imports import import_billing_file
    from dues.billing.services import billing_settings_set

    billing_settings_set(company=book, values={"gst_slabs": "0,5,18,40"}, actor="admin")
    path = tmp_path / "d.csv"
    path.write_text("delivery,customer,date,item,qty,rate,gst_rate\nDC-20,C001,2026-11-20,BOLT,1,10,40\n"
                    "DC-21,C001,2026-11-20,BOLT,1,10,12\n")
    with pytest.raises(ValidationFailed) as exc:
        import_billing_file(kind="deliveries", path=path, company=book, actor="maker")
    assert [p.row for p in exc.value.problems] == [3]


def test_bill_run_prices_taxes_and_never_bills_twice(book):
    from dues.billing.models import Bill
    from dues.billing.services import bill_run

    run = bill_run(company=book, on=date(2026, 11, 30), actor="maker")
    bills = {tuple(run.deliveries[b.pk]): b for b in run.bills}
    assert set(bills) == {("DC-1",), ("DC-2",), ("DC-3",)}  # DC-4 is after the run date
    dc1 = bills[("DC-1",)]
    # bolts 1000 x 12.50 less 2% = 12,250.00; service 3 x 750 = 2,250.00; 18% intra-state: halves per line
    assert dc1.taxable == Decimal("14500.00")
    assert (dc1.cgst, dc1.sgst, dc1.igst) == (Decimal("1305.00"), Decimal("1305.00"), Decimal(0))
    assert dc1.total == Decimal("17110") and dc1.round_off == 0
    dc2 = bills[("DC-2",)]  # 10 x 399.99 less 5% = 3799.905 -> 3799.91; 6% each = 227.99 (227.9946)
    assert dc2.taxable == Decimal("3799.91") and dc2.cgst == Decimal("227.99") == dc2.sgst
    assert dc2.total == Decimal("4256") and dc2.round_off == Decimal("0.11")
    dc3 = bills[("DC-3",)]  # Karnataka: IGST
    assert (dc3.taxable, dc3.igst, dc3.cgst) == (Decimal("2870.00"), Decimal("344.40"), Decimal(0))
    assert dc3.total == Decimal("3214") and dc3.round_off == Decimal("-0.40")
    assert all(b.status == Bill.DRAFT and b.number is None for b in run.bills)
    assert bill_run(company=book, on=date(2026, 11, 30), actor="maker").bills == []
    assert len(bill_run(company=book, on=date(2026, 12, 31), actor="maker").bills) == 1


def test_consolidating_customer_gets_one_bill_per_po(book):
    from dues.billing.services import bill_run, customer_bill_by_po
    from dues.customers.models import Customer

    customer_bill_by_po(customer=Customer.objects.get(code="C001"), on=True, actor="admin")
    run = bill_run(company=book, on=date(2026, 11, 30), customer=Customer.objects.get(code="C001"), actor="maker")
    assert len(run.bills) == 1 and run.deliveries[run.bills[0].pk] == ["DC-1", "DC-2"]
    assert run.bills[0].taxable == Decimal("18299.91")


def test_drafts_are_not_receivables_until_approved(book):
    from dues.billing.services import bill_run, bills_approve
    from dues.customers.models import Customer
    from dues.ledger.models import Document, OpenItem
    from dues.reporting.selectors import outstanding

    run = bill_run(company=book, on=date(2026, 11, 30), actor="maker")
    assert not Document.objects.exists() and not OpenItem.objects.exists()
    c1 = Customer.objects.get(code="C001")
    assert outstanding(company=book, customer=c1, as_of=date(2026, 12, 6)) == []
    result = bills_approve(company=book, as_of=TODAY, bills=run.bills, actor="checker")
    assert len(result.approved) == 3 and not result.refused
    numbers = sorted(b.number for b in result.approved)
    assert numbers == ["INV/2627/0001", "INV/2627/0002", "INV/2627/0003"]
    doc = Document.objects.get(number="INV/2627/0002")
    bill = doc.bill
    assert (doc.amount, doc.taxable_value, doc.cgst, doc.sgst, doc.igst) == (
        bill.total, bill.taxable, bill.cgst, bill.sgst, bill.igst)
    assert doc.due_date == date(2026, 12, 30)  # net 30 from the customer's terms
    assert len(outstanding(company=book, customer=c1, as_of=date(2026, 12, 6))) == 2


def test_round_off_is_posted_to_the_round_off_account(book):
    from dues.billing.services import bill_run, bills_approve
    from dues.ledger.models import JournalLine

    run = bill_run(company=book, on=date(2026, 11, 30), actor="maker")
    bills_approve(company=book, as_of=TODAY, bills=run.bills, actor="checker")
    lines = JournalLine.objects.filter(account__role="round_off")
    assert sum(ln.debit - ln.credit for ln in lines) == Decimal("0.40") - Decimal("0.11")


def test_credit_limit_refuses_then_audited_override(book, post):
    from dues.audit.models import AuditRecord
    from dues.billing.models import Bill
    from dues.billing.services import bill_run, bills_approve
    from dues.credit.services import check
    from dues.customers.models import Customer

    c1 = Customer.objects.get(code="C001")
    post("invoice", "OLD-1", c1, "2026-11-01", 40000)
    run = bill_run(company=book, on=date(2026, 11, 30), customer=c1, actor="maker")
    decision = check(c1, Decimal(17110), date(2026, 12, 6))
    assert not decision.allowed and decision.figures.outstanding == Decimal("40000.00")
    assert decision.figures.drafts == Decimal("21366.00") and decision.figures.limit == Decimal(50000)
    result = bills_approve(company=book, as_of=TODAY, bills=run.bills, actor="checker")
    # DC-1 (17,110) goes over the limit; DC-2 (4,256) fits: 40,000 + 4,256 <= 50,000
    assert [b.total for b in result.approved] == [Decimal(4256)] and len(result.refused) == 1
    assert result.refused[0].decision.reasons[0] == (
        "credit limit 50,000.00 exceeded: outstanding 40,000.00 + this invoice 17,110.00 = 57,110.00 "
        "(over by 7,110.00)")
    held = Bill.objects.get(status="draft", number__isnull=True)
    assert held.held_reason.startswith("credit limit 50,000.00 exceeded")
    with pytest.raises(PermissionDenied):
        bills_approve(company=book, as_of=TODAY, bills=[held], actor=_user("billy", "billing"), override_reason="rush")
    result = bills_approve(company=book, as_of=TODAY, bills=[held], actor=_user("mona", "ar_manager"),
                           override_reason="MD approved")
    assert len(result.approved) == 1 and Bill.objects.get(pk=held.pk).reason == "MD approved"
    overrides = AuditRecord.objects.filter(action="credit_override")
    assert overrides.count() == 1 and "MD approved" in overrides.first().after_json


def test_overdue_invoice_holds_approval(book, post):
    from dues.billing.services import bill_run, bills_approve
    from dues.customers.models import Customer

    c2 = Customer.objects.get(code="C002")
    post("invoice", "OLD-2", c2, "2026-08-01", 100)  # due 31-08: 97 days overdue on 06-12
    run = bill_run(company=book, on=date(2026, 11, 30), customer=c2, actor="maker")
    result = bills_approve(company=book, as_of=TODAY, bills=run.bills, actor="checker")
    assert result.refused and "days overdue (allowed 30 days)" in result.refused[0].decision.reasons[0]


def test_four_eyes_and_rejection(book):
    from dues.billing.models import Bill
    from dues.billing.services import bill_reject, bill_run, billing_settings_set, bills_approve

    billing_settings_set(company=book, values={"four_eyes": "on"}, actor="admin")
    run = bill_run(company=book, on=date(2026, 11, 30), actor="maker")
    with pytest.raises(PermissionDenied, match="four-eyes"):
        bills_approve(company=book, as_of=TODAY, bills=run.bills[:1], actor="maker")
    with pytest.raises(DuesError, match="needs a reason"):
        bill_reject(bill=run.bills[0], reason=" ", actor="checker")
    bill_reject(bill=run.bills[0], reason="wrong rate", actor="checker")
    assert Bill.objects.get(pk=run.bills[0].pk).status == "rejected"
    again = bill_run(company=book, on=date(2026, 11, 30), actor="maker")  # its deliveries are unbilled again
    assert len(again.bills) == 1


def test_numbers_are_gapless_per_fiscal_year_and_at_most_16(book):
    from dues.billing.models import Bill
    from dues.billing.services import bill_run, billing_settings_set, bills_approve
    from dues.core.billing import series_number

    billing_settings_set(company=book, values={"prefix": "SIS/{fy}/"}, actor="admin")
    run = bill_run(company=book, on=date(2026, 11, 30), actor="maker")
    bills_approve(company=book, as_of=TODAY, bills=run.bills[:1], actor="checker")
    bills_approve(company=book, as_of=TODAY, bills=run.bills[1:], actor="checker")
    assert sorted(Bill.objects.values_list("number", flat=True)) == ["SIS/2627/0001", "SIS/2627/0002", "SIS/2627/0003"]
    with pytest.raises(DuesError):
        billing_settings_set(company=book, values={"prefix": "A-VERY-LONG-PREFIX/"}, actor="admin")
    with pytest.raises(ValueError):
        series_number("INV {fy}", 2026, 1)


def _user(name, role):
    from django.contrib.auth.models import User

    from dues.users.models import UserRole

    user = User.objects.create_user(name, password="x")
    UserRole.objects.create(user=user, role=role)
    return user


@pytest.fixture
def approved(book):
    from dues.billing.services import bill_run, billing_settings_set, bills_approve
    from dues.customers.models import Customer

    Customer.objects.filter(code="C002").update(gstin="29AAGCB7383J1Z4", address="14 Peenya Industrial Area",
                                                city="Bengaluru", pin="560058")
    Customer.objects.filter(code="C001").update(address="Gat 12, Chakan", city="Pune")
    billing_settings_set(company=book, values={"upi_vpa": "sahyadri@hdfcbank", "address": "Plot 7, MIDC Bhosari",
                                               "city": "Pune", "pin": "411026",
                                               "bank_details": "HDFC Bank, A/c 50100123456789, IFSC HDFC0000123"},
                         actor="admin")
    book.gstin = "27AAPFU0939F1ZV"
    book.save()
    run = bill_run(company=book, on=date(2026, 11, 30), actor="maker")
    bills_approve(company=book, as_of=TODAY, bills=run.bills, actor="checker")
    from dues.billing.models import Bill

    return {b.customer.code + ("-dc2" if "DC-2" in str(b.lines.first().delivery_number) else ""): b
            for b in Bill.objects.select_related("customer")}


def test_tax_invoice_pdf_reads_back_with_the_legal_fields(approved, book):
    import io

    from pypdf import PdfReader

    from dues.documents.tax_invoice import render_tax_invoice

    bill = approved["C001"]
    text = PdfReader(io.BytesIO(render_tax_invoice(book, bill))).pages[0].extract_text()
    for expected in ("Tax invoice", bill.number, "30-11-2026", "Patil Engineering",
                     "GSTIN 27AAPFU0939F1ZV", "Place of supply: 27 Maharashtra", "73181500", "998719", "12,250.00",
                     "CGST @ 9%", "1,305.00", "Round off", "17,110.00",
                     "Rupees Seventeen Thousand One Hundred Ten Only", "sahyadri@hdfcbank", "IFSC HDFC0000123",
                     "Plot 7, MIDC Bhosari"):
        assert expected in text, expected
    inter = approved["C002"]
    text = PdfReader(io.BytesIO(render_tax_invoice(book, inter))).pages[0].extract_text()
    assert "IGST @ 12%" in text and "Place of supply: 29 Karnataka" in text and "29AAGCB7383J1Z4" in text


def test_einvoice_payload_is_valid_and_consistent(approved, book):
    from dues.billing.einvoice import einvoice_payload, einvoice_problems

    payload = einvoice_payload(book, approved["C002"])
    assert payload["Version"] == "1.1" and payload["DocDtls"] == {"Typ": "INV", "No": approved["C002"].number,
                                                                   "Dt": "30/11/2026"}
    assert payload["BuyerDtls"]["Pos"] == "29" and payload["SellerDtls"]["Pin"] == 411026
    assert payload["ValDtls"] == {"AssVal": 2870, "CgstVal": 0, "SgstVal": 0, "IgstVal": 344.4, "CesVal": 0,
                                  "StCesVal": 0, "Discount": 0, "OthChrg": 0, "RndOffAmt": -0.4, "TotInvVal": 3214}
    intra = einvoice_payload(book, approved["C001"])
    assert einvoice_problems(intra) == []
    intra["ItemList"][0]["CgstAmt"] += 5
    assert any("differs from SGST" in p for p in einvoice_problems(intra))


def test_einvoice_needs_the_addresses(book):
    from dues.billing.einvoice import einvoice_payload
    from dues.billing.services import bill_run, bills_approve

    run = bill_run(company=book, on=date(2026, 11, 30), actor="maker")
    bills_approve(company=book, as_of=TODAY, bills=run.bills[:1], actor="checker")
    with pytest.raises(ValidationFailed) as exc:
        einvoice_payload(book, run.bills[0].__class__.objects.get(pk=run.bills[0].pk))
    assert any("SellerDtls" in str(p) for p in exc.value.problems)
    with pytest.raises(DuesError, match="only an approved"):
        einvoice_payload(book, run.bills[1])


def test_irp_response_is_stored_on_the_invoice(approved, book):
    import base64
    import json

    from dues.billing.services import irp_response_import

    bill = approved["C001"]
    claims = base64.urlsafe_b64encode(json.dumps({"data": json.dumps({"DocNo": bill.number})}).encode()).decode()
    response = {"success": True, "result": {"AckNo": 232210036754863, "AckDt": "2026-11-30 16:26:00",
                                            "Irn": "a" * 64, "SignedQRCode": f"x.{claims}.y", "Status": "ACT"}}
    stored = irp_response_import(company=book, response=response, actor="checker")
    assert (stored.pk, stored.irn, stored.ack_no) == (bill.pk, "a" * 64, "232210036754863")
    assert stored.ack_date.isoformat() == "2026-11-30T16:26:00+05:30"


def test_tax_invoices_render_in_worker_processes(approved, book):
    from dues.billing.models import Bill
    from dues.documents.tax_invoice import render_tax_invoices

    bills = list(Bill.objects.filter(status="approved").select_related("customer").order_by("pk"))
    pdfs = render_tax_invoices(book, bills, workers=2)
    assert len(pdfs) == len(bills) == 3 and all(p.startswith(b"%PDF") for p in pdfs)
    assert Bill.objects.filter(status="approved").count() == 3  # the parent's connection still works


def test_bench_billing_small(company):
    from dues.bench import billing

    result = billing.run(company=company, lines=60, pdfs=3, seed=1)
    assert result["delivery_lines"] == 60 and result["drafts"] > 10 and result["pdfs"] == 3
    assert result["pool_pdfs_per_second"] > 0 and result["baseline_pdfs_per_second"] > 0


def test_customers_carry_a_billing_address(company, make_customer):
    c = make_customer("C009", address="Gat 12, Chakan", city="Pune", pin="410501")
    assert (c.address, c.city, c.pin) == ("Gat 12, Chakan", "Pune", "410501")
    assert c.audit_state()["pin"] == "410501"
    with pytest.raises(ValidationFailed, match="not a six-digit PIN code"):
        make_customer("C010", pin="12345")


def test_a_days_invoices_are_written_as_pdfs_into_a_folder(approved, book, tmp_path, monkeypatch):
    """`dues invoice pdfs --date D -o DIR`: every approved invoice of the day, one PDF each named by its number,
    drawn in worker processes; each reads back with its own number."""
    import io

    from click.testing import CliRunner
    from pypdf import PdfReader

    import dues.cli.billing  # noqa: F401  (registers the commands)
    from dues.cli.main import cli

    monkeypatch.setenv("DUES_RENDER_WORKERS", "2")
    out_dir = tmp_path / "print"
    result = CliRunner().invoke(cli, ["invoice", "pdfs", "--date", "2026-11-30", "-o", str(out_dir)])
    assert result.exit_code == 0, result.output
    numbers = sorted(b.number for b in approved.values())
    assert f"wrote {len(numbers)} tax invoice PDF(s)" in result.output
    files = sorted(out_dir.iterdir())
    assert [f.name for f in files] == sorted(f"{n.replace('/', '-')}.pdf" for n in numbers)
    for f in files:
        number = f.stem
        text = PdfReader(io.BytesIO(f.read_bytes())).pages[0].extract_text()
        assert any(n.replace("/", "-") == number and n in text for n in numbers)
    none = CliRunner().invoke(cli, ["invoice", "pdfs", "--date", "2026-11-29", "-o", str(tmp_path / "empty")])
    assert none.exit_code == 0 and "no approved tax invoice dated 29-11-2026" in none.output
    backwards = CliRunner().invoke(cli, ["invoice", "pdfs", "--date", "2026-11-30", "--to", "2026-11-01", "-o", "x"])
    assert backwards.exit_code == 2 and "--to is before --date" in backwards.output
