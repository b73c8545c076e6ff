from django.contrib import admin
from django.urls import include, path, re_path

from dues.api.views import api, not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/", not_found),
    path("portal/", include("dues.portal.urls")),
    path("", include("dues.web.urls")),
]
