"""The weekly pack carries the stored 13-week cash forecast (PDF and XLSX); collection targets per
collector and the KPI "collections against target per collector" (service, CLI, packs)."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest

from dues import clock

pytestmark = [pytest.mark.django_db, pytest.mark.date_sensitive]


@pytest.fixture
def book(company, make_customer, post):
    today = clock.today()
    ravi = make_customer("C001", name="Shree Ganesh Traders", collector="Ravi")
    anita = make_customer("C002", name="Kaveri Distributors", collector="Anita")
    post("invoice", "INV-1", ravi, today - timedelta(days=50), "10000.00")
    post("invoice", "INV-2", anita, today - timedelta(days=20), "5000.00")
    post("receipt", "RCT-1", ravi, today.replace(day=1), "4000.00", allocations=[("INV-1", Decimal("4000.00"))])
    post("receipt", "RCT-2", anita, today, "1000.00", allocations=[("INV-2", Decimal("1000.00"))])
    # last month: not this month's collections
    post("receipt", "RCT-0", ravi, today.replace(day=1) - timedelta(days=1), "500.00")
    return today


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_weekly_pack_has_the_stored_forecast_in_pdf_and_xlsx(company, book):
    from openpyxl import load_workbook

    from dues.jobs.reports import build_pack, render_pdf, render_xlsx, summary_text
    from dues.risk.services import recompute_forecast

    empty = build_pack(company=company, kind="weekly", on=book)
    assert empty.forecast == [] and "No cash forecast computed yet" in empty.notes[0]
    assert "No cash forecast computed yet" in _pdf_text(render_pdf(empty))
    snap = recompute_forecast(book, company=company)[0]
    pack = build_pack(company=company, kind="weekly", on=book)
    assert len(pack.forecast) == 13 and pack.forecast_as_of == book
    assert pack.forecast_open_total == snap.open_total == Decimal("10000.00")
    assert pack.forecast[-1]["cumulative_expected"] + pack.forecast_after == Decimal("10000.00")
    wb = load_workbook(io.BytesIO(render_xlsx(pack)))
    ws = wb["Cash forecast"]
    assert ws["A1"].value == "Week" and ws["A2"].value == 1 and ws["A15"].value == "after 13 weeks"
    text = _pdf_text(render_pdf(pack))
    assert "Cash forecast, next 13 weeks" in text and "after 13 weeks" in text
    assert "Cash forecast" in summary_text(pack)
    daily = build_pack(company=company, kind="daily", on=book)
    assert daily.forecast == [] and "Cash forecast" not in load_workbook(io.BytesIO(render_xlsx(daily))).sheetnames


def test_targets_are_set_audited_and_checked(company, book):
    from dues.audit.models import AuditRecord
    from dues.core.errors import DuesError
    from dues.reporting.models import CollectionTarget
    from dues.reporting.targets import target_set

    month = f"{book:%Y-%m}"
    target_set(company=company, collector="Ravi", month=month, amount="10,000", actor="test")
    target_set(company=company, collector="Ravi", month=month, amount="8000", actor="test")  # an update
    assert CollectionTarget.objects.get(collector="Ravi").amount == Decimal("8000")
    entries = list(AuditRecord.objects.filter(object_type="collection_target").order_by("seq")
                   .values_list("action", "object_id"))
    assert entries == [("create", f"Ravi@{month}"), ("update", f"Ravi@{month}")]
    for kwargs, message in (({"month": "2026-13"}, "not YYYY-MM"), ({"month": "June"}, "not YYYY-MM"),
                            ({"amount": "-5"}, "negative"), ({"amount": "lots"}, "not an amount"),
                            ({"collector": " "}, "collector")):
        args = {"collector": "Anita", "month": month, "amount": "100", **kwargs}
        with pytest.raises(DuesError, match=message):
            target_set(company=company, actor="test", **args)
    assert CollectionTarget.objects.count() == 1
    from django.contrib.auth import get_user_model

    from dues.core.errors import PermissionDenied
    from dues.users.models import UserRole

    sales = get_user_model().objects.create_user("s1")
    UserRole.objects.create(user=sales, role="sales")
    with pytest.raises(PermissionDenied):
        target_set(company=company, collector="Ravi", month=month, amount="1", actor=sales)


def test_collections_against_target_per_collector_in_kpi_and_packs(company, book):
    from click.testing import CliRunner
    from openpyxl import load_workbook

    import dues.cli.kpi  # noqa: F401
    from dues.cli.main import cli, main  # noqa: F401 - main registers the commands
    from dues.jobs.reports import build_pack, render_pdf, render_xlsx, summary_text
    from dues.reporting.targets import collections_vs_target

    month = f"{book:%Y-%m}"
    runner = CliRunner()
    result = runner.invoke(cli, ["target", "set", "Ravi", "--month", month, "--amount", "8000"], catch_exceptions=False)
    assert result.exit_code == 0 and f"target for Ravi in {month}: 8000" in result.output
    rows = {(r.month, r.collector): r for r in collections_vs_target(company=company, start=book.replace(day=1), end=book)}
    assert rows[(month, "Ravi")].collected == Decimal("4000.00") and rows[(month, "Ravi")].achieved_pct == 50
    assert rows[(month, "Anita")].collected == Decimal("1000.00") and rows[(month, "Anita")].target is None
    import json

    out = runner.invoke(cli, ["kpi", "--from", book.replace(day=1).isoformat(), "--to", book.isoformat(),
                              "--format", "json"], catch_exceptions=False)
    data = json.loads(out.output)
    assert {"month": month, "collector": "Ravi", "collected": "4000.00", "target": "8000.00",
            "achieved_pct": "50.0"} in data["collectors"]
    listed = runner.invoke(cli, ["target", "list", "--month", month], catch_exceptions=False).output
    assert "Ravi" in listed and "50.0 %" in listed
    for kind in ("daily", "weekly"):
        pack = build_pack(company=company, kind=kind, on=book)
        assert [(c.collector, c.collected, c.target) for c in pack.collectors] == [
            ("Anita", Decimal("1000.00"), None), ("Ravi", Decimal("4000.00"), Decimal("8000"))]
        assert "Ravi 4,000.00 of 8,000.00 (50%)" in summary_text(pack)
        ws = load_workbook(io.BytesIO(render_xlsx(pack)))["Collectors"]
        assert [ws["A3"].value, ws["B3"].value, ws["D3"].value] == ["Ravi", 4000, 50.0]
        assert "Collections against target per collector" in _pdf_text(render_pdf(pack))
    # a pack narrowed to one collector's customers shows only that collector
    narrowed = build_pack(company=company, kind="daily", on=book, params={"salesperson": "nobody"})
    assert narrowed.collectors == []


def test_every_pack_carries_the_audit_anchor_that_verify_checks(company, book):
    """The head of the audit chain goes out with the report (e-mail text and PDF): kept outside the database, it
    is what `dues audit verify --anchor` holds the log to later."""
    from dues.audit.services import audit_verify
    from dues.jobs.reports import build_pack, render_pdf, summary_text

    pack = build_pack(company=company, kind="daily", on=book)
    head = audit_verify()
    assert pack.audit_anchor == f"{head.head_seq}:{head.head_hash}" and head.head_seq > 0
    assert summary_text(pack).rstrip().endswith(pack.audit_anchor)
    assert pack.audit_anchor.split(":")[1][:20] in _pdf_text(render_pdf(pack)).replace("\n", "")
    seq, digest = pack.audit_anchor.split(":")
    assert audit_verify([(int(seq), digest)]).ok
