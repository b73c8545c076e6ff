"""What every desk page shares: login + role check, the company's formats, the as-of date, paging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dues import clock
from dues.companies.models import Company
from dues.companies.selectors import company_get
from dues.core.dates import parse_date
from dues.core.errors import DuesError, PermissionDenied
from dues.formats import use_company
from dues.users.permissions import can

from ..access import refusal_text

PAGE_SIZE = 50


def desk_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; the company is read once and formats the page.

    Who may call the page with which method is not declared here but in ``dues.web.access.RULES``, which
    ``AccessMiddleware`` applies before the view runs. ``PermissionDenied`` raised anywhere below (a
    service or selector refusing a finer rule) becomes the same 403 page.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            company = company_get()
        except DuesError as exc:
            return render(request, "web/no_company.html", {"message": str(exc)}, status=503)
        with use_company(company):
            try:
                if not can(request.user, "desk.view"):
                    raise PermissionDenied(refusal_text(request.user))
                return view(request, company, *args, **kwargs)
            except PermissionDenied as exc:
                return render(request, "web/forbidden.html", {"company": company, "message": str(exc)},
                              status=403)

    return wrapper


def as_of_param(request: HttpRequest) -> tuple[date, str]:
    """The as-of date from ``?as_of=`` (YYYY-MM-DD or DD-MM-YYYY), today by default; and any error."""
    text = request.GET.get("as_of", "").strip()
    today = clock.today()
    if not text:
        return today, ""
    try:
        return parse_date(text), ""
    except ValueError:
        return today, f"“{text}” is not a date (use YYYY-MM-DD); showing today."


def base_context(company: Company, as_of: date, as_of_error: str, section: str) -> dict:
    is_today = as_of == clock.today()
    return {"company": company, "as_of": as_of, "as_of_iso": as_of.isoformat(), "as_of_error": as_of_error,
            "is_today": is_today, "as_of_query": "" if is_today else f"as_of={as_of.isoformat()}",
            "section": section}


def paginate(request: HttpRequest, items, per_page: int = PAGE_SIZE) -> dict:
    """``page`` and an elided ``page_range`` for the pager include (``web/_pager.html``)."""
    page: Page = Paginator(items, per_page).get_page(request.GET.get("page"))
    return {"page": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)}


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"
