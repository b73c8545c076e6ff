from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "dues.api"
    label = "api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dues.audit.services import audit_listen

        from .webhooks import enqueue_from_audit

        audit_listen(enqueue_from_audit)
