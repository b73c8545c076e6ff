from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "dues.risk"
    label = "risk"
