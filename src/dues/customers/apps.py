from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "dues.customers"
    label = "customers"
