from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "dues.integrations"
    label = "integrations"
