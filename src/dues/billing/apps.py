from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "dues.billing"
    label = "billing"
