"""Imports: upload a CSV/XLSX, preview it (a dry run: every row error, or what would change), commit.

The uploaded bytes are kept on the server between preview and commit (``DUES_HOME/uploads/<token>``,
the token in the user's session, with the file's SHA-256), so the commit imports exactly the file
that was previewed. ``import_file`` does the rest: all-or-nothing, the same checks as the CLI, and a
second import of the same file changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from dues import clock
from dues.attachments.services import size_text
from dues.companies.models import Company
from dues.core.errors import DuesError, PermissionDenied, ValidationFailed
from dues.integrations.importers import FIELDS, KINDS, REQUIRED, ImportResult, import_file
from dues.integrations.mapping import PRESETS, apply_mapping, check_source, mapping_for, suggest
from dues.integrations.models import ImportBatch, ImportMapping
from dues.integrations.tabular import read_table
from dues.users.permissions import can, require_import, role_of
from dues.users.roles import IMPORT_CAPABILITY

from .common import base_context, desk_view, paginate

SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
SESSION_KEY = "dues_imports"
KEEP_SECONDS = 24 * 3600
PREVIEW_ROWS = 10
TITLES = {"customers": "Customers", "invoices": "Invoices", "receipts": "Receipts", "credit-notes": "Credit notes"}


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    note: str = ""


COLUMNS: dict[str, list[Column]] = {
    "customers": [
        Column("code", True), Column("name", True), Column("gstin", note="validated; gives the PAN and state"),
        Column("pan", note="must match the GSTIN"), Column("state", note="GST code (27) or name (Maharashtra)"),
        Column("email"), Column("phone"), Column("credit_limit"),
        Column("credit_days", note="also sets the terms: net N days"), Column("terms", note="net 30 / eom 15"),
        Column("salesperson"), Column("collector"), Column("segment"), Column("region"),
        Column("aliases", note="separated by ;"),
    ],
    "invoices": [
        Column("number", True), Column("customer", True, "customer code"), Column("date", True),
        Column("due_date", note="default: from the customer's terms"), Column("amount", True, "grand total"),
        Column("taxable_value", note="with tax: GST split CGST+SGST or IGST"), Column("tax"),
        Column("currency", note="the company's only"), Column("description"),
    ],
    "receipts": [
        Column("number", True), Column("customer", True, "customer code"), Column("date", True),
        Column("amount", True, "what reached the bank"),
        Column("mode", note="bank, neft, rtgs, imps, upi, cheque, cash, nach, card, other"),
        Column("reference", note="UTR / cheque number"), Column("tds"), Column("bank_charges"), Column("discount"),
        Column("allocations", note="INV-1:1000.00;INV-7:250.50 (else on account)"),
    ],
    "credit-notes": [
        Column("number", True), Column("customer", True, "customer code"), Column("date", True),
        Column("amount", True), Column("against", note="invoice number to allocate to"), Column("reason"),
        Column("taxable_value"), Column("tax"),
    ],
}


def allowed_kinds(user) -> list[str]:
    return [k for k in KINDS if can(user, IMPORT_CAPABILITY[k])]


def upload_dir() -> Path:
    configured = getattr(settings, "DUES_UPLOAD_DIR", None)
    path = Path(configured) if configured else Path(os.environ.get("DUES_HOME", "var")).resolve() / "uploads"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _sweep(folder: Path) -> None:
    """Forget previews nobody committed within a day."""
    cutoff = time.time() - KEEP_SECONDS
    for stale in folder.glob("*.upload"):
        try:
            if stale.stat().st_mtime < cutoff:
                stale.unlink()
        except OSError:
            pass


def _pending(request: HttpRequest) -> dict:
    return dict(request.session.get(SESSION_KEY, {}))


def _context(request: HttpRequest, company: Company, kinds: list[str], kind: str, **extra) -> dict:

    context = base_context(company, clock.today(), "", "imports")
    batches = ImportBatch.objects.filter(company=company).order_by("-created_at", "-id")
    context.update(paginate(request, batches, per_page=20))
    context.update({"kinds": [(k, TITLES[k]) for k in kinds], "kind": kind, "columns": COLUMNS,
                    "reference": [(k, TITLES[k], COLUMNS[k]) for k in kinds], "errors": {}, "problems": [],
                    "result": None, "token": "", "filename": "", "preview": None, "mapping": None,
                    "source": "", "sources": _sources(company),
                    "kind_title": TITLES.get(kind, kind)})
    context.update(extra)
    return context


@desk_view
def imports(request: HttpRequest, company: Company) -> HttpResponse:
    kinds = allowed_kinds(request.user)
    if not kinds:
        role = (role_of(request.user) or "no role").replace("_", " ")
        raise PermissionDenied(f"Your role ({role}) cannot import anything.")
    if request.method == "POST":
        if request.POST.get("action") == "commit":
            return _commit(request, company, kinds)
        if request.POST.get("action") == "map":
            return _mapped(request, company, kinds)
        return _preview(request, company, kinds)
    sample = request.GET.get("sample", "")
    if sample in kinds:
        response = HttpResponse(",".join(c.name for c in COLUMNS[sample]) + "\r\n", content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{sample}-template.csv"'
        return response
    kind = request.GET.get("kind", "")
    return render(request, "web/imports/imports.html",
                  _context(request, company, kinds, kind if kind in kinds else kinds[0]))


def _preview(request: HttpRequest, company: Company, kinds: list[str]) -> HttpResponse:
    kind = request.POST.get("kind", "")
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = "Choose what the file holds."
    else:
        require_import(request.user, kind)  # refused: the 403 page, nothing read or kept
    upload = request.FILES.get("file")
    if upload is None:
        errors["file"] = "Choose a CSV or Excel (.xlsx) file."
    elif Path(upload.name).suffix.lower() not in SUFFIXES:
        errors["file"] = f"“{upload.name}” is not a .csv or .xlsx file."
    elif upload.size > settings.IMPORT_MAX_BYTES:  # refused by its size: not read, nothing kept
        errors["file"] = (f"“{upload.name}” is larger than {size_text(settings.IMPORT_MAX_BYTES)} "
                          "(DUES_IMPORT_MAX_BYTES); split it.")
    if errors:
        return render(request, "web/imports/imports.html",
                      _context(request, company, kinds, kind if kind in kinds else kinds[0], errors=errors),
                      status=400)
    data = upload.read()
    name = Path(upload.name).name
    return _check(request, company, kinds, kind=kind, name=name, data=data, source=request.POST.get("source", ""),
                  token=_keep(data))


def _sources(company: Company) -> list[str]:
    saved = ImportMapping.objects.filter(company=company).values_list("source", flat=True).distinct()
    return sorted(set(PRESETS) | set(saved))


def _keep(data: bytes) -> str:
    """Keep uploaded bytes on the server under a fresh token (for the mapping step and the commit)."""
    folder = upload_dir()
    _sweep(folder)
    token = secrets.token_urlsafe(18)
    (folder / f"{token}.upload").write_bytes(data)
    return token


def _mapped(request: HttpRequest, company: Company, kinds: list[str]) -> HttpResponse:
    """The mapping step's answer: the columns chosen per field (and whether to remember them)."""
    token = request.POST.get("token", "")
    entry = _pending(request).get(token)
    path = upload_dir() / f"{token}.upload"
    if not token or entry is None or entry.get("user") != request.user.pk or not path.exists():
        context = _context(request, company, kinds, kinds[0], errors={
            "file": "This upload has expired: upload the file again."})
        return render(request, "web/imports/imports.html", context, status=409)
    kind = entry["kind"]
    require_import(request.user, kind)
    chosen = {f: request.POST.get(f"map_{f}", "").strip() for f in FIELDS[kind]}
    mapping = {f: c for f, c in chosen.items() if c}
    return _check(request, company, kinds, kind=kind, name=entry["name"], data=path.read_bytes(),
                  source=request.POST.get("source", ""), token=token, mapping=mapping,
                  remember=request.POST.get("remember") == "on")


def _check(request: HttpRequest, company: Company, kinds: list[str], *, kind: str, name: str, data: bytes,
           source: str, token: str, mapping: dict[str, str] | None = None, remember: bool = False) -> HttpResponse:
    """Preview (a dry run) of the kept upload ``token``, after the mapping step when the file's columns
    need one: the required columns missing, or a chosen mapping that does not fit."""
    context = _context(request, company, kinds, kind, filename=name, source=source.strip())
    pending = _pending(request)
    pending[token] = {"kind": kind, "name": name, "sha256": hashlib.sha256(data).hexdigest(),
                      "user": request.user.pk, "at": int(time.time()), "source": "", "mapping": {},
                      "remember": False}
    request.session[SESSION_KEY] = pending
    try:
        source = check_source(source) if source.strip() else ""
        if remember and not source:
            raise ValidationFailed([])
        table = read_table(name, data)
        base = mapping_for(company, source, kind, optional=True) if source else {}
        wanted = {**base, **(mapping or {})}
        mapped = apply_mapping(table, wanted, FIELDS[kind]) if wanted else table
        ready = all(c in mapped.columns for c in REQUIRED[kind])
        problems: list = []
    except ValidationFailed as exc:
        ready, problems = False, exc.problems
        if remember and not source:
            context["errors"] = {"source": "Name the source to remember this mapping for it."}
        try:
            table = read_table(name, data)
        except DuesError as err:
            context["errors"] = {"file": str(err)}
            _forget(request, token, upload_dir() / f"{token}.upload")
            return render(request, "web/imports/imports.html", context, status=422)
        base = {}
    except DuesError as exc:
        context["errors"] = {"file": str(exc)}
        _forget(request, token, upload_dir() / f"{token}.upload")
        return render(request, "web/imports/imports.html", context, status=422)
    if not ready:
        chosen = suggest(table.columns, {**base, **(mapping or {})}, FIELDS[kind])
        context["problems"] = problems
        context["mapping"] = {"token": token, "remember": remember, "columns": table.columns,
                              "fields": [(c, chosen.get(c.name, "")) for c in COLUMNS[kind]
                                         if c.name in FIELDS[kind]],
                              "missing": [c for c in REQUIRED[kind] if c not in chosen]}
        return render(request, "web/imports/imports.html", context, status=200 if not problems else 422)
    try:
        result = import_file(kind=kind, path=name, data=data, company=company, actor=request.user, dry_run=True,
                             source=source, mapping=mapping or None)
    except ValidationFailed as exc:
        context["problems"] = exc.problems
        _forget(request, token, upload_dir() / f"{token}.upload")
        return render(request, "web/imports/imports.html", context, status=422)
    except PermissionDenied:
        raise
    except DuesError as exc:
        context["errors"] = {"file": str(exc)}
        _forget(request, token, upload_dir() / f"{token}.upload")
        return render(request, "web/imports/imports.html", context, status=422)
    columns = mapped.columns
    context["preview"] = {"columns": columns, "rows": [[r.values.get(c, "") for c in columns]
                                                       for r in mapped.rows[:PREVIEW_ROWS]],
                          "more": max(len(mapped.rows) - PREVIEW_ROWS, 0)}
    pending = _pending(request)
    pending[token].update({"source": source, "mapping": mapping or {}, "remember": remember})
    request.session[SESSION_KEY] = pending
    context.update({"result": result, "token": token})
    return render(request, "web/imports/imports.html", context)


def _commit(request: HttpRequest, company: Company, kinds: list[str]) -> HttpResponse:
    token = request.POST.get("token", "")
    pending = _pending(request)
    entry = pending.get(token)
    path = upload_dir() / f"{token}.upload"
    if not token or entry is None or entry.get("user") != request.user.pk or not path.exists():
        context = _context(request, company, kinds, kinds[0], errors={
            "file": "This preview was already committed or has expired: upload the file again."})
        return render(request, "web/imports/imports.html", context, status=409)
    kind, name = entry["kind"], entry["name"]
    require_import(request.user, kind)  # the role may have changed since the preview
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:  # pragma: no cover - only if the disk was tampered with
        raise DuesError("the uploaded file changed on the server since the preview; upload it again")
    context = _context(request, company, kinds, kind, filename=name)
    try:
        result: ImportResult = import_file(
            kind=kind, path=name, data=data, company=company, actor=request.user, source=entry.get("source", ""),
            mapping=entry.get("mapping") or None,
            save_map=bool(entry.get("remember") and entry.get("source") and entry.get("mapping")))
    except ValidationFailed as exc:  # the ledger changed since the preview: nothing written
        context["problems"] = exc.problems
        _forget(request, token, path)
        return render(request, "web/imports/imports.html", context, status=422)
    except PermissionDenied:
        raise
    except DuesError as exc:
        context["errors"] = {"file": str(exc)}
        _forget(request, token, path)
        return render(request, "web/imports/imports.html", context, status=422)
    _forget(request, token, path)
    noun = TITLES[kind].lower()
    messages.success(request, f"Imported {name}: {result.created} {noun} created, {result.updated} updated, "
                              f"{result.unchanged} already there ({result.rows} row{'s' if result.rows != 1 else ''}).")
    return redirect(f"{reverse('web:imports')}?kind={kind}")


def _forget(request: HttpRequest, token: str, path: Path) -> None:
    pending = _pending(request)
    pending.pop(token, None)
    request.session[SESSION_KEY] = pending
    path.unlink(missing_ok=True)

