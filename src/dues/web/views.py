"""The web desk's pages: dashboard, customers, one customer. Server-rendered; every page needs a login."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from dues.companies.models import Company
from dues.companies.selectors import company_get
from dues.core.dates import parse_date
from dues.core.errors import DuesError
from dues.core.states import GST_STATES
from dues.customers.models import Customer

from .selectors import audit_trail, balances_by_customer, customer_position, desk_summary
from .templatetags.dues_format import use_company

PAGE_SIZE = 50


def desk_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; the company is read once and its locale/currency format the page."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            company = company_get()
        except DuesError as exc:
            return render(request, "web/no_company.html", {"message": str(exc)}, status=503)
        with use_company(company):
            return view(request, company, *args, **kwargs)

    return wrapper


def _as_of(request: HttpRequest) -> tuple[date, str]:
    """The as-of date from ``?as_of=`` (YYYY-MM-DD or DD-MM-YYYY), today by default; and any error."""
    text = request.GET.get("as_of", "").strip()
    today = timezone.localdate()
    if not text:
        return today, ""
    try:
        return parse_date(text), ""
    except ValueError:
        return today, f"“{text}” is not a date (use YYYY-MM-DD); showing today."


def _base(company: Company, as_of: date, as_of_error: str, section: str) -> dict:
    is_today = as_of == timezone.localdate()
    return {"company": company, "as_of": as_of, "as_of_iso": as_of.isoformat(), "as_of_error": as_of_error,
            "is_today": is_today, "as_of_query": "" if is_today else f"as_of={as_of.isoformat()}",
            "section": section}


@desk_view
def dashboard(request: HttpRequest, company: Company) -> HttpResponse:
    as_of, error = _as_of(request)
    context = _base(company, as_of, error, "dashboard")
    context["summary"] = desk_summary(company=company, as_of=as_of)
    return render(request, "web/dashboard.html", context)


@desk_view
def customer_list(request: HttpRequest, company: Company) -> HttpResponse:
    as_of, error = _as_of(request)
    q = request.GET.get("q", "").strip()
    customers = Customer.objects.filter(company=company).order_by("code")
    if q:
        customers = customers.filter(Q(code__icontains=q) | Q(name__icontains=q))
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    # One ageing query for the whole book, joined here to the 50 customers of the page: fine for
    # thousands of customers. A later issue needs a set-based per-page query (ageing restricted to
    # the page's customer ids) for 100,000 customers.
    balances = balances_by_customer(company=company, as_of=as_of)
    rows = [(c, balances.get(c.code)) for c in page.object_list]
    context = _base(company, as_of, error, "customers")
    context.update({"q": q, "page": page, "rows": rows,
                    "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)})
    return render(request, "web/customers.html", context)


@desk_view
def customer_detail(request: HttpRequest, company: Company, code: str) -> HttpResponse:
    as_of, error = _as_of(request)
    customer = get_object_or_404(Customer, company=company, code=code)
    context = _base(company, as_of, error, "customers")
    context.update({
        "customer": customer,
        "state_name": GST_STATES.get(customer.state_code, ""),
        "contacts": list(customer.contacts.order_by("name")),
        "position": customer_position(company=company, customer=customer, as_of=as_of),
        "audit": audit_trail(object_type="customer", object_id=customer.code, limit=20),
    })
    return render(request, "web/customer.html", context)


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["company"] = Company.objects.order_by("id").first()
        return context
