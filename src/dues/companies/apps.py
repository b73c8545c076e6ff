from django.apps import AppConfig


class CompaniesConfig(AppConfig):
    name = "dues.companies"
    label = "companies"
