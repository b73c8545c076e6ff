"""Credit and debit notes raised in dues against an approved invoice: tax split, over-credit refusal,
approval (four-eyes, numbers, credit check), posting and allocation, ageing, PDF and e-invoice."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from dues.core.errors import DuesError, PermissionDenied, ValidationFailed
from tests.integration.test_billing import TODAY, _user, approved, book  # noqa: F401  (fixtures)

ON = date(2026, 12, 5)


def _line(item, qty, rate=None):
    from dues.billing.notes import NoteLineInput

    return NoteLineInput(item, Decimal(str(qty)), None if rate is None else Decimal(str(rate)))


def _raise(company, bill, kind="credit", reason="return", lines=(("BOLT", 100),), text="", actor="maker"):
    from dues.billing.notes import note_draft

    return note_draft(company=company, bill=bill, kind=kind, reason=reason, text=text,
                      lines=[_line(*x) for x in lines], on=ON, actor=actor)


def test_note_takes_the_invoice_tax_split_and_rounds(approved, book):  # noqa: F811
    from dues.customers.models import Customer

    # intra-state (27): 100 bolts back at the invoice rate 12.50 less its 2% = 1,225.00; 9% + 9%
    cn = _raise(book, approved["C001"])
    assert (cn.taxable, cn.cgst, cn.sgst, cn.igst) == (Decimal("1225.00"), Decimal("110.25"), Decimal("110.25"), 0)
    assert (cn.total, cn.round_off) == (Decimal(1446), Decimal("0.50"))
    assert cn.customer.code == "C001" and cn.status == "draft" and cn.number is None
    # inter-state (29): the invoice's place of supply decides, even if the customer moved since
    Customer.objects.filter(code="C002").update(state_code="27")
    rd = _raise(book, approved["C002"], reason="rate", lines=(("PIPE", 7, 10),))
    assert (rd.taxable, rd.igst, rd.cgst, rd.total, rd.round_off) == (
        Decimal("70.00"), Decimal("8.40"), 0, Decimal(78), Decimal("-0.40"))
    assert rd.place_of_supply == "29"


def test_no_crediting_more_than_billed(approved, book):  # noqa: F811
    from dues.billing.models import Note

    bill = approved["C001"]
    with pytest.raises(ValidationFailed) as exc:
        _raise(book, bill, lines=(("BOLT", 1001), ("SVC", 1, 800), ("NUT", 1), ("BOLT", -1)))
    text = [str(p) for p in exc.value.problems]
    assert f"note against {bill.number}:1: qty: 1001 NOS of BOLT is more than is left of the 1000 billed" in text[0]
    assert "rate: 800 is more than the invoice's rate 750" in text[1]
    assert "item: 'NUT' is not on invoice" in text[2] and "qty: must be positive" in text[3]
    assert not Note.objects.exists()  # nothing half-written
    _raise(book, bill, lines=(("BOLT", 600),))  # a draft counts against what is left
    with pytest.raises(ValidationFailed, match="600 already returned or short"):
        _raise(book, bill, lines=(("BOLT", 401),))
    _raise(book, bill, reason="shortage", lines=(("BOLT", 400),))
    with pytest.raises(ValidationFailed, match="more than is left of its taxable value 2250.00"):
        _raise(book, bill, reason="rate", lines=(("SVC", 3, 700), ("SVC", 1, 200)))
    with pytest.raises(DuesError, match="needs the reason in words"):
        _raise(book, bill, reason="other")
    with pytest.raises(DuesError, match="a debit note is for a rate difference"):
        _raise(book, bill, kind="debit")


def test_note_needs_a_posted_invoice(book):  # noqa: F811
    from dues.billing.services import bill_run

    draft = bill_run(company=book, on=date(2026, 11, 30), actor="maker").bills[0]
    with pytest.raises(DuesError, match="a note is raised against a posted invoice"):
        _raise(book, draft)


def test_credit_note_approval_posts_and_allocates_to_the_invoice(approved, book, post):  # noqa: F811
    from dues.audit.models import AuditRecord
    from dues.billing.notes import notes_approve
    from dues.ledger.models import Allocation, Document, OpenItem
    from dues.reporting.selectors import ageing, outstanding

    bill = approved["C001"]
    c1 = bill.customer
    before = ageing(company=book, as_of=TODAY, customer=c1).rows[0].total
    cn = _raise(book, bill)
    assert ageing(company=book, as_of=TODAY, customer=c1).rows[0].total == before  # a draft is not in the books
    result = notes_approve(company=book, notes=[cn], actor="checker", as_of=TODAY)
    cn = result.approved[0]
    assert cn.number == "CN/2627/0001" and cn.status == "approved"
    doc = cn.document
    assert (doc.kind, doc.amount, doc.taxable_value, doc.cgst, doc.place_of_supply, doc.reference) == (
        Document.CREDIT_NOTE, Decimal(1446), Decimal("1225.00"), Decimal("110.25"), "27", bill.number)
    invoice_item = OpenItem.objects.get(document=bill.document)
    assert invoice_item.residual == Decimal(17110 - 1446)
    assert Allocation.objects.get(credit_item__document=doc).debit_item == invoice_item
    assert ageing(company=book, as_of=TODAY, customer=c1).rows[0].total == before - 1446
    assert AuditRecord.objects.filter(action="approve", object_type="note").exists()
    # an invoice already paid: the next credit note stays unapplied on the account
    post("receipt", "R-1", c1, "2026-12-05", 17110 - 1446, allocations=[(bill.number, Decimal(17110 - 1446))])
    cn2 = _raise(book, bill, reason="rate", lines=(("SVC", 3, 10),))  # 30 + 18% = 35.40 -> 35
    cn2 = notes_approve(company=book, notes=[cn2], actor="checker", as_of=TODAY).approved[0]
    assert cn2.number == "CN/2627/0002"
    left = {(i.number, i.residual) for i in outstanding(company=book, customer=c1, as_of=TODAY)}
    assert ("CN/2627/0002", Decimal("-35.00")) in left or ("CN/2627/0002", Decimal("35.00")) in left


def test_debit_note_is_a_receivable_through_the_credit_check_and_four_eyes(approved, book):  # noqa: F811
    from dues.audit.models import AuditRecord
    from dues.billing.notes import note_reject, notes_approve
    from dues.billing.services import billing_settings_set
    from dues.ledger.models import OpenItem

    billing_settings_set(company=book, values={"four_eyes": "on", "debit_note_prefix": "DBN/{fy}/"}, actor="admin")
    bill = approved["C001"]
    small = _raise(book, bill, kind="debit", reason="rate", lines=(("BOLT", 1000, "0.50"),))  # 500 + 90 = 590
    with pytest.raises(PermissionDenied, match="four-eyes"):
        notes_approve(company=book, notes=[small], actor="maker", as_of=TODAY)
    dn = notes_approve(company=book, notes=[small], actor="checker", as_of=TODAY).approved[0]
    assert dn.number == "DBN/2627/0001" and dn.document.kind == "debit_note" and dn.total == 590
    item = OpenItem.objects.get(document=dn.document)
    assert item.side == "D" and item.residual == 590 and item.due_date == date(2027, 1, 4)  # net 30 from the note
    # 17,110 + 4,256 + 590 outstanding; a debit note of 35,400 goes over the 50,000 limit
    big = _raise(book, bill, kind="debit", reason="rate", lines=(("BOLT", 1000, 30),))
    result = notes_approve(company=book, notes=[big], actor="checker", as_of=TODAY)
    assert not result.approved and "credit limit 50,000.00 exceeded" in result.refused[0].decision.reasons[0]
    big.refresh_from_db()
    assert big.status == "draft" and big.held_reason.startswith("credit limit")
    with pytest.raises(PermissionDenied):
        notes_approve(company=book, notes=[big], actor=_user("billy", "billing"), override_reason="rush", as_of=TODAY)
    done = notes_approve(company=book, notes=[big], actor=_user("mona", "ar_manager"), override_reason="MD approved",
                         as_of=TODAY).approved[0]
    assert done.number == "DBN/2627/0002"
    assert AuditRecord.objects.filter(action="credit_override", object_type="note").exists()
    other = _raise(book, bill, lines=(("BOLT", 1),))
    with pytest.raises(PermissionDenied, match="four-eyes"):
        note_reject(note=other, reason="typo", actor="maker")
    assert note_reject(note=other, reason="typo", actor="checker").status == "rejected"
    _raise(book, bill, lines=(("BOLT", 1000),))  # the rejected note's bolt is free again


def test_note_pdf_and_einvoice_name_the_invoice(approved, book):  # noqa: F811
    from pypdf import PdfReader

    from dues.billing.einvoice import einvoice_payload, einvoice_problems
    from dues.billing.notes import notes_approve
    from dues.documents.tax_invoice import render_tax_invoice

    bill = approved["C002"]
    cn = _raise(book, bill, reason="return", lines=(("PIPE", 2),))  # 820 + 12% IGST 98.40 = 918.40 -> 918
    draft_text = PdfReader(io.BytesIO(render_tax_invoice(book, cn))).pages[0].extract_text()
    assert "Draft credit note (draft)" in draft_text
    cn = notes_approve(company=book, notes=[cn], actor="checker", as_of=TODAY).approved[0]
    text = PdfReader(io.BytesIO(render_tax_invoice(book, cn))).pages[0].extract_text()
    for expected in ("Credit note", "Note No. CN/2627/0001", "05-12-2026", f"Against tax invoice No. {bill.number}",
                     "dated 30-11-2026", "Reason: goods returned", "Kaveri Pumps", "29AAGCB7383J1Z4",
                     "Place of supply: 29 Karnataka", "7306", "820.00", "IGST @ 12%", "98.40", "Note total",
                     "918.00", "Rupees Nine Hundred Eighteen Only"):
        assert expected in text, expected
    assert "sahyadri@hdfcbank" not in text  # a credit note asks for no payment
    payload = einvoice_payload(book, cn)
    assert payload["DocDtls"] == {"Typ": "CRN", "No": "CN/2627/0001", "Dt": "05/12/2026"}
    assert payload["RefDtls"]["PrecDocDtls"] == [{"InvNo": bill.number, "InvDt": "30/11/2026"}]
    assert payload["ValDtls"]["TotInvVal"] == 918 and einvoice_problems(payload) == []


def test_cli_raise_list_approve_reject_in_process(approved, book, tmp_path):  # noqa: F811
    import json

    from click.testing import CliRunner

    import dues.cli.billing  # noqa: F401  (registers the commands)
    from dues.cli.main import cli

    def run(*args, user="maker"):
        return CliRunner().invoke(cli, ["--user", user, *map(str, args)])

    bill = approved["C001"]
    result = run("bill", "note", "credit", "--invoice", bill.number, "--reason", "return", "--line", "BOLT:100",
                 "--line", "2:1", "--date", "2026-12-05", "--format", "json")
    assert result.exit_code == 0, result.output
    note = json.loads(result.output)["note"]
    assert (note["number"], note["kind"], note["invoice"], note["taxable"], note["total"]) == (
        None, "credit", bill.number, "1975.00", "2331.00")  # 1,225.00 bolts + 750.00 service; 18%
    bad = run("bill", "note", "credit", "--invoice", bill.number, "--reason", "return", "--line", "BOLT:x")
    assert bad.exit_code != 0 and "quantity and rate must be numbers" in str(bad.exception)
    bad = run("bill", "note", "debit", "--invoice", bill.number, "--reason", "return", "--line", "BOLT:1")
    assert bad.exit_code == 2  # a debit note is not a return
    listed = json.loads(run("bill", "note", "list", "--format", "json").output)["notes"]
    assert [n["draft"] for n in listed] == [note["draft"]]
    done = run("bill", "note", "approve", note["draft"], user="checker")
    assert done.exit_code == 0, done.output
    assert f"as credit note CN/2627/0001 against {bill.number}" in done.output and "2,331.00 applied" in done.output
    pdf = tmp_path / "cn.pdf"
    assert run("invoice", "pdf", "CN/2627/0001", "-o", pdf).exit_code == 0 and pdf.read_bytes().startswith(b"%PDF")
    other = json.loads(run("bill", "note", "debit", "--invoice", bill.number, "--reason", "other", "--text",
                           "freight recovered", "--line", "SVC:1:100", "--format", "json").output)["note"]
    assert run("bill", "note", "reject", other["draft"], "--reason", "wrong", user="checker").exit_code == 0
    assert json.loads(run("bill", "note", "list", "--status", "rejected", "--format", "json").output)[
        "notes"][0]["text"] == "freight recovered"


def test_irp_response_for_a_note_is_stored_on_it(approved, book):  # noqa: F811
    from dues.billing.notes import notes_approve
    from dues.billing.services import irp_response_import

    cn = notes_approve(company=book, notes=[_raise(book, approved["C001"])], actor="checker", as_of=TODAY).approved[0]
    response = {"AckNo": 232210036754999, "AckDt": "2026-12-05 11:00:00", "Irn": "b" * 64, "SignedQRCode": "x.y.z",
                "DocNo": cn.number}
    stored = irp_response_import(company=book, response=response, actor="checker")
    assert (stored.pk, type(stored).__name__, stored.irn) == (cn.pk, "Note", "b" * 64)
