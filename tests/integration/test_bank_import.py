"""Importing bank statements into the database: accounts, de-duplication, all-or-nothing, audit, the CLI."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from dues.audit.models import AuditRecord
from dues.banking.models import BankAccount, BankLine, BankStatement
from dues.banking.selectors import bank_line_summary, unapplied_credits
from dues.banking.services import bank_statement_import
from dues.core.errors import DuesError, PermissionDenied, ValidationFailed
from tests.conftest import dues_env

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

HEADER = "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance\n"
APRIL_1_3 = ("Account No :50100123456789\n\n" + HEADER +
             '01/04/24,NEFT CR-ICIC0000456-SHREE GANESH TRADERS-N123456789012,0000000000000000,01/04/24,,"1,23,456.00","2,23,456.00"\n'
             "02/04/24,CASH DEPOSIT,,02/04/24,,500.00,\"2,23,956.00\"\n"
             "02/04/24,CASH DEPOSIT,,02/04/24,,500.00,\"2,24,456.00\"\n"
             '03/04/24,CHQ PAID-MICR CTS-PATIL STEEL,000123,03/04/24,"24,456.00",,"2,00,000.00"\n')
# overlaps April 2-3 and adds April 4
APRIL_2_4 = ("Account No :50100123456789\n\n" + HEADER +
             "02/04/24,CASH DEPOSIT,,02/04/24,,500.00,\"2,23,956.00\"\n"
             "02/04/24,CASH DEPOSIT,,02/04/24,,500.00,\"2,24,456.00\"\n"
             '03/04/24,CHQ PAID-MICR CTS-PATIL STEEL,000123,03/04/24,"24,456.00",,"2,00,000.00"\n'
             "04/04/24,UPI/412345678901/Ravi Kumar/ravi.k@okhdfcbank/HDFC Bank,0000412345678901,04/04/24,,750.00,"
             "\"2,00,750.00\"\n")


def _import(company, name, text, **kw):
    kw.setdefault("preset", "hdfc")
    return bank_statement_import(company=company, path=name, data=text.encode(), actor="test", **kw)


def test_first_import_creates_the_account_and_lines(company):
    result = _import(company, "apr1.csv", APRIL_1_3)
    assert (result.statements, result.lines, result.created, result.duplicates) == (1, 4, 4, 0)
    account = BankAccount.objects.get(company=company)
    assert (account.code, account.number, account.gl_account.role, account.currency) == (
        "BANK1", "50100123456789", "bank", "INR")
    neft = BankLine.objects.get(reference="N123456789012")
    assert (neft.amount, neft.direction, neft.counterparty_name, neft.counterparty_ifsc, neft.status) == (
        Decimal("123456.00"), "C", "SHREE GANESH TRADERS", "ICIC0000456", "unapplied")
    cash = list(BankLine.objects.filter(narration="CASH DEPOSIT").order_by("row"))
    # two identical lines on one day: both kept, with different generated references
    assert len(cash) == 2 and all(c.reference_generated for c in cash) and cash[0].reference != cash[1].reference
    st = BankStatement.objects.get()
    assert (st.opening_balance, st.closing_balance, st.lines, st.new_lines) == (
        Decimal("100000.00"), Decimal("200000.00"), 4, 4)
    audit = AuditRecord.objects.filter(object_type="bank_statement").get()
    assert '"new_lines":4' in audit.after_json.replace(" ", "")


def test_reimport_and_overlap_never_double_a_line(company):
    _import(company, "apr1.csv", APRIL_1_3)
    again = _import(company, "apr1.csv", APRIL_1_3)
    assert (again.created, again.duplicates) == (0, 4)
    overlap = _import(company, "apr2.csv", APRIL_2_4)
    assert (overlap.created, overlap.duplicates) == (1, 3)
    assert BankLine.objects.count() == 5
    credits = list(unapplied_credits(company=company))
    assert [c.amount for c in credits] == [Decimal("123456.00"), Decimal("500.00"), Decimal("500.00"),
                                           Decimal("750.00")]
    summary = bank_line_summary(company=company)["BANK1"]
    assert (summary["lines"], summary["credits"], summary["debits"], summary["unapplied"]) == (
        5, Decimal("125206.00"), Decimal("24456.00"), Decimal("125206.00"))


def test_a_bad_row_writes_nothing_and_names_file_row_field(company):
    bad = APRIL_1_3.replace("01/04/24,NEFT", "32/04/24,NEFT")
    before = AuditRecord.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        _import(company, "bad.csv", bad)
    [p] = exc.value.problems
    assert (p.source, p.row, p.field) == ("bad.csv", 4, "date")
    assert not BankAccount.objects.exists() and not BankLine.objects.exists()
    assert AuditRecord.objects.count() == before


def test_dry_run_and_account_choice(company):
    result = _import(company, "apr1.csv", APRIL_1_3, dry_run=True)
    assert result.created == 4 and not BankLine.objects.exists() and not BankAccount.objects.exists()
    _import(company, "apr1.csv", APRIL_1_3, account="HDFC-CA")
    assert BankAccount.objects.get().code == "HDFC-CA"
    with pytest.raises(DuesError, match="no bank account 'NOPE'"):
        _import(company, "apr2.csv", APRIL_2_4, account="NOPE")
    other = APRIL_2_4.replace("50100123456789", "99999999999999")
    with pytest.raises(DuesError, match="is for account 99999999999999"):
        _import(company, "other.csv", other, account="HDFC-CA")
    with pytest.raises(DuesError, match="which bank account"):
        _import(company, "other.csv", other)


def test_permissions(company, django_user_model):
    from dues.users.models import UserRole

    billing = django_user_model.objects.create_user("bill", password="x")
    UserRole.objects.create(user=billing, role="billing")
    with pytest.raises(PermissionDenied):
        bank_statement_import(company=company, path="a.csv", data=APRIL_1_3.encode(), preset="hdfc", actor=billing)
    assert not BankLine.objects.exists()
    collector = django_user_model.objects.create_user("pooja", password="x")
    UserRole.objects.create(user=collector, role="collector")
    assert bank_statement_import(company=company, path="a.csv", data=APRIL_1_3.encode(), preset="hdfc",
                                 actor=collector).created == 4


MT940 = """:20:STMT1
:25:HDFC0000123/50100123456789
:28C:1/1
:60F:C240401INR1000,00
:61:2404020402C500,00NTRFNONREF//UTR1
:86:NEFT CR-ICIC0000456-MEHTA AND SONS-UTR1
:62F:C240402INR1500,00
-
"""


@pytest.mark.e2e
def test_cli_import_bank(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)

    def dues(*args):
        return subprocess.run([sys.executable, "-m", "dues.cli.main", *map(str, args)], env=env, capture_output=True,
                              text=True, timeout=300)

    assert dues("init", "--company", "Acme", "--state", "27").returncode == 0
    sta = tmp_path / "hdfc.sta"
    sta.write_text(MT940)
    first = dues("import", "bank", sta)
    assert first.returncode == 0, first.stderr
    assert "1 statement(s), 1 lines, 1 new, 0 already there; bank account BANK1" in first.stdout
    again = dues("import", "bank", sta, "--account", "BANK1")
    assert "0 new, 1 already there" in again.stdout
    broken = tmp_path / "broken.sta"
    broken.write_text(MT940.replace("1500,00", "1500,10"))
    bad = dues("import", "bank", broken)
    assert bad.returncode == 1
    assert "broken.sta:1: balance: statement STMT1/1/1 account 50100123456789 does not balance" in bad.stderr
    assert "nothing was written" in bad.stderr
    csv = tmp_path / "own.csv"
    csv.write_text("When,What,In,Out\n05-04-2024,Cash,250.00,\n")
    mapped = dues("import", "bank", csv, "--map", "date=When,narration=What,credit=In,debit=Out", "--dry-run")
    assert mapped.returncode == 0, mapped.stderr
    assert "would import own.csv (csv): 1 statement(s), 1 lines, 1 new" in mapped.stdout
