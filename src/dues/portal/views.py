"""The portal's pages: thin views over ``portal.selectors`` (reads) and ``portal.services`` (actions).

Every view goes through ``portal_view``: requests are rate-limited per address and per link; a
token that opens no usable link (unknown, expired, revoked) gets the same 404 page; a document id
that is not the link's customer's gets the portal's 404; every answered request is logged.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control

from dues import clock
from dues.core.dates import parse_date
from dues.core.errors import DuesError, ValidationFailed
from dues.formats import use_company
from dues.ledger.models import Document

from . import selectors, services
from .links import access_log, link_for_token


def _address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or ""


def _over_limit(key: str) -> bool:
    """A fixed one-minute window per key in the cache (shared between processes with DUES_REDIS_URL)."""
    window = f"portal-rate:{key}:{int(clock.now().timestamp() // 60)}"
    if cache.add(window, 1, 120):
        return False
    try:
        return cache.incr(window) > settings.DUES_PORTAL_RATE
    except ValueError:
        return False


def _private(response: HttpResponse) -> HttpResponse:
    """A customer's account (and the token in the URL) stays out of shared caches, search engines and referrers."""
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _gone(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/gone.html", status=404)


def _not_found(request: HttpRequest, link) -> HttpResponse:
    return render(request, "portal/not_found.html", {"link": link, "token": request.resolver_match.kwargs["token"]},
                  status=404)


def portal_view(fn: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(fn)
    def wrapper(request: HttpRequest, token: str, **kwargs) -> HttpResponse:
        if _over_limit(f"ip:{_address(request)}"):
            return render(request, "portal/slow_down.html", status=429)
        link = link_for_token(token)
        if link is None:
            return _private(_gone(request))
        if _over_limit(f"link:{link.pk}"):
            response = render(request, "portal/slow_down.html", status=429)
        else:
            with use_company(link.company):
                try:
                    response = fn(request, link, token, **kwargs)
                except (services.NotYours, Http404):
                    response = _not_found(request, link)
        access_log(link, address=_address(request) or None, method=request.method, path=request.path,
                   status=response.status_code)
        return _private(response)

    return wrapper


def _home(token: str, anchor: str = "") -> HttpResponse:
    from django.urls import reverse

    return redirect(reverse("portal:home", kwargs={"token": token}) + (f"#{anchor}" if anchor else ""))


def _problems(request: HttpRequest, exc: DuesError) -> None:
    if isinstance(exc, ValidationFailed):
        for p in exc.problems:
            messages.error(request, f"{p.field.replace('_', ' ')}: {p.message}" if p.field else p.message)
    else:
        messages.error(request, str(exc))


def _day(request: HttpRequest, name: str, default=None):
    text = (request.GET.get(name) or request.POST.get(name) or "").strip()
    if not text:
        return default
    try:
        return parse_date(text)
    except ValueError:
        return None


def _context(link, token: str, **extra) -> dict:
    from dues.portal.gateway import gateway

    return {"link": link, "token": token, "customer": link.customer, "company": link.company,
            "gateway": gateway() is not None, **extra}


@portal_view
def home(request: HttpRequest, link, token: str) -> HttpResponse:
    from dues.collections.models import Dispute

    today = clock.today()
    as_of = _day(request, "as_of", today)
    bad_date = as_of is None
    as_of = min(as_of or today, today)
    acct = selectors.account(link.customer, as_of)
    return render(request, "portal/home.html", _context(
        link, token, acct=acct, as_of=as_of, today=today, bad_date=bad_date, period_from=as_of.replace(day=1),
        reasons=Dispute.REASONS, tds=selectors.tds_rows(link.customer, as_of)))


@portal_view
def statement_pdf(request: HttpRequest, link, token: str) -> HttpResponse:
    from dues.documents.statements import render_statement

    today = clock.today()
    end = min(_day(request, "to", today) or today, today)
    start = _day(request, "from") or end.replace(day=1)
    if start > end:
        start = end
    response = HttpResponse(render_statement(link.company, link.customer, start, end), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="statement-{end.isoformat()}.pdf"'
    return response


def _invoice(link, doc_id: int) -> Document:
    doc = selectors.customer_document(link.customer, doc_id, Document.DEBIT_KINDS)
    if doc is None:
        raise Http404
    return doc


@portal_view
def invoice(request: HttpRequest, link, token: str, doc_id: int) -> HttpResponse:
    from dues.attachments.selectors import proofs_for_document
    from dues.billing.models import Bill
    from dues.collections.models import Dispute
    from dues.ledger.models import OpenItem

    doc = _invoice(link, doc_id)
    item = OpenItem.objects.filter(document=doc, side="D").first()
    disputes = Dispute.objects.filter(document=doc).order_by("-opened_on", "-pk")
    return render(request, "portal/invoice.html", _context(
        link, token, doc=doc, residual=item.residual if item else 0, has_pdf=Bill.objects.filter(document=doc).exists(),
        disputes=disputes, reasons=Dispute.REASONS, proofs=proofs_for_document(doc)))


@portal_view
def invoice_proof(request: HttpRequest, link, token: str, doc_id: int, pk: int) -> HttpResponse:
    """One proof of the customer's own invoice (PO, challan, proof of delivery): only among that invoice's
    proofs, so another customer's attachment id is a 404 like any unknown one."""
    from django.http import FileResponse

    from dues.attachments.selectors import proofs_for_document
    from dues.attachments.services import attachment_open

    doc = _invoice(link, doc_id)
    proof = next((p for p in proofs_for_document(doc) if p.pk == pk), None)
    if proof is None:
        raise Http404
    try:
        handle = attachment_open(proof)
    except OSError:
        raise Http404 from None
    response = FileResponse(handle, content_type=proof.file.media_type, filename=proof.filename)
    response["Content-Security-Policy"] = "sandbox"  # a PDF opened in the browser runs no script
    return response


@portal_view
def invoice_pdf(request: HttpRequest, link, token: str, doc_id: int) -> HttpResponse:
    from dues.billing.models import Bill
    from dues.documents.tax_invoice import render_tax_invoice

    doc = _invoice(link, doc_id)
    bill = Bill.objects.filter(document=doc, customer=link.customer).first()
    if bill is None:
        raise Http404
    response = HttpResponse(render_tax_invoice(link.company, bill), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="tax-invoice-{doc.number.replace("/", "-")}.pdf"'
    return response


@portal_view
def invoice_dispute(request: HttpRequest, link, token: str, doc_id: int) -> HttpResponse:
    _invoice(link, doc_id)
    if request.method != "POST":
        return _home(token)
    try:
        upload = request.FILES.get("attachment")
        attachment = None
        if upload is not None:
            attachment = (upload.name, upload.content_type or "", upload.read(services.ATTACHMENT_MAX + 1))
        services.dispute_invoice(link, doc_id=doc_id, reason=request.POST.get("reason", ""),
                                 amount=request.POST.get("amount", "").strip() or None,
                                 notes=request.POST.get("notes", "")[:1000], attachment=attachment)
        messages.success(request, "Thank you: your dispute is recorded and the invoice is held while we look into it.")
    except services.NotYours:
        raise
    except DuesError as exc:
        _problems(request, exc)
    return redirect("portal:invoice", token=token, doc_id=doc_id)


@portal_view
def receipt(request: HttpRequest, link, token: str, doc_id: int) -> HttpResponse:
    doc = selectors.customer_document(link.customer, doc_id, [Document.RECEIPT])
    if doc is None:
        raise Http404
    acct = selectors.account(link.customer, clock.today(), receipts_limit=10_000)
    found = next((r for r in acct.receipts if r.pk == doc.pk), None)
    return render(request, "portal/receipt.html", _context(link, token, doc=found or doc,
                                                           applications=getattr(found, "applications", [])))


@portal_view
def confirm(request: HttpRequest, link, token: str) -> HttpResponse:
    if request.method != "POST":
        return _home(token)
    agree = request.POST.get("answer") == "agree"
    try:
        services.confirm_balance(link, agree=agree, their_balance=request.POST.get("their_balance", "").strip() or None)
        messages.success(request, "Thank you for confirming the balance." if agree else
                         "Thank you: we will reconcile the difference and come back to you.")
    except DuesError as exc:
        _problems(request, exc)
    return _home(token, "balance")


def _ids(request: HttpRequest) -> list[str]:
    return [i for i in (request.POST.getlist("invoice") or request.GET.getlist("invoice")) if i.strip()]


@portal_view
def promise(request: HttpRequest, link, token: str) -> HttpResponse:
    if request.method != "POST":
        return _home(token)
    on = _day(request, "promised_date")
    try:
        if on is None:
            raise ValidationFailed([services.Problem("give the date you will pay by (YYYY-MM-DD)", "promised_date")])
        services.promise_payment(link, amount=request.POST.get("amount", ""), promised_date=on,
                                 invoice_ids=_ids(request), notes=request.POST.get("notes", "")[:500])
        messages.success(request, "Thank you: your payment date is noted.")
    except services.NotYours:
        raise
    except DuesError as exc:
        _problems(request, exc)
    return _home(token, "actions")


@portal_view
def paid(request: HttpRequest, link, token: str) -> HttpResponse:
    if request.method != "POST":
        return _home(token)
    try:
        services.tell_payment(link, utr=request.POST.get("utr", ""), amount=request.POST.get("amount", ""),
                              paid_on=_day(request, "paid_on"), invoice_ids=_ids(request),
                              notes=request.POST.get("notes", "")[:500])
        messages.success(request, "Thank you: we will match your payment with our bank statement.")
    except services.NotYours:
        raise
    except DuesError as exc:
        _problems(request, exc)
    return _home(token, "actions")


@portal_view
def pay(request: HttpRequest, link, token: str) -> HttpResponse:
    ids = _ids(request)
    if not ids:
        messages.error(request, "Pick the invoices you want to pay.")
        return _home(token, "invoices")
    rows, total, note, upi = services.pay_selection(link, ids)
    return render(request, "portal/pay.html", _context(link, token, rows=rows, total=total, note=note, upi=upi,
                                                       ids=ids, qr=_qr_svg(upi) if upi else ""))


def _qr_svg(data: str) -> str:
    """The QR code of ``data`` as an inline SVG (ReportLab's encoder, the one the PDFs use)."""
    from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel

    code = QRCode(None, QRErrorCorrectLevel.M)
    code.addData(data)
    code.make()
    n, border = code.getModuleCount(), 4
    cells = "".join(f"M{c + border},{r + border}h1v1h-1z" for r in range(n) for c in range(n) if code.isDark(r, c))
    size = n + 2 * border
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" class="portal-qr" role="img" '
            f'aria-label="UPI QR code"><rect width="{size}" height="{size}" fill="#fff"/>'
            f'<path d="{cells}" fill="#000"/></svg>')


@portal_view
def pay_qr(request: HttpRequest, link, token: str) -> HttpResponse:
    ids = _ids(request)
    if not ids:
        raise Http404
    _rows, _total, _note, upi = services.pay_selection(link, ids)
    if not upi:
        raise Http404
    return HttpResponse(_qr_svg(upi), content_type="image/svg+xml")


@portal_view
def pay_gateway(request: HttpRequest, link, token: str) -> HttpResponse:
    from dues.portal.gateway import gateway

    adapter = gateway()
    ids = _ids(request)
    if request.method != "POST" or adapter is None:
        raise Http404
    try:
        result, advice = services.pay_by_gateway(link, ids, adapter)
    except services.NotYours:
        raise
    except DuesError as exc:
        _problems(request, exc)
        return _home(token, "invoices")
    if advice is None:
        messages.error(request, f"The payment did not go through: {result.message or 'declined'}. Nothing was taken.")
    else:
        messages.success(request, f"Paid: payment {result.payment_id}. It will show as a receipt once it reaches "
                                  "our bank.")
    return _home(token, "invoices")
