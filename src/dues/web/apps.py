from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "dues.web"
    label = "web"
