"""Admin for customers and contacts: validated like an import (GSTIN, PAN, state) and audited like the CLI."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse

from dues.audit.services import audit_append
from dues.companies.selectors import company_get

from .models import Contact, Customer
from .services import FIELDS, customer_clean

# customer_clean names some fields the way an import file does
_FORM_FIELD = {"state": "state_code", "terms": "terms_days"}


class CustomerForm(forms.ModelForm):
    aliases = forms.CharField(required=False, max_length=2000, widget=forms.TextInput(attrs={"size": 60}),
                              help_text="other names the customer goes by, separated by ;")

    class Meta:
        model = Customer
        fields = ["code", "name", "aliases", "gstin", "pan", "state_code", "email", "phone", "terms_kind",
                  "terms_days", "credit_limit", "credit_days", "salesperson", "collector", "segment", "region"]
        labels = {"gstin": "GSTIN", "pan": "PAN", "state_code": "State (GST code)", "terms_kind": "Terms",
                  "terms_days": "Days", "email": "E-mail"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["aliases"] = "; ".join(self.instance.aliases or [])

    def clean(self):
        data = super().clean()
        company = self.instance.company if self.instance.company_id else company_get()
        self.instance.company = company
        code = data.get("code", self.instance.code)

        def text(key: str) -> str:
            value = data.get(key)
            return "" if value is None else str(value)

        raw = {key: text(key) for key in ("name", "gstin", "pan", "email", "phone", "credit_limit", "credit_days",
                                          "salesperson", "collector", "segment", "region")}
        raw.update(code=code or "", state=text("state_code"), aliases=data.get("aliases") or [],
                   terms=f"{data.get('terms_kind') or self.instance.terms_kind} "
                         f"{data.get('terms_days', self.instance.terms_days)}")
        clean, problems = customer_clean(raw, company=company)
        for problem in problems:
            name = _FORM_FIELD.get(problem.field, problem.field)
            self.add_error(name if name in self.fields else None, problem.message)
        if clean is not None:
            for key in FIELDS:
                if key in self.fields:
                    data[key] = getattr(clean, key)
        if "code" in self.fields and code and Customer.objects.filter(company=company, code=code).exclude(
                pk=self.instance.pk).exists():
            self.add_error("code", f"customer {code} already exists")
        return data


def _contact_state(contact: Contact) -> dict:
    return contact.audit_state()


def _audit_contact(request, contact: Contact, action: str, before: dict | None, after: dict | None) -> None:
    if before == after:
        return
    audit_append(actor=request.user, action=action, object_type="contact",
                 object_id=f"{contact.customer.code}/{contact.pk}", company_id=contact.customer.company_id,
                 before=before, after=after)


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "role", "email", "phone", "whatsapp", "is_primary"]

    def clean_email(self):
        email = self.cleaned_data.get("email", "").strip()
        for address in email.replace(";", ",").split(","):
            if address.strip():
                try:
                    validate_email(address.strip())
                except ValidationError as exc:
                    raise ValidationError(f"{address.strip()!r} is not an e-mail address") from exc
        return email


class ContactInline(admin.TabularInline):
    model = Contact
    form = ContactForm
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerForm
    inlines = [ContactInline]
    list_display = ["code", "name", "gstin", "state_code", "salesperson", "collector", "credit_limit"]
    list_filter = ["terms_kind", "salesperson", "collector", "segment", "region"]
    search_fields = ["code", "name", "gstin"]
    ordering = ["code"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["code", "name", "aliases"]}),
        ("Tax identity", {"fields": ["gstin", "pan", "state_code"],
                          "description": "The PAN and the state are taken from the GSTIN when left blank."}),
        ("Terms and credit", {"fields": ["terms_kind", "terms_days", "credit_limit", "credit_days"]}),
        ("People", {"fields": ["email", "phone", "salesperson", "collector", "segment", "region"]}),
        ("Record", {"fields": ["created_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # the code names the customer in the audit log and in its web address: fixed once created
        return ["code", "created_at"] if obj else ["created_at"]

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj else self.fieldsets[:-1]

    def view_on_site(self, obj: Customer) -> str:
        return reverse("web:customer", args=[obj.code])

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # documents point at customers; the ledger is never rewritten

    def save_model(self, request, obj, form, change):
        before = Customer.objects.get(pk=obj.pk).audit_state() if change else None
        obj.save()
        after = obj.audit_state()
        if after != before:
            audit_append(actor=request.user, action="update" if change else "create", object_type="customer",
                         object_id=obj.code, company_id=obj.company_id, before=before, after=after)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Contact:
            return super().save_formset(request, form, formset, change)
        contacts = formset.save(commit=False)
        for contact in formset.deleted_objects:
            before = _contact_state(contact)
            _audit_contact(request, contact, "delete", before, None)
            contact.delete()
        for contact in contacts:
            before = _contact_state(Contact.objects.get(pk=contact.pk)) if contact.pk else None
            contact.save()
            _audit_contact(request, contact, "update" if before else "create", before, _contact_state(contact))
        formset.save_m2m()


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactForm
    list_display = ["name", "role", "customer", "email", "phone"]
    list_select_related = ["customer"]
    search_fields = ["name", "email", "phone", "customer__code", "customer__name"]
    autocomplete_fields = ["customer"]
    fields = ["customer", "name", "role", "email", "phone", "whatsapp", "is_primary"]

    def save_model(self, request, obj, form, change):
        before = _contact_state(Contact.objects.get(pk=obj.pk)) if change else None
        obj.save()
        _audit_contact(request, obj, "update" if change else "create", before, _contact_state(obj))

    def delete_model(self, request, obj):
        _audit_contact(request, obj, "delete", _contact_state(obj), None)
        obj.delete()

    def delete_queryset(self, request, queryset):
        for contact in queryset.select_related("customer"):
            self.delete_model(request, contact)
