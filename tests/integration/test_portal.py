"""The customer portal: links (issued, expiring, revoked, logged), what a customer sees and does, and that a
link for one customer never shows or touches another's account."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from dues import clock
from tests.integration.test_billing import approved, book  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.date_sensitive,  # links expire by the clock; balances are as of today
              pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]


@pytest.fixture
def accounts(approved, post):  # noqa: F811
    """A = C001 (two tax invoices, a receipt with TDS applied to one), B = C002 (one invoice, one receipt)."""
    from dues.customers.models import Customer
    from dues.portal.links import link_create

    a, b = Customer.objects.get(code="C001"), Customer.objects.get(code="C002")
    a_inv = sorted((bill.document for bill in approved.values() if bill.customer_id == a.pk), key=lambda d: d.pk)
    b_inv = [bill.document for bill in approved.values() if bill.customer_id == b.pk]
    on = clock.today()
    a_rec = post("receipt", "RCPT-A1", a, on, Decimal("1000.00"), tds=Decimal("20.00"), reference="UTR-A-1",
                 allocations=[(a_inv[0].number, Decimal("1020.00"))])
    b_rec = post("receipt", "RCPT-B1", b, on, Decimal("500.00"), tds=Decimal("10.00"), reference="UTR-B-1",
                 allocations=[(b_inv[0].number, Decimal("510.00"))])
    _link, token = link_create(customer=a, actor="test", days=30)
    return {"a": a, "b": b, "a_inv": a_inv, "b_inv": b_inv, "a_rec": a_rec, "b_rec": b_rec, "token": token}


def page(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode("utf-8", errors="replace"))


def test_the_customer_sees_balance_invoices_receipts_applied_and_tds(accounts):
    c, t = Client(), accounts["token"]
    r = c.get(f"/portal/{t}/")
    assert r.status_code == 200, r.content[:500]
    html = page(r)
    for inv in accounts["a_inv"]:
        assert inv.number in html and f"/portal/{t}/invoices/{inv.pk}/pdf" in html
    assert "RCPT-A1" in html and "applied to " + accounts["a_inv"][0].number in html
    assert "TDS we have recorded" in html and "20.00" in html
    for other in ("C002", "Kaveri", "RCPT-B1", accounts["b_inv"][0].number):
        assert other not in html
    assert "/static/web/dues.css" in html and 'name="viewport"' in html
    assert "no-store" in r["Cache-Control"] and r["Referrer-Policy"] == "no-referrer"
    pdf = c.get(f"/portal/{t}/statement.pdf?from=2026-11-01&to={clock.today().isoformat()}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    inv = c.get(f"/portal/{t}/invoices/{accounts['a_inv'][0].pk}/pdf")
    assert inv.status_code == 200 and inv.content.startswith(b"%PDF")
    rec = page(c.get(f"/portal/{t}/receipts/{accounts['a_rec'].pk}/"))
    assert "RCPT-A1" in rec and accounts["a_inv"][0].number in rec
    earlier = page(c.get(f"/portal/{t}/?as_of=2026-11-01"))
    assert "Nothing is open" in earlier  # the bills are dated 30-11-2026

    from dues.portal.models import PortalAccess

    assert PortalAccess.objects.filter(link__customer=accounts["a"], status=200).count() == 5


def test_actions_feed_the_domain_services_and_are_audited_as_the_link(accounts):
    from dues.audit.models import AuditRecord
    from dues.banking.advices import advice_for_reference
    from dues.banking.models import RemittanceAdvice
    from dues.collections.models import Dispute, PromiseToPay
    from dues.reconciliation.models import ConfirmationRequest

    c, t, a = Client(), accounts["token"], accounts["a"]
    inv = accounts["a_inv"][-1]
    today = clock.today()
    from django.core.files.uploadedfile import SimpleUploadedFile

    exe = SimpleUploadedFile("grn.exe", b"MZ...", content_type="application/x-msdownload")
    r = c.post(f"/portal/{t}/invoices/{inv.pk}/dispute", {"reason": "quantity", "attachment": exe}, follow=True)
    assert "attachment: grn.exe: a PDF or a photo" in page(r) and not Dispute.objects.exists()
    photo = SimpleUploadedFile("grn.jpg", b"\xff\xd8\xff photo", content_type="image/jpeg")
    r = c.post(f"/portal/{t}/invoices/{inv.pk}/dispute", {"reason": "quantity", "notes": "2 short",
                                                           "attachment": photo})
    assert r.status_code == 302
    d = Dispute.objects.get(document=inv)
    assert d.status == "open" and d.created_by.startswith("portal:C001#link") and "2 short" in d.notes
    file = d.portal_attachments.get()
    desk = Client()
    from tests.integration.test_billing import _user

    desk.force_login(_user("coll", "collector"))
    board = page(desk.get("/disputes/"))
    assert f'/disputes/attachments/{file.pk}/' in board and "grn.jpg" in board
    got = desk.get(f"/disputes/attachments/{file.pk}/")
    assert got.status_code == 200 and got.content == b"\xff\xd8\xff photo" and got["Content-Type"] == "image/jpeg"
    c.post(f"/portal/{t}/promise", {"amount": "1,000", "promised_date": (today + timedelta(days=5)).isoformat(),
                                    "invoice": [str(accounts["a_inv"][0].pk)]})
    p = PromiseToPay.objects.get(customer=a)
    assert p.amount == Decimal("1000") and [i.number for i in p.invoices.all()] == [accounts["a_inv"][0].number]
    c.post(f"/portal/{t}/paid", {"utr": "HDFCN52026120612345", "amount": "2500", "paid_on": today.isoformat()})
    advice = RemittanceAdvice.objects.get(customer=a)
    assert advice.status == "new" and not advice.confirmed and advice.amount == Decimal("2500")
    assert advice_for_reference(a.company, "hdfcn52026120612345") == advice
    c.post(f"/portal/{t}/confirm", {"answer": "disagree", "their_balance": "123.00"})
    conf = ConfirmationRequest.objects.get(customer=a)
    assert (conf.channel, conf.status, conf.their_balance) == ("portal", "disagreed", Decimal("123.00"))
    actors = set(AuditRecord.objects.filter(object_type__in=["dispute", "dispute_attachment", "promise_to_pay",
                                                             "remittance_advice", "balance_confirmation"])
                 .values_list("actor", flat=True))
    assert len(actors) == 1 and actors.pop().startswith("portal:C001#link")


def test_bad_input_is_named_and_nothing_is_written(accounts):
    from dues.banking.models import RemittanceAdvice
    from dues.collections.models import PromiseToPay

    c, t = Client(), accounts["token"]
    r = c.post(f"/portal/{t}/paid", {"utr": "", "amount": "-5", "paid_on": "2099-01-01"}, follow=True)
    html = page(r)
    assert "utr:" in html and "amount:" in html and "paid on:" in html
    r = c.post(f"/portal/{t}/promise", {"amount": "abc", "promised_date": "not a date"}, follow=True)
    assert "promised date:" in page(r)
    assert not RemittanceAdvice.objects.exists() and not PromiseToPay.objects.exists()


def test_upi_link_and_qr_for_the_selected_invoices(accounts):
    c, t = Client(), accounts["token"]
    inv = accounts["a_inv"][-1]
    html = page(c.get(f"/portal/{t}/pay?invoice={inv.pk}"))
    m = re.search(r'href="(upi://pay\?[^"]+)"', html)
    assert m, html
    link = m.group(1).replace("&amp;", "&")
    assert link.startswith("upi://pay?pa=sahyadri%40hdfcbank&pn=") and "&cu=INR&tn=C001%20" in link
    assert f"&am={inv.amount:.2f}&" in link and "<svg" in html
    qr = c.get(f"/portal/{t}/pay/qr.svg?invoice={inv.pk}")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"


def test_a_fake_gateway_payment_records_a_confirmed_advice_and_posts_nothing(accounts, settings):
    from dues.banking.models import RemittanceAdvice
    from dues.ledger.models import Document
    from dues.portal.gateway import FakeGateway

    settings.DUES_PAYMENT_GATEWAY = "dues.portal.gateway.FakeGateway"
    c, t = Client(), accounts["token"]
    inv = accounts["a_inv"][-1]
    receipts = Document.objects.filter(kind="receipt").count()
    assert "Pay online" in page(c.get(f"/portal/{t}/pay?invoice={inv.pk}"))
    FakeGateway.fail = True
    try:
        c.post(f"/portal/{t}/pay/gateway", {"invoice": str(inv.pk)})
    finally:
        FakeGateway.fail = False
    assert not RemittanceAdvice.objects.exists()
    c.post(f"/portal/{t}/pay/gateway", {"invoice": str(inv.pk)})
    advice = RemittanceAdvice.objects.get()
    assert (advice.source, advice.confirmed, advice.invoices, advice.amount) == ("gateway", True, [inv.number],
                                                                                  inv.amount)
    assert Document.objects.filter(kind="receipt").count() == receipts


def _portal_patterns():
    from dues.portal.urls import urlpatterns

    return [(p.name, str(p.pattern)) for p in urlpatterns]


@pytest.fixture
def proofs(accounts, settings, tmp_path):
    """A proof of delivery on A's first invoice and on B's invoice, in a proof store of this test's own."""
    from dues.attachments.services import attach, target_get

    settings.STORAGES = {**settings.STORAGES, "proofs": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "proofs")}}}
    company = accounts["a"].company
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    made = {}
    for who, doc, name in (("a", accounts["a_inv"][0], "a-signed-challan.pdf"), ("b", accounts["b_inv"][0], "b-pod.pdf")):
        made[who] = attach(company=company, target=target_get(company=company, invoice=doc.number),
                           source=pdf + name.encode(), filename=name, kind="pod", actor="clerk")
    return made


def test_the_customer_opens_the_proofs_of_their_own_invoice_only(accounts, proofs):
    c, t = Client(), accounts["token"]
    own, other = proofs["a"], proofs["b"]
    doc = accounts["a_inv"][0]
    body = page(c.get(f"/portal/{t}/invoices/{doc.pk}/"))
    assert "Proofs of delivery and documents" in body and "a-signed-challan.pdf" in body and "b-pod.pdf" not in body
    response = c.get(f"/portal/{t}/invoices/{doc.pk}/proofs/{own.pk}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).endswith(b"a-signed-challan.pdf")
    # B's proof through A's own invoice, or A's proof under another of A's invoices: the same 404
    assert c.get(f"/portal/{t}/invoices/{doc.pk}/proofs/{other.pk}").status_code == 404
    assert c.get(f"/portal/{t}/invoices/{accounts['a_inv'][1].pk}/proofs/{own.pk}").status_code == 404


def test_a_link_for_a_never_reaches_anything_of_b(accounts, settings, proofs):
    """Every URL of the portal (from its URL conf), with each of B's document ids, through A's link: 404. The
    pages that take no id show nothing of B's. Nothing is written for B."""
    from dues.audit.models import AuditRecord
    from dues.banking.models import RemittanceAdvice
    from dues.collections.models import Dispute, PromiseToPay

    settings.DUES_PAYMENT_GATEWAY = "dues.portal.gateway.FakeGateway"
    c, t = Client(), accounts["token"]
    b_ids = [d.pk for d in accounts["b_inv"]] + [accounts["b_rec"].pk]
    secrets = ["C002", "Kaveri", "RCPT-B1", "UTR-B-1", "b-pod.pdf"] + [d.number for d in accounts["b_inv"]]
    audited = AuditRecord.objects.count()
    patterns = _portal_patterns()
    assert len(patterns) >= 12
    for name, pattern in patterns:
        for b_id in b_ids:
            url = ("/portal/" + pattern.replace("<str:token>", t).replace("<int:doc_id>", str(b_id))
                   .replace("<int:pk>", str(proofs["b"].pk)))
            form = {"invoice": str(b_id), "reason": "price", "amount": "10", "utr": "X1", "answer": "agree",
                    "paid_on": clock.today().isoformat(),
                    "promised_date": (clock.today() + timedelta(days=3)).isoformat()}
            for method, response in (("get", c.get(url, {"invoice": str(b_id)})), ("post", c.post(url, form))):
                body = page(response)
                assert not any(s in body for s in secrets), (name, b_id, response.status_code)
                takes_ids = "<int:doc_id>" in pattern or name in ("pay", "pay_qr", "pay_gateway")
                if takes_ids or (method == "post" and name in ("promise", "paid")):  # their GET goes home
                    assert response.status_code == 404, (name, method, b_id, response.status_code)
    assert not Dispute.objects.exists() and not PromiseToPay.objects.exists()
    assert not RemittanceAdvice.objects.exists()
    assert not AuditRecord.objects.filter(pk__gt=audited).exclude(object_type="balance_confirmation").exists()


def test_expired_revoked_and_unknown_links_get_the_same_page(accounts, monkeypatch):
    from dues.customers.models import Customer
    from dues.portal.links import link_create, link_revoke

    c, t = Client(), accounts["token"]
    b = Customer.objects.get(code="C002")
    _l, t_b = link_create(customer=b, actor="test", days=1)
    unknown = c.get("/portal/not-a-real-token-at-all/")
    assert unknown.status_code == 404
    link_revoke(company=b.company, customer=b, actor="test")
    revoked = c.get(f"/portal/{t_b}/")
    assert c.get(f"/portal/{t}/").status_code == 200
    monkeypatch.setenv(clock.ENV, (clock.now() + timedelta(days=31)).isoformat())
    expired = c.get(f"/portal/{t}/")
    assert unknown.status_code == revoked.status_code == expired.status_code == 404
    assert page(unknown) == page(revoked) == page(expired)


def test_rate_limit_and_csrf(accounts, settings):
    settings.DUES_PORTAL_RATE = 3
    c, t = Client(), accounts["token"]
    assert [c.get(f"/portal/{t}/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert Client(REMOTE_ADDR="10.0.0.9").get("/portal/guess-1/").status_code == 404
    guesses = [Client(REMOTE_ADDR="10.0.0.9").get(f"/portal/guess-{i}/").status_code for i in range(4)]
    assert guesses[-1] == 429  # guessing tokens from one address is slowed down too
    settings.DUES_PORTAL_RATE = 1000
    strict = Client(enforce_csrf_checks=True)
    r = strict.post(f"/portal/{t}/paid", {"utr": "U1", "amount": "10", "paid_on": clock.today().isoformat()})
    assert r.status_code == 403


def test_cli_link_and_revoke_and_the_customer_page_button(accounts, client):
    from click.testing import CliRunner
    from django.contrib.auth import get_user_model

    from dues.cli import portal as _portal  # noqa: F401  (registers the commands)
    from dues.cli.main import cli
    from dues.portal.models import PortalLink
    from dues.users.models import UserRole

    runner = CliRunner()
    r = runner.invoke(cli, ["--user", "test", "portal", "link", "C002", "--days", "7"])
    assert r.exit_code == 0, r.output
    url = r.output.strip().splitlines()[-1]
    assert url.startswith("http://127.0.0.1:8000/portal/") and " " not in url
    path = url.removeprefix("http://127.0.0.1:8000")
    assert "Kaveri" in page(Client().get(path))
    assert runner.invoke(cli, ["portal", "link", "NOPE"]).exit_code != 0
    r = runner.invoke(cli, ["--user", "test", "portal", "revoke", "--all"])
    assert r.exit_code == 0 and "revoked 2 portal links" in r.output
    assert Client().get(path).status_code == 404
    assert runner.invoke(cli, ["portal", "revoke"]).exit_code != 0

    for role, allowed in (("auditor", False), ("collector", True)):
        user = get_user_model().objects.create_user(f"u_{role}", password="x-pass-2026")
        UserRole.objects.create(user=user, role=role)
        client.force_login(user)
        before = PortalLink.objects.count()
        shown = page(client.get("/customers/C001/"))
        assert ("Portal link" in shown) is allowed
        r = client.post("/customers/C001/portal-link/", follow=True)
        assert (PortalLink.objects.count() == before + 1) is allowed
        if allowed:
            new = re.search(r"(http://127\.0\.0\.1:8000/portal/[\w-]+/)", page(r)).group(1)
            assert Client().get(new.removeprefix("http://127.0.0.1:8000")).status_code == 200
        else:
            assert r.status_code == 403
