from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from dues.api.views import api_urls, not_found
from dues.api.whatsapp import whatsapp_webhook
from dues.web.views.auth import admin_allowed, admin_login
from dues.web.views.health import healthz, readyz

# the Django admin: administrators only, signing in through the desk's form (same throttle, same second factor)
admin.site.login = admin_login
admin.site.has_permission = admin_allowed


def admin_urlpatterns(prefix: str) -> list:
    """The admin at ``prefix`` (DUES_ADMIN_PATH, e.g. "office-admin/"); none at all when it is empty (off)."""
    return [path(prefix, admin.site.urls)] if prefix else []


desk_urlpatterns = [
    path("healthz", healthz, name="healthz"),  # public, like /login/: liveness (docs/deployment.md)
    path("readyz", readyz, name="readyz"),  # public: readiness (database, migrations, Redis)
    path("api/v1/", api_urls()),
    path("api/whatsapp/webhook", whatsapp_webhook, name="whatsapp_webhook"),
    re_path(r"^api/", not_found, name="api_not_found"),
    path("portal/", include("dues.portal.urls")),
    path("", include("dues.web.urls")),
]

urlpatterns = admin_urlpatterns(settings.DUES_ADMIN_PATH) + desk_urlpatterns
