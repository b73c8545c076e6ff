from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "dues.credit"
    label = "credit"
