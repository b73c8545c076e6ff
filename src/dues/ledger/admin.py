"""The ledger in the admin: to look at, never to edit.

Posted documents, journal entries, open items and allocations are never changed or deleted: a
mistake is corrected by cancelling the document (a reversal dated the day of cancellation,
``dues cancel``) or reversing an allocation (``dues unallocate``). So these admins grant no add,
change or delete permission to anyone, superusers included.
"""

from __future__ import annotations

from django.contrib import admin

from dues.companies.selectors import company_get
from dues.formats import format_day, format_money, use_company

from .models import Allocation, Document, DocumentLine, JournalEntry, JournalLine, OpenItem

READ_ONLY_NOTE = ("Posted entries are never edited or deleted. To correct one, cancel the document "
                  "(dues cancel KIND NUMBER --reason ...: a reversal dated the day of cancellation) or reverse "
                  "the allocation (dues unallocate ID --reason ...); then post the right document.")


class ReadOnlyMixin:
    """No add, change or delete for anyone; every field shown read-only."""

    change_list_template = "admin/dues_readonly_change_list.html"
    change_form_template = "admin/dues_readonly_change_form.html"
    actions = None

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, {**(extra_context or {}), "read_only_note": READ_ONLY_NOTE})
        if hasattr(response, "render"):  # render now, in the company's formats (read once, not per cell)
            with use_company(company_get()):
                response.render()
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url,
                                       {**(extra_context or {}), "read_only_note": READ_ONLY_NOTE})


def _day(field: str, title: str):
    @admin.display(description=title, ordering=field)
    def show(self, obj):
        return format_day(getattr(obj, field))
    return show


def _money(field: str, title: str):
    @admin.display(description=title, ordering=field)
    def show(self, obj):
        return format_money(getattr(obj, field), symbol=False)
    return show


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class DocumentLineInline(ReadOnlyInline):
    model = DocumentLine
    rate_, taxable_value_ = _money("rate", "rate"), _money("taxable_value", "taxable value")
    cgst_, sgst_, igst_ = _money("cgst", "CGST"), _money("sgst", "SGST"), _money("igst", "IGST")
    fields = readonly_fields = ["position", "description", "hsn", "quantity", "rate_", "taxable_value_", "gst_rate",
                                "cgst_", "sgst_", "igst_"]


class JournalLineInline(ReadOnlyInline):
    model = JournalLine
    debit_, credit_ = _money("debit", "debit"), _money("credit", "credit")
    fields = readonly_fields = ["account", "customer", "debit_", "credit_"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["number", "kind", "customer", "date_", "due_date_", "amount_", "status"]
    date_, due_date_, amount_ = _day("date", "date"), _day("due_date", "due date"), _money("amount", "amount")
    list_filter = ["kind", "status", "date"]
    search_fields = ["number", "reference", "customer__code", "customer__name"]
    list_select_related = ["customer"]
    date_hierarchy = "date"
    ordering = ["-date", "-id"]
    inlines = [DocumentLineInline]
    show_full_result_count = False
    taxable_value_, cgst_, sgst_ = _money("taxable_value", "taxable value"), _money("cgst", "CGST"), _money("sgst", "SGST")
    igst_, tds_, bank_charges_ = _money("igst", "IGST"), _money("tds", "TDS"), _money("bank_charges", "bank charges")
    discount_, cancelled_on_ = _money("discount", "discount"), _day("cancelled_on", "cancelled on")
    fieldsets = [
        (None, {"fields": ["kind", "number", "customer", "status", "date_", "due_date_", "amount_", "description"]}),
        ("GST", {"fields": ["taxable_value_", "cgst_", "sgst_", "igst_", "place_of_supply"]}),
        ("Receipt", {"fields": ["mode", "reference", "tds_", "bank_charges_", "discount_"]}),
        ("Record", {"fields": ["cancelled_on_", "cancel_reason", "import_batch", "created_by", "created_at"]}),
    ]
    readonly_fields = [f for _, opts in fieldsets for f in opts["fields"]]


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "date_", "narration", "document", "reverses"]
    date_ = _day("date", "date")
    fields = readonly_fields = ["date_", "narration", "document", "reverses", "created_at"]
    list_filter = ["date"]
    search_fields = ["narration", "document__number"]
    list_select_related = ["document"]
    ordering = ["-date", "-id"]
    inlines = [JournalLineInline]
    show_full_result_count = False


@admin.register(OpenItem)
class OpenItemAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["document", "customer", "side", "date_", "due_date_", "amount_", "residual_"]
    date_, due_date_ = _day("date", "date"), _day("due_date", "due date")
    amount_, residual_ = _money("amount", "amount"), _money("residual", "residual today")
    fields = readonly_fields = ["document", "customer", "side", "date_", "due_date_", "amount_", "residual_",
                                "reversal_of"]
    list_filter = ["side", "due_date"]
    search_fields = ["document__number", "customer__code", "customer__name"]
    list_select_related = ["document", "customer"]
    ordering = ["-date", "-id"]
    show_full_result_count = False


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "effective_date_", "credit_item", "debit_item", "amount_", "reverses", "created_by"]
    effective_date_, amount_ = _day("effective_date", "effective"), _money("amount", "amount")
    fields = readonly_fields = ["credit_item", "debit_item", "amount_", "effective_date_", "reverses", "reason",
                                "created_by", "created_at"]
    list_filter = ["effective_date"]
    search_fields = ["credit_item__document__number", "debit_item__document__number"]
    list_select_related = ["credit_item__document", "debit_item__document"]
    ordering = ["-effective_date", "-id"]
    show_full_result_count = False
