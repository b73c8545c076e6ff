from django.contrib import admin
from django.urls import include, path, re_path

from dues.api.views import api_urls, not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api_urls()),
    re_path(r"^api/", not_found),
    path("", include("dues.web.urls")),
]
