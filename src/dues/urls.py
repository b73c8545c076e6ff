from django.contrib import admin
from django.urls import include, path, re_path

from dues.api.views import api, not_found
from dues.web.views.auth import throttled

# the admin's own sign-in page counts failures with /login/ (see dues.web.views.auth)
admin.site.login = throttled(admin.site.login)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/", not_found),
    path("portal/", include("dues.portal.urls")),
    path("", include("dues.web.urls")),
]
