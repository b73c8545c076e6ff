"""Proofs at the desk: upload one on an invoice's page, open or download one (scoped like the rest)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from dues.attachments.selectors import attachment_get
from dues.attachments.services import attach, attachment_open, size_text, target_get
from dues.companies.models import Company
from dues.core.errors import DuesError, PermissionDenied
from dues.ledger.models import Document

from .common import desk_view
from .documents import _document, _render_document


@desk_view
def proof_upload(request: HttpRequest, company: Company, kind: str, number: str) -> HttpResponse:
    """POST a file (``file``) and its kind (``kind``) to the invoice; refused files re-show the page, 400."""
    if request.method != "POST":  # a GET here is a document whose number ends in /proofs, or a wrong turn
        if Document.objects.filter(company=company, kind=kind, number=f"{number}/proofs").exists():
            return _render_document(request, company, _document(request, company, kind, f"{number}/proofs"))
        return redirect(reverse("web:document", kwargs={"kind": kind, "number": number}) + "#proofs")
    document = _document(request, company, kind, number)
    url = reverse("web:document", kwargs={"kind": document.kind, "number": document.number}) + "#proofs"
    upload = request.FILES.get("file")
    proof_kind = request.POST.get("kind", "pod")
    error = ""
    if upload is None:
        error = "Choose a file to attach."
    elif upload.size > settings.ATTACHMENT_MAX_BYTES:  # refused by its size: not read, nothing stored
        error = (f"{upload.name}: too large: more than {size_text(settings.ATTACHMENT_MAX_BYTES)} "
                 "(the limit, DUES_ATTACHMENT_MAX_MB)")
    else:
        try:
            target = target_get(company=company, invoice=document.number)
            attach(company=company, target=target, source=upload, filename=upload.name, kind=proof_kind,
                   actor=request.user)
        except PermissionDenied:
            raise
        except DuesError as exc:
            error = str(exc)
    if error:
        return _render_document(request, company, document, proof_error=error, status=400)
    messages.success(request, f"{upload.name} attached to {document.number}.")
    return redirect(url)


@desk_view
def proof_file(request: HttpRequest, company: Company, pk: int) -> HttpResponse:
    """The stored file, shown in the browser (``?download=1``: saved), for a reader of its customer."""
    try:
        attachment = attachment_get(company=company, pk=pk, actor=request.user)
    except PermissionDenied:
        raise
    except DuesError as exc:
        raise Http404(str(exc)) from None
    try:
        handle = attachment_open(attachment)
    except OSError:  # FileNotFoundError included: the storage lost it, or was switched without copying
        raise Http404(f"the stored file of {attachment.filename} (sha256 {attachment.file.sha256}) is missing "
                      "from the proof storage") from None
    response = FileResponse(handle, content_type=attachment.file.media_type,
                            as_attachment=request.GET.get("download") == "1", filename=attachment.filename)
    response["Content-Security-Policy"] = "sandbox"  # a PDF opened in the browser runs no script
    response["Cache-Control"] = "private, max-age=0"
    response["ETag"] = f'"{attachment.file.sha256}"'
    return response
