"""Setting up the company and changing its settings (every change is audited)."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from dues.audit.services import audit_append
from dues.core import posting as roles
from dues.core.errors import ClosedPeriodError, DuesError
from dues.core.money import minor_units
from dues.core.taxids import TaxIdError, gstin_state, validate_gstin
from dues.formats import format_day
from dues.users.permissions import require

from .models import Account, Company

# code, name, kind, role: the small chart of accounts every company starts with.
DEFAULT_CHART = [
    ("1100", "Sundry Debtors (AR control)", Account.ASSET, roles.AR),
    ("1200", "Bank", Account.ASSET, roles.BANK),
    ("1210", "Cash", Account.ASSET, roles.CASH),
    ("1300", "TDS Receivable", Account.ASSET, roles.TDS),
    ("2100", "Output CGST", Account.LIABILITY, roles.CGST),
    ("2110", "Output SGST", Account.LIABILITY, roles.SGST),
    ("2120", "Output IGST", Account.LIABILITY, roles.IGST),
    ("3100", "Opening Balance Adjustment", Account.EQUITY, roles.OPENING),
    ("4100", "Sales", Account.INCOME, roles.SALES),
    ("4110", "Sales Returns", Account.INCOME, roles.SALES_RETURNS),
    ("4200", "Interest on overdue receivables", Account.INCOME, roles.INTEREST_INCOME),
    ("5100", "Discount Allowed", Account.EXPENSE, roles.DISCOUNT),
    ("5110", "Bank Charges", Account.EXPENSE, roles.BANK_CHARGES),
    ("5120", "Bad Debts Written Off", Account.EXPENSE, roles.WRITE_OFF),
    ("5130", "Round Off", Account.EXPENSE, roles.ROUND_OFF),
]


def _check_settings(*, gstin: str, state_code: str, currency: str, fy_start: tuple[int, int]) -> tuple[str, str]:
    try:
        minor_units(currency)
    except Exception as exc:  # babel raises its own unknown-currency errors
        raise DuesError(f"unknown currency {currency!r}") from exc
    if len(currency) != 3 or not currency.isupper():
        raise DuesError(f"currency must be an ISO code like INR, got {currency!r}")
    month, day = fy_start
    if not (1 <= month <= 12 and 1 <= day <= 28):
        raise DuesError("fiscal year start must be MM-DD with a day from 1 to 28, e.g. 04-01")
    if gstin:
        try:
            gstin = validate_gstin(gstin)
        except TaxIdError as exc:
            raise DuesError(str(exc)) from exc
        if state_code and state_code != gstin_state(gstin):
            raise DuesError(f"state {state_code} does not match GSTIN {gstin} (state {gstin_state(gstin)})")
        state_code = state_code or gstin_state(gstin)
    return gstin, state_code


@transaction.atomic
def company_init(*, name: str, gstin: str = "", state_code: str = "", currency: str = "INR",
                 fy_start: tuple[int, int] = (4, 1), locale: str = "en_IN", actor=None) -> tuple[Company, bool]:
    """Create the company and its chart of accounts; if one exists, return it unchanged.

    Returns ``(company, created)``. Running it again is harmless (``dues init`` is idempotent).
    """
    existing = Company.objects.order_by("id").first()
    if existing:
        chart_complete(existing, actor=actor)
        return existing, False
    gstin, state_code = _check_settings(gstin=gstin, state_code=state_code, currency=currency, fy_start=fy_start)
    company = Company.objects.create(
        name=name, gstin=gstin, state_code=state_code, currency=currency, locale=locale,
        fy_start_month=fy_start[0], fy_start_day=fy_start[1],
    )
    Account.objects.bulk_create(
        Account(company=company, code=code, name=aname, kind=kind, role=role) for code, aname, kind, role in DEFAULT_CHART
    )
    audit_append(actor=actor, action="create", object_type="company", object_id=company.pk, company_id=company.pk,
                 after=company.audit_state())
    return company, True


def chart_complete(company: Company, *, actor=None) -> list[Account]:
    """Add the accounts of the default chart whose role the company's chart lacks (an upgrade adds them).

    An account's code already taken by another account gets the next free number (4200 -> 4201).
    Returns the accounts added (each audited).
    """
    have = dict(Account.objects.filter(company=company).values_list("role", "code"))
    codes = set(Account.objects.filter(company=company).values_list("code", flat=True))
    added = []
    for code, aname, kind, role in DEFAULT_CHART:
        if role in have:
            continue
        while code in codes:
            code = str(int(code) + 1) if code.isdigit() else code + "-1"
        account = Account.objects.create(company=company, code=code, name=aname, kind=kind, role=role)
        codes.add(code)
        added.append(account)
        audit_append(actor=actor, action="create", object_type="account", object_id=account.code,
                     company_id=company.pk, after={"code": code, "name": aname, "kind": kind, "role": role})
    return added


ON_OFF = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


@transaction.atomic
def company_update(*, company: Company, actor=None, **changes) -> Company:
    """Change company settings (name, locale, GSTIN check mode, ...); the change is audited."""
    require(actor, "settings.change", "change company settings")
    allowed = {"name", "locale", "gstin_checksum", "gstin", "state_code", "interest_gst"}
    unknown = set(changes) - allowed
    if unknown:
        raise DuesError(f"cannot change {', '.join(sorted(unknown))} here")
    company = Company.objects.select_for_update().get(pk=company.pk)
    before = company.audit_state()
    if "gstin" in changes or "state_code" in changes:
        changes["gstin"], changes["state_code"] = _check_settings(
            gstin=changes.get("gstin", company.gstin), state_code=changes.get("state_code", company.state_code),
            currency=company.currency, fy_start=(company.fy_start_month, company.fy_start_day))
    if changes.get("gstin_checksum", Company.GSTIN_STRICT) not in (Company.GSTIN_STRICT, Company.GSTIN_WARN):
        raise DuesError("gstin_checksum is 'error' or 'warn'")
    if "interest_gst" in changes and not isinstance(changes["interest_gst"], bool):
        word = str(changes["interest_gst"]).strip().lower()
        if word not in ON_OFF:
            raise DuesError(f"interest_gst is 'on' or 'off', got {changes['interest_gst']!r}")
        changes["interest_gst"] = ON_OFF[word]
    for key, value in changes.items():
        setattr(company, key, value)
    company.full_clean()
    company.save()
    audit_append(actor=actor, action="update", object_type="company", object_id=company.pk, company_id=company.pk,
                 before=before, after=company.audit_state())
    return company


@transaction.atomic
def company_lock_period(*, company: Company, lock_date: date | None, actor=None) -> Company:
    """Refuse postings on or before ``lock_date``. Moving the lock back (reopening) is audited too."""
    require(actor, "settings.change", "lock or reopen periods")
    company = Company.objects.select_for_update().get(pk=company.pk)
    before = company.audit_state()
    company.lock_date = lock_date
    company.save(update_fields=["lock_date"])
    audit_append(actor=actor, action="lock_period", object_type="company", object_id=company.pk,
                 company_id=company.pk, before=before, after=company.audit_state())
    return company


def ensure_open(company: Company, on: date, what: str) -> None:
    """Raise ``ClosedPeriodError`` if ``on`` falls in the locked period."""
    if company.lock_date and on <= company.lock_date:
        raise ClosedPeriodError(f"{what} is dated {format_day(on)}, on or before the lock date "
                                f"{format_day(company.lock_date)}")
