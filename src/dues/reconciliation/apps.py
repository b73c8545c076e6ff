from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "dues.reconciliation"
    label = "reconciliation"
    verbose_name = "Reconciliation"
