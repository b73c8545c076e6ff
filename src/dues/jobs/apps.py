from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "dues.jobs"
    label = "jobs"
    verbose_name = "Jobs and schedules"
    default_auto_field = "django.db.models.BigAutoField"
