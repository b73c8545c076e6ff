from django.contrib.auth.views import LogoutView
from django.urls import path

from .views import (
    audit,
    auth,
    cash,
    collections,
    customers,
    dashboard,
    documents,
    dunning_policies,
    imports,
    message_templates,
    receipts,
    reconcile,
    reports,
    trends,
)

app_name = "web"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),  # POST only (Django's LogoutView)
    path("customers/", customers.customer_list, name="customers"),
    # <path:> so that codes with a slash (Tally exports have them) still have a page
    # collections: the customer timeline (before the <path:code> catch-all), worklist, boards, dunning preview
    path("customers/<path:code>/timeline/", collections.timeline, name="timeline"),
    path("customers/<path:code>/", customers.customer_detail, name="customer"),
    path("worklist/", collections.worklist, name="worklist"),
    path("worklist/<path:code>/log/", collections.worklist_log, name="worklist_log"),
    path("promises/", collections.promises, name="promises"),
    path("disputes/", collections.disputes, name="disputes"),
    path("disputes/new/", collections.dispute_new, name="dispute_new"),
    path("disputes/<int:pk>/resolve/", collections.dispute_resolve_view, name="dispute_resolve"),
    path("dunning/preview/", collections.dunning_preview, name="dunning_preview"),
    path("collections/templates/", message_templates.templates, name="templates"),
    path("collections/templates/<slug:name>/<slug:lang>/", message_templates.template_edit, name="template_edit"),
    path("collections/policies/", dunning_policies.policies, name="policies"),
    path("collections/policies/<int:pk>/", dunning_policies.policy_edit, name="policy_edit"),
    # documents: lists, one document's page, cancel (the cancel route first: <path:number> would swallow it)
    path("invoices/", documents.invoice_list, name="invoices"),
    path("receipts/", documents.receipt_list, name="receipts"),
    path("credit-notes/", documents.credit_note_list, name="credit_notes"),
    path("documents/<str:kind>/<path:number>/cancel/", documents.document_cancel_view, name="document_cancel"),
    path("documents/<str:kind>/<path:number>/", documents.document_detail, name="document"),
    # receipt entry and allocation
    path("receipts/new/", receipts.receipt_new, name="receipt_new"),
    path("receipts/new/customers/", receipts.customer_options, name="receipt_customers"),
    path("allocate/<str:kind>/<path:number>/", receipts.allocate, name="allocate"),
    path("allocations/<int:pk>/undo/", receipts.allocation_undo, name="allocation_undo"),
    # ageing report with drill-down and export; imports with preview and commit
    path("ageing/", reports.ageing_report, name="ageing"),
    path("ageing/items/", reports.ageing_items_view, name="ageing_items"),
    path("trends/", trends.trends, name="trends"),
    path("imports/", imports.imports, name="imports"),
    path("audit/", audit.audit_log, name="audit"),
    # cash application workbench (bank lines, proposals, accept / change / ignore, bulk, run, upload)
    path("cash/", cash.workbench, name="cash"),
    path("cash/run/", cash.run, name="cash_run"),
    path("cash/upload/", cash.upload, name="cash_upload"),
    path("cash/<int:pk>/accept/", cash.accept, name="cash_accept"),
    path("cash/<int:pk>/change/", cash.change, name="cash_change"),
    path("cash/<int:pk>/ignore/", cash.ignore, name="cash_ignore"),
    path("cash/<int:pk>/unignore/", cash.unignore, name="cash_unignore"),
    # ledger clearance (upload their ledger, differences, follow-ups) and balance confirmations
    path("reconcile/", reconcile.reconcile_page, name="reconcile"),
    path("reconcile/export/", reconcile.reconcile_export, name="reconcile_export"),
    path("reconcile/followups/", reconcile.reconcile_followups, name="reconcile_followups"),
    path("reconcile/confirmations/", reconcile.confirmations, name="confirmations"),
    path("reconcile/confirmations/send/", reconcile.confirmation_send, name="confirmation_send"),
    path("reconcile/confirmations/remind/", reconcile.confirmation_remind_view, name="confirmation_remind"),
    path("reconcile/confirmations/<int:pk>/", reconcile.confirmation_detail, name="confirmation"),
    path("reconcile/confirmations/<int:pk>/reply/", reconcile.confirmation_reply_view, name="confirmation_reply"),
    path("reconcile/confirmations/<int:pk>/letter/", reconcile.confirmation_letter, name="confirmation_letter"),
]
