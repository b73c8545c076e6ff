from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "dues.reporting"
    label = "reporting"
