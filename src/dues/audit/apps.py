from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dues.audit"
    label = "audit"
