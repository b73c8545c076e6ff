"""The project's URLs with the Django admin at a path of the operator's choosing (DUES_ADMIN_PATH=office-admin/)."""

from dues.urls import admin_urlpatterns, desk_urlpatterns

urlpatterns = admin_urlpatterns("office-admin/") + desk_urlpatterns
