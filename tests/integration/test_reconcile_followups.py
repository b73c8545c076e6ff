"""One-click follow-ups of a ledger reconciliation: book their TDS, open disputes, log collection tasks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dues.core.errors import PermissionDenied

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

D = Decimal
AS_OF = date(2025, 6, 30)

THEIRS = """Date,Particulars,Vch Type,Vch No.,Debit,Credit
01-04-2025,Opening Balance,,,,"20,000.00"
05-04-2025,Purchase SGT/101/25-26,Purchase,SGT/101/25-26,,"59,000.00"
12-04-2025,Purchase bill 102,Purchase,PB-88,,"11,000.00"
02-05-2025,HDFC NEFT N250000101,Payment,P-17,"57,820.00",
02-05-2025,TDS 194Q on SGT/101,Journal,J-4,"1,180.00",
25-06-2025,TDS 194Q on bill 102,Journal,J-9,"110.00",
"""


@pytest.fixture
def books(company, make_customer, post):
    c = make_customer("C001", name="Shree Ganesh Traders")
    post("opening", "OB-C001", c, "2025-03-31", "20000.00")
    post("invoice", "SGT/101/25-26", c, "2025-04-03", "59000.00")
    post("invoice", "SGT/102/25-26", c, "2025-04-10", "12000.00")  # they booked 11,000
    post("invoice", "SGT/103/25-26", c, "2025-05-15", "8000.00")  # not in their books
    post("receipt", "RCPT-1", c, "2025-05-02", "57820.00", mode="neft", reference="N250000101", tds=D("1180.00"),
         allocations=[("SGT/101/25-26", D("59000.00"))])
    return c


def reconcile(company, tmp_path):
    from dues.reconciliation.selectors import reconcile_customer

    f = tmp_path / "theirs.csv"
    f.write_text(THEIRS, encoding="utf-8")
    return reconcile_customer(company=company, code="C001", their_file=f, as_of=AS_OF)


def user(role, name, **kw):
    from django.contrib.auth.models import User

    from dues.users.models import UserRole

    u = User.objects.create_user(name, password="x")
    UserRole.objects.create(user=u, role=role, **kw)
    return u


def test_the_reconciliation_to_act_on(company, books, tmp_path):
    data = reconcile(company, tmp_path).as_json()
    assert data["our_balance"] == "40000.00" and data["their_balance"] == "30890.00"
    assert {(d["kind"], d["ours"], d["theirs"], d["amount"]) for d in data["differences"]} == {
        ("amount_mismatch", "SGT/102/25-26", "row 3", "-1000.00"),
        ("missing_in_theirs", "SGT/103/25-26", None, "-8000.00"),
        ("tds_difference", None, "row 6", "-110.00"),
    }


def test_followups_book_tds_open_dispute_and_task(company, books, tmp_path):
    from dues.collections.models import Activity, Dispute
    from dues.ledger.models import Document, JournalLine
    from dues.reconciliation.services import reconciliation_followups
    from dues.reporting.selectors import ageing

    rec = reconcile(company, tmp_path)
    out = reconciliation_followups(company=company, customer=books, result=rec,
                                   actions=["book_tds", "disputes", "activities"], actor="test", on=date(2025, 7, 3))
    assert out.booked == ["TDS/C001/250630/6"]
    tds = Document.objects.get(number="TDS/C001/250630/6")
    assert (tds.kind, tds.amount, tds.tds, tds.date) == ("receipt", D("0"), D("110.00"), AS_OF)
    # Dr TDS receivable 110, Cr the customer 110, nothing through the bank
    lines = {(ln.account.role if hasattr(ln.account, "role") else ln.account_id, ln.debit, ln.credit)
             for ln in JournalLine.objects.filter(entry__document=tds)}
    assert sorted((d, c) for _, d, c in lines) == [(D("0"), D("110.00")), (D("110.00"), D("0"))]
    assert ageing(company=company, as_of=AS_OF, customer=books).totals.total == D("39890.00")

    assert out.disputes == ["SGT/102/25-26 (1,000.00)"]
    dispute = Dispute.objects.get()
    assert (dispute.document.number, dispute.amount, dispute.status) == ("SGT/102/25-26", D("1000.00"), "open")
    task = Activity.objects.get(kind="task", outcome="open")
    assert task.subject == "ask C001 to book SGT/103/25-26 (8,000.00) in their ledger"
    assert task.next_follow_up == date(2025, 7, 10)

    # again: everything is skipped, nothing doubled
    again = reconciliation_followups(company=company, customer=books, result=rec,
                                     actions=["book_tds", "disputes", "activities"], actor="test", on=date(2025, 7, 3))
    assert (again.booked, again.disputes, again.activities) == ([], [], [])
    assert len(again.skipped) == 3
    assert Document.objects.filter(number__startswith="TDS/").count() == 1 and Dispute.objects.count() == 1

    # reconciled again after booking: the TDS now matches; the rest remains
    kinds = {d["kind"] for d in reconcile(company, tmp_path).as_json()["differences"]}
    assert kinds == {"amount_mismatch", "missing_in_theirs"}


def test_roles_refused_and_nothing_written(company, books, tmp_path):
    from dues.audit.models import AuditRecord
    from dues.collections.models import Activity, Dispute
    from dues.ledger.models import Document
    from dues.reconciliation.services import reconciliation_followups

    rec = reconcile(company, tmp_path)
    before = (Document.objects.count(), Dispute.objects.count(), Activity.objects.count(), AuditRecord.objects.count())
    refused = [("auditor", ["activities"]), ("billing", ["disputes"]), ("billing", ["book_tds", "activities"]),
               ("sales", ["book_tds"])]
    for i, (role, actions) in enumerate(refused):
        with pytest.raises(PermissionDenied):
            reconciliation_followups(company=company, customer=books, result=rec, actions=actions,
                                     actor=user(role, f"u{i}"))
    after = (Document.objects.count(), Dispute.objects.count(), Activity.objects.count(), AuditRecord.objects.count())
    assert after == before
    # a collector may do all three
    out = reconciliation_followups(company=company, customer=books, result=rec,
                                   actions=["book_tds", "disputes", "activities"], actor=user("collector", "pooja"))
    assert len(out.booked) == len(out.disputes) == len(out.activities) == 1


def test_cli_flags(company, books, tmp_path):
    from click.testing import CliRunner

    from dues.cli.main import cli
    from dues.collections.models import Dispute

    f = tmp_path / "theirs.csv"
    f.write_text(THEIRS, encoding="utf-8")
    import dues.cli.reconcile  # noqa: F401  (registers the group)

    result = CliRunner().invoke(cli, ["reconcile", "customer", "C001", str(f), "--as-of", "2025-06-30",
                                      "--open-disputes", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert Dispute.objects.get().amount == D("1000.00")
