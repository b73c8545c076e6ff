from django.contrib.auth.views import LogoutView
from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),  # POST only (Django's LogoutView)
    path("customers/", views.customer_list, name="customers"),
    # <path:> so that codes with a slash (Tally exports have them) still have a page
    path("customers/<path:code>/", views.customer_detail, name="customer"),
]
