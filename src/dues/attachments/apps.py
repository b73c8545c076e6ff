from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    name = "dues.attachments"
    label = "attachments"
    verbose_name = "Proofs and documents"
