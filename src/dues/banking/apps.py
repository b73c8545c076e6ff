from django.apps import AppConfig


class BankingConfig(AppConfig):
    name = "dues.banking"
    label = "banking"
    verbose_name = "Bank statements"
