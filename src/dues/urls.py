from django.contrib import admin
from django.urls import include, path, re_path

from dues.api.views import api_urls, not_found
from dues.api.whatsapp import whatsapp_webhook
from dues.web.views.auth import throttled
from dues.web.views.health import healthz, readyz

# the admin's own sign-in page counts failures with /login/ (see dues.web.views.auth)
admin.site.login = throttled(admin.site.login)

urlpatterns = [
    path("healthz", healthz, name="healthz"),  # public, like /login/: liveness (docs/deployment.md)
    path("readyz", readyz, name="readyz"),  # public: readiness (database, migrations, Redis)
    path("admin/", admin.site.urls),
    path("api/v1/", api_urls()),
    path("api/whatsapp/webhook", whatsapp_webhook, name="whatsapp_webhook"),
    re_path(r"^api/", not_found, name="api_not_found"),
    path("portal/", include("dues.portal.urls")),
    path("", include("dues.web.urls")),
]
