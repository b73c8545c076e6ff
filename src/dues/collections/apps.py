from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "dues.collections"
    label = "collections"
    verbose_name = "Collections"
