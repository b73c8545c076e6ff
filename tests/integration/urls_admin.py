"""The project's URLs with the Django admin at /admin/ (DUES_ADMIN_PATH=admin/), for the admin's tests."""

from dues.urls import admin_urlpatterns, desk_urlpatterns

urlpatterns = admin_urlpatterns("admin/") + desk_urlpatterns
