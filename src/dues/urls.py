from django.contrib import admin
from django.urls import include, path, re_path

from dues.api.views import api_urls, not_found
from dues.api.whatsapp import whatsapp_webhook

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api_urls()),
    path("api/whatsapp/webhook", whatsapp_webhook, name="whatsapp_webhook"),
    re_path(r"^api/", not_found),
    path("", include("dues.web.urls")),
]
