"""The ageing report: the CLI's options, drill-down from any cell to its items, Excel and CSV export."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from urllib.parse import quote, urlencode

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from dues.audit.selectors import audit_head_version
from dues.companies.models import Company
from dues.core.ageing import DEFAULT_CUTOFFS, DUE, INVOICE, bucket_labels, parse_cutoffs
from dues.core.errors import DuesError
from dues.reporting.exports import ageing_csv, ageing_xlsx, items_csv, items_xlsx
from dues.reporting.selectors import GROUPS, AgeingSummary, ageing, ageing_items, ageing_summary

from ..selectors import bucket_title, salesperson_scope
from .common import as_of_param, base_context, desk_view, paginate

BASES = {DUE: "Due date", INVOICE: "Document date"}
GROUP_LABELS = {"customer": "Customer", "salesperson": "Salesperson", "region": "Region", "segment": "Segment"}
MAX_BUCKETS = 10
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Options:
    """The report's options read from the query string, with an error per field (shown next to it)."""

    as_of: date
    basis: str = DUE
    buckets: str = "30,60,90,120"
    cutoffs: tuple[int, ...] = DEFAULT_CUTOFFS
    by: str = "customer"
    errors: dict[str, str] = field(default_factory=dict)

    def query(self, **extra) -> str:
        """The options as a query string, so links (drill-down, export, paging) keep them."""
        params = {"as_of": self.as_of.isoformat(), "basis": self.basis, "buckets": ",".join(map(str, self.cutoffs)),
                  "by": self.by}
        params.update({k: v for k, v in extra.items() if v is not None})
        return urlencode(params)


def _options(request: HttpRequest) -> Options:
    as_of, as_of_error = as_of_param(request)
    opts = Options(as_of=as_of)
    if as_of_error:
        opts.errors["as_of"] = as_of_error
    basis = request.GET.get("basis", DUE).strip().lower() or DUE
    basis = INVOICE if basis == "document" else basis
    if basis in BASES:
        opts.basis = basis
    else:
        opts.errors["basis"] = f"“{basis}” is not a basis: choose due date or document date."
    text = request.GET.get("buckets", "").strip()
    if text:
        opts.buckets = text
        try:
            cutoffs = parse_cutoffs(text)
            if len(cutoffs) > MAX_BUCKETS:
                raise ValueError(f"at most {MAX_BUCKETS} bucket bounds, got {len(cutoffs)}")
            if cutoffs[-1] > 36500:
                raise ValueError("bucket bounds are days: keep them under 36500")
            opts.cutoffs = cutoffs
        except ValueError as exc:
            opts.errors["buckets"] = f"{str(exc)[:1].upper()}{str(exc)[1:]}. Showing 30,60,90,120."
    by = request.GET.get("by", "customer").strip().lower() or "customer"
    if by in GROUPS:
        opts.by = by
    else:
        opts.errors["by"] = f"Cannot group by “{by}”: choose customer, salesperson, region or segment."
    return opts


def _filename(stem: str, as_of: date, *parts: str, ext: str) -> str:
    tail = "-".join(re.sub(r"[^A-Za-z0-9_.+-]+", "_", p).strip("_") for p in parts if p)
    return f"{stem}-{as_of.isoformat()}{'-' + tail if tail else ''}.{ext}"


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    return response


def _export(kind: str, write_csv, write_xlsx, filename_parts: tuple[str, ...], stem: str, as_of: date):
    if kind == "csv":
        # with a byte-order mark so Excel reads names in UTF-8
        return _download(("\ufeff" + write_csv()).encode("utf-8"), _filename(stem, as_of, *filename_parts, ext="csv"),
                         "text/csv; charset=utf-8")
    buffer = io.BytesIO()
    write_xlsx(buffer)
    return _download(buffer.getvalue(), _filename(stem, as_of, *filename_parts, ext="xlsx"), XLSX)


@dataclass
class Cell:
    label: str
    amount: Decimal
    href: str


def _summary(company: Company, opts: Options, salesperson: str | None) -> AgeingSummary:
    """The report's customers and totals, kept under the audit log's head (a change to the books moves
    it): on a large book a page is then one small query for its own fifty customers."""
    key = _key(company, opts, salesperson, "customers")
    summary = cache.get(key)
    if summary is None:
        summary = ageing_summary(company=company, as_of=opts.as_of, basis=opts.basis, cutoffs=opts.cutoffs,
                                 salesperson=salesperson)
        cache.set(key, summary, timeout=AGEING_CACHE_SECONDS)
    return summary


def _key(company: Company, opts: Options, salesperson: str | None, what: str) -> str:
    return (f"dues:ageing:{what}:{company.pk}:{opts.as_of.isoformat()}:{opts.basis}:"
            f"{','.join(map(str, opts.cutoffs))}:{salesperson or ''}:{audit_head_version()}")


def _grouped(company: Company, opts: Options, salesperson: str | None):
    """The report by salesperson, region or segment (a few rows), kept under the audit log's head."""
    key = _key(company, opts, salesperson, opts.by)
    report = cache.get(key)
    if report is None:
        report = ageing(company=company, as_of=opts.as_of, basis=opts.basis, cutoffs=opts.cutoffs, by=opts.by,
                        salesperson=salesperson)
        cache.set(key, report, timeout=AGEING_CACHE_SECONDS)
    return report


AGEING_CACHE_SECONDS = 6 * 3600


@desk_view
def ageing_report(request: HttpRequest, company: Company) -> HttpResponse:
    opts = _options(request)
    salesperson = salesperson_scope(request.user)
    export = request.GET.get("export", "")
    context = base_context(company, opts.as_of, opts.errors.get("as_of", ""), "ageing")
    if opts.by == "customer" and export not in ("csv", "xlsx"):
        # a page of customers: ids and totals from the (cached) summary, rows for the page's customers only
        summary = _summary(company, opts, salesperson)
        context.update(paginate(request, summary.customer_ids))
        report = ageing(company=company, as_of=opts.as_of, basis=opts.basis, cutoffs=opts.cutoffs, by="customer",
                        customer_ids=list(context["page"].object_list), salesperson=salesperson)
        rows, totals, count = report.rows, summary.totals, len(summary.customer_ids)
    else:
        if export in ("csv", "xlsx"):
            report = ageing(company=company, as_of=opts.as_of, basis=opts.basis, cutoffs=opts.cutoffs, by=opts.by,
                            salesperson=salesperson)
            return _export(export, lambda: ageing_csv(report),
                           lambda target: ageing_xlsx(report, target, locale=company.locale, company=company.name,
                                                      cutoffs=opts.cutoffs),
                           (opts.by if opts.by != "customer" else "",), "ageing", opts.as_of)
        report = _grouped(company, opts, salesperson)  # a few rows (salespeople, regions, segments)
        rows, totals, count = report.rows, report.totals, len(report.rows)
    items_url = reverse("web:ageing_items")
    columns = [*report.columns, "unapplied"]

    def cells(row, key: str | None) -> list[Cell]:
        out = []
        for label in columns:
            amount = row.unapplied if label == "unapplied" else row.buckets[label]
            out.append(Cell(label, amount, f"{items_url}?{opts.query(key=key, bucket=label)}"))
        out.append(Cell("total", row.total, f"{items_url}?{opts.query(key=key)}"))
        return out

    context.update({
        "opts": opts, "errors": opts.errors, "report": report, "bases": BASES, "groups": GROUP_LABELS,
        "basis_text": BASES[opts.basis].lower(),
        "group_label": GROUP_LABELS[opts.by], "headings": [bucket_title(c) for c in report.columns],
        "rows": [(r, cells(r, r.key)) for r in rows], "totals": cells(totals, None),
        "query": opts.query(), "count": count,
        # "of which disputed": a column only when something is under dispute on the date
        "disputed_total": getattr(totals, "disputed", 0), "show_disputed": bool(getattr(totals, "disputed", 0)),
    })
    return render(request, "web/reports/ageing.html", context)


def _document_url(kind: str, number: str) -> str:
    try:
        return reverse("web:document", kwargs={"kind": kind, "number": number})
    except NoReverseMatch:
        return f"/documents/{quote(kind)}/{quote(number)}/"


@desk_view
def ageing_items_view(request: HttpRequest, company: Company) -> HttpResponse:
    opts = _options(request)
    key = request.GET.get("key") or None
    bucket = request.GET.get("bucket") or None
    columns = bucket_labels(opts.cutoffs, opts.basis)
    if bucket is not None and bucket not in (*columns, "unapplied"):
        opts.errors["bucket"] = f"No bucket “{bucket}” with these buckets: showing every bucket."
        bucket = None
    try:
        items = ageing_items(company=company, as_of=opts.as_of, basis=opts.basis, cutoffs=opts.cutoffs, by=opts.by,
                             key=key, bucket=bucket, salesperson=salesperson_scope(request.user))
    except DuesError as exc:  # pragma: no cover - options are validated above
        opts.errors["bucket"] = str(exc)
        items = ageing_items(company=company, as_of=opts.as_of, salesperson=salesperson_scope(request.user))
    bucket_text = "Every bucket" if bucket is None else "Unapplied" if bucket == "unapplied" else bucket_title(bucket)
    group_text = f"{GROUP_LABELS[opts.by]} {key}" if key else "Every " + GROUP_LABELS[opts.by].lower()
    export = request.GET.get("export", "")
    if export in ("csv", "xlsx"):
        about = [("Basis", BASES[opts.basis].lower()), ("Buckets", ",".join(map(str, opts.cutoffs))),
                 ("Group", group_text), ("Bucket", bucket_text)]
        return _export(export, lambda: items_csv(items),
                       lambda target: items_xlsx(items, target, locale=company.locale, company=company.name,
                                                 about=about),
                       (key or "", bucket or ""), "ageing-items", opts.as_of)
    context = base_context(company, opts.as_of, opts.errors.get("as_of", ""), "ageing")
    context.update(paginate(request, items))
    page_items = list(context["page"].object_list)
    name = ""
    if key and opts.by == "customer" and page_items:
        name = page_items[0].customer_name
    context.update({
        "opts": opts, "errors": opts.errors, "key": key, "bucket": bucket, "bucket_text": bucket_text,
        "group_text": group_text, "customer_name": name, "bases": BASES, "groups": GROUP_LABELS,
        "basis_text": BASES[opts.basis].lower(),
        "items": [(i, _document_url(i.kind, i.number)) for i in page_items], "total": items.total(),
        "count": items.count(), "query": opts.query(key=key, bucket=bucket),
        "back_query": opts.query(), "show_customer": opts.by != "customer" or not key,
    })
    return render(request, "web/reports/ageing_items.html", context)
