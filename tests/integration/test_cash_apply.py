"""Cash application end to end: a statement imported, the engine run, receipts posted, learning, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from dues.audit.models import AuditRecord
from dues.banking.models import BankLine, CustomerBankIdentity
from dues.banking.services import bank_statement_import, cash_apply, cash_apply_confirm
from dues.core.errors import DuesError
from dues.ledger.models import Allocation, Document, OpenItem
from tests.conftest import dues_env
from tests.integration.conftest import HEADER, NEXT, STATEMENT

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]


def _rows(result):
    return {x.reference: x for x in result.lines}


def test_preview_writes_nothing_and_explains(company, bank_book):
    result = cash_apply(company, auto=False, actor="test")
    assert result.summary == {"lines": 4, "applied": 0, "suggested": 3, "unmatched": 1}
    rows = _rows(result)
    tds = rows["N100000000001"]
    assert (tds.customer, tds.allocations, tds.tds) == ("C001", [{"invoice": "INV-1", "amount": "118000.00"}],
                                                         "2000.00")
    assert tds.confidence >= 0.95 and any("2% TDS on taxable 1,00,000.00" in r for r in tds.reasons)
    assert not Document.objects.filter(kind="receipt").exists()


def test_auto_posts_receipts_with_tds_and_never_twice(company, bank_book):
    result = cash_apply(company, auto=True, threshold=0.95, actor="test")
    rows = _rows(result)
    assert rows["N100000000001"].status == "applied"
    assert rows["512345678901"].status == "applied" and rows["512345678901"].customer == "C002"
    patil = rows["412345678901"]
    assert patil.status == "suggested" and patil.confidence < 0.95
    assert any("ambiguous" in r for r in patil.reasons)
    unmatched = [x for x in result.lines if x.status == "unmatched"]
    assert len(unmatched) == 1 and unmatched[0].amount == "1234.00"

    receipt = Document.objects.get(kind="receipt", reference="N100000000001")
    assert (receipt.customer.code, receipt.amount, receipt.tds, receipt.mode) == ("C001", Decimal("116000.00"),
                                                                                 Decimal("2000.00"), "neft")
    inv1 = OpenItem.objects.get(document__number="INV-1", side="D")
    assert inv1.residual == 0
    assert Allocation.objects.get(debit_item=inv1).amount == Decimal("118000.00")
    line = BankLine.objects.get(reference="N100000000001")
    assert (line.status, line.applied_amount, line.receipt_id) == ("applied", Decimal("116000.00"), receipt.pk)
    assert OpenItem.objects.get(document__number="INV-3", side="D").residual == 0
    assert AuditRecord.objects.filter(object_type="bank_line", action="cash_apply").count() == 2

    again = cash_apply(company, auto=True, threshold=0.95, actor="test")
    assert again.summary["applied"] == 0 and again.summary["lines"] == 2
    assert Document.objects.filter(kind="receipt").count() == 2
    assert Allocation.objects.count() == 2


def test_larger_than_everything_leaves_the_rest_on_account(company, bank_book):
    text = ("Account No :50100123456789\n\n" + HEADER +
            '31/05/25,RTGS CR-HDFC0000001-SHREE GANESH TRADERS-R200000000001,R200000000001,31/05/25,,'
            '"1,30,000.00","2,30,000.00"\n')
    bank_statement_import(company=company, path="x.csv", data=text.encode(), preset="hdfc", actor="test")
    rows = _rows(cash_apply(company, auto=True, actor="test"))
    row = rows["R200000000001"]
    assert row.status == "applied" and row.allocations == [{"invoice": "INV-1", "amount": "118000.00"},
                                                           {"invoice": "INV-2", "amount": "5900.00"}]
    assert any("6,100.00 on account" in r for r in row.reasons)
    receipt = Document.objects.get(reference="R200000000001")
    assert OpenItem.objects.get(document=receipt).residual == Decimal("6100.00")  # on account
    # the later TDS-short credit from the same customer now finds nothing open: a person decides
    assert rows["N100000000001"].status == "suggested"


def test_confirm_learns_and_the_next_statement_matches(company, bank_book):
    line = BankLine.objects.get(reference="412345678901")
    cash_apply_confirm(line, bank_book["C003"], [("INV-4", Decimal("5900.00"))], actor="test")
    line.refresh_from_db()
    assert line.status == "applied" and line.receipt.customer.code == "C003"
    learned = set(CustomerBankIdentity.objects.filter(customer=bank_book["C003"]).values_list("kind", "value"))
    assert ("upi", "patil@okaxis") in learned
    with pytest.raises(DuesError, match="already applied"):
        cash_apply_confirm(line, bank_book["C003"], [("INV-5", Decimal("5900.00"))], actor="test")
    # next month: only the UPI id says who it is (the name is cut short), and it is applied on its own
    bank_statement_import(company=company, path="next.csv", data=NEXT.encode(), preset="hdfc", actor="test")
    rows = _rows(cash_apply(company, auto=True, actor="test"))
    nxt = rows["412345678999"]
    assert nxt.status == "applied" and nxt.customer == "C003"
    assert nxt.allocations == [{"invoice": "INV-5", "amount": "5900.00"}]
    assert any("UPI id patil@okaxis known for C003" in r for r in nxt.reasons)


def test_cli_json_contract(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)

    def dues(*args):
        proc = subprocess.run([sys.executable, "-m", "dues.cli.main", *map(str, args)], env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr + proc.stdout
        return proc

    (tmp_path / "c.csv").write_text("code,name,state,credit_days\nC001,Shree Ganesh Traders,27,30\n"
                                    "C002,Kaveri Distributors,27,30\n")
    (tmp_path / "i.csv").write_text("number,customer,date,due_date,amount,taxable_value,tax\n"
                                    "INV-1,C001,2025-04-01,,118000,100000,18000\n"
                                    "INV-3,C002,2025-05-01,,11800,10000,1800\n")
    (tmp_path / "s.csv").write_text(STATEMENT)
    dues("init", "--company", "Acme Steel", "--state", "27")
    dues("import", "customers", tmp_path / "c.csv")
    dues("import", "invoices", tmp_path / "i.csv")
    dues("import", "bank", tmp_path / "s.csv", "--preset", "hdfc")
    data = json.loads(dues("cash-apply", "--auto", "--threshold", "0.95", "--format", "json").stdout)
    assert data["summary"] == {"lines": 4, "applied": 2, "suggested": 0, "unmatched": 2}
    first = next(x for x in data["lines"] if x["reference"] == "N100000000001")
    assert first == {"reference": "N100000000001", "date": "2025-06-01", "amount": "116000.00", "status": "applied",
                     "customer": "C001", "allocations": [{"invoice": "INV-1", "amount": "118000.00"}],
                     "tds": "2000.00", "charges": "0.00", "confidence": first["confidence"],
                     "reasons": first["reasons"]}
    assert 0.95 <= first["confidence"] <= 1
    again = json.loads(dues("cash-apply", "--auto", "--format", "json").stdout)
    assert again["summary"] == {"lines": 2, "applied": 0, "suggested": 0, "unmatched": 2}


def test_a_remittance_advice_is_shown_and_matched_when_its_line_is_posted(company, bank_book):
    """What a customer told us through the portal (UTR, amount, invoices) is read by cash application."""
    from dues import clock
    from dues.banking.advices import remittance_advice_add
    from dues.banking.models import RemittanceAdvice

    advice = remittance_advice_add(customer=bank_book["C003"], utr="412345678901", amount="5,900",
                                   paid_on=clock.today(), invoices=["INV-5"], actor="portal:C003#link1")
    row = _rows(cash_apply(company, auto=False, actor="test"))["412345678901"]
    assert any(f"remittance advice {advice.pk}: C003 told us of UTR 412345678901" in r and "INV-5" in r
               for r in row.reasons)
    line = BankLine.objects.get(reference="412345678901")
    cash_apply_confirm(line, bank_book["C003"], [("INV-5", Decimal("5900.00"))], actor="test")
    advice.refresh_from_db()
    assert (advice.status, advice.bank_line_id) == (RemittanceAdvice.MATCHED, line.pk)
    with pytest.raises(Exception, match="UTR"):
        remittance_advice_add(customer=bank_book["C003"], utr=" ", amount="1", paid_on=clock.today(), actor="x")


def test_the_payer_index_is_reused_until_a_name_alias_or_learned_account_changes(company, bank_book):
    from dues.banking.services import matcher_for

    first = matcher_for(company)
    assert matcher_for(company).names is first.names  # nothing changed: the same index, only the invoices reread
    c2 = bank_book["C002"]
    c2.name = "Kaveri Pharma"
    c2.save()
    renamed = matcher_for(company)
    assert renamed.names is not first.names and "kaveri pharma" in renamed.names
    assert "kaveri distributors" not in renamed.names
    c2.aliases = ["KVR Dist"]
    c2.save()
    assert matcher_for(company).names is not renamed.names
    aliased = matcher_for(company)
    CustomerBankIdentity.objects.create(company=company, customer=bank_book["C003"], kind="account",
                                        value="50100012345678")
    learned = matcher_for(company)
    assert learned.names is not aliased.names and learned.by_identity[("account", "50100012345678")] == {"C003"}


def test_nothing_to_apply_loads_no_engine(company, make_customer, post, monkeypatch):
    from dues.banking import services

    post("invoice", "INV-1", make_customer("C001"), "2025-04-01", "1180.00")

    def engine(_company):
        raise AssertionError("the engine was loaded with no bank line to apply")

    monkeypatch.setattr(services, "matcher_for", engine)
    assert cash_apply(company, auto=True, actor="test").lines == []
