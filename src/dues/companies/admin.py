"""Admin for the company and its chart of accounts. Every save goes through the services (validated, audited)."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from django import forms
from django.contrib import admin

from dues.audit.services import audit_append
from dues.core.taxids import TaxIdError, gstin_state, validate_gstin

from .models import Account, Company
from .selectors import company_get
from .services import company_lock_period, company_update

admin.site.site_header = "dues administration"
admin.site.site_title = "dues admin"
admin.site.index_title = "Company, customers and the (read-only) ledger"
admin.site.site_url = "/"

COMPANY_SETTINGS = ("name", "gstin", "state_code", "locale", "gstin_checksum")


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ["name", "gstin", "state_code", "locale", "gstin_checksum", "lock_date"]

    def clean_locale(self):
        locale = self.cleaned_data["locale"].strip()
        try:
            Locale.parse(locale)
        except (UnknownLocaleError, ValueError) as exc:
            raise forms.ValidationError(f"{locale!r} is not a locale Babel knows (e.g. en_IN, en_US)") from exc
        return locale

    def clean(self):
        data = super().clean()
        gstin, state = data.get("gstin", ""), data.get("state_code", "")
        if gstin:
            try:
                data["gstin"] = gstin = validate_gstin(gstin)
            except TaxIdError as exc:
                self.add_error("gstin", str(exc))
                return data
            if state and state != gstin_state(gstin):
                self.add_error("state_code", f"state {state} does not match GSTIN {gstin} (state {gstin_state(gstin)})")
        return data


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    form = CompanyForm
    list_display = ["name", "gstin", "state_code", "currency", "locale", "lock_date"]
    readonly_fields = ["currency", "fiscal_year_start", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "gstin", "state_code"]}),
        ("Formats", {"fields": ["currency", "locale", "fiscal_year_start"],
                     "description": "The currency and the fiscal year are fixed once documents are posted."}),
        ("Controls", {"fields": ["gstin_checksum", "lock_date", "created_at"]}),
    ]

    @admin.display(description="fiscal year starts")
    def fiscal_year_start(self, obj: Company) -> str:
        return f"{obj.fy_start_day:02d}-{obj.fy_start_month:02d}"

    def has_add_permission(self, request) -> bool:
        return False  # one company per database, created by `dues init` with its chart of accounts

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in COMPANY_SETTINGS}
        if changes:
            company_update(company=obj, actor=request.user, **changes)
        if "lock_date" in form.changed_data:
            company_lock_period(company=obj, lock_date=form.cleaned_data["lock_date"], actor=request.user)


def _account_state(account: Account) -> dict:
    return {"code": account.code, "name": account.name, "kind": account.kind, "role": account.role}


class AccountForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = ["code", "name", "kind", "role"]

    def clean(self):
        data = super().clean()
        others = Account.objects.exclude(pk=self.instance.pk) if self.instance.pk else Account.objects.all()
        if data.get("code") and others.filter(code=data["code"]).exists():
            self.add_error("code", f"account {data['code']} already exists")
        if data.get("role") and others.filter(role=data["role"]).exists():
            self.add_error("role", f"another account already has the role {data['role']}")
        return data


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    form = AccountForm
    list_display = ["code", "name", "kind", "role"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "role"]
    ordering = ["code"]
    fields = ["code", "name", "kind", "role"]

    def get_readonly_fields(self, request, obj=None):
        # what dues posts where hangs on kind and role: fixed once the account exists
        return ["kind", "role"] if obj else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # journal lines point at accounts

    def save_model(self, request, obj, form, change):
        before = _account_state(Account.objects.get(pk=obj.pk)) if change else None
        if not change:
            obj.company = company_get()
        obj.save()
        after = _account_state(obj)
        if after != before:
            audit_append(actor=request.user, action="update" if change else "create", object_type="account",
                         object_id=obj.code, company_id=obj.company_id, before=before, after=after)
