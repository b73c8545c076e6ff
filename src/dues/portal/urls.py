from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("<str:token>/", views.home, name="home"),
    path("<str:token>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("<str:token>/invoices/<int:doc_id>/", views.invoice, name="invoice"),
    path("<str:token>/invoices/<int:doc_id>/pdf", views.invoice_pdf, name="invoice_pdf"),
    path("<str:token>/invoices/<int:doc_id>/proofs/<int:pk>", views.invoice_proof, name="invoice_proof"),
    path("<str:token>/invoices/<int:doc_id>/dispute", views.invoice_dispute, name="invoice_dispute"),
    path("<str:token>/receipts/<int:doc_id>/", views.receipt, name="receipt"),
    path("<str:token>/confirm", views.confirm, name="confirm"),
    path("<str:token>/promise", views.promise, name="promise"),
    path("<str:token>/paid", views.paid, name="paid"),
    path("<str:token>/pay", views.pay, name="pay"),
    path("<str:token>/pay/qr.svg", views.pay_qr, name="pay_qr"),
    path("<str:token>/pay/gateway", views.pay_gateway, name="pay_gateway"),
]
