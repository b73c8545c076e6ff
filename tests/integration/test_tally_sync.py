"""dues sync tally: the live connector against a fake TallyPrime XML server (loopback, recorded shapes)."""

from __future__ import annotations

import os
import socket
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.db.models import Sum

from dues.audit.models import AuditRecord
from dues.core.errors import DuesError
from dues.integrations.models import ImportBatch, TallyExport, TallySync, TallyVoucher
from dues.integrations.tally.export import export_tally, ledger_map
from dues.integrations.tally.live import TallyUnreachable, collection_request, parse_import_answer, sync_tally
from dues.ledger.models import Document, OpenItem

from .fake_tally import FakeTally
from .tally_fixtures import MASTERS, daybook, envelope, utf16

pytestmark = pytest.mark.django_db
NATIVE = Path(os.environ.get("DUES_TALLY_SAMPLES", "/work/shared/data/tally")) / "native"


@pytest.fixture
def fake():
    f = FakeTally(envelope(MASTERS), utf16(envelope(daybook())))
    f.url = f.start()
    yield f
    f.stop()


def ours(company) -> dict[str, D]:
    """dues' outstanding per customer: debit residuals less unapplied credits."""
    out: dict[str, D] = {}
    for code, side, r in (OpenItem.objects.filter(company=company).values_list("customer__code", "side")
                          .annotate(r=Sum("residual")).values_list("customer__code", "side", "r")):
        out[code] = out.get(code, D(0)) + (r if side == "D" else -r)
    return {k: v.quantize(D("0.01")) for k, v in out.items()}


def test_round_trip_pull_post_push_and_both_books_agree(company, fake, post, tmp_path):
    from dues.customers.models import Customer

    first = sync_tally(company=company, url=fake.url, actor="test")
    assert first.pulled_vouchers == 11 and first.imported.vouchers_posted == 8 and first.pushed == []
    assert ours(company) == {k: v for k, v in fake.outstanding().items()}  # dues agrees with Tally after the pull
    state = TallySync.objects.get()
    assert state.voucher_alterid == max(fake.alterid(v) for v in fake.vouchers()) and state.master_alterid > 0

    ledger_map(company, {"bank": "HDFC Bank", "sales_returns": "Sales"}, actor="test")
    acme, bharat = Customer.objects.get(code="Acme Traders"), Customer.objects.get(code="Bharat Stores")
    post("receipt", "DR-1", acme, "2024-05-10", "5000", tds=D("310"), allocations=[("S/2", D("5310"))])
    post("receipt", "DR-2", bharat, "2024-05-12", "700")  # on account
    post("credit_note", "DCN-1", bharat, "2024-05-13", "300")
    second = sync_tally(company=company, url=fake.url, actor="test")
    assert second.pulled_vouchers == 0 and second.pushed == ["receipt DR-1", "receipt DR-2", "credit_note DCN-1"]
    assert second.refused == {}
    receipt = fake.accepted[0]
    party = receipt.find("ALLLEDGERENTRIES.LIST")
    assert receipt.get("VCHTYPE") == "Receipt" and receipt.findtext("PARTYLEDGERNAME") == "Acme Traders"
    assert [(b.findtext("BILLTYPE"), b.findtext("NAME")) for b in party.findall("BILLALLOCATIONS.LIST")] == [
        ("Agst Ref", "S/2")]
    assert fake.outstanding() == ours(company)  # the same outstanding per customer on both sides
    assert fake.outstanding()["Bharat Stores"] == D("2500.00")
    # the file export of the same documents passes the same import handler
    exported = export_tally(company=company, start=date(2024, 5, 1), end=date(2024, 5, 31), path=tmp_path / "t.xml",
                            actor="test", again=True)
    answer = parse_import_answer(FakeTally(envelope(MASTERS), utf16(envelope(daybook()))).answer(
        (tmp_path / "t.xml").read_bytes())[0])
    assert len(exported.documents) == 3 and answer.accepted and answer.created == 3  # 2,000 + 3,000 - 1,500 advance - 700 - 300
    assert TallyExport.objects.filter(filename__startswith="sync ").count() == 3

    # the pushed vouchers come back (new ALTERIDs, REMOTEID as GUID): known as dues' own, not posted again
    docs, batches = Document.objects.count(), ImportBatch.objects.count()
    third = sync_tally(company=company, url=fake.url, actor="test")
    assert third.pulled_vouchers == 3 and third.imported.own == 3 and third.imported.documents == 0
    assert third.pushed == [] and Document.objects.count() == docs
    # and once more: nothing at all
    fourth = sync_tally(company=company, url=fake.url, actor="test")
    assert (fourth.pulled_masters, fourth.pulled_vouchers, fourth.pushed, fourth.imported) == (0, 0, [], None)
    assert Document.objects.count() == docs and ImportBatch.objects.count() == batches + 1
    assert ours(company) == fake.outstanding()


def test_a_voucher_tally_refuses_stays_unexported_with_its_error(company, fake, post):
    from click.testing import CliRunner

    import dues.cli.tally  # noqa: F401  (registers the commands)
    from dues.cli.main import cli
    from dues.customers.models import Customer

    sync_tally(company=company, url=fake.url, actor="test")
    ledger_map(company, {"bank": "HDFC Bank"}, actor="test")
    acme = Customer.objects.get(code="Acme Traders")
    post("receipt", "DR-1", acme, "2024-05-10", "1000")
    post("receipt", "DR-2", acme, "2024-05-11", "2000")
    fake.refuse = {"DR-2"}
    result = CliRunner().invoke(cli, ["sync", "tally", "--url", fake.url], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "pushed 1 document(s) to Tally: receipt DR-1" in result.output
    assert "refused by Tally receipt DR-2: Voucher Number 'DR-2' already exists!" in " ".join(result.output.split())
    assert list(TallyExport.objects.values_list("document__number", flat=True)) == ["DR-1"]
    assert list(TallySync.objects.get().errors.values()) == ["receipt DR-2: Voucher Number 'DR-2' already exists!"]
    fake.refuse = set()
    again = sync_tally(company=company, url=fake.url, actor="test")
    assert again.pushed == ["receipt DR-2"] and TallySync.objects.get().errors == {}


def test_a_voucher_deleted_in_tally_is_listed_then_reversed_when_confirmed(company, fake):
    sync_tally(company=company, url=fake.url, actor="test")
    before = ours(company)
    fake.delete_voucher("g-r2")  # the receipt R/2 of Acme (4,000 against OB/1) deleted in Tally
    listed = sync_tally(company=company, url=fake.url, actor="test", start=date(2024, 4, 1), end=date(2024, 4, 30))
    assert [tv.number for tv in listed.deleted] == ["R/2"] and not listed.deletions_reversed
    assert ours(company) == before  # only listed
    done = sync_tally(company=company, url=fake.url, actor="test", start=date(2024, 4, 1), end=date(2024, 4, 30),
                      confirm_deletions=True)
    assert [tv.number for tv in done.deleted] == ["R/2"] and done.deletions_reversed
    assert ours(company)["Acme Traders"] == before["Acme Traders"] + D("4000.00")
    assert ours(company) == fake.outstanding()
    old = TallyVoucher.objects.get(guid="g-r2", base_type="Receipt")
    assert old.superseded_by.base_type == "(deleted)"  # history kept
    assert Document.objects.get(number="R/2").status == Document.CANCELLED
    assert AuditRecord.objects.filter(action="tally_delete", object_id="g-r2").count() == 1
    again = sync_tally(company=company, url=fake.url, actor="test", start=date(2024, 4, 1), end=date(2024, 4, 30))
    assert again.deleted == []  # reversed once
    fake.objects = [el for el in fake.objects if el.tag != "VOUCHER"]  # an empty Day Book: the wrong company?
    with pytest.raises(DuesError, match="has no vouchers at all.*Nothing was reversed"):
        sync_tally(company=company, url=fake.url, actor="test", start=date(2024, 4, 1), end=date(2024, 4, 30),
                   confirm_deletions=True)
    assert Document.objects.get(number="S/1").status == Document.POSTED


def test_tally_not_running_is_a_clear_error(company):
    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TallyUnreachable, match=rf"Tally is not reachable at http://127.0.0.1:{port}.*port 9000"):
        sync_tally(company=company, url=f"http://127.0.0.1:{port}", actor="test", timeout=2)
    assert not TallyVoucher.objects.exists()


def test_requests_and_answers_in_tallys_format():
    body = collection_request("Voucher", 41, "Test & Co")
    assert "<TALLYREQUEST>Export</TALLYREQUEST><TYPE>Collection</TYPE>" in body
    assert "<SVCURRENTCOMPANY>Test &amp; Co</SVCURRENTCOMPANY>" in body and "$ALTERID &gt; 41" in body
    ok = parse_import_answer(b"<RESPONSE><CREATED>1</CREATED><ALTERED>0</ALTERED><ERRORS>0</ERRORS></RESPONSE>")
    assert ok.accepted
    bad = parse_import_answer(("<ENVELOPE><HEADER><VERSION>1</VERSION><STATUS>1</STATUS></HEADER><BODY><DATA>"
                               "<IMPORTRESULT><CREATED>0</CREATED><ERRORS>1</ERRORS><LINEERROR>Ledger 'Bank' does not "
                               "exist!</LINEERROR></IMPORTRESULT></DATA></BODY></ENVELOPE>").encode("utf-16-le"))
    assert not bad.accepted and bad.message() == "Ledger 'Bank' does not exist!"


@pytest.mark.skipif(not (NATIVE / "kesans_TKM_masters_utf16.xml").is_file(), reason="Tally samples not present")
def test_pull_from_a_fake_serving_a_real_tally_company(company):
    fake = FakeTally((NATIVE / "kesans_TKM_masters_utf16.xml").read_bytes(),
                     (NATIVE / "jogsaurabh_TestPLtd_DayBook_utf16.xml").read_bytes())
    url = fake.start()
    try:
        r = sync_tally(company=company, url=url, actor="test", push=False)
    finally:
        fake.stop()
    assert r.pulled_masters > 12 and r.pulled_vouchers == 2


def test_the_tally_sync_job_kind_runs_a_sync(company, fake):
    from types import SimpleNamespace

    from dues.jobs.jobs import JOB_FUNCTIONS
    from dues.jobs.models import JOBS

    assert "tally_sync" in dict(JOBS)
    summary = JOB_FUNCTIONS["tally_sync"](SimpleNamespace(params={"url": fake.url}))
    assert summary == "Tally sync: pulled 11 master(s), 11 voucher(s); pushed 0"
    assert TallySync.objects.get().url == fake.url
